// Text formatting shared by the commands' plain (non-JSON) output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::cli {

// "1.2 MB" (decimal units, as docker and podman print sizes).
std::string human_size(int64_t bytes);

// Prints rows as left-aligned columns separated by three spaces, each cell
// through printable().
void print_table(const std::vector<std::vector<std::string>>& rows);

}  // namespace kiln::cli
