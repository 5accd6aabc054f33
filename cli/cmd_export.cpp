// kiln export IMAGE -o FILE|-: the flattened filesystem as one tar.
#include <unistd.h>

#include "base/files.hpp"
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
        if (output == "-") {
          FdWriter out(1);
          return layers::export_image(store, img, out);
        }
        // Written beside the target and renamed: a failed export leaves no file.
        TRY_ASSIGN(auto file, AtomicFile::create(output));
        TRY(layers::export_image(store, img, file));
        return file.commit();
      });
  cmd->add_option("IMAGE", image, "Image name or ID")->required();
  cmd->add_option("-o,--output", output, "Output tar file, - for stdout");
}
