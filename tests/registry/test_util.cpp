#include "tests/registry/test_util.hpp"

#include <random>

#include "oci/config.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"

namespace kiln::test {

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s)
    c = static_cast<char>(rng() & 0xff);
  return s;
}

MadeImage make_image(oci::Store& store, const std::string& name, std::vector<size_t> layer_sizes,
                     uint32_t seed) {
  MadeImage img;
  std::vector<oci::Descriptor> layers;
  nlohmann::json diff_ids = nlohmann::json::array();
  for (size_t i = 0; i < layer_sizes.size(); ++i) {
    std::string bytes = random_bytes(layer_sizes[i], seed * 1000 + static_cast<uint32_t>(i));
    auto info = store.put_blob_bytes(bytes);
    EXPECT_TRUE(info) << info.error().what();
    oci::Descriptor d;
    d.media_type = oci::media::kOciLayerGzip;
    d.digest = info->digest;
    d.size = info->size;
    layers.push_back(d);
    diff_ids.push_back(info->digest.str());  // not a real diff-id; registries do not care
  }
  oci::ImageConfig base = oci::ImageConfig::create(oci::Platform::host(), "2024-01-01T00:00:00Z");
  nlohmann::json doc = base.json();
  doc["rootfs"] = {{"type", "layers"}, {"diff_ids", diff_ids}};
  doc["config"]["Labels"] = {{"seed", std::to_string(seed)}};
  auto cfg = oci::ImageConfig::from_json(doc);
  EXPECT_TRUE(cfg) << cfg.error().what();
  auto cinfo = store.put_blob_bytes(cfg->bytes());
  EXPECT_TRUE(cinfo);
  oci::Descriptor cd;
  cd.media_type = oci::media::kOciConfig;
  cd.digest = cinfo->digest;
  cd.size = cinfo->size;
  auto m = oci::Manifest::create(oci::media::kOciManifest, cd, layers);
  EXPECT_TRUE(store.put_blob_bytes(m.bytes()));
  img.top = m.descriptor();
  EXPECT_TRUE(store.set_name(name, img.top));
  img.blobs.push_back(cd);
  for (auto& l : layers)
    img.blobs.push_back(l);
  return img;
}

MadeImage make_image_with_config(oci::Store& store, std::string_view config, size_t layer_size,
                                 uint32_t seed) {
  auto put = [&](std::string_view media_type, std::string_view bytes) {
    auto info = store.put_blob_bytes(bytes);
    EXPECT_TRUE(info) << info.error().what();
    oci::Descriptor d;
    d.media_type = media_type;
    if (info) {
      d.digest = info->digest;
      d.size = info->size;
    }
    return d;
  };
  MadeImage img;
  img.blobs.push_back(put(oci::media::kOciConfig, config));
  img.blobs.push_back(put(oci::media::kOciLayerGzip, random_bytes(layer_size, seed)));
  auto m = oci::Manifest::create(oci::media::kOciManifest, img.blobs[0], {img.blobs[1]});
  EXPECT_TRUE(store.put_blob_bytes(m.bytes()));
  img.top = m.descriptor();
  return img;
}

registry::ClientOptions fast_options(bool tls_verify) {
  registry::ClientOptions o;
  o.tls_verify = tls_verify;
  o.retry.max_attempts = 4;
  o.retry.base_delay = std::chrono::milliseconds(20);
  o.retry.max_delay = std::chrono::milliseconds(200);
  o.retry.max_retry_after = std::chrono::milliseconds(1500);
  o.stall_timeout = std::chrono::milliseconds(1500);
  o.connect_timeout = std::chrono::milliseconds(3000);
  o.certs_d_roots = {"/nonexistent-kiln-test-certs.d"};
  // Never read the developer's own credentials in tests.
  o.keychain = std::make_shared<registry::FileKeychain>(registry::KeychainPaths{});
  return o;
}

}  // namespace kiln::test
