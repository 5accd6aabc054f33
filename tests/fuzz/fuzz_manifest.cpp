// libFuzzer target: any bytes as a manifest, an index and an image config,
// under each Content-Type a registry may declare. What parses must give
// descriptors that survive a round trip, and documents kiln rebuilds from
// the parsed parts must parse again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "oci/config.hpp"
#include "oci/json.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"

namespace {

using namespace kiln::oci;

void check_descriptor(const Descriptor& d) {
  nlohmann::json once = d.to_json();
  auto again = Descriptor::from_json(once);
  if (!again || again->to_json() != once) std::abort();
}

void check_manifest(const Manifest& m) {
  if (m.digest() != Digest::of_bytes(m.bytes())) std::abort();
  check_descriptor(m.config());
  for (auto& l : m.layers())
    check_descriptor(l);
  auto made = Manifest::create(m.media_type(), m.config(), m.layers(), m.annotations());
  auto reparsed = Manifest::parse(made.bytes());
  if (!reparsed || reparsed->layers().size() != m.layers().size() ||
      reparsed->media_type() != m.media_type())
    std::abort();
}

void check_index(const Index& ix) {
  if (ix.digest() != Digest::of_bytes(ix.bytes())) std::abort();
  for (auto& d : ix.manifests())
    check_descriptor(d);
  auto made = Index::create(ix.media_type(), ix.manifests());
  auto reparsed = Index::parse(made.bytes());
  if (!reparsed || reparsed->manifests().size() != ix.manifests().size()) std::abort();
}

void check_config(const ImageConfig& c) {
  (void)c.platform().normalized().str();
  (void)c.created();
  (void)c.author();
  (void)c.chain_ids();
  (void)c.history();
  (void)c.env();
  (void)c.entrypoint();
  (void)c.cmd();
  (void)c.labels();
  (void)c.user();
  (void)c.working_dir();
  (void)c.exposed_ports();
  (void)c.volumes();
  (void)c.stop_signal();
  // parse() refused a config with any diff_id that does not parse.
  const nlohmann::json& doc = c.json();
  size_t declared = doc.contains("rootfs") && doc["rootfs"].contains("diff_ids")
                        ? doc["rootfs"]["diff_ids"].size()
                        : 0;
  if (c.diff_ids().size() != declared) std::abort();
  if (!ImageConfig::from_json(c.json())) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  for (std::string_view declared :
       {std::string_view(), media::kOciManifest, media::kDockerManifest, media::kOciIndex,
        media::kDockerManifestList, std::string_view("application/json")}) {
    if (auto m = Manifest::parse(bytes, declared)) check_manifest(*m);
    if (auto ix = Index::parse(bytes, declared)) check_index(*ix);
  }
  if (auto c = ImageConfig::parse(bytes)) check_config(*c);
  // A descriptor on its own, as index.json entries and archive manifests hold them.
  auto j = parse_untrusted_json(bytes);
  if (!j.is_discarded())
    if (auto d = Descriptor::from_json(j)) check_descriptor(*d);
  return 0;
}
