#include "layers/image_archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <set>

#include "base/files.hpp"
#include "layers/compression.hpp"
#include "oci/json.hpp"
#include "oci/media_types.hpp"
#include "oci/reference.hpp"
#include "oci/store_check.hpp"

namespace kiln::layers {

namespace fs = std::filesystem;
using oci::Descriptor;
using oci::Digest;

namespace {

struct WriteArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
using WriteArchivePtr = std::unique_ptr<archive, WriteArchiveDeleter>;
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using EntryPtr = std::unique_ptr<archive_entry, EntryDeleter>;

// ---- writing ----

// A tar stream into `out`, which must outlive it. libarchive keeps `this` as
// its write callback's context, so the object never moves, and the handle is
// the last member: destroyed first, before anything its callback touches.
class TarOut {
 public:
  explicit TarOut(Writer& out) : out_(out) {}
  TarOut(const TarOut&) = delete;
  TarOut& operator=(const TarOut&) = delete;
  // A handle not closed by close() is closed here, as only closing frees
  // libarchive's buffers (archive_write_fail before the free would leak them),
  // but with the sink refused first: closing would otherwise pad the entry under
  // way and write the end blocks, and a cut-off archive would look complete.
  ~TarOut() {
    if (!a_) return;
    refused_ = true;
    archive_write_close(a_.get());
  }

  Status open() {
    a_.reset(archive_write_new());
    if (!a_) return fail("open archive writer: out of memory");
    archive_write_set_format_pax_restricted(a_.get());
    archive_write_set_bytes_in_last_block(a_.get(), 1);
    if (archive_write_open(a_.get(), this, nullptr, write_cb, nullptr) != ARCHIVE_OK)
      return error("open archive writer");
    return {};
  }

  Status add(const std::string& name, int64_t size, Reader& content) {
    EntryPtr e(archive_entry_new());
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_size(e.get(), size);
    archive_entry_set_mtime(e.get(), 0, 0);
    if (archive_write_header(a_.get(), e.get()) != ARCHIVE_OK) return error("write header");
    std::vector<std::byte> buf(1 << 20);
    int64_t written = 0;
    for (;;) {
      TRY_ASSIGN(size_t n, content.read(buf));
      if (n == 0) break;
      if (archive_write_data(a_.get(), buf.data(), n) < 0) return error("write " + name);
      written += static_cast<int64_t>(n);
    }
    if (written != size) return fail(name, ": wrote ", written, " bytes, expected ", size);
    return {};
  }

  Status add_bytes(const std::string& name, const std::string& bytes) {
    StringReader r(bytes);
    return add(name, static_cast<int64_t>(bytes.size()), r);
  }

  Status close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK) return error("finish archive");
    return {};
  }

 private:
  static la_ssize_t write_cb(archive*, void* ctx, const void* buf, size_t n) noexcept {
    auto* self = static_cast<TarOut*>(ctx);
    if (self->refused_) return -1;
    auto st = self->out_.write(std::span(static_cast<const std::byte*>(buf), n));
    if (!st) {
      self->sink_error_ = std::move(st).error();
      return -1;
    }
    return static_cast<la_ssize_t>(n);
  }

  Status error(const std::string& what) {
    if (sink_error_) return tl::unexpected(*sink_error_);
    const char* msg = archive_error_string(a_.get());
    return fail(what, ": ", msg ? msg : "libarchive error");
  }

  Writer& out_;
  std::optional<Error> sink_error_;  // the write callback's failure
  bool refused_ = false;             // the archive is abandoned: nothing more reaches out_
  WriteArchivePtr a_;
};

// Decompresses a layer blob into a temporary file (a tar header needs the size
// first, and only the compressed size is known), checking it against the
// config's diff-id on the way.
Result<AtomicFile> uncompressed_layer(const oci::BlobOpen& open, const fs::path& tmp_dir,
                                      const Descriptor& layer, const oci::DiffId& diff_id) {
  TRY_ASSIGN(auto blob, open(layer));
  auto plain = make_decompressor(*blob, "layer " + layer.digest.str());
  TRY_ASSIGN(auto tmp, AtomicFile::create_in(tmp_dir));
  tmp.scratch();
  HashingWriter hw(tmp);
  TRY(copy_stream(*plain, hw));
  if ("sha256:" + hw.hex_final() != diff_id.str())
    return fail("layer ", layer.digest.str(), " does not match its diff-id ", diff_id.str());
  return tmp;
}

Status save_docker(const oci::BlobOpen& open, const fs::path& tmp_dir,
                   const std::vector<oci::LocalImage>& images, TarOut& tar) {
  nlohmann::json manifest = nlohmann::json::array();
  std::set<std::string> written;
  for (auto& img : images) {
    auto diff_ids = img.config.diff_ids();
    const auto& layers = img.manifest.layers();
    if (diff_ids.size() != layers.size())
      return fail("image ", img.name, ": ", layers.size(), " layers but ", diff_ids.size(),
                  " diff-ids in its config");
    std::string config_name = std::string(img.manifest.config().digest.hex()) + ".json";
    if (written.insert(config_name).second) TRY(tar.add_bytes(config_name, img.config.bytes()));
    nlohmann::json layer_names = nlohmann::json::array();
    for (size_t i = 0; i < layers.size(); ++i) {
      std::string name = std::string(diff_ids[i].digest().hex()) + ".tar";
      layer_names.push_back(name);
      if (!written.insert(name).second) continue;
      TRY_ASSIGN(auto tmp, uncompressed_layer(open, tmp_dir, layers[i], diff_ids[i]));
      TRY_ASSIGN(Fd fd, open_file(tmp.temp_path(), O_RDONLY));
      int64_t size = ::lseek(fd.get(), 0, SEEK_END);
      ::lseek(fd.get(), 0, SEEK_SET);
      FdReader r(std::move(fd));
      TRY(tar.add(name, size, r));
    }
    nlohmann::json tags = nlohmann::json::array();
    if (auto ref = oci::Reference::parse(img.name); ref && !ref->tag.empty())
      tags.push_back(ref->familiar_name() + ":" + ref->tag);
    manifest.push_back({{"Config", config_name}, {"RepoTags", tags}, {"Layers", layer_names}});
  }
  return tar.add_bytes("manifest.json", oci::dump_json(manifest));
}

// oci-layout and index.json naming each image's top; returns the tops.
Result<std::vector<Descriptor>> add_index(const std::vector<oci::LocalImage>& images, TarOut& tar) {
  TRY(tar.add_bytes("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  std::vector<Descriptor> roots;
  for (auto& img : images) {
    Descriptor d = img.top;
    d.annotations.erase(std::string(oci::kRefNameAnnotation));
    if (!img.name.empty()) d.annotations[std::string(oci::kRefNameAnnotation)] = img.name;
    roots.push_back(std::move(d));
  }
  nlohmann::json index = {{"schemaVersion", 2},
                          {"mediaType", oci::media::kOciIndex},
                          {"manifests", nlohmann::json::array()}};
  for (auto& d : roots)
    index["manifests"].push_back(d.to_json());
  TRY(tar.add_bytes("index.json", oci::dump_json(index)));
  return roots;
}

Status save_oci(const oci::Store& store, const std::vector<oci::LocalImage>& images, TarOut& tar) {
  TRY_ASSIGN(auto roots, add_index(images, tar));
  std::vector<std::string> problems;
  auto reach = oci::walk(store, roots, &problems);
  if (!problems.empty()) return fail(problems.front());
  for (auto& d : reach.blobs) {
    if (!store.has_blob(d)) continue;  // a foreign layer kept remote
    TRY_ASSIGN(int64_t size, store.blob_size(d));
    TRY_ASSIGN(auto blob, store.open_blob(d, size));
    TRY(tar.add("blobs/sha256/" + std::string(d.hex()), size, *blob));
  }
  return {};
}

// Single-manifest images whose manifest and config are at hand; only layers
// are opened.
Status save_oci_streamed(const oci::BlobOpen& open, const std::vector<oci::LocalImage>& images,
                         TarOut& tar) {
  TRY(add_index(images, tar));
  std::set<std::string> written;
  auto once = [&](const Descriptor& d) {
    return written.insert(std::string(d.digest.hex())).second;
  };
  for (auto& img : images) {
    auto md = img.manifest.descriptor();
    if (once(md))
      TRY(tar.add_bytes("blobs/sha256/" + std::string(md.digest.hex()), img.manifest.bytes()));
    auto cd = img.manifest.config();
    if (once(cd))
      TRY(tar.add_bytes("blobs/sha256/" + std::string(cd.digest.hex()), img.config.bytes()));
    for (auto& l : img.manifest.layers()) {
      if (oci::media::is_foreign_layer(l.media_type) || !once(l)) continue;
      TRY_ASSIGN(auto blob, open(l));
      TRY(tar.add("blobs/sha256/" + std::string(l.digest.hex()), l.size, *blob));
    }
  }
  return {};
}

template <class Fill>
Status write_archive(Writer& out, Fill fill) {
  TarOut tar(out);
  TRY(tar.open());
  TRY(fill(tar));
  return tar.close();
}

}  // namespace

Result<ArchiveFormat> parse_archive_format(std::string_view s) {
  if (s == "docker-archive" || s == "docker") return ArchiveFormat::docker;
  if (s == "oci-archive" || s == "oci") return ArchiveFormat::oci;
  return fail("unknown archive format \"", s, "\" (docker-archive or oci-archive)");
}

Status save_archive(const oci::Store& store, const std::vector<oci::LocalImage>& images,
                    ArchiveFormat format, Writer& out) {
  return write_archive(out, [&](TarOut& tar) -> Status {
    if (format == ArchiveFormat::oci) return save_oci(store, images, tar);
    oci::BlobOpen open = [&store](const Descriptor& d) {
      return store.open_blob(d.digest, d.size);
    };
    return save_docker(open, store.tmp_dir(), images, tar);
  });
}

Status save_archive_from(const oci::BlobOpen& open, const std::vector<oci::LocalImage>& images,
                         ArchiveFormat format, Writer& out, const fs::path& tmp_dir) {
  return write_archive(out, [&](TarOut& tar) -> Status {
    if (format == ArchiveFormat::oci) return save_oci_streamed(open, images, tar);
    return save_docker(open, tmp_dir, images, tar);
  });
}

}  // namespace kiln::layers
