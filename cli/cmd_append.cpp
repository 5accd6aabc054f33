// kiln append IMAGE LAYER.tar|DIR... -t REF: new layers on top of an image.
// For a registry image only the new layers, config and manifest are uploaded;
// the base layers stay on the registry (HEAD-skipped or mounted).
#include <filesystem>

#include "cli/command.hpp"
#include "cli/image_edit_target.hpp"
#include "layers/compression.hpp"
#include "layers/image_edit.hpp"
#include "layers/writer.hpp"
#include "oci/image_edit.hpp"

KILN_COMMAND(append) {
  static std::string image, tag, platform, compression = "gzip", format = "text";
  static std::vector<std::string> sources;
  auto* cmd = kiln::cli::add_command(
      app, g, "append", "Add layers (tars or directories) on top of an image",
      [&g]() -> kiln::Status {
        using namespace kiln;
        TRY(oci::Reference::parse(tag));  // before any work
        TRY_ASSIGN(auto comp, layers::parse_compression(compression));
        for (auto& s : sources)
          if (std::error_code ec; !std::filesystem::exists(s, ec)) return fail_errno(ENOENT, s);
        TRY_ASSIGN(int64_t created, layers::creation_time());
        layers::LayerOptions opts;
        opts.compression = comp;
        if (std::getenv("SOURCE_DATE_EPOCH")) opts.source_date_epoch = created;
        TRY_ASSIGN(auto store, cli::open_store(g));
        TRY_ASSIGN(auto base, cli::open_edit_base(g, image, platform));
        std::vector<layers::NewLayer> added;
        std::vector<oci::Descriptor> added_blobs;
        for (auto& s : sources) {
          TRY_ASSIGN(auto layer, layers::write_layer_from(store, s, opts));
          std::string what = std::filesystem::path(s).filename().string();
          added_blobs.push_back(layer.descriptor);
          added.push_back({std::move(layer), "kiln append " + what});
        }
        TRY_ASSIGN(auto config, layers::layered_config(&base.image.config, added, created));
        oci::Descriptor cd;
        cd.digest = config.digest();
        cd.size = static_cast<int64_t>(config.bytes().size());
        auto manifest = oci::derive_manifest(&base.image.manifest, cd, added_blobs);
        return cli::write_edit_result(g, store, base, tag, config, manifest, added_blobs,
                                      format == "json");
      });
  cmd->add_option("IMAGE", image, "Base image: local, or a registry reference (docker://REF)")
      ->required();
  cmd->add_option("LAYERS", sources, "Layer tars (plain, gzip, zstd) or directories")->required();
  cmd->add_option("-t,--tag", tag,
                  "Name for the new image (a registry reference for a registry "
                  "image)")
      ->required();
  cmd->add_option("--compression", compression, "Compression of the new layers")
      ->check(CLI::IsMember({"gzip", "zstd", "none"}));
  cmd->add_option("--platform", platform, "Platform to pick from an index (default: this host)");
  kiln::cli::add_format_option(cmd, format);
}
