// Layers from whole trees: a plain directory and an overlayfs upper dir.
#include <sys/stat.h>

#include "layers/layer_sink.hpp"
#include "layers/tree_emitter.hpp"
#include "layers/tree_walk.hpp"
#include "layers/writer.hpp"

namespace kiln::layers {

namespace {

Result<WrittenLayer> write_tree(oci::Store& store, const std::filesystem::path& dir,
                                const LayerOptions& opts, WalkMode mode) {
  TRY_ASSIGN(Fd root, open_root_dir(dir.string()));
  TRY_ASSIGN(auto sink, LayerSink::open(store, opts));
  TRY_ASSIGN(auto tw, TarWriter::open(sink->tar_stream()));
  TreeEmitter em(*tw, opts, mode);
  TRY_CTX(em.add_children(root.get(), ""), dir.string());
  TRY(tw->finish());
  return sink->commit();
}

}  // namespace

Result<WrittenLayer> write_dir_layer(oci::Store& store, const std::filesystem::path& dir,
                                     const LayerOptions& opts) {
  return write_tree(store, dir, opts, WalkMode::plain);
}

Result<WrittenLayer> write_overlay_layer(oci::Store& store, const std::filesystem::path& upper,
                                         const LayerOptions& opts) {
  return write_tree(store, upper, opts, WalkMode::overlay);
}

Result<WrittenLayer> write_layer_from(oci::Store& store, const std::filesystem::path& src,
                                      const LayerOptions& opts) {
  struct stat st;
  if (::stat(src.c_str(), &st) != 0) return fail_errno(errno, src.string());
  if (S_ISDIR(st.st_mode)) return write_dir_layer(store, src, opts);
  return write_tar_layer(store, src, opts);
}

}  // namespace kiln::layers
