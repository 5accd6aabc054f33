// Files: atomic writes, whole-file reads, advisory locks and temporary dirs.
//
// AtomicFile writes to a temporary name in the target's directory and only
// renames over the target on commit(), after fsync; a destroyed, uncommitted
// AtomicFile removes its temporary. So a killed process never leaves a
// half-written file under its final name. It works relative to its
// directory's fd, so once that directory is opened nothing is resolved by name
// again (the store relies on this: its paths never follow symlinks).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "base/fd.hpp"
#include "base/result.hpp"
#include "base/stream.hpp"

namespace kiln {

class AtomicFile : public Writer {
 public:
  static Result<AtomicFile> create(const std::filesystem::path& target, mode_t mode = 0644);
  // A temporary in `dir` whose final name is only known at the end (content
  // addressed): finish with commit_as(). `dir` must be on the target's filesystem.
  static Result<AtomicFile> create_in(const std::filesystem::path& dir, mode_t mode = 0644);
  // The same in an open directory (duplicated); `shown` names it in errors.
  static Result<AtomicFile> create_in(int dirfd, const std::filesystem::path& shown,
                                      mode_t mode = 0644);
  AtomicFile(AtomicFile&&) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  ~AtomicFile() override;

  using Writer::write;
  Status write(std::span<const std::byte> data) override;
  int fd() const { return fd_.get(); }
  // A scratch file, read back and dropped rather than committed: written data
  // is not handed to writeback early (see write()).
  void scratch() { early_writeback_ = false; }
  // The file will hold `size` bytes: its blocks are reserved as writes reach
  // them, 64 MiB ahead at most (a size that lies costs no more than that),
  // which saves the filesystem's per-page delayed allocation (about a quarter
  // of the kernel's cost of writing a GiB here). Best effort.
  void expect_size(int64_t size) { expected_ = size; }
  const std::filesystem::path& temp_path() const { return temp_; }
  // fsync, rename over the target, fsync the directory.
  Status commit();
  Status commit_as(const std::filesystem::path& target);
  // Renames to `name` (one component) in the open directory `dirfd`.
  Status commit_at(int dirfd, const std::string& name);

 private:
  AtomicFile(Fd dir, std::filesystem::path temp, Fd fd)
      : dir_(std::move(dir)), temp_(std::move(temp)), fd_(std::move(fd)) {}
  Fd dir_;                               // where the temporary lives
  std::filesystem::path target_, temp_;  // temp_ is shown in errors; its name is relative to dir_
  Fd fd_;
  off_t written_ = 0, flushed_ = 0;    // bytes written, and handed to writeback
  off_t expected_ = 0, reserved_ = 0;  // expect_size(), and blocks reserved so far
  bool early_writeback_ = true;
  bool committed_ = false;
};

Status write_file_atomic(const std::filesystem::path& path, std::string_view content,
                         mode_t mode = 0644);

// Reads a whole file, refusing anything larger than `limit` bytes.
Result<std::string> read_file(const std::filesystem::path& path, size_t limit = 64 << 20);

Result<Fd> open_file(const std::filesystem::path& path, int flags, mode_t mode = 0644);

Status make_dirs(const std::filesystem::path& path);

// Opens `rel` (relative, no "..") beneath the open directory `dirfd` without
// following any symlink on the way or at the end: openat2(RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS), or an O_NOFOLLOW walk on kernels without openat2. A
// symlink anywhere fails with ELOOP (or ENOTDIR). O_CLOEXEC is always added.
Result<Fd> open_beneath(int dirfd, std::string_view rel, int flags, mode_t mode = 0);
// Tests force the O_NOFOLLOW walk to check it refuses what openat2 refuses.
void force_nofollow_walk(bool on);
// `name` beneath `dirfd` as a directory, created (with `mode`) when missing; a
// symlink or any other non-directory there is refused, naming `shown`.
Result<Fd> ensure_dir_beneath(int dirfd, std::string_view name, mode_t mode,
                              const std::filesystem::path& shown);
// Fails when `rel` beneath `dirfd` is a device, FIFO or socket: checked before
// an open, so a planted device's driver never sees one. A symlink is left for
// the open to refuse; a missing name passes.
Status refuse_special_beneath(int dirfd, std::string_view rel, const std::filesystem::path& shown);
// Opens `rel` beneath `dirfd` read-only and reads it whole, at most `limit`
// bytes; it must be a regular file. `shown` names it in errors.
Result<std::string> read_file_beneath(int dirfd, std::string_view rel,
                                      const std::filesystem::path& shown, size_t limit = 64 << 20);

// An exclusive flock(2) on a lock file, released on destruction.
class FileLock {
 public:
  static Result<FileLock> acquire(const std::filesystem::path& path);
  // The lock file `name` beneath `dirfd`, created when missing; never through
  // a symlink, and it must be a regular file. `shown` names it in errors.
  static Result<FileLock> acquire_beneath(int dirfd, std::string_view name,
                                          const std::filesystem::path& shown);

 private:
  explicit FileLock(Fd fd) : fd_(std::move(fd)) {}
  static Result<FileLock> lock(Fd fd, const std::filesystem::path& shown);
  Fd fd_;
};

// A directory removed (recursively) on destruction.
class TempDir {
 public:
  static Result<TempDir> create(const std::filesystem::path& parent, std::string_view prefix);
  TempDir(TempDir&& o) noexcept : path_(std::exchange(o.path_, {})) {}
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  // Keep the directory: the caller took ownership (e.g. renamed it into place).
  void release() { path_.clear(); }

 private:
  explicit TempDir(std::filesystem::path p) : path_(std::move(p)) {}
  std::filesystem::path path_;
};

}  // namespace kiln
