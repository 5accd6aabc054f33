// kiln inspect IMAGE: name, digest, platform, layers and runtime config.
#include "cli/command.hpp"
#include "cli/inspect_view.hpp"

namespace kiln::cli {

KILN_COMMAND(inspect) {
  static std::string image, format = "text";
  auto* cmd = add_command(app, g, "inspect", "Show an image's metadata", [&g]() -> Status {
    TRY_ASSIGN(auto store, open_store(g));
    TRY_ASSIGN(auto img, store.load_image(image));
    auto view = inspect_json(img);
    if (format == "json")
      print_json(view);
    else
      print_inspect_text(view);
    return {};
  });
  cmd->add_option("IMAGE", image, "Image name or ID")->required();
  add_format_option(cmd, format);
}

}  // namespace kiln::cli
