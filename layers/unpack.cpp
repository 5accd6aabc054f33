#include "layers/unpack.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include "base/files.hpp"
#include "layers/tar_writer.hpp"
#include "layers/tree_emitter.hpp"
#include "layers/tree_walk.hpp"

namespace kiln::layers {

namespace fs = std::filesystem;

namespace {

Status check_layers(const oci::LocalImage& image) {
  auto diff_ids = image.config.diff_ids();
  if (diff_ids.size() != image.manifest.layers().size())
    return fail("image ", image.manifest.digest().str(), " has ", image.manifest.layers().size(),
                " layers but its config lists ", diff_ids.size(), " diff_ids");
  return {};
}

Status apply_all(const oci::Store& store, const oci::LocalImage& image, const fs::path& root,
                 const ApplyOptions& opts) {
  TRY(check_layers(image));
  auto diff_ids = image.config.diff_ids();
  for (size_t i = 0; i < diff_ids.size(); ++i)
    TRY(apply_layer(store, image.manifest.layers()[i], diff_ids[i], root, opts));
  return {};
}

}  // namespace

Status unpack_image(const oci::Store& store, const oci::LocalImage& image, const fs::path& dest,
                    const ApplyOptions& opts) {
  std::error_code ec;
  fs::path target = fs::absolute(dest, ec);
  bool existed = fs::exists(target, ec);
  if (existed && (!fs::is_directory(target, ec) || !fs::is_empty(target, ec)))
    return fail(dest.string(), ": exists and is not an empty directory");
  fs::path parent = target.parent_path();
  if (!fs::is_directory(parent, ec)) return fail(parent.string(), ": no such directory");
  TRY_ASSIGN(TempDir stage, TempDir::create(parent, ".kiln-unpack-"));
  TRY(apply_all(store, image, stage.path(), opts));
  if (::chmod(stage.path().c_str(), 0755) != 0) return fail_errno(errno, stage.path().string());
  if (existed && ::rmdir(target.c_str()) != 0) return fail_errno(errno, dest.string());
  if (::rename(stage.path().c_str(), target.c_str()) != 0)
    return fail_errno(errno, "rename into " + dest.string());
  stage.release();
  return {};
}

Status export_image(const oci::Store& store, const oci::LocalImage& image, Writer& out) {
  TRY_ASSIGN(TempDir stage, TempDir::create(store.tmp_dir(), "export-"));
  TRY(apply_all(store, image, stage.path(), {}));
  TRY_ASSIGN(Fd root, open_root_dir(stage.path().string()));
  TRY_ASSIGN(auto tw, TarWriter::open(out));
  LayerOptions plain;
  plain.compression = oci::media::Compression::none;
  TreeEmitter em(*tw, plain, WalkMode::plain);
  TRY(em.add_children(root.get(), ""));
  return tw->finish();
}

Result<fs::path> unpacked_layer(const oci::Store& store, const oci::Descriptor& layer,
                                const oci::DiffId& diff_id) {
  if (!diff_id.digest().verifiable()) return fail("diff-id ", diff_id.str(), " is not sha256");
  fs::path final_dir = store.layers_dir() / std::string(diff_id.digest().hex());
  struct stat st;
  if (::stat(final_dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return final_dir;
  TRY(make_dirs(store.layers_dir()));
  TRY_ASSIGN(TempDir stage, TempDir::create(store.layers_dir(), ".tmp-"));
  ApplyOptions opts;
  opts.whiteouts = WhiteoutMode::overlay;
  TRY(apply_layer(store, layer, diff_id, stage.path(), opts));
  if (::chmod(stage.path().c_str(), 0755) != 0) return fail_errno(errno, stage.path().string());
  if (::rename(stage.path().c_str(), final_dir.c_str()) != 0) {
    // Another process finished the same layer first: theirs is as good.
    if ((errno == EEXIST || errno == ENOTEMPTY) && ::stat(final_dir.c_str(), &st) == 0)
      return final_dir;
    return fail_errno(errno, "rename into " + final_dir.string());
  }
  stage.release();
  return final_dir;
}

Result<std::vector<fs::path>> unpacked_layers(const oci::Store& store,
                                              const oci::LocalImage& image) {
  TRY(check_layers(image));
  auto diff_ids = image.config.diff_ids();
  std::vector<fs::path> out;
  for (size_t i = 0; i < diff_ids.size(); ++i) {
    TRY_ASSIGN(auto p, unpacked_layer(store, image.manifest.layers()[i], diff_ids[i]));
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace kiln::layers
