// TarReader: reads tar entries (libarchive underneath) from a Reader that
// already yields uncompressed bytes. Entry names come back raw (not cleaned);
// callers decide what a name may be. Not thread-safe. Owns its handle.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>

#include "base/result.hpp"
#include "base/stream.hpp"
#include "layers/tar_entry.hpp"

namespace kiln::layers {

class TarReader {
 public:
  // `what` names the input in errors ("layer sha256:…", "rootfs.tar").
  static Result<std::unique_ptr<TarReader>> open(Reader& in, std::string what);
  ~TarReader();
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // The next entry, or nullopt after the last. path and link are as stored.
  // The first call fails with "<what>: not a tar archive" for other input.
  Result<std::optional<TarEntry>> next();
  // The next block of the current entry's data: its offset in the file (gaps
  // between blocks are holes) and bytes; false at the end of the entry.
  Result<bool> read_block(int64_t& offset, std::span<const std::byte>& data);
  // Reads and discards the input after the archive's end blocks, so wrapping
  // readers see end of stream (and verify their digests).
  Status drain();

 private:
  struct Impl;
  explicit TarReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Makes libarchive's name conversions UTF-8 aware on this thread while alive,
// whatever the process locale (a "C" locale would mangle non-ASCII names).
class Utf8Locale {
 public:
  Utf8Locale();
  ~Utf8Locale();
  Utf8Locale(const Utf8Locale&) = delete;
  Utf8Locale& operator=(const Utf8Locale&) = delete;

 private:
  void* old_ = nullptr;
  void* mine_ = nullptr;
};

}  // namespace kiln::layers
