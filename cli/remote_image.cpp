#include "cli/remote_image.hpp"

#include "oci/reference.hpp"
#include "registry/transfer.hpp"

namespace kiln::cli {

namespace {

Result<FoundImage> find_remote(const Globals& g, std::string_view text,
                               const std::optional<oci::Platform>& want) {
  TRY_ASSIGN(auto ref, oci::Reference::parse(text));
  FoundImage found;
  found.remote = registry::remote_for(
      ref.registry, ref.repository,
      registry::ClientOptions::from_flags(g.tls_verify, g.cert_dir, g.authfile));
  TRY_ASSIGN(found.image, registry::fetch_remote_image(*found.remote, ref.identifier(), want));
  return found;
}

}  // namespace

Result<FoundImage> find_image(const Globals& g, std::string_view name,
                              const std::string& platform) {
  std::optional<oci::Platform> want;
  if (!platform.empty()) {
    TRY_ASSIGN(want, oci::Platform::parse(platform));
  }
  if (name.starts_with("docker://")) return find_remote(g, name.substr(9), want);
  TRY_ASSIGN(auto store, open_store(g));
  auto local = store.load_image(name, want);
  if (local) {
    FoundImage found;
    found.image = std::move(*local);
    found.store.emplace(std::move(store));
    return found;
  }
  if (local.error().message.find("not found in") == std::string::npos)
    return tl::unexpected(local.error());
  // Say both: the user may have meant either the local name or the remote one.
  auto remote = find_remote(g, name, want);
  if (!remote) return fail(local.error().what(), "; on its registry: ", remote.error().what());
  return remote;
}

}  // namespace kiln::cli
