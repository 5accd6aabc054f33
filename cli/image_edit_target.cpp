#include "cli/image_edit_target.hpp"

#include "cli/remote_image.hpp"

namespace kiln::cli {

namespace {

registry::ClientOptions client_options(const Globals& g) {
  return registry::ClientOptions::from_flags(g.tls_verify, g.cert_dir, g.authfile);
}

}  // namespace

Result<EditBase> open_edit_base(const Globals& g, const std::string& image,
                                const std::string& platform) {
  TRY_ASSIGN(auto found, find_image(g, image, platform));
  return EditBase{std::move(found.image), std::move(found.remote)};
}

registry::Remote edit_destination(const Globals& g, const registry::Remote& src,
                                  const oci::Reference& ref) {
  if (ref.registry == src.client().registry())
    return registry::Remote(src.client_ptr(), ref.repository);
  return registry::remote_for(ref.registry, ref.repository, client_options(g));
}

Status write_edit_result(const Globals& g, oci::Store& store, EditBase& base,
                         const std::string& tag, const oci::ImageConfig& config,
                         const oci::Manifest& manifest, const std::vector<oci::Descriptor>& added,
                         bool json) {
  TRY_ASSIGN(auto ref, oci::Reference::parse(tag));
  if (!base.from) {
    TRY(store.put_blob_bytes(config.bytes()));
    TRY(store.put_blob_bytes(manifest.bytes()));
    TRY(store.set_name(ref.str(), manifest.descriptor()));
  } else {
    registry::Remote& src = *base.from;
    auto dst = edit_destination(g, src, ref);
    std::vector<registry::NewBlob> blobs{
        {manifest.config(), registry::bytes_opener(config.bytes())}};
    for (auto& d : added)
      blobs.push_back({d, registry::store_blob_opener(store, d)});
    registry::TransferOptions t;
    TRY(registry::push_derived(src, dst, ref.tag, manifest, blobs, t));
  }
  if (json)
    print_json({{"ref", ref.str()}, {"digest", manifest.digest().str()}});
  else
    print_line(manifest.digest().str());
  return {};
}

}  // namespace kiln::cli
