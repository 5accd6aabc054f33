#include "layers/unpack.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/files.hpp"
#include "base/log.hpp"
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

// The image's layers from the cache, merged bottom first onto `root`.
Status merge_all(const oci::Store& store, const oci::LocalImage& image, const fs::path& root,
                 const ApplyOptions& opts) {
  // Held until the merge is done: the entries are read until then.
  TRY_ASSIGN(auto lease, oci::Lease::create(store, "unpack " + image.manifest.digest().str()));
  TRY_ASSIGN(auto dirs, unpacked_layers(store, image, lease));
  for (auto& d : dirs)
    TRY(merge_layer_dir(d, root, opts));
  return {};
}

// Fills a staging directory next to `dest` with `fill`, then renames it into
// place: `dest` must be absent or an empty directory, and is never half there.
Status into_fresh_dir(const fs::path& dest, const std::function<Status(const fs::path&)>& fill) {
  std::error_code ec;
  // "out/" names the directory "out", not an entry inside it.
  fs::path target = fs::absolute(dest, ec).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();
  bool existed = fs::exists(target, ec);
  if (existed && (!fs::is_directory(target, ec) || !fs::is_empty(target, ec)))
    return fail(dest.string(), ": exists and is not an empty directory");
  fs::path parent = target.parent_path();
  if (!fs::is_directory(parent, ec)) return fail(parent.string(), ": no such directory");
  TRY_ASSIGN(TempDir stage, TempDir::create(parent, ".kiln-unpack-"));
  TRY(fill(stage.path()));
  if (::chmod(stage.path().c_str(), 0755) != 0) return fail_errno(errno, stage.path().string());
  if (existed && ::rmdir(target.c_str()) != 0) return fail_errno(errno, dest.string());
  if (::rename(stage.path().c_str(), target.c_str()) != 0)
    return fail_errno(errno, "rename into " + dest.string());
  stage.release();
  return {};
}

}  // namespace

Status unpack_image(const oci::Store& store, const oci::LocalImage& image, const fs::path& dest,
                    const ApplyOptions& opts) {
  return into_fresh_dir(
      dest, [&](const fs::path& stage) { return merge_all(store, image, stage, opts); });
}

Status unpack_image_from(const oci::BlobOpen& open, const oci::LocalImage& image,
                         const fs::path& dest, const ApplyOptions& opts) {
  TRY(check_layers(image));
  return into_fresh_dir(dest, [&](const fs::path& stage) -> Status {
    auto diff_ids = image.config.diff_ids();
    for (size_t i = 0; i < diff_ids.size(); ++i) {
      const oci::Descriptor& layer = image.manifest.layers()[i];
      TRY_ASSIGN(auto blob, open(layer));
      TRY(apply_layer_from(*blob, layer, diff_ids[i], stage, opts));
    }
    return {};
  });
}

Status export_image(const oci::Store& store, const oci::LocalImage& image, Writer& out) {
  TRY_ASSIGN(TempDir stage, TempDir::create(store.tmp_dir(), "export-"));
  TRY(merge_all(store, image, stage.path(), {}));
  TRY_ASSIGN(Fd root, open_root_dir(stage.path().string()));
  TRY_ASSIGN(auto tw, TarWriter::open(out));
  LayerOptions plain;
  plain.compression = oci::media::Compression::none;
  TreeEmitter em(*tw, plain, WalkMode::plain);
  TRY(em.add_children(root.get(), ""));
  return tw->finish();
}

Result<fs::path> unpacked_layer(const oci::Store& store, const oci::Descriptor& layer,
                                const oci::DiffId& diff_id, const std::vector<fs::path>& lowers,
                                const oci::Digest& chain_id, oci::Lease& lease) {
  if (!diff_id.digest().verifiable()) return fail("diff-id ", diff_id.str(), " is not sha256");
  // Entries are reached from the layer cache's fd: a symlink planted at an
  // entry's name is never followed (it is not "present", and the fill below
  // replaces it).
  TRY_ASSIGN(Fd cache, store.state_dir("layers"));
  std::string diff_name(diff_id.digest().hex()), chain_name(chain_id.hex());
  TRY(lease.add(oci::LeaseNames{{layer.digest}, {diff_name, chain_name}}));
  auto present = [&](const std::string& name) {
    struct stat st;
    return ::fstatat(cache.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISDIR(st.st_mode);
  };
  auto path_of = [&](const std::string& name) { return store.layers_dir() / name; };
  if (present(diff_name)) return path_of(diff_name);
  if (present(chain_name)) return path_of(chain_name);
  // One process fills an entry while others wait for it (rather than all
  // applying the same layer); the entry appears by rename only once complete,
  // so a crash leaves at most a ".tmp-" dir that is never read.
  // Hidden (".…"), like the staging dirs, so store pruning leaves it alone.
  TRY_ASSIGN(FileLock lock, FileLock::acquire_beneath(cache.get(), "." + diff_name + ".lock",
                                                      path_of("." + diff_name + ".lock")));
  if (present(diff_name)) return path_of(diff_name);
  if (present(chain_name)) return path_of(chain_name);
  TRY_ASSIGN(TempDir stage, TempDir::create(store.layers_dir(), ".tmp-"));
  ApplyOptions opts;
  opts.whiteouts = WhiteoutMode::overlay;
  opts.lowers = lowers;
  TRY_ASSIGN(ApplyStats stats, apply_layer(store, layer, diff_id, stage.path(), opts));
  if (::chmod(stage.path().c_str(), 0755) != 0) return fail_errno(errno, stage.path().string());
  // With files copied up from below, the entry holds more than the layer.
  const std::string& final_name = stats.copied_up ? chain_name : diff_name;
  fs::path final_dir = path_of(final_name);
  // Not a directory where the entry belongs (a planted symlink or file): it
  // was never an entry, and goes.
  struct stat st;
  if (::fstatat(cache.get(), final_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      !S_ISDIR(st.st_mode) && ::unlinkat(cache.get(), final_name.c_str(), 0) != 0)
    return fail_errno(errno, "remove " + final_dir.string());
  if (::renameat(AT_FDCWD, stage.path().c_str(), cache.get(), final_name.c_str()) != 0) {
    // Filled meanwhile despite the lock (its file removed by hand, say):
    // theirs is as good.
    if ((errno == EEXIST || errno == ENOTEMPTY) && present(final_name)) return final_dir;
    return fail_errno(errno, "rename into " + final_dir.string());
  }
  stage.release();
  log_debug("layer " + diff_id.str() + " applied into the layer cache");
  return final_dir;
}

Result<std::vector<fs::path>> unpacked_layers(const oci::Store& store, const oci::LocalImage& image,
                                              oci::Lease& lease) {
  TRY(check_layers(image));
  auto diff_ids = image.config.diff_ids();
  auto chain_ids = image.config.chain_ids();
  std::vector<fs::path> out;
  for (size_t i = 0; i < diff_ids.size(); ++i) {
    TRY_ASSIGN(auto p, unpacked_layer(store, image.manifest.layers()[i], diff_ids[i], out,
                                      chain_ids[i], lease));
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace kiln::layers
