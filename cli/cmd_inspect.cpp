// kiln inspect IMAGE: name, digest, platform, layers and runtime config.
// IMAGE is looked up in the local store first; a reference the store does not
// have (or one written docker://REF) is inspected on its registry, fetching the
// manifest and config only.
#include "cli/command.hpp"
#include "cli/inspect_view.hpp"
#include "cli/remote_image.hpp"

namespace kiln::cli {

KILN_COMMAND(inspect) {
  static std::string image, format = "text", platform;
  auto* cmd = add_command(app, g, "inspect", "Show an image's metadata", [&g]() -> Status {
    TRY_ASSIGN(auto found, find_image(g, image, platform));
    const oci::LocalImage& img = found.image;
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
                  "Platform to pick from an index (OS/ARCH[/VARIANT]; default: this host)");
  add_format_option(cmd, format);
}

}  // namespace kiln::cli
