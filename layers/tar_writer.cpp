#include "layers/tar_writer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <unistd.h>

#include <cerrno>
#include <optional>
#include <vector>

namespace kiln::layers {

namespace {

struct ArchiveFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

mode_t type_bits(EntryType t) {
  switch (t) {
    case EntryType::file:
    case EntryType::hardlink:
      return AE_IFREG;
    case EntryType::dir:
      return AE_IFDIR;
    case EntryType::symlink:
      return AE_IFLNK;
    case EntryType::chr:
      return AE_IFCHR;
    case EntryType::blk:
      return AE_IFBLK;
    case EntryType::fifo:
      return AE_IFIFO;
  }
  return AE_IFREG;
}

constexpr size_t kChunk = 1 << 20;

}  // namespace

struct TarWriter::Impl {
  Writer& out;
  std::unique_ptr<archive, ArchiveFree> a;
  std::unique_ptr<archive_entry, EntryFree> entry{archive_entry_new()};
  std::optional<Error> cb_error;  // set by the write callback
  bool refused = false;           // abandoned: nothing more reaches `out`
  std::vector<std::byte> buf;

  explicit Impl(Writer& w) : out(w), a(archive_write_new()) {}
  // Unfinished, the handle is closed with the sink refused: only closing frees
  // libarchive's buffers, and writing would pad the entry under way with zeros
  // and add the end blocks, so a stream cut off by a failure would read as a
  // complete tar.
  ~Impl() {
    if (!a) return;
    refused = true;
    archive_write_close(a.get());
  }

  static la_ssize_t write_cb(archive*, void* ctx, const void* p, size_t n) noexcept {
    auto* self = static_cast<Impl*>(ctx);
    if (self->refused) return -1;
    auto st = self->out.write(std::span(static_cast<const std::byte*>(p), n));
    if (!st) {
      self->cb_error = std::move(st).error();
      return -1;
    }
    return static_cast<la_ssize_t>(n);
  }

  tl::unexpected<Error> error(std::string_view doing) {
    if (cb_error) return tl::unexpected(*cb_error);
    const char* msg = archive_error_string(a.get());
    return fail(doing, ": ", msg ? msg : "libarchive error");
  }
};

TarWriter::TarWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TarWriter::~TarWriter() = default;

Result<std::unique_ptr<TarWriter>> TarWriter::open(Writer& out) {
  auto impl = std::make_unique<Impl>(out);
  archive* a = impl->a.get();
  if (!a || !impl->entry) return fail("libarchive: out of memory");
  // PAX: a plain ustar header unless a field needs an extension (sub-second
  // mtimes, long names, xattrs, big ids, sparse maps). The restricted variant
  // would silently drop nanoseconds.
  if (archive_write_set_format_pax(a) != ARCHIVE_OK ||
      archive_write_add_filter_none(a) != ARCHIVE_OK ||
      archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
      archive_write_open2(a, impl.get(), nullptr, &Impl::write_cb, nullptr, nullptr) != ARCHIVE_OK)
    return impl->error("starting a tar stream");
  return std::unique_ptr<TarWriter>(new TarWriter(std::move(impl)));
}

Status TarWriter::add(const TarEntry& e) {
  archive_entry* ae = impl_->entry.get();
  archive_entry_clear(ae);
  // Names are bytes: written as they are, never transcoded.
  archive_entry_copy_pathname(ae, e.path.c_str());
  archive_entry_set_mode(ae, type_bits(e.type) | (e.perm & 07777));
  archive_entry_set_uid(ae, e.uid);
  archive_entry_set_gid(ae, e.gid);
  archive_entry_set_mtime(ae, e.mtime_sec, e.mtime_nsec);
  switch (e.type) {
    case EntryType::file:
      archive_entry_set_size(ae, e.size);
      for (auto& [off, len] : e.sparse)
        archive_entry_sparse_add_entry(ae, off, len);
      break;
    case EntryType::hardlink:
      archive_entry_copy_hardlink(ae, e.link.c_str());
      archive_entry_set_size(ae, 0);
      break;
    case EntryType::symlink:
      archive_entry_copy_symlink(ae, e.link.c_str());
      break;
    case EntryType::chr:
    case EntryType::blk:
      archive_entry_set_rdevmajor(ae, e.dev_major);
      archive_entry_set_rdevminor(ae, e.dev_minor);
      break;
    default:
      break;
  }
  for (auto& [name, value] : e.xattrs)
    archive_entry_xattr_add_entry(ae, name.c_str(), value.data(), value.size());
  int rc = archive_write_header(impl_->a.get(), ae);
  if (rc < ARCHIVE_WARN) return impl_->error("writing tar entry " + e.path);
  return {};
}

Status TarWriter::write_data(std::span<const std::byte> data) {
  while (!data.empty()) {
    la_ssize_t n = archive_write_data(impl_->a.get(), data.data(), data.size());
    if (n < 0) return impl_->error("writing tar data");
    if (n == 0) return fail("writing tar data: more bytes than the entry's size");
    data = data.subspan(static_cast<size_t>(n));
  }
  return {};
}

Status TarWriter::write_zeros(int64_t n) {
  static const std::vector<std::byte> zeros(kChunk);
  while (n > 0) {
    size_t k = static_cast<size_t>(std::min<int64_t>(n, kChunk));
    TRY(write_data(std::span(zeros).first(k)));
    n -= static_cast<int64_t>(k);
  }
  return {};
}

Status TarWriter::add_from_fd(const TarEntry& e, int fd) {
  TRY(add(e));
  if (e.type != EntryType::file) return {};
  auto& buf = impl_->buf;
  if (buf.size() < kChunk) buf.resize(kChunk);
  std::vector<std::pair<int64_t, int64_t>> extents = e.sparse;
  if (extents.empty()) extents.emplace_back(0, e.size);
  int64_t pos = 0;
  for (auto [off, len] : extents) {
    TRY(write_zeros(off - pos));
    pos = off;
    int64_t end = off + len;
    while (pos < end) {
      size_t want = static_cast<size_t>(std::min<int64_t>(end - pos, kChunk));
      ssize_t n = ::pread(fd, buf.data(), want, pos);
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail_errno(errno, "read " + e.path);
      }
      // The file shrank while being archived: keep the header honest with zeros.
      if (n == 0) {
        TRY(write_zeros(end - pos));
        pos = end;
        break;
      }
      TRY(write_data(std::span(buf).first(static_cast<size_t>(n))));
      pos += n;
    }
  }
  return write_zeros(e.size - pos);
}

Status TarWriter::finish() {
  if (archive_write_close(impl_->a.get()) != ARCHIVE_OK) return impl_->error("finishing tar");
  return {};
}

}  // namespace kiln::layers
