#include "oci/platform.hpp"

#include <sys/utsname.h>

#include <nlohmann/json.hpp>

namespace kiln::oci {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Result<Platform> Platform::parse(std::string_view s) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t slash = s.find('/', start);
    parts.push_back(lower(s.substr(start, slash - start)));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  for (auto& p : parts)
    if (p.empty()) return fail("invalid platform \"", s, "\": empty component");
  Platform out;
  if (parts.size() == 1) {
    out.os = "linux";
    out.architecture = parts[0];
  } else if (parts.size() <= 3) {
    out.os = parts[0];
    out.architecture = parts[1];
    if (parts.size() == 3) out.variant = parts[2];
  } else {
    return fail("invalid platform \"", s, "\": expected OS/ARCH[/VARIANT]");
  }
  return out.normalized();
}

Platform Platform::host() {
  struct utsname u;
  ::uname(&u);
  Platform p;
  p.os = "linux";
  p.architecture = u.machine;
  if (p.architecture == "armv7l") p.variant = "v7";
  if (p.architecture == "armv6l") p.variant = "v6";
  return p.normalized();
}

Platform Platform::normalized() const {
  Platform p = *this;
  std::string& a = p.architecture;
  if (a == "x86_64" || a == "x86-64") a = "amd64";
  if (a == "i386" || a == "i486" || a == "i586" || a == "i686") a = "386";
  if (a == "aarch64") a = "arm64";
  if (a == "armhf" || a == "armv7l") {
    a = "arm";
    if (p.variant.empty()) p.variant = "v7";
  }
  if (a == "armel" || a == "armv6l") {
    a = "arm";
    if (p.variant.empty()) p.variant = "v6";
  }
  if (a == "arm64" && (p.variant == "v8" || p.variant == "8")) p.variant.clear();
  if (a == "arm") {
    if (p.variant.empty()) p.variant = "v7";
    if (p.variant.size() == 1 && std::isdigit(static_cast<unsigned char>(p.variant[0])))
      p.variant = "v" + p.variant;
  }
  if (a == "amd64" && p.variant == "v1") p.variant.clear();
  return p;
}

std::string Platform::str() const {
  std::string s = os + "/" + architecture;
  if (!variant.empty()) s += "/" + variant;
  return s;
}

bool Platform::matches(const Platform& have) const {
  Platform w = normalized(), h = have.normalized();
  if (w.os != h.os || w.architecture != h.architecture) return false;
  // An image without a variant runs anywhere the architecture does.
  return w.variant.empty() || h.variant.empty() || w.variant == h.variant;
}

void to_json(nlohmann::json& j, const Platform& p) {
  j = nlohmann::json::object();
  j["architecture"] = p.architecture;
  j["os"] = p.os;
  if (!p.variant.empty()) j["variant"] = p.variant;
  if (!p.os_version.empty()) j["os.version"] = p.os_version;
  if (!p.os_features.empty()) j["os.features"] = p.os_features;
}

Result<Platform> platform_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return fail("platform is not an object");
  Platform p;
  auto str = [&](const char* key, std::string& out) -> Status {
    if (!j.contains(key)) return {};
    if (!j[key].is_string()) return fail("platform.", key, " is not a string");
    out = j[key].get<std::string>();
    return {};
  };
  TRY(str("os", p.os));
  TRY(str("architecture", p.architecture));
  TRY(str("variant", p.variant));
  TRY(str("os.version", p.os_version));
  if (j.contains("os.features") && j["os.features"].is_array())
    for (auto& f : j["os.features"])
      if (f.is_string()) p.os_features.push_back(f.get<std::string>());
  return p;
}

}  // namespace kiln::oci
