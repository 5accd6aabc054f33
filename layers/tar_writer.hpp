// TarWriter: writes PAX tar entries (libarchive underneath) into a Writer.
//
// Deterministic by construction: only the fields of TarEntry are written (no
// atime, ctime, user or group names, device or inode numbers), xattrs in name
// order, and the archive is not padded beyond its two end blocks.
// Not thread-safe. Owns its libarchive handle.
#pragma once

#include <memory>
#include <span>

#include "base/result.hpp"
#include "base/stream.hpp"
#include "layers/tar_entry.hpp"

namespace kiln::layers {

class TarWriter {
 public:
  static Result<std::unique_ptr<TarWriter>> open(Writer& out);
  ~TarWriter();
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  // Writes the header. A regular file then needs exactly e.size bytes of data
  // through write_data()/write_zeros() (holes of a sparse file included: they
  // are skipped, not stored) before the next add().
  Status add(const TarEntry& e);
  Status write_data(std::span<const std::byte> data);
  Status write_zeros(int64_t n);
  // Header plus data from `fd` (regular files; reads the sparse extents only).
  Status add_from_fd(const TarEntry& e, int fd);
  // Writes the end-of-archive blocks. Required: a writer destroyed without
  // it writes nothing more, so what it cut off never reads as a whole tar.
  Status finish();

 private:
  struct Impl;
  explicit TarWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::layers
