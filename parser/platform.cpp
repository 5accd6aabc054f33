// Platforms for FROM --platform and the predefined BUILD*/TARGET* ARGs.
#include <sys/utsname.h>

#include "parser/build_plan.hpp"
#include "parser/text.hpp"

namespace kiln::parser {

std::string Platform::str() const {
  std::string s = os + "/" + arch;
  if (!variant.empty()) s += "/" + variant;
  return s;
}

namespace {
void normalize(Platform& p) {
  std::string& a = p.arch;
  if (a == "x86_64" || a == "x86-64")
    a = "amd64", p.variant.clear();
  else if (a == "aarch64")
    a = "arm64";
  else if (a == "i386" || a == "i686")
    a = "386";
  else if (a == "armhf")
    a = "arm", p.variant = "v7";
  else if (a == "armel")
    a = "arm", p.variant = "v6";
  if (a == "arm64" && p.variant == "v8") p.variant.clear();  // containerd normalises this away
  if (a == "arm" && p.variant.empty()) p.variant = "v7";
}
bool component_ok(std::string_view c) {
  if (c.empty()) return false;
  for (char ch : c)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
          ch == '.'))
      return false;
  return true;
}
}  // namespace

Result<Platform> Platform::parse(std::string_view s) {
  std::string lower = text::to_lower(s);
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t slash = lower.find('/', start);
    parts.push_back(lower.substr(start, slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (parts.size() > 3) return fail("too many components in platform ", text::go_quote(s));
  for (const std::string& p : parts)
    if (!component_ok(p)) return fail("invalid platform ", text::go_quote(s));
  Platform p;
  if (parts.size() == 1) {
    // A lone word is an OS when it names one, otherwise an architecture.
    static const char* oses[] = {"linux", "windows", "darwin", "freebsd", "netbsd", "openbsd"};
    bool is_os = false;
    for (const char* o : oses)
      is_os |= parts[0] == o;
    if (is_os) {
      p = host_platform();
      p.os = parts[0];
    } else {
      p.os = "linux";
      p.arch = parts[0];
    }
  } else {
    p.os = parts[0];
    p.arch = parts[1];
    if (parts.size() == 3) p.variant = parts[2];
  }
  normalize(p);
  return p;
}

Platform host_platform() {
  Platform p{"linux", "amd64", ""};
  struct utsname u;
  if (::uname(&u) == 0) {
    p.arch = u.machine;
    if (p.arch == "armv7l")
      p.arch = "arm", p.variant = "v7";
    else if (p.arch == "armv6l")
      p.arch = "arm", p.variant = "v6";
    normalize(p);
  }
  return p;
}

}  // namespace kiln::parser
