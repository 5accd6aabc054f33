// LayerSink: the single pass from tar bytes to a named blob in the store.
//   tar bytes → HashingWriter (diff-id, size) → compressor → HashingWriter
//   (digest, size) → temporary in store.tmp_dir() → rename to blobs/sha256/HEX
// The blob is named by the hash of exactly the bytes written, so nothing
// unverified ever sits under blobs/. Not thread-safe.
#pragma once

#include <memory>

#include "base/result.hpp"
#include "base/stream.hpp"
#include "layers/writer.hpp"

namespace kiln::layers {

class LayerSink {
 public:
  static Result<std::unique_ptr<LayerSink>> open(oci::Store& store, const LayerOptions& opts);
  ~LayerSink();
  // Where the uncompressed tar goes.
  Writer& tar_stream();
  // Flushes the compressor and moves the blob into place.
  Result<WrittenLayer> commit();

 private:
  struct Impl;
  explicit LayerSink(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::layers
