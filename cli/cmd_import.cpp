// kiln import ROOTFS.tar|DIR -t REF: a one-layer image from a rootfs.
#include <sys/stat.h>

#include <filesystem>

#include "cli/command.hpp"
#include "layers/compression.hpp"
#include "layers/image_edit.hpp"
#include "layers/writer.hpp"
#include "oci/reference.hpp"
#include "oci/store.hpp"

KILN_COMMAND(import) {
  static std::string src, tag, compression = "gzip";
  static int level = -1;
  auto* cmd = kiln::cli::add_command(
      app, g, "import", "Create a one-layer image from a rootfs tar or directory",
      [&g]() -> kiln::Status {
        using namespace kiln;
        // Everything the user typed is checked before the store is touched.
        TRY_ASSIGN(auto ref, oci::Reference::parse(tag));
        TRY_ASSIGN(auto comp, layers::parse_compression(compression));
        struct stat st;
        if (::stat(src.c_str(), &st) != 0) return fail_errno(errno, src);
        TRY_ASSIGN(int64_t created, layers::creation_time());
        layers::LayerOptions opts;
        opts.compression = comp;
        opts.level = level;
        if (std::getenv("SOURCE_DATE_EPOCH")) opts.source_date_epoch = created;

        TRY_ASSIGN(auto store, oci::Store::open(g.root.empty() ? oci::Store::default_root()
                                                               : std::filesystem::path(g.root)));
        TRY_ASSIGN(auto layer, layers::write_layer_from(store, src, opts));
        std::string what = std::filesystem::path(src).filename().string();
        std::vector<layers::NewLayer> added{{layer, "kiln import " + what}};
        TRY_ASSIGN(auto manifest, layers::commit_layers(store, nullptr, added, created));
        TRY(store.set_name(ref.str(), manifest.descriptor()));
        cli::print_line(manifest.digest().str());
        return {};
      });
  cmd->add_option("SOURCE", src, "Rootfs tar (plain, gzip or zstd) or directory")->required();
  cmd->add_option("-t,--tag", tag, "Name for the image")->required();
  cmd->add_option("--compression", compression, "Layer compression")
      ->check(CLI::IsMember({"gzip", "zstd", "none"}));
  cmd->add_option("--compression-level", level, "Compression level (-1: default)");
}
