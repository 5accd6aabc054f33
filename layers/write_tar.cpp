// A layer from an existing rootfs tar: every entry re-encoded through kiln's
// writer, so names are clean, the tar is PAX, and the entries come out in
// layer order (layer_path_less) whatever order the input had.
//
// Sorting must not cost memory per byte: the first pass copies each entry
// (metadata and data) into a spool file in the store's tmp dir and keeps only
// its path and spool offset; the second writes them back in order.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "base/files.hpp"
#include "layers/compression.hpp"
#include "layers/layer_sink.hpp"
#include "layers/tar_reader.hpp"
#include "layers/tar_writer.hpp"
#include "layers/writer.hpp"

namespace kiln::layers {

namespace {

constexpr size_t kChunk = 1 << 20;

// An append-only scratch file, read back at any offset.
class Spool {
 public:
  explicit Spool(Fd fd) : fd_(std::move(fd)) {}
  uint64_t size() const { return size_; }
  Status append(const void* p, size_t n) {
    buf_.append(static_cast<const char*>(p), n);
    size_ += n;
    return buf_.size() >= kChunk ? flush() : Status{};
  }
  Status flush() {
    for (size_t done = 0; done < buf_.size();) {
      ssize_t n = ::write(fd_.get(), buf_.data() + done, buf_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail_errno(errno, "write spool");
      done += static_cast<size_t>(n);
    }
    buf_.clear();
    return {};
  }
  Status read(uint64_t off, void* p, size_t n) const {
    auto* out = static_cast<char*>(p);
    while (n) {
      ssize_t got = ::pread(fd_.get(), out, n, static_cast<off_t>(off));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return fail_errno(got < 0 ? errno : EIO, "read spool");
      out += got, off += static_cast<uint64_t>(got), n -= static_cast<size_t>(got);
    }
    return {};
  }

 private:
  Fd fd_;
  std::string buf_;
  uint64_t size_ = 0;
};

void put(std::string& s, int64_t v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof v);
}
void put(std::string& s, std::string_view v) {
  put(s, static_cast<int64_t>(v.size()));
  s.append(v);
}

struct Cursor {
  std::string_view s;
  int64_t i64() {
    int64_t v;
    std::memcpy(&v, s.data(), sizeof v);
    s.remove_prefix(sizeof v);
    return v;
  }
  std::string str() {
    auto n = static_cast<size_t>(i64());
    std::string v(s.substr(0, n));
    s.remove_prefix(n);
    return v;
  }
};

// Record: [meta length][meta][(offset, length, bytes)... (-1)].
std::string encode(const TarEntry& e) {
  std::string m;
  put(m, e.path);
  put(m, static_cast<int64_t>(e.type));
  for (int64_t v : {int64_t{e.perm}, e.uid, e.gid, e.mtime_sec, int64_t{e.mtime_nsec}, e.size,
                    int64_t{e.dev_major}, int64_t{e.dev_minor}})
    put(m, v);
  put(m, e.link);
  put(m, static_cast<int64_t>(e.xattrs.size()));
  for (auto& [k, v] : e.xattrs) {
    put(m, k);
    put(m, v);
  }
  put(m, static_cast<int64_t>(e.sparse.size()));
  for (auto& [off, len] : e.sparse) {
    put(m, off);
    put(m, len);
  }
  std::string rec;
  put(rec, static_cast<int64_t>(m.size()));
  return rec + m;
}

TarEntry decode(std::string_view meta) {
  Cursor c{meta};
  TarEntry e;
  e.path = c.str();
  e.type = static_cast<EntryType>(c.i64());
  e.perm = static_cast<uint32_t>(c.i64());
  e.uid = c.i64();
  e.gid = c.i64();
  e.mtime_sec = c.i64();
  e.mtime_nsec = static_cast<int32_t>(c.i64());
  e.size = c.i64();
  e.dev_major = static_cast<uint32_t>(c.i64());
  e.dev_minor = static_cast<uint32_t>(c.i64());
  e.link = c.str();
  for (int64_t n = c.i64(); n > 0; --n) {
    std::string k = c.str();
    e.xattrs.emplace_back(std::move(k), c.str());
  }
  for (int64_t n = c.i64(); n > 0; --n) {
    int64_t off = c.i64();
    e.sparse.emplace_back(off, c.i64());
  }
  return e;
}

// Copies the current entry's data into the spool, holes left out.
Status spool_data(TarReader& in, Spool& out, const TarEntry& e) {
  int64_t pos = 0;
  int64_t off;
  std::span<const std::byte> data;
  for (;;) {
    TRY_ASSIGN(bool more, in.read_block(off, data));
    if (!more) break;
    if (off < pos) return fail("entry ", e.path, ": data blocks out of order");
    int64_t n = static_cast<int64_t>(data.size());
    if (off + n > e.size) return fail("entry ", e.path, ": more data than its size");
    TRY(out.append(&off, sizeof off));
    TRY(out.append(&n, sizeof n));
    TRY(out.append(data.data(), data.size()));
    pos = off + n;
  }
  int64_t end = -1;
  return out.append(&end, sizeof end);
}

// The spooled entry at `off` (its data follows at `data_off`).
Result<TarEntry> load(const Spool& sp, uint64_t off, uint64_t& data_off) {
  int64_t len;
  TRY(sp.read(off, &len, sizeof len));
  std::string meta(static_cast<size_t>(len), '\0');
  TRY(sp.read(off + sizeof len, meta.data(), meta.size()));
  data_off = off + sizeof len + static_cast<uint64_t>(len);
  return decode(meta);
}

Status copy_spooled(const Spool& sp, uint64_t off, TarWriter& out, const TarEntry& e) {
  std::string buf;
  int64_t pos = 0;
  for (;;) {
    int64_t hdr[2];
    TRY(sp.read(off, &hdr[0], sizeof hdr[0]));
    if (hdr[0] < 0) break;
    TRY(sp.read(off + sizeof hdr[0], &hdr[1], sizeof hdr[1]));
    off += sizeof hdr;
    TRY(out.write_zeros(hdr[0] - pos));
    for (int64_t left = hdr[1]; left > 0;) {
      size_t n = static_cast<size_t>(std::min<int64_t>(left, kChunk));
      buf.resize(n);
      TRY(sp.read(off, buf.data(), n));
      TRY(out.write_data(std::as_bytes(std::span(buf))));
      off += n, left -= static_cast<int64_t>(n);
    }
    pos = hdr[0] + hdr[1];
  }
  return out.write_zeros(e.size - pos);
}

struct Spooled {
  std::string path;
  uint64_t off;
  // Hardlink groups: the entry holding the data, for itself and its links;
  // kNone for everything else.
  size_t root;
};
constexpr size_t kNone = SIZE_MAX;

}  // namespace

Result<WrittenLayer> write_tar_layer(oci::Store& store, const std::filesystem::path& tar,
                                     const LayerOptions& opts) {
  const std::string what = tar.string();
  int fd = ::open(tar.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail_errno(errno, what);
  FdReader file{Fd(fd)};
  auto plain = make_decompressor(file, what);
  TRY_ASSIGN(auto reader, TarReader::open(*plain, what));

  TRY(make_dirs(store.tmp_dir()));
  TRY_ASSIGN(TempDir scratch, TempDir::create(store.tmp_dir(), "tar-"));
  TRY_ASSIGN(Fd spool_fd, open_file(scratch.path() / "spool", O_RDWR | O_CREAT | O_EXCL, 0600));
  Spool spool(std::move(spool_fd));
  std::vector<Spooled> entries;
  std::unordered_map<std::string, size_t> seen;  // path → entries index
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
    size_t root = kNone;
    if (e.type == EntryType::hardlink) {
      auto target = clean_layer_path(e.link);
      if (!target) return fail(what, ": hardlink ", e.path, ": ", target.error().message);
      e.link = std::move(*target);
      // A link to an earlier entry joins its group; a link to a name this tar
      // does not have points into the layers below and stays as it is.
      if (auto t = seen.find(e.link); t != seen.end()) {
        Spooled& te = entries[t->second];
        if (te.root == kNone) te.root = t->second;
        root = te.root;
      }
    }
    if (opts.source_date_epoch && e.mtime_sec >= *opts.source_date_epoch &&
        (e.mtime_sec > *opts.source_date_epoch || e.mtime_nsec)) {
      e.mtime_sec = *opts.source_date_epoch;
      e.mtime_nsec = 0;
    }
    auto [slot, fresh] = seen.try_emplace(e.path, entries.size());
    if (!fresh) {
      // tar(1) lets a later entry replace an earlier one. Directories are
      // harmless (the last metadata wins); for anything else the order would
      // decide the content, and sorting would silently change it.
      if (e.type != EntryType::dir || entries[slot->second].root != kNone)
        return fail(what, ": duplicate entry ", e.path);
      entries[slot->second].off = spool.size();
    } else {
      entries.push_back({e.path, spool.size(), root});
    }
    std::string rec = encode(e);
    TRY(spool.append(rec.data(), rec.size()));
    if (e.type == EntryType::file) {
      TRY_CTX(spool_data(*reader, spool, e), what);
    } else {
      int64_t end = -1;
      TRY(spool.append(&end, sizeof end));
    }
  }
  TRY(reader->drain());
  TRY(spool.flush());

  // Written in layer order. In a hardlink group the first name in that order
  // carries the data and the others link to it, as a tree walk would write it.
  std::vector<uint32_t> order(entries.size());
  for (uint32_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return layer_path_less(entries[a].path, entries[b].path);
  });
  std::unordered_map<size_t, std::string> leader;  // group root → path carrying the data
  TRY_ASSIGN(auto sink, LayerSink::open(store, opts));
  TRY_ASSIGN(auto writer, TarWriter::open(sink->tar_stream()));
  for (uint32_t i : order) {
    const Spooled& s = entries[i];
    uint64_t data_off;
    TRY_ASSIGN(TarEntry e, load(spool, s.root == kNone ? s.off : entries[s.root].off, data_off));
    e.path = s.path;
    if (s.root != kNone) {
      auto [it, first] = leader.try_emplace(s.root, s.path);
      if (!first) {
        e.type = EntryType::hardlink;
        e.link = it->second;
        e.size = 0;
        e.sparse.clear();
        TRY(writer->add(e));
        continue;
      }
    }
    TRY(writer->add(e));
    if (e.type == EntryType::file) {
      TRY_CTX(copy_spooled(spool, data_off, *writer, e), what);
    }
  }
  TRY(writer->finish());
  return sink->commit();
}

}  // namespace kiln::layers
