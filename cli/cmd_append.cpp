// kiln append IMAGE LAYER.tar|DIR... -t REF: new layers on top of a local image.
#include <filesystem>

#include "cli/command.hpp"
#include "layers/compression.hpp"
#include "layers/image_edit.hpp"
#include "layers/writer.hpp"
#include "oci/reference.hpp"
#include "oci/store.hpp"

KILN_COMMAND(append) {
  static std::string image, tag, compression = "gzip";
  static std::vector<std::string> sources;
  auto* cmd = kiln::cli::add_command(
      app, g, "append", "Add layers (tars or directories) on top of a local image",
      [&g]() -> kiln::Status {
        using namespace kiln;
        TRY_ASSIGN(auto ref, oci::Reference::parse(tag));
        TRY_ASSIGN(auto comp, layers::parse_compression(compression));
        for (auto& s : sources)
          if (std::error_code ec; !std::filesystem::exists(s, ec)) return fail_errno(ENOENT, s);
        TRY_ASSIGN(int64_t created, layers::creation_time());
        layers::LayerOptions opts;
        opts.compression = comp;
        if (std::getenv("SOURCE_DATE_EPOCH")) opts.source_date_epoch = created;
        TRY_ASSIGN(auto store, oci::Store::open(g.root.empty() ? oci::Store::default_root()
                                                               : std::filesystem::path(g.root)));
        TRY_ASSIGN(auto base, store.load_image(image));
        std::vector<layers::NewLayer> added;
        for (auto& s : sources) {
          TRY_ASSIGN(auto layer, layers::write_layer_from(store, s, opts));
          std::string what = std::filesystem::path(s).filename().string();
          added.push_back({std::move(layer), "kiln append " + what});
        }
        TRY_ASSIGN(auto manifest, layers::commit_layers(store, &base, added, created));
        TRY(store.set_name(ref.str(), manifest.descriptor()));
        cli::print_line(manifest.digest().str());
        return {};
      });
  cmd->add_option("IMAGE", image, "Base image (local)")->required();
  cmd->add_option("LAYERS", sources, "Layer tars (plain, gzip, zstd) or directories")->required();
  cmd->add_option("-t,--tag", tag, "Name for the new image")->required();
  cmd->add_option("--compression", compression, "Compression of the new layers")
      ->check(CLI::IsMember({"gzip", "zstd", "none"}));
}
