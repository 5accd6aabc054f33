// kiln save IMAGE... -o FILE [--format docker-archive|oci-archive]; kiln load -i FILE.
#include "base/output_target.hpp"
#include "cli/command.hpp"
#include "layers/image_archive.hpp"

namespace kiln::cli {

KILN_COMMAND(save) {
  static std::vector<std::string> images;
  static std::string output, format = "docker-archive";
  auto* cmd = add_command(app, g, "save", "Write images to a docker-archive or oci-archive tar",
                          [&g]() -> Status {
                            TRY_ASSIGN(auto fmt, layers::parse_archive_format(format));
                            TRY_ASSIGN(auto store, open_store(g));
                            std::vector<oci::LocalImage> loaded;
                            for (auto& name : images) {
                              TRY_ASSIGN(auto img, store.load_image(name));
                              loaded.push_back(std::move(img));
                            }
                            TRY_ASSIGN(auto out, OutputTarget::open(output));
                            TRY(layers::save_archive(store, loaded, fmt, out));
                            return out.commit();
                          });
  cmd->add_option("IMAGE", images, "Images to save")->required();
  cmd->add_option("-o,--output", output, "Archive to write ('-' for stdout)")->required();
  cmd->add_option("--format", format, "docker-archive (default) or oci-archive")
      ->check(CLI::IsMember({"docker-archive", "oci-archive"}));
}

KILN_COMMAND(load) {
  static std::string input, format = "text";
  auto* cmd = add_command(
      app, g, "load", "Load images from a docker-archive or oci-archive tar", [&g]() -> Status {
        TRY_ASSIGN(auto store, open_store(g));
        TRY_ASSIGN(auto images, layers::load_archive(store, input));
        nlohmann::json out = nlohmann::json::array();
        for (auto& img : images) {
          out.push_back({{"name", img.name.empty() ? nlohmann::json() : nlohmann::json(img.name)},
                         {"digest", img.descriptor.digest.str()}});
          if (format != "json")
            print_line("Loaded image: " +
                       (img.name.empty() ? img.descriptor.digest.str() : img.name));
        }
        if (format == "json") print_json(out);
        return {};
      });
  cmd->add_option("-i,--input", input, "Archive to read")->required();
  add_format_option(cmd, format);
}

}  // namespace kiln::cli
