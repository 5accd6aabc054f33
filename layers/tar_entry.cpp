#include "layers/tar_entry.hpp"

namespace kiln::layers {

Result<std::string> clean_layer_path(std::string_view raw) {
  if (raw.find('\0') != std::string_view::npos) return fail("entry name contains a NUL byte");
  std::string out;
  out.reserve(raw.size());
  size_t i = 0;
  while (i <= raw.size()) {
    size_t j = raw.find('/', i);
    if (j == std::string_view::npos) j = raw.size();
    std::string_view comp = raw.substr(i, j - i);
    i = j + 1;
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") return fail("entry \"", raw, "\" has a \"..\" component");
    if (comp.size() > 255) return fail("entry \"", raw.substr(0, 64), "...\": name too long");
    if (!out.empty()) out.push_back('/');
    out.append(comp);
  }
  if (out.empty()) return fail("entry \"", raw, "\" names the root");
  return out;
}

std::pair<std::string_view, std::string_view> split_parent(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {std::string_view(), path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

namespace {

int name_rank(std::string_view n) {
  return n == kOpaqueMarker ? 0 : n.starts_with(kWhiteoutPrefix) ? 1 : 2;
}

}  // namespace

int compare_layer_names(std::string_view a, std::string_view b) {
  int ra = name_rank(a), rb = name_rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  return a.compare(b);
}

bool layer_path_less(std::string_view a, std::string_view b) {
  for (;;) {
    if (a.empty() || b.empty()) return a.empty() && !b.empty();
    size_t i = a.find('/'), j = b.find('/');
    int c = compare_layer_names(a.substr(0, i), b.substr(0, j));
    if (c != 0) return c < 0;
    a = i == std::string_view::npos ? std::string_view() : a.substr(i + 1);
    b = j == std::string_view::npos ? std::string_view() : b.substr(j + 1);
  }
}

}  // namespace kiln::layers
