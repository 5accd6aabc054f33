// Files: atomic writes, whole-file reads, advisory locks and temporary dirs.
//
// AtomicFile writes to a temporary name in the target's directory and only
// renames over the target on commit(), after fsync; a destroyed, uncommitted
// AtomicFile removes its temporary. So a killed process never leaves a
// half-written file under its final name.
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

 private:
  AtomicFile(std::filesystem::path target, std::filesystem::path temp, Fd fd)
      : target_(std::move(target)), temp_(std::move(temp)), fd_(std::move(fd)) {}
  std::filesystem::path target_, temp_;
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

// An exclusive flock(2) on a lock file, released on destruction.
class FileLock {
 public:
  static Result<FileLock> acquire(const std::filesystem::path& path);

 private:
  explicit FileLock(Fd fd) : fd_(std::move(fd)) {}
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
