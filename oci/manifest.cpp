#include "oci/manifest.hpp"

#include "oci/json.hpp"
#include "oci/media_types.hpp"

namespace kiln::oci {

namespace {

Result<nlohmann::json> parse_json(const std::string& bytes, std::string_view what) {
  auto j = oci::parse_untrusted_json(bytes);
  if (j.is_discarded()) return fail(what, " is not valid JSON");
  if (!j.is_object()) return fail(what, " is not a JSON object");
  return j;
}

Result<std::map<std::string, std::string>> parse_annotations(const nlohmann::json& j) {
  std::map<std::string, std::string> out;
  if (!j.contains("annotations") || j["annotations"].is_null()) return out;
  if (!j["annotations"].is_object()) return fail("annotations is not an object");
  for (auto& [k, v] : j["annotations"].items()) {
    if (!v.is_string()) return fail("annotation ", k, " is not a string");
    out[k] = v.get<std::string>();
  }
  return out;
}

Status check_schema_version(const nlohmann::json& j) {
  if (!j.contains("schemaVersion") || !j["schemaVersion"].is_number_integer())
    return fail("schemaVersion is missing");
  if (j["schemaVersion"].get<int64_t>() != 2)
    return fail("schemaVersion ", j["schemaVersion"].get<int64_t>(), " is not supported");
  return {};
}

}  // namespace

std::string canonical_bytes(const nlohmann::json& j) {
  return dump_json(j);
}

Result<std::string> sniff_manifest_type(const nlohmann::json& j, std::string_view declared) {
  std::string inner;
  if (j.contains("mediaType")) {
    if (!j["mediaType"].is_string()) return fail("mediaType is not a string");
    inner = j["mediaType"].get<std::string>();
  }
  // Docker schema 1 has schemaVersion 1 and no mediaType field.
  if (media::is_schema1(declared) || media::is_schema1(inner) ||
      (j.contains("schemaVersion") && j["schemaVersion"] == 1))
    return fail(
        "Docker schema 1 manifests are not supported (deprecated); re-push the image "
        "with a current client");
  // A document with the fields of both would read as whichever the registry's
  // Content-Type says: the same digest, two different images.
  if (j.contains("manifests") && (j.contains("config") || j.contains("layers")))
    return fail(
        "the document has both \"manifests\" and \"config\"/\"layers\": "
        "neither an image index nor a manifest");
  std::string type = inner;
  if (type.empty()) type = std::string(declared);
  if (type.empty() || type == "application/json" || type == "text/plain") {
    if (j.contains("manifests"))
      type = std::string(media::kOciIndex);
    else if (j.contains("config"))
      type = std::string(media::kOciManifest);
  }
  if (!inner.empty() && !declared.empty() && declared != "application/json" && inner != declared &&
      (media::is_manifest(declared) || media::is_index(declared)))
    return fail("mediaType ", inner, " does not match the declared ", declared);
  if (!media::is_manifest(type) && !media::is_index(type))
    return fail("unknown manifest media type \"", type.substr(0, 100), "\"");
  return type;
}

Result<Manifest> Manifest::parse(std::string bytes, std::string_view declared) {
  TRY_ASSIGN(auto j, parse_json(bytes, "manifest"));
  TRY_ASSIGN(std::string type, sniff_manifest_type(j, declared));
  if (!media::is_manifest(type)) return fail("expected an image manifest, got ", type);
  TRY(check_schema_version(j));
  Manifest m;
  m.media_type_ = type;
  if (!j.contains("config")) return fail("manifest has no config");
  auto cfg = Descriptor::from_json(j["config"]);
  if (!cfg) return tl::unexpected(with_context(cfg.error(), "manifest config"));
  m.config_ = std::move(*cfg);
  if (!j.contains("layers") || !j["layers"].is_array()) return fail("manifest has no layers array");
  for (auto& l : j["layers"]) {
    auto d = Descriptor::from_json(l);
    if (!d) return tl::unexpected(with_context(d.error(), "manifest layer"));
    m.layers_.push_back(std::move(*d));
  }
  TRY_ASSIGN(m.annotations_, parse_annotations(j));
  m.json_ = std::move(j);
  m.digest_ = Digest::of_bytes(bytes);
  m.bytes_ = std::move(bytes);
  return m;
}

Manifest Manifest::create(std::string_view media_type, Descriptor config,
                          std::vector<Descriptor> layers,
                          std::map<std::string, std::string> annotations) {
  nlohmann::json j = nlohmann::json::object();
  j["schemaVersion"] = 2;
  j["mediaType"] = media_type;
  j["config"] = config.to_json();
  j["layers"] = nlohmann::json::array();
  for (auto& l : layers)
    j["layers"].push_back(l.to_json());
  if (!annotations.empty()) j["annotations"] = annotations;
  Manifest m;
  m.media_type_ = std::string(media_type);
  m.config_ = std::move(config);
  m.layers_ = std::move(layers);
  m.annotations_ = std::move(annotations);
  m.bytes_ = canonical_bytes(j);
  m.digest_ = Digest::of_bytes(m.bytes_);
  m.json_ = std::move(j);
  return m;
}

Descriptor Manifest::descriptor() const {
  Descriptor d;
  d.media_type = media_type_;
  d.digest = digest_;
  d.size = static_cast<int64_t>(bytes_.size());
  return d;
}

Result<Index> Index::parse(std::string bytes, std::string_view declared) {
  TRY_ASSIGN(auto j, parse_json(bytes, "index"));
  TRY_ASSIGN(std::string type, sniff_manifest_type(j, declared));
  if (!media::is_index(type)) return fail("expected an image index, got ", type);
  TRY(check_schema_version(j));
  Index ix;
  ix.media_type_ = type;
  if (!j.contains("manifests") || !j["manifests"].is_array())
    return fail("index has no manifests array");
  for (auto& m : j["manifests"]) {
    auto d = Descriptor::from_json(m);
    if (!d) return tl::unexpected(with_context(d.error(), "index entry"));
    ix.manifests_.push_back(std::move(*d));
  }
  ix.json_ = std::move(j);
  ix.digest_ = Digest::of_bytes(bytes);
  ix.bytes_ = std::move(bytes);
  return ix;
}

Index Index::create(std::string_view media_type, std::vector<Descriptor> manifests,
                    std::map<std::string, std::string> annotations) {
  nlohmann::json j = nlohmann::json::object();
  j["schemaVersion"] = 2;
  j["mediaType"] = media_type;
  j["manifests"] = nlohmann::json::array();
  for (auto& m : manifests)
    j["manifests"].push_back(m.to_json());
  if (!annotations.empty()) j["annotations"] = annotations;
  Index ix;
  ix.media_type_ = std::string(media_type);
  ix.manifests_ = std::move(manifests);
  ix.bytes_ = canonical_bytes(j);
  ix.digest_ = Digest::of_bytes(ix.bytes_);
  ix.json_ = std::move(j);
  return ix;
}

Descriptor Index::descriptor() const {
  Descriptor d;
  d.media_type = media_type_;
  d.digest = digest_;
  d.size = static_cast<int64_t>(bytes_.size());
  return d;
}

}  // namespace kiln::oci
