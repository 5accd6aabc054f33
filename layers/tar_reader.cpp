#include "layers/tar_reader.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <locale.h>

#include <vector>

namespace kiln::layers {

// The locale object is made once and kept: newlocale() maps locale data, and
// doing that per entry dominated the cost of small-file layers.
Utf8Locale::Utf8Locale() {
  static const locale_t utf8 = ::newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  if (utf8) {
    mine_ = utf8;
    old_ = ::uselocale(utf8);
  }
}

Utf8Locale::~Utf8Locale() {
  if (mine_) ::uselocale(static_cast<locale_t>(old_));
}

namespace {

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

constexpr size_t kReadBuf = 1 << 20;

}  // namespace

struct TarReader::Impl {
  Reader& in;
  std::string what;
  std::unique_ptr<archive, ArchiveFree> a{archive_read_new()};
  std::optional<Error> cb_error;  // set by the read callback
  std::vector<std::byte> buf = std::vector<std::byte>(kReadBuf);
  bool first = true;
  bool eof = false;

  Impl(Reader& r, std::string w) : in(r), what(std::move(w)) {}

  static la_ssize_t read_cb(archive*, void* ctx, const void** out) noexcept {
    auto* self = static_cast<Impl*>(ctx);
    auto n = self->in.read(self->buf);
    if (!n) {
      self->cb_error = std::move(n).error();
      return -1;
    }
    if (*n == 0) self->eof = true;
    *out = self->buf.data();
    return static_cast<la_ssize_t>(*n);
  }

  tl::unexpected<Error> error(std::string_view doing) {
    if (cb_error) return tl::unexpected(*cb_error);
    const char* msg = archive_error_string(a.get());
    return fail(what, ": ", doing, ": ", msg ? msg : "libarchive error");
  }
};

TarReader::TarReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TarReader::~TarReader() = default;

Result<std::unique_ptr<TarReader>> TarReader::open(Reader& in, std::string what) {
  auto impl = std::make_unique<Impl>(in, std::move(what));
  archive* a = impl->a.get();
  if (!a) return fail("libarchive: out of memory");
  // Only tar, only uncompressed: decompression happened before us, where the
  // bytes are hashed for the diff-id.
  if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
      archive_read_support_filter_none(a) != ARCHIVE_OK ||
      archive_read_open(a, impl.get(), nullptr, &Impl::read_cb, nullptr) != ARCHIVE_OK) {
    if (impl->cb_error) return tl::unexpected(*impl->cb_error);
    return fail(impl->what, ": not a tar archive");
  }
  return std::unique_ptr<TarReader>(new TarReader(std::move(impl)));
}

Result<std::optional<TarEntry>> TarReader::next() {
  Utf8Locale utf8;
  archive_entry* ae = nullptr;
  int rc = archive_read_next_header(impl_->a.get(), &ae);
  bool first = std::exchange(impl_->first, false);
  if (rc == ARCHIVE_EOF) {
    if (first) return fail(impl_->what, ": not a tar archive (empty)");
    return std::optional<TarEntry>();
  }
  if (rc < ARCHIVE_WARN) {
    if (first && !impl_->cb_error) return fail(impl_->what, ": not a tar archive");
    return impl_->error("reading entry");
  }
  TarEntry e;
  const char* p = archive_entry_pathname(ae);
  if (!p) p = archive_entry_pathname_utf8(ae);
  if (!p) return fail(impl_->what, ": entry without a name");
  e.path = p;
  mode_t mode = archive_entry_mode(ae);
  e.perm = mode & 07777;
  e.uid = archive_entry_uid(ae);
  e.gid = archive_entry_gid(ae);
  e.mtime_sec = archive_entry_mtime(ae);
  e.mtime_nsec = static_cast<int32_t>(archive_entry_mtime_nsec(ae));
  if (const char* hl = archive_entry_hardlink(ae)) {
    e.type = EntryType::hardlink;
    e.link = hl;
  } else {
    switch (archive_entry_filetype(ae)) {
      case AE_IFREG:
        e.type = EntryType::file;
        e.size = archive_entry_size(ae);
        break;
      case AE_IFDIR:
        e.type = EntryType::dir;
        break;
      case AE_IFLNK:
        e.type = EntryType::symlink;
        if (const char* t = archive_entry_symlink(ae)) e.link = t;
        break;
      case AE_IFCHR:
      case AE_IFBLK:
        e.type = archive_entry_filetype(ae) == AE_IFCHR ? EntryType::chr : EntryType::blk;
        e.dev_major = archive_entry_rdevmajor(ae);
        e.dev_minor = archive_entry_rdevminor(ae);
        break;
      case AE_IFIFO:
        e.type = EntryType::fifo;
        break;
      default:
        return fail(impl_->what, ": entry ", e.path, " has an unsupported file type");
    }
  }
  if (archive_entry_xattr_reset(ae) > 0) {
    const char* name;
    const void* value;
    size_t size;
    while (archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK)
      e.xattrs.emplace_back(name, std::string(static_cast<const char*>(value), size));
    std::sort(e.xattrs.begin(), e.xattrs.end());
  }
  if (e.type == EntryType::file && archive_entry_sparse_reset(ae) > 0) {
    la_int64_t off, len;
    while (archive_entry_sparse_next(ae, &off, &len) == ARCHIVE_OK)
      e.sparse.emplace_back(off, len);
  }
  return std::optional<TarEntry>(std::move(e));
}

Result<bool> TarReader::read_block(int64_t& offset, std::span<const std::byte>& data) {
  const void* buf;
  size_t size;
  la_int64_t off;
  int rc = archive_read_data_block(impl_->a.get(), &buf, &size, &off);
  if (rc == ARCHIVE_EOF) return false;
  if (rc < ARCHIVE_WARN) return impl_->error("reading data");
  offset = off;
  data = std::span(static_cast<const std::byte*>(buf), size);
  return true;
}

Status TarReader::drain() {
  while (!impl_->eof) {
    if (impl_->cb_error) return tl::unexpected(*impl_->cb_error);
    auto n = impl_->in.read(impl_->buf);
    if (!n) return tl::unexpected(std::move(n).error());
    if (*n == 0) impl_->eof = true;
  }
  return {};
}

}  // namespace kiln::layers
