// kiln inspect IMAGE: name, digest, platform, layers and runtime config.
// IMAGE is looked up in the local store first; a reference the store does not
// have (or one written docker://REF) is inspected on its registry, fetching the
// manifest and config only.
#include "cli/command.hpp"
#include "cli/inspect_view.hpp"
#include "oci/reference.hpp"
#include "registry/transfer.hpp"

namespace kiln::cli {

namespace {

Result<oci::LocalImage> inspect_remote(const Globals& g, std::string_view text,
                                       const std::string& platform) {
  TRY_ASSIGN(auto ref, oci::Reference::parse(text));
  std::optional<oci::Platform> want;
  if (!platform.empty()) {
    TRY_ASSIGN(want, oci::Platform::parse(platform));
  }
  auto remote = registry::remote_for(
      ref.registry, ref.repository,
      registry::ClientOptions::from_flags(g.tls_verify, g.cert_dir, g.authfile));
  return registry::fetch_remote_image(remote, ref.identifier(), want);
}

}  // namespace

KILN_COMMAND(inspect) {
  static std::string image, format = "text", platform;
  auto* cmd = add_command(app, g, "inspect", "Show an image's metadata", [&g]() -> Status {
    std::string_view text = image;
    oci::LocalImage img;
    if (text.starts_with("docker://")) {
      TRY_ASSIGN(img, inspect_remote(g, text.substr(9), platform));
    } else {
      TRY_ASSIGN(auto store, open_store(g));
      auto local = store.load_image(text);
      bool absent = !local && local.error().message.find("not found in") != std::string::npos;
      if (absent) {
        // Say both: the user may have meant either the local name or the remote one.
        auto remote = inspect_remote(g, text, platform);
        if (!remote)
          return fail(local.error().what(), "; on its registry: ", remote.error().what());
        img = std::move(*remote);
      } else {
        if (!local) return tl::unexpected(local.error());
        img = std::move(*local);
      }
    }
    auto view = inspect_json(img);
    if (format == "json")
      print_json(view);
    else
      print_inspect_text(view);
    return {};
  });
  cmd->add_option("IMAGE", image, "Image name or ID, or a registry reference (docker://REF)")
      ->required();
  cmd->add_option("--platform", platform,
                  "Platform to pick from a remote index (OS/ARCH[/VARIANT])");
  add_format_option(cmd, format);
}

}  // namespace kiln::cli
