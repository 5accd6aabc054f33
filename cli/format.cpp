#include "cli/format.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "base/printable.hpp"

namespace kiln::cli {

std::string human_size(int64_t bytes) {
  static const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
  else
    std::snprintf(buf, sizeof buf, "%.3g %s", v, units[u]);
  return buf;
}

void print_table(const std::vector<std::vector<std::string>>& raw) {
  // Cells come from images and registries: escaped before they are measured.
  std::vector<std::vector<std::string>> rows;
  for (auto& r : raw) {
    auto& row = rows.emplace_back();
    for (auto& cell : r)
      row.push_back(printable(cell));
  }
  std::vector<size_t> width;
  for (auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  for (auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 3, ' ');
    }
    std::cout << line << '\n';
  }
}

}  // namespace kiln::cli
