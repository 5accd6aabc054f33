// DESIGN.md's module rules, checked on the sources: dependencies point down the
// module table, never up, and curl/libarchive/zstd/zlib headers stay out of
// public headers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

namespace fs = std::filesystem;

namespace {

const std::map<std::string, std::set<std::string>> kAllowed = {
    {"base", {"base"}},
    {"oci", {"base", "oci"}},
    {"parser", {"base", "parser"}},
    {"layers", {"base", "oci", "layers"}},
    {"registry", {"base", "oci", "registry"}},
    {"cache", {"base", "oci", "layers", "registry", "cache"}},
    {"builder", {"base", "oci", "parser", "layers", "registry", "cache", "builder"}},
    {"cli", {"base", "oci", "parser", "layers", "registry", "cache", "builder", "cli"}},
};

std::vector<std::string> includes(const fs::path& file, const std::regex& pattern) {
  std::ifstream in(file);
  std::vector<std::string> out;
  std::string line;
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, pattern)) out.push_back(m[1]);
  return out;
}

}  // namespace

TEST(IncludeGraph, ModulesOnlyUseModulesBelowThem) {
  const std::regex local(R"(^\s*#\s*include\s+"([a-z_]+)/)");
  size_t files = 0;
  for (auto& [module, allowed] : kAllowed) {
    fs::path dir = fs::path(KILN_SOURCE_DIR) / module;
    if (!fs::exists(dir)) continue;
    for (auto& entry : fs::recursive_directory_iterator(dir)) {
      auto ext = entry.path().extension();
      if (ext != ".cpp" && ext != ".hpp") continue;
      ++files;
      for (auto& dep : includes(entry.path(), local))
        EXPECT_TRUE(allowed.count(dep))
            << entry.path() << " (module " << module << ") includes from " << dep;
    }
  }
  EXPECT_GT(files, 10u);
}

TEST(IncludeGraph, ThirdPartyCHeadersStayInSources) {
  const std::regex system(
      R"(^\s*#\s*include\s+<((curl|archive|zstd|zlib|libdeflate|isa-l)[^>]*)>)");
  for (auto& [module, allowed] : kAllowed) {
    fs::path dir = fs::path(KILN_SOURCE_DIR) / module;
    if (!fs::exists(dir)) continue;
    for (auto& entry : fs::recursive_directory_iterator(dir))
      if (entry.path().extension() == ".hpp")
        for (auto& header : includes(entry.path(), system))
          ADD_FAILURE() << entry.path() << " is a public header including <" << header << ">";
  }
}
