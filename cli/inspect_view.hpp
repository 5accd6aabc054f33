// The `kiln inspect` view of an image, shared by the local and remote paths:
// skopeo inspect's field names, plus the runtime config fields.
#pragma once

#include <nlohmann/json.hpp>

#include "oci/store.hpp"

namespace kiln::cli {

nlohmann::json inspect_json(const oci::LocalImage& image);
void print_inspect_text(const nlohmann::json& view);

}  // namespace kiln::cli
