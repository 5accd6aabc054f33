#include "base/files.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <random>

namespace kiln {

namespace fs = std::filesystem;

namespace {

std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* chars = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s(12, 'x');
  for (auto& c : s)
    c = chars[rng() % 36];
  return s;
}

fs::path parent_of(const fs::path& p) {
  return p.parent_path().empty() ? fs::path(".") : p.parent_path();
}

Status fsync_dir(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail_errno(errno, "open " + dir.string());
  if (::fsync(fd.get()) != 0) return fail_errno(errno, "fsync " + dir.string());
  return {};
}

std::atomic<bool> g_nofollow_walk{false};  // forced by tests
std::atomic<bool> g_no_openat2{false};     // latched once openat2 proved missing

// openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS; -1 with ENOSYS where the
// kernel predates it (before 5.6), or ENOSYS or EPERM where a seccomp policy
// hides it (older container runtimes' profiles answer unknown calls EPERM).
int sys_openat2_beneath(int dirfd, const char* rel, int flags, mode_t mode) {
  if (g_nofollow_walk || g_no_openat2) {
    errno = ENOSYS;
    return -1;
  }
  open_how how{};
  how.flags = static_cast<uint64_t>(flags);
  how.mode = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = ::syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
    if (fd >= 0 || errno != EAGAIN) return static_cast<int>(fd);
    // EAGAIN: a concurrent rename raced the lookup; it is safe to retry.
  }
}

// The walk openat2 does, by hand: every component opened O_NOFOLLOW from its
// parent's fd, directories with O_DIRECTORY.
int nofollow_walk(int dirfd, std::string_view rel, int flags, mode_t mode) {
  Fd held;
  int at = dirfd;
  for (;;) {
    size_t slash = rel.find('/');
    std::string part(rel.substr(0, slash));
    if (slash == std::string_view::npos)
      return ::openat(at, part.c_str(), flags | O_NOFOLLOW, mode);
    Fd next(::openat(at, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) return -1;
    held = std::move(next);
    at = held.get();
    rel.remove_prefix(slash + 1);
  }
}

}  // namespace

void force_nofollow_walk(bool on) {
  g_nofollow_walk = on;
}

Result<Fd> open_beneath(int dirfd, std::string_view rel, int flags, mode_t mode) {
  // Only plain relative names: kiln's own layout never needs more.
  bool bad = rel.empty() || rel.front() == '/' || rel.back() == '/';
  for (size_t i = 0; !bad && i <= rel.size();) {
    size_t j = std::min(rel.find('/', i), rel.size());
    std::string_view c = rel.substr(i, j - i);
    bad = c.empty() || c == "." || c == "..";
    i = j + 1;
  }
  if (bad) {
    errno = EINVAL;
    return fail_errno(EINVAL, std::string(rel));
  }
  std::string r(rel);
  flags |= O_CLOEXEC;
  int fd = sys_openat2_beneath(dirfd, r.c_str(), flags, mode);
  if (fd < 0 && (errno == ENOSYS || errno == EPERM)) {
    bool missing = errno == ENOSYS;
    fd = nofollow_walk(dirfd, rel, flags, mode);
    // The walk succeeding where openat2 said EPERM means a filter hides
    // openat2: stop asking it. (A real EPERM fails the walk the same way.)
    if (missing || fd >= 0) g_no_openat2 = true;
  }
  if (fd < 0) return fail_errno(errno, r);
  return Fd(fd);
}

Result<Fd> ensure_dir_beneath(int dirfd, std::string_view name, mode_t mode,
                              const fs::path& shown) {
  std::string n(name);
  if (::mkdirat(dirfd, n.c_str(), mode) != 0 && errno != EEXIST)
    return fail_errno(errno, "create directory " + shown.string());
  auto fd = open_beneath(dirfd, n, O_RDONLY | O_DIRECTORY);
  if (!fd) {
    int err = fd.error().sys_errno;
    if (err == ELOOP || err == ENOTDIR)
      return fail(shown.string(), ": not a directory (a symlink or another kind of file); ",
                  "kiln never follows a symlink inside its store");
    return fail_errno(err, shown.string());
  }
  return fd;
}

Status refuse_special_beneath(int dirfd, std::string_view rel, const fs::path& shown) {
  struct stat st;
  if (::fstatat(dirfd, std::string(rel).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
    return fail(shown.string(), ": not a regular file");
  return {};
}

namespace {

// `rel` beneath `dirfd`, never through a symlink, and only a regular file: a
// device or FIFO is refused before the open (refuse_special_beneath), and
// O_NONBLOCK keeps one planted after that check from hanging the open.
Result<Fd> open_regular_beneath(int dirfd, std::string_view rel, int flags, mode_t mode,
                                const fs::path& shown) {
  TRY(refuse_special_beneath(dirfd, rel, shown));
  auto fd = open_beneath(dirfd, rel, flags | O_NOCTTY | O_NONBLOCK, mode);
  if (!fd) {
    if (fd.error().sys_errno == ELOOP)
      return fail(shown.string(), ": is a symlink; kiln never follows a symlink inside its store");
    return fail_errno(fd.error().sys_errno, shown.string());
  }
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return fail_errno(errno, shown.string());
  if (!S_ISREG(st.st_mode)) return fail(shown.string(), ": not a regular file");
  return fd;
}

}  // namespace

Result<std::string> read_file_beneath(int dirfd, std::string_view rel, const fs::path& shown,
                                      size_t limit) {
  TRY_ASSIGN(Fd fd, open_regular_beneath(dirfd, rel, O_RDONLY, 0, shown));
  FdReader r(std::move(fd));
  auto out = read_all(r, limit, shown.string());
  if (!out) return tl::unexpected(with_context(std::move(out).error(), shown.string()));
  return out;
}

Result<AtomicFile> AtomicFile::create(const fs::path& target, mode_t mode) {
  TRY_ASSIGN(AtomicFile f, create_in(parent_of(target), mode));
  f.target_ = target;
  return f;
}

Result<AtomicFile> AtomicFile::create_in(const fs::path& dir, mode_t mode) {
  Fd dirfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd) return fail_errno(errno, "open " + dir.string());
  return create_in(dirfd.get(), dir, mode);
}

Result<AtomicFile> AtomicFile::create_in(int dirfd, const fs::path& shown, mode_t mode) {
  Fd dir(::fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
  if (!dir) return fail_errno(errno, "dup " + shown.string());
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::string name = ".tmp-" + random_suffix();
    int fd = ::openat(dir.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      mode);
    if (fd >= 0) return AtomicFile(std::move(dir), shown / name, Fd(fd));
    if (errno != EEXIST) return fail_errno(errno, "create " + (shown / name).string());
  }
  return fail("create a temporary file in ", shown.string(), ": too many collisions");
}

AtomicFile::AtomicFile(AtomicFile&& o) noexcept
    : dir_(std::move(o.dir_)),
      target_(std::move(o.target_)),
      temp_(std::move(o.temp_)),
      fd_(std::move(o.fd_)),
      written_(o.written_),
      flushed_(o.flushed_),
      expected_(o.expected_),
      reserved_(o.reserved_),
      early_writeback_(o.early_writeback_),
      committed_(std::exchange(o.committed_, true)) {}

AtomicFile::~AtomicFile() {
  if (!committed_ && dir_) ::unlinkat(dir_.get(), temp_.filename().c_str(), 0);
}

Status AtomicFile::write(std::span<const std::byte> data) {
  constexpr off_t kReserveAhead = 64 << 20;
  off_t end = written_ + static_cast<off_t>(data.size());
  if (end > reserved_ && reserved_ < expected_) {
    off_t upto = std::min<off_t>(expected_, std::max(end, reserved_ + kReserveAhead));
    // KEEP_SIZE: the file's size still follows what is written. A failure
    // (a filesystem without fallocate, a full disk) shows in write() if at all.
    ::fallocate(fd_.get(), FALLOC_FL_KEEP_SIZE, reserved_, upto - reserved_);
    reserved_ = upto;
  }
  FdWriter w(fd_.get());
  TRY_CTX(w.write(data), temp_.string());
  written_ += static_cast<off_t>(data.size());
  // Start writing back what is written so far, without waiting for it: the
  // fsync in commit() then finds little left to do, instead of the whole file
  // (the kernel would otherwise hold it all in memory for up to 30 s).
  constexpr off_t kFlushEvery = 8 << 20;
  if (early_writeback_ && written_ - flushed_ >= kFlushEvery) {
    ::sync_file_range(fd_.get(), flushed_, written_ - flushed_, SYNC_FILE_RANGE_WRITE);
    flushed_ = written_;
  }
  return {};
}

Status AtomicFile::commit() {
  return commit_as(target_);
}

Status AtomicFile::commit_as(const fs::path& target) {
  if (::fsync(fd_.get()) != 0) return fail_errno(errno, "fsync " + temp_.string());
  fd_.reset();
  if (::renameat(dir_.get(), temp_.filename().c_str(), AT_FDCWD, target.c_str()) != 0)
    return fail_errno(errno, "rename to " + target.string());
  committed_ = true;
  return fsync_dir(parent_of(target));
}

Status AtomicFile::commit_at(int dirfd, const std::string& name) {
  if (::fsync(fd_.get()) != 0) return fail_errno(errno, "fsync " + temp_.string());
  fd_.reset();
  if (::renameat(dir_.get(), temp_.filename().c_str(), dirfd, name.c_str()) != 0)
    return fail_errno(errno, "rename " + temp_.string() + " to " + name);
  committed_ = true;
  if (::fsync(dirfd) != 0) return fail_errno(errno, "fsync the directory of " + name);
  return {};
}

Status write_file_atomic(const fs::path& path, std::string_view content, mode_t mode) {
  TRY_ASSIGN(auto file, AtomicFile::create(path, mode));
  TRY(file.write(content));
  return file.commit();
}

Result<Fd> open_file(const fs::path& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return fail_errno(errno, path.string());
  return Fd(fd);
}

Result<std::string> read_file(const fs::path& path, size_t limit) {
  TRY_ASSIGN(Fd fd, open_file(path, O_RDONLY));
  FdReader r(std::move(fd));
  auto out = read_all(r, limit, path.string());
  if (!out) return tl::unexpected(with_context(std::move(out).error(), path.string()));
  return out;
}

Status make_dirs(const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return fail("create directory ", path.string(), ": ", ec.message());
  return {};
}

Result<FileLock> FileLock::lock(Fd fd, const fs::path& shown) {
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return fail_errno(errno, "lock " + shown.string());
  }
  return FileLock(std::move(fd));
}

Result<FileLock> FileLock::acquire(const fs::path& path) {
  TRY_ASSIGN(Fd fd, open_file(path, O_RDWR | O_CREAT, 0644));
  return lock(std::move(fd), path);
}

Result<FileLock> FileLock::acquire_beneath(int dirfd, std::string_view name,
                                           const fs::path& shown) {
  TRY_ASSIGN(Fd fd, open_regular_beneath(dirfd, name, O_RDWR | O_CREAT, 0644, shown));
  return lock(std::move(fd), shown);
}

Result<TempDir> TempDir::create(const fs::path& parent, std::string_view prefix) {
  TRY(make_dirs(parent));
  for (int attempt = 0; attempt < 16; ++attempt) {
    fs::path p = parent / (std::string(prefix) + random_suffix());
    if (::mkdir(p.c_str(), 0700) == 0) return TempDir(p);
    if (errno != EEXIST) return fail_errno(errno, "mkdir " + p.string());
  }
  return fail("create a temporary directory in ", parent.string(), ": too many collisions");
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  // Directories made read-only inside an image root would stop remove_all.
  for (auto it = fs::recursive_directory_iterator(path_, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec))
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  }
  fs::remove_all(path_, ec);
}

}  // namespace kiln
