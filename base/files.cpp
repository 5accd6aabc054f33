#include "base/files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <algorithm>
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

Status fsync_dir(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail_errno(errno, "open " + dir.string());
  if (::fsync(fd.get()) != 0) return fail_errno(errno, "fsync " + dir.string());
  return {};
}

}  // namespace

Result<AtomicFile> AtomicFile::create(const fs::path& target, mode_t mode) {
  fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  TRY_ASSIGN(AtomicFile f, create_in(dir, mode));
  f.target_ = target;
  return f;
}

Result<AtomicFile> AtomicFile::create_in(const fs::path& dir, mode_t mode) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    fs::path temp = dir / (".tmp-" + random_suffix());
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd >= 0) return AtomicFile({}, temp, Fd(fd));
    if (errno != EEXIST) return fail_errno(errno, "create " + temp.string());
  }
  return fail("create a temporary file in ", dir.string(), ": too many collisions");
}

AtomicFile::AtomicFile(AtomicFile&& o) noexcept
    : target_(std::move(o.target_)),
      temp_(std::move(o.temp_)),
      fd_(std::move(o.fd_)),
      written_(o.written_),
      flushed_(o.flushed_),
      expected_(o.expected_),
      reserved_(o.reserved_),
      early_writeback_(o.early_writeback_),
      committed_(std::exchange(o.committed_, true)) {}

AtomicFile::~AtomicFile() {
  if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
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
  if (::rename(temp_.c_str(), target.c_str()) != 0)
    return fail_errno(errno, "rename to " + target.string());
  committed_ = true;
  fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  return fsync_dir(dir);
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

Result<FileLock> FileLock::acquire(const fs::path& path) {
  TRY_ASSIGN(Fd fd, open_file(path, O_RDWR | O_CREAT, 0644));
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return fail_errno(errno, "lock " + path.string());
  }
  return FileLock(std::move(fd));
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
