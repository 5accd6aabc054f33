#include "layers/tree_walk.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace kiln::layers {

Result<std::vector<std::string>> list_dir(int dirfd) {
  int dup = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) return fail_errno(errno, "open directory");
  DIR* d = ::fdopendir(dup);
  if (!d) {
    int err = errno;
    ::close(dup);
    return fail_errno(err, "open directory");
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* de = ::readdir(d)) {
    std::string_view n = de->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
    errno = 0;
  }
  int err = errno;
  ::closedir(d);
  if (err) return fail_errno(err, "read directory");
  std::sort(names.begin(), names.end(),
            [](auto& a, auto& b) { return compare_layer_names(a, b) < 0; });
  return names;
}

Result<Fd> open_subdir(int dirfd, const std::string& name) {
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail_errno(errno, "open directory " + name);
  return Fd(fd);
}

Result<Fd> open_root_dir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail_errno(errno, "open directory " + path);
  return Fd(fd);
}

namespace {

// "/proc/self/fd/N/NAME": lets the l*xattr calls act on a child of a dir fd.
// NAME comes from readdir, so it is one component and cannot climb out.
std::string proc_child(int dirfd, const std::string& name) {
  return "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
}

bool keep_xattr(std::string_view n) {
  return !n.starts_with("system.") && n != "security.selinux";
}

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> read_xattrs(int dirfd,
                                                                     const std::string& name,
                                                                     int fd) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string p = fd < 0 ? proc_child(dirfd, name) : std::string();
  std::string list(256, '\0');
  for (;;) {
    ssize_t n = fd >= 0 ? ::flistxattr(fd, list.data(), list.size())
                        : ::llistxattr(p.c_str(), list.data(), list.size());
    if (n >= 0) {
      list.resize(static_cast<size_t>(n));
      break;
    }
    if (errno == ENOTSUP || errno == EOPNOTSUPP) return out;
    if (errno != ERANGE) return fail_errno(errno, "list xattrs of " + name);
    list.resize(list.size() * 4);
  }
  for (size_t i = 0; i < list.size();) {
    std::string key = list.c_str() + i;
    i += key.size() + 1;
    if (key.empty() || !keep_xattr(key)) continue;
    std::string value(64, '\0');
    for (;;) {
      ssize_t n = fd >= 0 ? ::fgetxattr(fd, key.c_str(), value.data(), value.size())
                          : ::lgetxattr(p.c_str(), key.c_str(), value.data(), value.size());
      if (n >= 0) {
        value.resize(static_cast<size_t>(n));
        break;
      }
      if (errno == ENODATA) break;  // removed meanwhile
      if (errno != ERANGE) return fail_errno(errno, "read xattr " + key + " of " + name);
      value.resize(value.size() * 8);
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<TarEntry> entry_from_stat(int dirfd, const std::string& name, const struct stat& st,
                                 std::string path, bool& supported) {
  TarEntry e;
  supported = true;
  e.path = std::move(path);
  e.perm = st.st_mode & 07777;
  e.uid = st.st_uid;
  e.gid = st.st_gid;
  e.mtime_sec = st.st_mtim.tv_sec;
  e.mtime_nsec = static_cast<int32_t>(st.st_mtim.tv_nsec);
  switch (st.st_mode & S_IFMT) {
    case S_IFREG:
      e.type = EntryType::file;
      e.size = st.st_size;
      break;
    case S_IFDIR:
      e.type = EntryType::dir;
      break;
    case S_IFLNK: {
      e.type = EntryType::symlink;
      std::string target(static_cast<size_t>(std::max<off_t>(st.st_size, 64)) + 1, '\0');
      for (;;) {
        ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
        if (n < 0) return fail_errno(errno, "readlink " + e.path);
        if (static_cast<size_t>(n) < target.size()) {
          target.resize(static_cast<size_t>(n));
          break;
        }
        target.resize(target.size() * 2);
      }
      e.link = std::move(target);
      break;
    }
    case S_IFCHR:
    case S_IFBLK:
      e.type = S_ISCHR(st.st_mode) ? EntryType::chr : EntryType::blk;
      e.dev_major = major(st.st_rdev);
      e.dev_minor = minor(st.st_rdev);
      break;
    case S_IFIFO:
      e.type = EntryType::fifo;
      break;
    default:
      supported = false;
  }
  return e;
}

namespace {

bool xattr_is_y(ssize_t n, const char* v) {
  return n == 1 && v[0] == 'y';
}

}  // namespace

bool is_overlay_whiteout(int dirfd, const std::string& name, const struct stat& st) {
  if (S_ISCHR(st.st_mode)) return st.st_rdev == makedev(0, 0);
  if (!S_ISREG(st.st_mode) || st.st_size != 0) return false;
  std::string p = proc_child(dirfd, name);
  char v[2];
  for (const char* key : {"trusted.overlay.whiteout", "user.overlay.whiteout"})
    if (xattr_is_y(::lgetxattr(p.c_str(), key, v, sizeof v), v)) return true;
  return false;
}

bool is_overlay_opaque(int fd) {
  char v[2];
  for (const char* key : {"trusted.overlay.opaque", "user.overlay.opaque"})
    if (xattr_is_y(::fgetxattr(fd, key, v, sizeof v), v)) return true;
  return false;
}

Result<std::vector<std::pair<int64_t, int64_t>>> sparse_extents(int fd, const struct stat& st) {
  std::vector<std::pair<int64_t, int64_t>> out;
  // Dense files (the common case) are recognised without any seeking.
  if (st.st_size == 0 || st.st_blocks * 512 >= st.st_size) return out;
  off_t pos = 0;
  while (pos < st.st_size) {
    off_t data = ::lseek(fd, pos, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;                    // only a hole remains
      if (errno == EINVAL) return decltype(out){};  // no SEEK_DATA here: treat as dense
      return fail_errno(errno, "seek");
    }
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) return fail_errno(errno, "seek");
    hole = std::min<off_t>(hole, st.st_size);
    if (hole > data) out.emplace_back(data, hole - data);
    pos = hole;
  }
  // A final empty extent marks the logical end for readers that need it.
  if (out.empty() || out.back().first + out.back().second < st.st_size)
    out.emplace_back(st.st_size, 0);
  if (out.size() == 1 && out[0].first == 0 && out[0].second == st.st_size) out.clear();
  return out;
}

}  // namespace kiln::layers
