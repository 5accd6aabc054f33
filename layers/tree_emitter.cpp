#include "layers/tree_emitter.hpp"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>

#include "base/fd.hpp"
#include "base/log.hpp"
#include "layers/tree_walk.hpp"

namespace kiln::layers {

namespace {

// Bound on directory nesting: each level holds one fd while its subtree is written.
constexpr int kMaxDepth = 512;

bool is_overlay_xattr(std::string_view n) {
  return n.starts_with("trusted.overlay.") || n.starts_with("user.overlay.");
}

}  // namespace

void TreeEmitter::clamp(TarEntry& e) const {
  if (opts_.source_date_epoch && (e.mtime_sec > *opts_.source_date_epoch ||
                                  (e.mtime_sec == *opts_.source_date_epoch && e.mtime_nsec))) {
    e.mtime_sec = *opts_.source_date_epoch;
    e.mtime_nsec = 0;
  }
}

Status TreeEmitter::add(int dirfd, const std::string& name, const std::string& path, bool recurse) {
  // Every reader of the layer would take such a file for a deletion marker.
  if (name.starts_with(kWhiteoutPrefix))
    return fail(path, ": a name starting with \"", kWhiteoutPrefix,
                "\" cannot go into a layer (OCI reserves it for whiteouts)");
  struct stat st;
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return fail_errno(errno, "stat " + path);
  Fd fd;
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
    // O_NONBLOCK: if the name was swapped for a fifo meanwhile, do not hang on it.
    int flags =
        O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0);
    fd.reset(::openat(dirfd, name.c_str(), flags));
    if (!fd) return fail_errno(errno, "open " + path);
    struct stat st2;
    if (::fstat(fd.get(), &st2) != 0) return fail_errno(errno, "stat " + path);
    if ((st2.st_mode & S_IFMT) != (st.st_mode & S_IFMT) || st2.st_ino != st.st_ino)
      return fail(path, " changed while the layer was being written");
    st = st2;
  }
  bool supported = true;
  TRY_ASSIGN(TarEntry e, entry_from_stat(dirfd, name, st, path, supported));
  if (!supported) {
    log_warn("skipping socket " + path + ": tar cannot hold it");
    return {};
  }
  TRY_ASSIGN(e.xattrs, read_xattrs(dirfd, name, fd.get()));
  clamp(e);

  bool opaque = false;
  if (mode_ == WalkMode::overlay) {
    if (is_overlay_whiteout(dirfd, name, st)) return add_whiteout(path);
    opaque = e.type == EntryType::dir && is_overlay_opaque(fd.get());
    std::erase_if(e.xattrs, [](auto& kv) { return is_overlay_xattr(kv.first); });
  }

  if (e.type != EntryType::dir && st.st_nlink > 1) {
    auto [it, fresh] = links_.try_emplace({st.st_dev, st.st_ino}, path);
    if (!fresh) {
      e.type = EntryType::hardlink;
      e.link = it->second;
      e.size = 0;
      e.sparse.clear();
      return tw_.add(e);
    }
  }
  if (e.type == EntryType::file) {
    TRY_ASSIGN(e.sparse, sparse_extents(fd.get(), st));
    TRY_CTX(tw_.add_from_fd(e, fd.get()), path);
    return {};
  }
  TRY(tw_.add(e));
  if (e.type != EntryType::dir) return {};
  if (opaque) TRY(add_opaque(path));
  if (!recurse) return {};
  return add_children(fd.get(), path);
}

Status TreeEmitter::add_children(int dirfd, const std::string& prefix) {
  if (++depth_ > kMaxDepth) return fail(prefix, ": directories nested deeper than ", kMaxDepth);
  TRY_ASSIGN(auto names, list_dir(dirfd));
  if (mode_ == WalkMode::overlay) {
    // A whiteout is written as ".wh.NAME" and sorts as that, not as NAME.
    std::vector<std::pair<std::string, std::string>> keyed;  // (layer name, dir name)
    keyed.reserve(names.size());
    for (auto& n : names) {
      struct stat st;
      bool wh = ::fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                is_overlay_whiteout(dirfd, n, st);
      keyed.emplace_back(wh ? std::string(kWhiteoutPrefix) + n : n, std::move(n));
    }
    std::sort(keyed.begin(), keyed.end(),
              [](auto& a, auto& b) { return compare_layer_names(a.first, b.first) < 0; });
    for (auto& [key, n] : keyed)
      TRY(add(dirfd, n, child_path(prefix, n)));
  } else {
    for (auto& n : names)
      TRY(add(dirfd, n, child_path(prefix, n)));
  }
  --depth_;
  return {};
}

Status TreeEmitter::add_whiteout(const std::string& removed_path) {
  auto [parent, name] = split_parent(removed_path);
  TarEntry e;
  e.path = child_path(std::string(parent), std::string(kWhiteoutPrefix) + std::string(name));
  e.perm = 0;
  return tw_.add(e);
}

Status TreeEmitter::add_opaque(const std::string& dir_path) {
  TarEntry e;
  e.path = child_path(dir_path, std::string(kOpaqueMarker));
  e.perm = 0;
  return tw_.add(e);
}

}  // namespace kiln::layers
