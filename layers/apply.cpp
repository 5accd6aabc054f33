#include "layers/apply.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
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

Status copy_range(int in, int out, int64_t off, int64_t len, const std::string& path) {
  while (len > 0) {
    loff_t io = off, oo = off;
    ssize_t n = ::copy_file_range(in, &io, out, &oo, static_cast<size_t>(len), 0);
    if (n > 0) {
      off += n, len -= n;
      continue;
    }
    if (n == 0) return fail(path, ": shrank while being copied");
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
      return fail_errno(errno, "copy " + path);
    // No in-kernel copy between these filesystems: through a buffer.
    std::vector<char> buf(1 << 20);
    while (len > 0) {
      ssize_t r =
          ::pread(in, buf.data(), static_cast<size_t>(std::min<int64_t>(len, 1 << 20)), off);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0)
        return r < 0 ? fail_errno(errno, "read " + path)
                     : fail(path, ": shrank while being copied");
      for (ssize_t done = 0; done < r;) {
        ssize_t w = ::pwrite(out, buf.data() + done, static_cast<size_t>(r - done), off + done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return fail_errno(errno, "write " + path);
        done += w;
      }
      off += r, len -= r;
    }
  }
  return {};
}

// The xattrs of child `sname` of `sdir` onto child `dname` of `ddir` (each
// through its fd when there is one), overlayfs's own left out.
Status copy_xattrs(int sdir, const std::string& sname, int sfd, int ddir, const std::string& dname,
                   int dfd, const std::string& path, ApplyStats& stats) {
  TRY_ASSIGN(auto xattrs, read_xattrs(sdir, sname, sfd));
  std::string p;
  for (auto& [key, value] : xattrs) {
    if (forbidden_xattr(key)) continue;
    int rc;
    if (dfd >= 0) {
      rc = ::fsetxattr(dfd, key.c_str(), value.data(), value.size(), 0);
    } else {
      if (p.empty()) p = proc_child(ddir, dname);
      rc = ::lsetxattr(p.c_str(), key.c_str(), value.data(), value.size(), 0);
    }
    if (rc == 0) continue;
    if (errno != EPERM && errno != ENOTSUP && errno != EACCES)
      return fail_errno(errno, "set xattr " + key + " on " + path);
    ++stats.skipped;
  }
  return {};
}

// Creates child `dname` of `ddir` as a copy of child `sname` of `sdir` (whose
// lstat is `st`): data (holes kept), owner (mapped), mode, xattrs other than
// overlayfs's, mtime. A directory is created empty; its mode and mtime are
// the caller's to set once its children are in.
Status copy_object(int sdir, const std::string& sname, const struct stat& st, int ddir,
                   const std::string& dname, const std::string& path, const ApplyOptions& opts,
                   ApplyStats& stats) {
  const char* dn = dname.c_str();
  Fd src, dst;
  switch (st.st_mode & S_IFMT) {
    case S_IFREG: {
      src.reset(::openat(sdir, sname.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!src) return fail_errno(errno, "open " + path);
      dst.reset(::openat(ddir, dn, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!dst) return fail_errno(errno, "create " + path);
      TRY_ASSIGN(auto extents, sparse_extents(src.get(), st));
      if (extents.empty()) extents.emplace_back(0, st.st_size);
      for (auto [off, len] : extents)
        TRY(copy_range(src.get(), dst.get(), off, len, path));
      if (::ftruncate(dst.get(), st.st_size) != 0) return fail_errno(errno, "truncate " + path);
      break;
    }
    case S_IFDIR:
      if (::mkdirat(ddir, dn, 0700) != 0) return fail_errno(errno, "mkdir " + path);
      src.reset(::openat(sdir, sname.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!src) return fail_errno(errno, "open " + path);
      dst.reset(::openat(ddir, dn, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!dst) return fail_errno(errno, "open " + path);
      break;
    case S_IFLNK: {
      bool ok = true;
      TRY_ASSIGN(TarEntry e, entry_from_stat(sdir, sname, st, path, ok));
      if (::symlinkat(e.link.c_str(), ddir, dn) != 0) return fail_errno(errno, "symlink " + path);
      break;
    }
    case S_IFIFO:
    case S_IFCHR:
    case S_IFBLK:
      if (!S_ISFIFO(st.st_mode) && !opts.privileged) {
        ++stats.skipped;
        return {};
      }
      if (::mknodat(ddir, dn, st.st_mode & (S_IFMT | 0777), st.st_rdev) != 0)
        return fail_errno(errno, "mknod " + path);
      break;
    default:
      return {};  // sockets: never in a layer
  }
  if (opts.privileged) {
    auto uid = map_id(st.st_uid, opts.uid_map);
    auto gid = map_id(st.st_gid, opts.gid_map);
    if (!uid || !gid)
      return fail(path, ": owner ", st.st_uid, ":", st.st_gid, " is outside the id map");
    if (::fchownat(ddir, dn, *uid, *gid, AT_SYMLINK_NOFOLLOW) != 0)
      return fail_errno(errno, "chown " + path);
  }
  TRY(copy_xattrs(sdir, sname, src.get(), ddir, dname, dst.get(), path, stats));
  if (S_ISDIR(st.st_mode)) return {};
  // After chown (which drops setuid bits) and the xattrs (user.* needs write access).
  if (!S_ISLNK(st.st_mode) && ::fchmodat(ddir, dn, st.st_mode & 07777, 0) != 0)
    return fail_errno(errno, "chmod " + path);
  timespec ts[2] = {st.st_mtim, st.st_mtim};
  if (::utimensat(ddir, dn, ts, AT_SYMLINK_NOFOLLOW) != 0)
    return fail_errno(errno, "utimes " + path);
  return {};
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
  Result<bool> copy_up(const std::string& target, int pfd, const std::string& name,
                       const std::string& path);
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
  std::unordered_map<std::string, std::string> copied_up_;  // lower target → its copy here
  std::string cached_;  // parent directory of the previous entry
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

// Hardlink targets below this layer, in cache mode. Copied, not linked: an
// overlay lower dir must hold every name it shows (overlayfs never links
// across layers, so the merged view has a copy either way), and a link into
// another cache entry would let one entry's files change through another's.
// The copy makes this entry depend on the layers below: unpack.cpp keys it by
// chain id then. The stack is searched top down as overlayfs would: a
// whiteout, a non-directory parent or an opaque parent hides what lies under.
Result<bool> Applier::copy_up(const std::string& target, int pfd, const std::string& name,
                              const std::string& path) {
  std::vector<std::string> comps;
  for (size_t i = 0; i <= target.size();) {
    size_t j = std::min(target.find('/', i), target.size());
    comps.push_back(target.substr(i, j - i));
    i = j + 1;
  }
  for (auto lower = opts_.lowers.rbegin(); lower != opts_.lowers.rend(); ++lower) {
    TRY_ASSIGN(Fd dir, open_root_dir(lower->string()));
    bool opaque = false;
    for (size_t k = 0; k < comps.size(); ++k) {
      struct stat st;
      if (::fstatat(dir.get(), comps[k].c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) break;
      if (is_overlay_whiteout(dir.get(), comps[k], st)) return false;
      if (k + 1 == comps.size()) {
        if (S_ISDIR(st.st_mode)) return false;
        TRY(copy_object(dir.get(), comps[k], st, pfd, name, path, opts_, stats_));
        return true;
      }
      if (!S_ISDIR(st.st_mode)) return false;
      TRY_ASSIGN(dir, open_subdir(dir.get(), comps[k]));
      opaque = opaque || is_overlay_opaque(dir.get());
    }
    if (opaque) return false;
  }
  return false;
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
      if (!opts_.lowers.empty()) {
        if (auto prev = copied_up_.find(target); prev != copied_up_.end()) {
          auto [cparent, cname] = split_parent(prev->second);
          auto cfd = root_.open_dir(cparent);
          if (cfd && ::linkat(cfd->get(), std::string(cname).c_str(), pfd, n, 0) == 0) return true;
          if (cfd && errno == EEXIST) return false;
        } else {
          TRY_ASSIGN(bool copied, copy_up(target, pfd, name, e.path));
          if (copied) {
            copied_up_.emplace(target, e.path);
            ++stats_.copied_up;
            return true;
          }
        }
      }
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

// merge_layer_dir's walk: one layer dir onto the merged tree, depth first.
class Merger {
 public:
  Merger(const RootDir& root, const ApplyOptions& opts) : root_(root), opts_(opts) {}

  Status dir(int sdir, int ddir, const std::string& prefix) {
    TRY_ASSIGN(auto names, list_dir(sdir));
    for (auto& n : names) {
      std::string path = child_path(prefix, n);
      struct stat st, dt;
      if (::fstatat(sdir, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return fail_errno(errno, "stat " + path);
      if (is_overlay_whiteout(sdir, n, st)) {
        TRY(remove_at(ddir, n));
        continue;
      }
      bool exists = ::fstatat(ddir, n.c_str(), &dt, AT_SYMLINK_NOFOLLOW) == 0;
      if (exists && !(S_ISDIR(st.st_mode) && S_ISDIR(dt.st_mode))) {
        TRY(remove_at(ddir, n));
        exists = false;
      }
      if (S_ISDIR(st.st_mode)) {
        if (!exists) TRY(copy_object(sdir, n, st, ddir, n, path, opts_, stats_));
        TRY_ASSIGN(Fd s, open_subdir(sdir, n));
        TRY_ASSIGN(Fd d, open_subdir(ddir, n));
        if (exists) {
          // Kept with what lies below, but with this layer's metadata.
          if (opts_.privileged) {
            auto uid = map_id(st.st_uid, opts_.uid_map);
            auto gid = map_id(st.st_gid, opts_.gid_map);
            if (!uid || !gid)
              return fail(path, ": owner ", st.st_uid, ":", st.st_gid, " is outside the id map");
            if (::fchown(d.get(), *uid, *gid) != 0) return fail_errno(errno, "chown " + path);
          }
          TRY(copy_xattrs(sdir, n, s.get(), ddir, n, d.get(), path, stats_));
          if (is_overlay_opaque(s.get()))
            TRY(remove_children(d.get(), [](const std::string&) { return false; }));
        }
        TRY(dir(s.get(), d.get(), path));
        timespec ts[2] = {st.st_mtim, st.st_mtim};
        if (::fchmod(d.get(), st.st_mode & 07777) != 0 || ::futimens(d.get(), ts) != 0)
          return fail_errno(errno, "set metadata of " + path);
        continue;
      }
      if (st.st_nlink > 1) {
        auto [first, fresh] = links_.try_emplace({st.st_dev, st.st_ino}, path);
        if (!fresh) {
          auto [lparent, lname] = split_parent(first->second);
          TRY_ASSIGN(Fd lfd, root_.open_dir(lparent));
          if (::linkat(lfd.get(), std::string(lname).c_str(), ddir, n.c_str(), 0) != 0)
            return fail_errno(errno, "link " + path + " to " + first->second);
          continue;
        }
      }
      TRY(copy_object(sdir, n, st, ddir, n, path, opts_, stats_));
    }
    return {};
  }

 private:
  const RootDir& root_;
  const ApplyOptions& opts_;
  ApplyStats stats_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;  // first merged path of each inode
};

}  // namespace

Status merge_layer_dir(const std::filesystem::path& layer, const std::filesystem::path& root,
                       const ApplyOptions& opts) {
  TRY_ASSIGN(Fd src, open_root_dir(layer.string()));
  TRY_ASSIGN(RootDir dst, RootDir::open(root));
  if (is_overlay_opaque(src.get()))
    TRY(remove_children(dst.fd(), [](const std::string&) { return false; }));
  Merger m(dst, opts);
  TRY_CTX(m.dir(src.get(), dst.fd(), ""), layer.string());
  return {};
}

Result<ApplyStats> apply_tar(Reader& bytes, const std::filesystem::path& root,
                             const ApplyOptions& opts, const std::string& what) {
  auto plain = make_decompressor(bytes, what);
  return apply_stream(*plain, root, opts, what);
}

Result<ApplyStats> apply_layer(const oci::Store& store, const oci::Descriptor& layer,
                               const oci::DiffId& diff_id, const std::filesystem::path& root,
                               const ApplyOptions& opts) {
  TRY_ASSIGN(auto blob, store.open_blob(layer.digest, layer.size));
  return apply_layer_from(*blob, layer, diff_id, root, opts);
}

Result<ApplyStats> apply_layer_from(Reader& blob, const oci::Descriptor& layer,
                                    const oci::DiffId& diff_id, const std::filesystem::path& root,
                                    const ApplyOptions& opts) {
  std::string what = "layer " + layer.digest.str();
  auto plain = make_decompressor(blob, what);
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
