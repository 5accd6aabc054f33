#include "oci/platform.hpp"

#include <nlohmann/json.hpp>

namespace kiln::oci {

nlohmann::json platform_to_json(const Platform& p) {
  nlohmann::json j = nlohmann::json::object();
  j["architecture"] = p.architecture;
  j["os"] = p.os;
  if (!p.variant.empty()) j["variant"] = p.variant;
  if (!p.os_version.empty()) j["os.version"] = p.os_version;
  if (!p.os_features.empty()) j["os.features"] = p.os_features;
  return j;
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
