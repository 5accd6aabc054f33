// Layer compression: streaming gzip / zstd / none writers and a reader that
// decompresses whatever it is given, detected from the first bytes.
//
// Output is deterministic: the gzip header is fixed (no name, mtime 0, OS
// "unknown"), and zstd always runs in its multi-threaded mode, whose output does
// not depend on the number of workers. Not thread-safe; one stream per object.
#pragma once

#include <memory>
#include <span>

#include "base/result.hpp"
#include "base/stream.hpp"
#include "oci/media_types.hpp"

namespace kiln::layers {

using oci::media::Compression;

// A Writer that compresses into `out`. finish() must be called once, after the
// last write, to flush the trailer; a writer destroyed unfinished wrote an
// incomplete stream (the caller discards it).
class CompressWriter : public Writer {
 public:
  using Writer::write;
  virtual Status finish() = 0;
};

// `level` -1 is the format's default; gzip takes 0-9, zstd 1-19 (and the
// negative fast levels). `threads` 0 means every core (zstd only).
Result<std::unique_ptr<CompressWriter>> make_compressor(Compression c, Writer& out, int level = -1,
                                                        int threads = 0);

// The zlib gzip writer whatever the build has, for tests and benchmarks that
// compare the two backends.
std::unique_ptr<CompressWriter> make_zlib_gzip(Writer& out, int level = -1);

// The compression of a stream from its first bytes (at least 4 for a certain
// answer): gzip and zstd by magic number, anything else `none`.
Compression sniff_compression(std::span<const std::byte> head);

// A Reader that yields the decompressed bytes of `in` (gzip, including
// concatenated members, zstd, or plain), detected from the bytes. Corrupt or
// truncated input is an error naming `what`.
std::unique_ptr<Reader> make_decompressor(Reader& in, std::string what);

// Which gzip implementation this build uses: "isa-l" or "zlib" (for reports).
const char* gzip_backend();

// "gzip", "zstd", "none": parses the --compression flag's values.
Result<Compression> parse_compression(std::string_view s);

}  // namespace kiln::layers
