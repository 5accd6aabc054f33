// A layer from an existing rootfs tar: every entry re-encoded through kiln's
// writer, so names are clean, the tar is PAX, and the output is deterministic
// for a given input.
#include <fcntl.h>

#include <algorithm>

#include "layers/compression.hpp"
#include "layers/layer_sink.hpp"
#include "layers/tar_reader.hpp"
#include "layers/tar_writer.hpp"
#include "layers/writer.hpp"

namespace kiln::layers {

namespace {

// Copies the current entry's data, holes included as holes.
Status copy_data(TarReader& in, TarWriter& out, const TarEntry& e) {
  int64_t pos = 0;
  int64_t off;
  std::span<const std::byte> data;
  for (;;) {
    TRY_ASSIGN(bool more, in.read_block(off, data));
    if (!more) break;
    if (off < pos) return fail("entry ", e.path, ": data blocks out of order");
    int64_t n = static_cast<int64_t>(data.size());
    if (off + n > e.size) return fail("entry ", e.path, ": more data than its size");
    TRY(out.write_zeros(off - pos));
    TRY(out.write_data(data));
    pos = off + n;
  }
  return out.write_zeros(e.size - pos);
}

}  // namespace

Result<WrittenLayer> write_tar_layer(oci::Store& store, const std::filesystem::path& tar,
                                     const LayerOptions& opts) {
  const std::string what = tar.string();
  int fd = ::open(tar.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail_errno(errno, what);
  FdReader file{Fd(fd)};
  auto plain = make_decompressor(file, what);
  TRY_ASSIGN(auto reader, TarReader::open(*plain, what));
  TRY_ASSIGN(auto sink, LayerSink::open(store, opts));
  TRY_ASSIGN(auto writer, TarWriter::open(sink->tar_stream()));
  Utf8Locale utf8;
  for (;;) {
    TRY_ASSIGN(auto next, reader->next());
    if (!next) break;
    TarEntry& e = *next;
    auto clean = clean_layer_path(e.path);
    if (!clean) {
      // The archive's own root ("./", "/") carries nothing an image can use.
      if (e.type == EntryType::dir && e.path.find("..") == std::string::npos) continue;
      return fail(what, ": ", clean.error().message);
    }
    e.path = std::move(*clean);
    if (e.type == EntryType::hardlink) {
      auto target = clean_layer_path(e.link);
      if (!target) return fail(what, ": hardlink ", e.path, ": ", target.error().message);
      e.link = std::move(*target);
    }
    if (opts.source_date_epoch && e.mtime_sec >= *opts.source_date_epoch &&
        (e.mtime_sec > *opts.source_date_epoch || e.mtime_nsec)) {
      e.mtime_sec = *opts.source_date_epoch;
      e.mtime_nsec = 0;
    }
    TRY(writer->add(e));
    if (e.type == EntryType::file) TRY_CTX(copy_data(*reader, *writer, e), what);
  }
  TRY(writer->finish());
  TRY(reader->drain());
  return sink->commit();
}

}  // namespace kiln::layers
