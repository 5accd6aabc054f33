// kiln export IMAGE -o FILE|-: the flattened filesystem as one tar.
#include <unistd.h>

#include "base/output_target.hpp"
#include "cli/command.hpp"
#include "layers/unpack.hpp"
#include "oci/store.hpp"

KILN_COMMAND(export) {
  static std::string image, output;
  auto* cmd = kiln::cli::add_command(
      app, g, "export", "Write an image's flattened filesystem as a tar", [&g]() -> kiln::Status {
        using namespace kiln;
        // Like docker export: stdout by default, unless it is a terminal.
        if (output.empty()) {
          if (::isatty(1)) return fail("export: give -o FILE (or -o - for stdout)");
          output = "-";
        }
        TRY_ASSIGN(auto store, oci::Store::open(g.root.empty() ? oci::Store::default_root()
                                                               : std::filesystem::path(g.root)));
        TRY_ASSIGN(auto img, store.load_image(image));
        TRY_ASSIGN(auto out, OutputTarget::open(output));
        TRY(layers::export_image(store, img, out));
        return out.commit();
      });
  cmd->add_option("IMAGE", image, "Image name or ID")->required();
  cmd->add_option("-o,--output", output, "Output tar file, - for stdout");
}
