#include "cli/image_edit_target.hpp"

namespace kiln::cli {

namespace {

registry::ClientOptions client_options(const Globals& g) {
  return registry::ClientOptions::from_flags(g.tls_verify, g.cert_dir, g.authfile);
}

}  // namespace

Result<EditBase> open_edit_base(const Globals& g, oci::Store& store, const std::string& image,
                                const std::string& platform) {
  std::string_view text = image;
  bool remote = text.starts_with("docker://");
  if (remote) text.remove_prefix(9);
  EditBase base;
  std::optional<Error> store_miss;
  if (!remote) {
    auto local = store.load_image(text);
    if (local) {
      base.image = std::move(*local);
      return base;
    }
    if (local.error().message.find("not found in") == std::string::npos)
      return tl::unexpected(local.error());
    store_miss = local.error();
  }
  TRY_ASSIGN(auto ref, oci::Reference::parse(text));
  std::optional<oci::Platform> want;
  if (!platform.empty()) {
    TRY_ASSIGN(want, oci::Platform::parse(platform));
  }
  base.from = registry::remote_for(ref.registry, ref.repository, client_options(g));
  auto fetched = registry::fetch_remote_image(*base.from, ref.identifier(), want);
  if (!fetched) {
    // Say both, as kiln inspect does: the user may have meant either image.
    if (store_miss) return fail(store_miss->what(), "; on its registry: ", fetched.error().what());
    return tl::unexpected(fetched.error());
  }
  base.image = std::move(*fetched);
  return base;
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
    auto dst = ref.registry == src.client().registry()
                   ? registry::Remote(src.client_ptr(), ref.repository)
                   : registry::remote_for(ref.registry, ref.repository, client_options(g));
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
