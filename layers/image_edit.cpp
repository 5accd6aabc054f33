#include "layers/image_edit.hpp"

#include <cstdlib>

#include "oci/image_edit.hpp"

namespace kiln::layers {

Result<int64_t> creation_time() {
  const char* sde = std::getenv("SOURCE_DATE_EPOCH");
  if (!sde || !*sde) return oci::now_unix();
  char* end = nullptr;
  long long v = std::strtoll(sde, &end, 10);
  if (*end || v < 0) return fail("SOURCE_DATE_EPOCH=\"", sde, "\" is not a number of seconds");
  return static_cast<int64_t>(v);
}

Result<oci::ImageConfig> layered_config(const oci::ImageConfig* base,
                                        const std::vector<NewLayer>& layers, int64_t created) {
  std::string when = oci::rfc3339(created);
  nlohmann::json doc =
      base ? base->json() : oci::ImageConfig::create(oci::Platform::host(), when).json();
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
  return oci::ImageConfig::from_json(std::move(doc));
}

Result<oci::Manifest> commit_layers(oci::Store& store, const oci::LocalImage* base,
                                    const std::vector<NewLayer>& layers, int64_t created) {
  TRY_ASSIGN(auto config, layered_config(base ? &base->config : nullptr, layers, created));
  TRY_ASSIGN(auto cfg_blob, store.put_blob_bytes(config.bytes()));
  oci::Descriptor cfg_desc;
  cfg_desc.digest = cfg_blob.digest;
  cfg_desc.size = cfg_blob.size;
  std::vector<oci::Descriptor> added;
  for (auto& l : layers)
    added.push_back(l.layer.descriptor);
  auto manifest =
      oci::derive_manifest(base ? &base->manifest : nullptr, cfg_desc, std::move(added));
  TRY(store.put_blob_bytes(manifest.bytes()));
  return manifest;
}

}  // namespace kiln::layers
