#include "oci/descriptor.hpp"

namespace kiln::oci {

nlohmann::json Descriptor::to_json() const {
  nlohmann::json j = extra;
  j["mediaType"] = media_type;
  j["digest"] = digest.str();
  j["size"] = size;
  if (!annotations.empty()) j["annotations"] = annotations;
  if (platform) j["platform"] = platform_to_json(*platform);
  if (!urls.empty()) j["urls"] = urls;
  if (!artifact_type.empty()) j["artifactType"] = artifact_type;
  return j;
}

Result<Descriptor> Descriptor::from_json(const nlohmann::json& j) {
  if (!j.is_object()) return fail("descriptor is not a JSON object");
  Descriptor d;
  for (auto& [key, value] : j.items()) {
    if (key == "mediaType") {
      if (!value.is_string()) return fail("descriptor mediaType is not a string");
      d.media_type = value.get<std::string>();
    } else if (key == "digest") {
      if (!value.is_string()) return fail("descriptor digest is not a string");
      TRY_ASSIGN(d.digest, Digest::parse(value.get<std::string>()));
    } else if (key == "size") {
      if (!value.is_number_integer() || value.get<int64_t>() < 0)
        return fail("descriptor size is not a non-negative integer");
      d.size = value.get<int64_t>();
    } else if (key == "annotations") {
      if (!value.is_object()) return fail("descriptor annotations is not an object");
      for (auto& [k, v] : value.items()) {
        if (!v.is_string()) return fail("descriptor annotation ", k, " is not a string");
        d.annotations[k] = v.get<std::string>();
      }
    } else if (key == "platform") {
      TRY_ASSIGN(d.platform, platform_from_json(value));
    } else if (key == "urls") {
      if (!value.is_array()) return fail("descriptor urls is not an array");
      for (auto& u : value) {
        if (!u.is_string()) return fail("descriptor url is not a string");
        d.urls.push_back(u.get<std::string>());
      }
    } else if (key == "artifactType") {
      if (!value.is_string()) return fail("descriptor artifactType is not a string");
      d.artifact_type = value.get<std::string>();
    } else {
      d.extra[key] = value;
    }
  }
  if (d.media_type.empty()) return fail("descriptor has no mediaType");
  if (d.digest.empty()) return fail("descriptor has no digest");
  if (!j.contains("size")) return fail("descriptor ", d.digest.str(), " has no size");
  return d;
}

}  // namespace kiln::oci
