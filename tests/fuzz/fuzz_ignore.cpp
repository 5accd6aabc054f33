// libFuzzer target: an ignore file and paths. Input is
// "ignore-file\0path\npath\n..."; every path is matched both ways and the
// two must agree for top-level paths.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "parser/ignore.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln::parser;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t z = in.find('\0');
  std::string_view file = in.substr(0, z);
  std::string_view paths = z == std::string_view::npos ? std::string_view() : in.substr(z + 1);
  auto m = IgnoreMatcher::create(read_ignore_lines(file));
  if (!m) return 0;
  while (!paths.empty()) {
    size_t nl = paths.find('\n');
    std::string_view path = paths.substr(0, nl);
    paths = nl == std::string_view::npos ? std::string_view() : paths.substr(nl + 1);
    bool a = m->matches(path);
    IgnoreMatcher::PerPattern none, out;
    bool b = m->matches(path, none, out);
    // Without a parent result both are MatchesOrParentMatches on a clean,
    // relative path with no empty segments.
    bool clean = !path.empty() && path.find("//") == std::string_view::npos && path[0] != '/' &&
                 path.back() != '/' && path != "." && path != ".." &&
                 path.find("./") == std::string_view::npos &&
                 path.find("/.") == std::string_view::npos;
    if (clean && a != b) std::abort();
    (void)m->must_descend(path);
  }
  return 0;
}
