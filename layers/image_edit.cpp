#include "layers/image_edit.hpp"

#include <cstdlib>

#include "oci/media_types.hpp"

namespace kiln::layers {

namespace {

std::string oci_type_for(const std::string& mt) {
  namespace m = oci::media;
  if (mt == m::kDockerLayerGzip) return std::string(m::kOciLayerGzip);
  if (mt == m::kDockerForeignLayerGzip) return std::string(m::kOciForeignLayerGzip);
  if (mt == m::kDockerConfig) return std::string(m::kOciConfig);
  return mt;
}

}  // namespace

Result<int64_t> creation_time() {
  const char* sde = std::getenv("SOURCE_DATE_EPOCH");
  if (!sde || !*sde) return oci::now_unix();
  char* end = nullptr;
  long long v = std::strtoll(sde, &end, 10);
  if (*end || v < 0) return fail("SOURCE_DATE_EPOCH=\"", sde, "\" is not a number of seconds");
  return static_cast<int64_t>(v);
}

Result<oci::Manifest> commit_layers(oci::Store& store, const oci::LocalImage* base,
                                    const std::vector<NewLayer>& layers, int64_t created) {
  std::string when = oci::rfc3339(created);
  nlohmann::json doc =
      base ? base->config.json() : oci::ImageConfig::create(oci::Platform::host(), when).json();
  doc["created"] = when;
  if (!doc.contains("rootfs") || !doc["rootfs"].is_object())
    doc["rootfs"] = {{"type", "layers"}, {"diff_ids", nlohmann::json::array()}};
  auto& diff_ids = doc["rootfs"]["diff_ids"];
  if (!diff_ids.is_array()) diff_ids = nlohmann::json::array();
  if (!doc.contains("history") || !doc["history"].is_array())
    doc["history"] = nlohmann::json::array();
  for (auto& l : layers) {
    diff_ids.push_back(l.layer.diff_id.str());
    doc["history"].push_back({{"created", when}, {"created_by", l.created_by}});
  }
  TRY_ASSIGN(auto config, oci::ImageConfig::from_json(std::move(doc)));
  TRY_ASSIGN(auto cfg_blob, store.put_blob_bytes(config.bytes()));

  oci::Descriptor cfg_desc;
  cfg_desc.media_type = std::string(oci::media::kOciConfig);
  cfg_desc.digest = cfg_blob.digest;
  cfg_desc.size = cfg_blob.size;
  std::vector<oci::Descriptor> descs;
  if (base)
    for (auto d : base->manifest.layers()) {
      d.media_type = oci_type_for(d.media_type);
      descs.push_back(std::move(d));
    }
  for (auto& l : layers)
    descs.push_back(l.layer.descriptor);
  auto manifest = oci::Manifest::create(oci::media::kOciManifest, cfg_desc, std::move(descs));
  TRY(store.put_blob_bytes(manifest.bytes()));
  return manifest;
}

}  // namespace kiln::layers
