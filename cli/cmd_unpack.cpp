// kiln unpack IMAGE DIR: the image's flattened filesystem into a directory.
// A local image is unpacked through the store's layer cache (filled on first
// use); an image only its registry has (or docker://REF) goes registry →
// rootfs, each layer streamed once from the registry into DIR and not stored.
#include "cli/command.hpp"
#include "cli/remote_image.hpp"
#include "layers/unpack.hpp"
#include "registry/transfer.hpp"

namespace kiln::cli {

KILN_COMMAND(unpack) {
  static std::string image, dir, platform;
  auto* cmd = add_command(
      app, g, "unpack", "Unpack an image's filesystem into a directory", [&g]() -> Status {
        TRY_ASSIGN(auto found, find_image(g, image, platform));
        if (found.store) return layers::unpack_image(*found.store, found.image, dir);
        registry::Remote& remote = *found.remote;
        return layers::unpack_image_from(
            [&remote](const oci::Descriptor& d) { return registry::open_verified_blob(remote, d); },
            found.image, dir);
      });
  cmd->add_option("IMAGE", image, "Image name or ID, or a registry reference (docker://REF)")
      ->required();
  cmd->add_option("DIR", dir, "Destination (absent or empty)")->required();
  cmd->add_option("--platform", platform,
                  "Platform to pick from an index (OS/ARCH[/VARIANT]; default: this host)");
}

}  // namespace kiln::cli
