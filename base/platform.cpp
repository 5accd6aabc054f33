#include "base/platform.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <initializer_list>

namespace kiln {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool one_of(std::string_view s, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), s) != names.end();
}

// Go's GOOS and GOARCH lists, which containerd uses to tell whether a lone
// word names an OS or an architecture.
bool known_os(std::string_view os) {
  return one_of(os,
                {"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js",
                 "linux", "nacl", "netbsd", "openbsd", "plan9", "solaris", "windows", "zos"});
}

bool known_arch(std::string_view arch) {
  return one_of(arch, {"386",     "amd64",    "amd64p32",  "arm",         "armbe",   "arm64",
                       "arm64be", "ppc64",    "ppc64le",   "loong64",     "mips",    "mipsle",
                       "mips64",  "mips64le", "mips64p32", "mips64p32le", "ppc",     "riscv",
                       "riscv64", "s390",     "s390x",     "sparc",       "sparc64", "wasm"});
}

bool component_ok(std::string_view c) {
  if (c.empty()) return false;
  for (char ch : c)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '_' || ch == '-' || ch == '.'))
      return false;
  return true;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  out.append(s);
  out += '"';
  return out;
}

}  // namespace

Result<Platform> Platform::parse(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t slash = s.find('/', start);
    parts.push_back(s.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (parts.size() > 3) return fail("too many components in platform ", quoted(s));
  for (std::string_view p : parts)
    if (!component_ok(p)) return fail("invalid platform ", quoted(s));
  Platform p;
  if (parts.size() == 1) {
    // A lone word is an OS when Go knows it as one, else an architecture.
    Platform as_os;
    as_os.os = parts[0];
    as_os = as_os.normalized();  // "MacOS" is darwin
    if (known_os(as_os.os)) {
      p = host();
      p.os = as_os.os;
      return p;
    }
    p.os = "linux";
    p.architecture = parts[0];
    p = p.normalized();
    if (!known_arch(p.architecture))
      return fail("unknown operating system or architecture ", quoted(s));
    return p;
  }
  p.os = parts[0];
  p.architecture = parts[1];
  if (parts.size() == 3) p.variant = parts[2];
  return p.normalized();
}

Platform Platform::host() {
  Platform p;
  p.os = "linux";
  p.architecture = "amd64";
  struct utsname u;
  if (::uname(&u) != 0) return p;
  // uname's machine names are not platform specifiers (containerd has no
  // alias for i686 or armv7l), so they are translated here, not in normalized().
  std::string_view m = u.machine;
  if (m == "x86_64") {
    p.architecture = "amd64";
  } else if (one_of(m, {"i386", "i486", "i586", "i686"})) {
    p.architecture = "386";
  } else if (m == "aarch64" || m == "arm64") {
    p.architecture = "arm64";
  } else if (m.size() >= 5 && m.substr(0, 4) == "armv" && m[4] >= '5' && m[4] <= '8') {
    p.architecture = "arm";  // armv7l, armv6l, armv5tel: the digit is the variant
    p.variant = std::string("v") + m[4];
  } else if (m == "loongarch64") {
    p.architecture = "loong64";
  } else {
    p.architecture = m;  // ppc64le, s390x, riscv64, mips64: uname and Go agree
  }
  return p.normalized();
}

Platform Platform::normalized() const {
  Platform p = *this;
  p.os = lower(p.os);
  if (p.os.empty()) p.os = "linux";  // containerd fills in its host's OS
  if (p.os == "macos") p.os = "darwin";
  std::string& a = p.architecture;
  std::string& v = p.variant;
  a = lower(a);
  v = lower(v);
  if (a == "i386") {
    a = "386";
    v.clear();
  } else if (one_of(a, {"x86_64", "x86-64", "amd64"})) {
    a = "amd64";
    if (v == "v1") v.clear();
  } else if (a == "aarch64" || a == "arm64") {
    a = "arm64";
    if (v == "8" || v == "v8") v.clear();
  } else if (a == "armhf") {
    a = "arm";
    v = "v7";
  } else if (a == "armel") {
    a = "arm";
    v = "v6";
  } else if (a == "arm") {
    if (v.empty() || v == "7")
      v = "v7";
    else if (one_of(v, {"5", "6", "8"}))
      v.insert(0, "v");
  }
  std::sort(p.os_features.begin(), p.os_features.end());
  p.os_features.erase(std::unique(p.os_features.begin(), p.os_features.end()), p.os_features.end());
  return p;
}

std::string Platform::str() const {
  std::string s = os + "/" + architecture;
  if (!variant.empty()) s += "/" + variant;
  return s;
}

bool Platform::matches(const Platform& have) const {
  Platform w = normalized(), h = have.normalized();
  if (w.os != h.os || w.architecture != h.architecture || w.variant != h.variant) return false;
  // Both lists are sorted and free of duplicates after normalized().
  return std::includes(w.os_features.begin(), w.os_features.end(), h.os_features.begin(),
                       h.os_features.end());
}

}  // namespace kiln
