// kiln unpack IMAGE DIR: the image's flattened filesystem into a directory.
#include "cli/command.hpp"
#include "layers/unpack.hpp"
#include "oci/store.hpp"

KILN_COMMAND(unpack) {
  static std::string image, dir;
  auto* cmd = kiln::cli::add_command(
      app, g, "unpack", "Unpack an image's filesystem into a directory", [&g]() -> kiln::Status {
        using namespace kiln;
        TRY_ASSIGN(auto store, oci::Store::open(g.root.empty() ? oci::Store::default_root()
                                                               : std::filesystem::path(g.root)));
        TRY_ASSIGN(auto img, store.load_image(image));
        return layers::unpack_image(store, img, dir);
      });
  cmd->add_option("IMAGE", image, "Image name or ID")->required();
  cmd->add_option("DIR", dir, "Destination (absent or empty)")->required();
}
