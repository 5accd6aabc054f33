#include "layers/apply.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "base/log.hpp"
#include "layers/async_stream.hpp"
#include "layers/compression.hpp"
#include "layers/rooted.hpp"
#include "layers/tar_reader.hpp"
#include "layers/tree_emitter.hpp"
#include "layers/tree_walk.hpp"

namespace kiln::layers {

bool ApplyOptions::default_privileged() {
  return ::geteuid() == 0;
}

namespace {

std::optional<uint32_t> map_id(int64_t id, const std::vector<IdMapping>& map) {
  if (id < 0 || id > 0xfffffffe) return std::nullopt;
  if (map.empty()) return static_cast<uint32_t>(id);
  for (auto& m : map)
    if (id >= m.container && id < int64_t{m.container} + m.size)
      return static_cast<uint32_t>(m.host + (id - m.container));
  return std::nullopt;
}

// xattrs a layer may never set: overlayfs reads these from lower dirs, so a
// layer carrying them could redirect lookups or fake whiteouts.
bool forbidden_xattr(std::string_view n) {
  return n.starts_with("trusted.overlay.") || n.starts_with("user.overlay.");
}

// The umask without changing it (umask(2) would race other threads): from
// /proc, or "unknown" (all bits), which just means chmod is never skipped.
mode_t current_umask() {
  FILE* f = std::fopen("/proc/self/status", "re");
  if (!f) return 07777;
  char line[256];
  mode_t m = 07777;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "Umask: %o", &m) == 1) break;
  std::fclose(f);
  return m;
}

std::string proc_child(int dirfd, const std::string& name) {
  return "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
}

class Applier {
 public:
  Applier(const RootDir& root, const ApplyOptions& opts, const std::string& what)
      : root_(root), opts_(opts), what_(what) {}

  Status entry(TarReader& in, TarEntry& e);
  Status finish();
  ApplyStats stats() const { return stats_; }

 private:
  struct DirMeta {
    std::string path;
    uint32_t perm;
    int64_t sec;
    int32_t nsec;
  };

  Result<int> parent_fd(const std::string& parent, bool create);
  void invalidate(std::string_view path) {
    if (cached_ok_ &&
        (cached_ == path || (cached_.size() > path.size() && cached_.starts_with(path) &&
                             cached_[path.size()] == '/')))
      cached_ok_ = false;
  }
  static size_t key(std::string_view path) { return std::hash<std::string_view>()(path); }
  // True when `dir` was made by this layer: nothing from below lies inside it.
  bool fresh(std::string_view dir) const { return !dir.empty() && fresh_dirs_.count(key(dir)) > 0; }
  bool created(std::string_view parent, std::string_view path) const {
    return fresh(parent) || created_.count(key(path)) > 0;
  }
  void record(const std::string& parent, const std::string& path, bool new_dir) {
    if (!fresh(parent)) created_.insert(key(path));
    if (new_dir) fresh_dirs_.insert(key(path));
  }
  void defer_dir(const TarEntry& e) {
    auto [it, added] = dir_index_.try_emplace(e.path, dirs_.size());
    DirMeta m{e.path, e.perm, e.mtime_sec, e.mtime_nsec};
    if (added)
      dirs_.push_back(std::move(m));
    else
      dirs_[it->second] = std::move(m);
  }
  Status whiteout(const std::string& parent, const std::string& name, const std::string& path);
  // False (and nothing consumed) when the name is already taken.
  Result<bool> create(TarReader& in, TarEntry& e, int pfd, const std::string& name);
  Status write_file(TarReader& in, const TarEntry& e, int fd);
  Status owner_at(int pfd, const std::string& name, const TarEntry& e, int fd,
                  bool fresh_object = false);
  Status xattrs(int pfd, const std::string& name, const TarEntry& e, int fd);
  void skip(const std::string& why) {
    ++stats_.skipped;
    if (warned_++ < 5) log_warn(what_ + ": " + why);
  }

  const RootDir& root_;
  const ApplyOptions& opts_;
  const std::string& what_;
  ApplyStats stats_;
  int warned_ = 0;
  // Whiteouts and opaque markers hide only what lay below, never entries of
  // the same layer. So the layer's own entries are remembered (as hashes) —
  // but only where something from below could be: inside directories this
  // layer made itself there is nothing to hide, and nothing is recorded.
  // Applying onto an empty root thus costs memory per directory, not per file.
  std::unordered_set<size_t> created_;
  std::unordered_set<size_t> fresh_dirs_;
  std::unordered_map<std::string, size_t> dir_index_;  // path → dirs_ slot
  std::vector<DirMeta> dirs_;  // mode and mtime set last, once children exist
  std::string cached_;         // parent directory of the previous entry
  Fd cached_fd_;
  bool cached_ok_ = false;
  bool parent_setgid_ = false;  // of the cached parent
  gid_t parent_gid_ = 0;
  uid_t euid_ = ::geteuid();
  gid_t egid_ = ::getegid();
  mode_t umask_ = current_umask();
};

Result<int> Applier::parent_fd(const std::string& parent, bool create) {
  if (cached_ok_ && cached_ == parent) return cached_fd_.get();
  auto fd = create ? root_.make_dirs(parent) : root_.open_dir(parent);
  if (!fd) return tl::unexpected(with_context(std::move(fd).error(), what_));
  cached_fd_ = std::move(*fd);
  cached_ = parent;
  cached_ok_ = true;
  struct stat st;
  if (::fstat(cached_fd_.get(), &st) != 0) return fail_errno(errno, what_ + ": stat " + parent);
  parent_setgid_ = st.st_mode & S_ISGID;
  parent_gid_ = st.st_gid;
  return cached_fd_.get();
}

Status Applier::whiteout(const std::string& parent, const std::string& name,
                         const std::string& path) {
  cached_ok_ = false;  // children of `parent` may disappear
  bool overlay = opts_.whiteouts == WhiteoutMode::overlay;
  if (name == kOpaqueMarker) {
    if (overlay) {
      TRY_ASSIGN(int pfd, parent_fd(parent, true));
      const char* xattr = opts_.privileged ? "trusted.overlay.opaque" : "user.overlay.opaque";
      if (::fsetxattr(pfd, xattr, "y", 1, 0) != 0)
        return fail_errno(errno, what_ + ": mark " + (parent.empty() ? "/" : parent) + " opaque");
      return {};
    }
    if (fresh(parent)) return {};
    auto pfd = parent_fd(parent, false);
    if (!pfd) return {};  // nothing below to hide
    return remove_children(
        *pfd, [&](const std::string& child) { return created(parent, child_path(parent, child)); });
  }
  std::string target = name.substr(kWhiteoutPrefix.size());
  if (target.empty() || target == "." || target == "..")
    return fail(what_, ": whiteout ", path, " names \"", target, "\"");
  std::string target_path = child_path(parent, target);
  if (!overlay) {
    if (created(parent, target_path)) return {};
    auto pfd = parent_fd(parent, false);
    if (!pfd) return {};
    return remove_at(*pfd, target);
  }
  TRY_ASSIGN(int pfd, parent_fd(parent, true));
  TRY(remove_at(pfd, target));
  if (opts_.privileged) {
    if (::mknodat(pfd, target.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0)
      return fail_errno(errno, what_ + ": whiteout " + target_path);
  } else {
    // Unprivileged overlay mounts (userxattr) take xattr whiteouts instead.
    Fd f(::openat(pfd, target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0));
    if (!f || ::fsetxattr(f.get(), "user.overlay.whiteout", "y", 1, 0) != 0 ||
        ::fsetxattr(pfd, "user.overlay.whiteouts", "y", 1, 0) != 0)
      return fail_errno(errno, what_ + ": whiteout " + target_path);
  }
  record(parent, target_path, false);
  return {};
}

Status Applier::owner_at(int pfd, const std::string& name, const TarEntry& e, int fd,
                         bool fresh_object) {
  if (!opts_.privileged) return {};
  auto uid = map_id(e.uid, opts_.uid_map);
  auto gid = map_id(e.gid, opts_.gid_map);
  if (!uid || !gid)
    return fail(what_, ": ", e.path, ": owner ", e.uid, ":", e.gid, " is outside the id map");
  // A new object already belongs to us (and to the parent's group under a
  // setgid parent): the common root-owned case needs no chown at all.
  if (fresh_object && *uid == euid_ && *gid == (parent_setgid_ ? parent_gid_ : egid_)) return {};
  int rc = fd >= 0 ? ::fchown(fd, *uid, *gid)
                   : ::fchownat(pfd, name.c_str(), *uid, *gid, AT_SYMLINK_NOFOLLOW);
  if (rc != 0) return fail_errno(errno, what_ + ": chown " + e.path);
  return {};
}

Status Applier::xattrs(int pfd, const std::string& name, const TarEntry& e, int fd) {
  std::string p;
  for (auto& [key, value] : e.xattrs) {
    if (forbidden_xattr(key)) {
      skip("ignoring xattr " + key + " on " + e.path);
      continue;
    }
    int rc;
    if (fd >= 0) {
      rc = ::fsetxattr(fd, key.c_str(), value.data(), value.size(), 0);
    } else {
      if (p.empty()) p = proc_child(pfd, name);
      rc = ::lsetxattr(p.c_str(), key.c_str(), value.data(), value.size(), 0);
    }
    if (rc == 0) continue;
    if (errno == EPERM || errno == ENOTSUP || errno == EACCES)
      skip("could not set xattr " + key + " on " + e.path);
    else
      return fail_errno(errno, what_ + ": set xattr " + key + " on " + e.path);
  }
  return {};
}

Status Applier::write_file(TarReader& in, const TarEntry& e, int fd) {
  int64_t off;
  std::span<const std::byte> data;
  int64_t end = 0;
  for (;;) {
    TRY_ASSIGN(bool more, in.read_block(off, data));
    if (!more) break;
    if (off < 0 || off + static_cast<int64_t>(data.size()) > e.size)
      return fail(what_, ": ", e.path, ": data beyond the entry's size");
    while (!data.empty()) {
      ssize_t n = ::pwrite(fd, data.data(), data.size(), off);
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail_errno(errno, what_ + ": write " + e.path);
      }
      data = data.subspan(static_cast<size_t>(n));
      off += n;
    }
    end = std::max(end, off);
  }
  // Trailing holes of sparse files: extend without writing.
  if (end < e.size && ::ftruncate(fd, e.size) != 0)
    return fail_errno(errno, what_ + ": truncate " + e.path);
  return {};
}

Result<bool> Applier::create(TarReader& in, TarEntry& e, int pfd, const std::string& name) {
  const char* n = name.c_str();
  timespec ts[2] = {{e.mtime_sec, e.mtime_nsec}, {e.mtime_sec, e.mtime_nsec}};
  auto taken = [&](const char* op) -> Result<bool> {
    if (errno == EEXIST) return false;
    return fail_errno(errno, what_ + ": " + op + " " + e.path);
  };
  switch (e.type) {
    case EntryType::file: {
      if (e.size < 0 || e.size > opts_.max_file_size)
        return fail(what_, ": ", e.path, ": size ", e.size, " exceeds the limit of ",
                    opts_.max_file_size);
      // Created with its final mode when the umask lets it through unchanged.
      bool exact = (e.perm & ~0777u) == 0 && (e.perm & umask_) == 0;
      Fd fd(::openat(pfd, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                     exact ? e.perm : 0600));
      if (!fd) return taken("create");
      TRY(write_file(in, e, fd.get()));
      TRY(owner_at(pfd, name, e, fd.get(), true));
      if (!exact && ::fchmod(fd.get(), e.perm) != 0)
        return fail_errno(errno, what_ + ": chmod " + e.path);
      TRY(xattrs(pfd, name, e, fd.get()));
      if (::futimens(fd.get(), ts) != 0) return fail_errno(errno, what_ + ": utimes " + e.path);
      return true;
    }
    case EntryType::dir: {
      if (::mkdirat(pfd, n, 0700) != 0) return taken("mkdir");
      TRY_ASSIGN(Fd fd, open_subdir(pfd, name));
      TRY(owner_at(pfd, name, e, fd.get(), true));
      TRY(xattrs(pfd, name, e, fd.get()));
      defer_dir(e);
      return true;
    }
    case EntryType::symlink:
      if (::symlinkat(e.link.c_str(), pfd, n) != 0) return taken("symlink");
      break;
    case EntryType::hardlink: {
      TRY_ASSIGN(std::string target, clean_layer_path(e.link));
      auto [tparent, tname] = split_parent(target);
      auto tfd = root_.open_dir(tparent);
      // Never follows a symlink as the target: linkat without AT_SYMLINK_FOLLOW.
      if (tfd && ::linkat(tfd->get(), std::string(tname).c_str(), pfd, n, 0) == 0) return true;
      if (tfd && errno == EEXIST) return false;
      return fail(what_, ": hardlink ", e.path, " to ", target, ": target missing or not linkable");
      // (the link shares its target's metadata: nothing more to set)
    }
    case EntryType::chr:
    case EntryType::blk:
      if (!opts_.privileged) {
        skip("skipping device " + e.path + " (needs privilege)");
        return true;
      }
      if (::mknodat(pfd, n, (e.type == EntryType::chr ? S_IFCHR : S_IFBLK) | (e.perm & 0777),
                    makedev(e.dev_major, e.dev_minor)) != 0) {
        if (errno != EPERM) return taken("mknod");
        skip("skipping device " + e.path + " (not permitted here)");
        return true;
      }
      break;
    case EntryType::fifo:
      if (::mkfifoat(pfd, n, e.perm & 0777) != 0) return taken("mkfifo");
      break;
  }
  TRY(owner_at(pfd, name, e, -1, true));
  if (e.type != EntryType::symlink && ::fchmodat(pfd, n, e.perm, 0) != 0)
    return fail_errno(errno, what_ + ": chmod " + e.path);
  TRY(xattrs(pfd, name, e, -1));
  if (::utimensat(pfd, n, ts, AT_SYMLINK_NOFOLLOW) != 0)
    return fail_errno(errno, what_ + ": utimes " + e.path);
  return true;
}

Status Applier::entry(TarReader& in, TarEntry& e) {
  ++stats_.entries;
  auto clean = clean_layer_path(e.path);
  if (!clean) {
    if (e.type == EntryType::dir && clean.error().message.ends_with("names the root")) return {};
    return fail(what_, ": ", clean.error().message);
  }
  e.path = std::move(*clean);
  auto [parent_sv, name_sv] = split_parent(e.path);
  std::string parent(parent_sv), name(name_sv);
  if (name.starts_with(kWhiteoutPrefix)) return whiteout(parent, name, e.path);

  TRY_ASSIGN(int pfd, parent_fd(parent, true));
  // Create first; only a taken name costs a stat (layers mostly add names).
  TRY_ASSIGN(bool made, create(in, e, pfd, name));
  if (!made) {
    invalidate(e.path);
    struct stat st;
    if (::fstatat(pfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return fail_errno(errno, what_ + ": stat " + e.path);
    if (e.type == EntryType::dir && S_ISDIR(st.st_mode)) {
      // An existing directory is kept (with what lies below) and takes the
      // entry's metadata, as tar does.
      TRY_ASSIGN(Fd fd, open_subdir(pfd, name));
      TRY(owner_at(pfd, name, e, fd.get()));
      TRY(xattrs(pfd, name, e, fd.get()));
      defer_dir(e);
      record(parent, e.path, false);
      return {};
    }
    TRY(remove_at(pfd, name));
    TRY_ASSIGN(made, create(in, e, pfd, name));
    if (!made) return fail(what_, ": ", e.path, " reappeared while being replaced");
  }
  record(parent, e.path, e.type == EntryType::dir);
  return {};
}

Status Applier::finish() {
  cached_ok_ = false;
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    auto [parent, name] = split_parent(it->path);
    auto pfd = root_.open_dir(parent);
    if (!pfd) continue;  // replaced later in the layer
    Fd fd(::openat(pfd->get(), std::string(name).c_str(),
                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) continue;
    timespec ts[2] = {{it->sec, it->nsec}, {it->sec, it->nsec}};
    if (::fchmod(fd.get(), it->perm) != 0 || ::futimens(fd.get(), ts) != 0)
      return fail_errno(errno, what_ + ": set metadata of " + it->path);
  }
  return {};
}

Result<ApplyStats> apply_stream(Reader& plain, const std::filesystem::path& root,
                                const ApplyOptions& opts, const std::string& what) {
  TRY_ASSIGN(RootDir rd, RootDir::open(root));
  TRY_ASSIGN(auto reader, TarReader::open(plain, what));
  Applier ap(rd, opts, what);
  for (;;) {
    TRY_ASSIGN(auto next, reader->next());
    if (!next) break;
    TRY(ap.entry(*reader, *next));
  }
  TRY(ap.finish());
  TRY(reader->drain());
  return ap.stats();
}

}  // namespace

Result<ApplyStats> apply_tar(Reader& bytes, const std::filesystem::path& root,
                             const ApplyOptions& opts, const std::string& what) {
  auto plain = make_decompressor(bytes, what);
  return apply_stream(*plain, root, opts, what);
}

Result<ApplyStats> apply_layer(const oci::Store& store, const oci::Descriptor& layer,
                               const oci::DiffId& diff_id, const std::filesystem::path& root,
                               const ApplyOptions& opts) {
  std::string what = "layer " + layer.digest.str();
  TRY_ASSIGN(auto blob, store.open_blob(layer.digest, layer.size));
  auto plain = make_decompressor(*blob, what);
  HashingReader hashed(*plain);
  // Reading, verifying, decompressing and hashing run beside the file writes,
  // as `zstd -dc | tar -x` would.
  AsyncReader ahead(hashed);
  TRY_ASSIGN(ApplyStats stats, apply_stream(ahead, root, opts, what));
  ahead.join();
  std::string got = "sha256:" + hashed.hex_final();
  if (got != diff_id.str())
    return fail(what, ": uncompressed content has digest ", got, ", the config says ",
                diff_id.str());
  return stats;
}

}  // namespace kiln::layers
