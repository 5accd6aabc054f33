// kiln load: docker-archive and oci-archive into the store.
//
// The archive is read once, front to back; every regular file goes into a
// numbered temporary file (names are only table keys, nothing is extracted by
// name), so entry order does not matter and hostile names cannot escape.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>

#include <climits>
#include <cstring>
#include <map>
#include <set>

#include "base/files.hpp"
#include "layers/compression.hpp"
#include "layers/image_archive.hpp"
#include "oci/json.hpp"
#include "oci/lease.hpp"
#include "oci/media_types.hpp"
#include "oci/reference.hpp"

namespace kiln::layers {

namespace fs = std::filesystem;
using oci::Descriptor;
using oci::Digest;

namespace {

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_free(a); }
};

struct Member {
  fs::path file;
  int64_t size = 0;
  Digest digest;
};

// Cleans an entry name to the form the archive's own references use.
std::string clean_name(std::string name) {
  while (name.starts_with("./"))
    name.erase(0, 2);
  while (name.starts_with("/"))
    name.erase(0, 1);
  return name;
}

// "a/b/../c" → "a/c"; ".." above the top → "" (not resolvable).
std::string normalize(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash - start);
    if (part == "..") {
      if (parts.empty()) return "";
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  std::string out;
  for (auto& p : parts)
    out += (out.empty() ? "" : "/") + p;
  return out;
}

class Extracted {
 public:
  static Result<Extracted> read(const fs::path& in, const fs::path& scratch) {
    Extracted x;
    std::unique_ptr<archive, ArchiveDeleter> a(archive_read_new());
    // What `docker load` accepts: plain tar, gzip, bzip2, xz and zstd, each
    // only when libarchive decodes it itself: without the library it would
    // run an outside program on the archive's say-so.
    if (archive_zlib_version()) archive_read_support_filter_gzip(a.get());
    if (archive_bzlib_version()) archive_read_support_filter_bzip2(a.get());
    if (archive_liblzma_version()) archive_read_support_filter_xz(a.get());
    if (archive_libzstd_version()) archive_read_support_filter_zstd(a.get());
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
    if (archive_read_open_filename(a.get(), in.c_str(), 1 << 20) != ARCHIVE_OK)
      return fail(in.string(), ": ", archive_error_string(a.get()));
    // A compressed archive may expand a lot, but not without end: a bomb
    // stops here instead of filling the disk under the store.
    std::error_code ec;
    auto in_size = fs::is_regular_file(in, ec) ? fs::file_size(in, ec) : 0;
    if (ec) in_size = 0;
    uint64_t total = 0;
    std::map<std::string, std::string> links;
    archive_entry* e = nullptr;
    std::vector<std::byte> buf(1 << 20);
    size_t count = 0;
    for (;;) {
      int r = archive_read_next_header(a.get(), &e);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
        return fail(in.string(), ": not a valid image archive: ", archive_error_string(a.get()));
      if (++count > 100000) return fail(in.string(), ": more than 100000 entries");
      const char* raw = archive_entry_pathname(e);
      if (!raw) continue;
      const char* link = archive_entry_filetype(e) == AE_IFLNK ? archive_entry_symlink(e)
                                                               : archive_entry_hardlink(e);
      if (std::strlen(raw) > PATH_MAX || (link && std::strlen(link) > PATH_MAX))
        return fail(in.string(), ": an entry name longer than ", PATH_MAX, " bytes");
      if (archive_entry_sparse_count(e) > 0)
        return fail(in.string(), ": ", raw, " is a sparse file (no image archive has one)");
      std::string name = normalize(clean_name(raw));
      if (name.empty()) continue;
      if (archive_entry_filetype(e) == AE_IFLNK) {
        const char* target = archive_entry_symlink(e);
        auto parent = fs::path(name).parent_path().string();
        if (target)
          links[name] = normalize(target[0] == '/' ? clean_name(target)
                                                   : (parent.empty() ? "" : parent + "/") + target);
        continue;
      }
      if (const char* hard = archive_entry_hardlink(e)) {
        links[name] = normalize(clean_name(hard));
        continue;
      }
      if (archive_entry_filetype(e) != AE_IFREG) continue;
      fs::path file = scratch / std::to_string(count);
      TRY_ASSIGN(Fd fd, open_file(file, O_WRONLY | O_CREAT | O_EXCL, 0600));
      FdWriter fw(fd.get());
      HashingWriter hw(fw);
      for (;;) {
        la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
        if (n < 0) return fail(in.string(), ": ", name, ": ", archive_error_string(a.get()));
        if (n == 0) break;
        total += static_cast<uint64_t>(n);
        // Against the file's size, or the bytes read so far from a pipe (<(zcat …)).
        const uint64_t max_bytes =
            (uint64_t{1} << 30) +
            20 * std::max<uint64_t>(in_size,
                                    static_cast<uint64_t>(archive_filter_bytes(a.get(), -1)));
        if (total > max_bytes)
          return fail(in.string(),
                      ": expands to more than 1 GiB + 20x its size: refused as a "
                      "decompression bomb");
        TRY(hw.write(std::span(buf).first(static_cast<size_t>(n))));
      }
      x.members_[name] =
          Member{file, static_cast<int64_t>(hw.size()), Digest::from_sha256_hex(hw.hex_final())};
    }
    if (count == 0) return fail(in.string(), ": not a valid image archive: empty");
    // Resolve links (a few hops at most; docker's legacy layout links layer.tar files).
    for (auto& [name, target] : links) {
      std::string t = target;
      for (int hop = 0; hop < 8 && !x.members_.count(t) && links.count(t); ++hop)
        t = links[t];
      if (auto it = x.members_.find(t); it != x.members_.end()) x.members_[name] = it->second;
    }
    return x;
  }

  const Member* find(const std::string& name) const {
    auto it = members_.find(normalize(clean_name(name)));
    return it == members_.end() ? nullptr : &it->second;
  }

  Result<std::string> text(const std::string& name, const fs::path& in) const {
    const Member* m = find(name);
    if (!m) return fail(in.string(), ": archive has no ", name);
    return read_file(m->file, 16 << 20);
  }

 private:
  std::map<std::string, Member> members_;
};

// Stores blobs, remembering the new ones so a failed load can take them back.
// Each is named in the load's lease before it is looked for or stored, so a
// prune before the images are named leaves it alone.
class BlobSink {
 public:
  BlobSink(oci::Store& store, oci::Lease lease) : store_(store), lease_(std::move(lease)) {}
  ~BlobSink() {
    if (committed_) return;
    for (auto& d : added_)
      (void)store_.remove_blob(d);
  }
  Status put(const Member& m, const std::optional<Digest>& expected) {
    if (expected && m.digest != *expected)
      return fail("archive member for ", expected->str(), " has digest ", m.digest.str());
    TRY(lease_.add(m.digest));
    if (store_.has_blob(m.digest)) return {};
    TRY_ASSIGN(Fd fd, open_file(m.file, O_RDONLY));
    FdReader r(std::move(fd));
    TRY(store_.put_blob(r, m.digest, m.size));
    added_.push_back(m.digest);
    return {};
  }
  Result<oci::BlobInfo> put_bytes(std::string_view bytes) {
    Digest d = Digest::of_bytes(bytes);
    TRY(lease_.add(d));
    bool had = store_.has_blob(d);
    TRY_ASSIGN(auto info, store_.put_blob_bytes(bytes));
    if (!had) added_.push_back(d);
    return info;
  }
  void commit() { committed_ = true; }

 private:
  oci::Store& store_;
  oci::Lease lease_;
  std::vector<Digest> added_;
  bool committed_ = false;
};

// What a name in an archive becomes in the store: a full reference stays as it
// is; a bare tag or short name gets "localhost/", as podman does.
std::string store_name(const std::string& raw) {
  if (raw.empty()) return "";
  std::string s = raw;
  if (s.find('/') == std::string::npos && s.find('.') == std::string::npos &&
      s.find(':') == std::string::npos && s.find('@') == std::string::npos)
    s = "localhost/" + s;
  auto ref = oci::Reference::parse(s);
  return ref ? ref->str() : "";
}

Result<std::vector<LoadedImage>> load_docker(BlobSink& sink, const Extracted& x,
                                             const fs::path& in) {
  TRY_ASSIGN(std::string text, x.text("manifest.json", in));
  auto manifest = oci::parse_untrusted_json(text);
  if (manifest.is_discarded() || !manifest.is_array())
    return fail(in.string(), ": manifest.json is not a JSON array");
  std::vector<LoadedImage> out;
  std::map<fs::path, std::string> diff_id_of;  // member file → its diff-id, each hashed once
  for (auto& item : manifest) {
    if (!item.is_object() || !item.contains("Config") || !item["Config"].is_string() ||
        !item.contains("Layers") || !item["Layers"].is_array())
      return fail(in.string(), ": manifest.json entry lacks Config or Layers");
    TRY_ASSIGN(std::string cfg_bytes, x.text(item["Config"].get<std::string>(), in));
    auto cfg = oci::ImageConfig::parse(cfg_bytes);
    if (!cfg)
      return fail(in.string(), ": ", item["Config"].get<std::string>(), ": ", cfg.error().what());
    auto diff_ids = cfg->diff_ids();
    if (diff_ids.size() != item["Layers"].size())
      return fail(in.string(), ": ", item["Layers"].size(), " layers but ", diff_ids.size(),
                  " diff-ids in the config");
    std::vector<Descriptor> layers;
    for (size_t i = 0; i < diff_ids.size(); ++i) {
      auto& lname = item["Layers"][i];
      const Member* m = lname.is_string() ? x.find(lname.get<std::string>()) : nullptr;
      if (!m) return fail(in.string(), ": archive has no layer ", oci::dump_json(lname));
      TRY_ASSIGN(Fd fd, open_file(m->file, O_RDONLY));
      std::byte head[8] = {};
      ssize_t n = ::pread(fd.get(), head, sizeof head, 0);
      auto comp = sniff_compression(std::span(head, n > 0 ? static_cast<size_t>(n) : 0));
      // The layer must unpack to exactly what the config's diff-id names.
      auto known = diff_id_of.find(m->file);
      if (known == diff_id_of.end()) {
        FdReader raw(std::move(fd));
        auto plain = make_decompressor(raw, "layer " + lname.get<std::string>());
        struct Null : Writer {
          using Writer::write;
          Status write(std::span<const std::byte>) override { return {}; }
        } null;
        HashingWriter hw(null);
        TRY(copy_stream(*plain, hw));
        known = diff_id_of.emplace(m->file, "sha256:" + hw.hex_final()).first;
      }
      if (known->second != diff_ids[i].str())
        return fail(in.string(), ": layer ", lname.get<std::string>(), " does not match diff-id ",
                    diff_ids[i].str());
      TRY(sink.put(*m, std::nullopt));
      Descriptor d;
      d.media_type = std::string(oci::media::oci_layer_type(comp));
      d.digest = m->digest;
      d.size = m->size;
      layers.push_back(std::move(d));
    }
    TRY_ASSIGN(auto cfg_info, sink.put_bytes(cfg_bytes));
    Descriptor cfg_desc;
    cfg_desc.media_type = oci::media::kOciConfig;
    cfg_desc.digest = cfg_info.digest;
    cfg_desc.size = cfg_info.size;
    auto m = oci::Manifest::create(oci::media::kOciManifest, cfg_desc, layers);
    TRY(sink.put_bytes(m.bytes()));
    std::vector<std::string> names;
    if (item.contains("RepoTags") && item["RepoTags"].is_array())
      for (auto& t : item["RepoTags"])
        if (t.is_string()) {
          std::string n = store_name(t.get<std::string>());
          if (n.empty()) return fail(in.string(), ": invalid RepoTags entry ", oci::dump_json(t));
          names.push_back(n);
        }
    if (names.empty()) names.push_back("");
    for (auto& n : names)
      out.push_back({n, m.descriptor()});
  }
  return out;
}

// Loads `d` and what it names, each blob once however often it is named (a
// hostile index naming one child many times over, level after level, would
// otherwise cost exponential time).
Status load_oci_node(BlobSink& sink, const Extracted& x, const Descriptor& d, const fs::path& in,
                     int depth, std::set<std::string>& done) {
  if (depth > 8) return fail(in.string(), ": index nesting deeper than 8 levels");
  const Member* m =
      x.find("blobs/" + std::string(d.digest.algorithm()) + "/" + std::string(d.digest.hex()));
  if (!m) {
    if (oci::media::is_foreign_layer(d.media_type)) return {};
    return fail(in.string(), ": archive has no blob ", d.digest.str());
  }
  if (m->size != d.size)
    return fail(in.string(), ": blob ", d.digest.str(), " has ", m->size,
                " bytes, the descriptor says ", d.size);
  if (m->digest != d.digest)
    return fail(in.string(), ": blob ", d.digest.str(), " has digest ", m->digest.str());
  if (!done.insert(d.digest.str()).second) return {};  // checked above, read once
  if (oci::media::is_index(d.media_type)) {
    TRY_ASSIGN(std::string bytes, read_file(m->file, 16 << 20));
    auto ix = oci::Index::parse(bytes, d.media_type);
    if (!ix) return fail(in.string(), ": index ", d.digest.str(), ": ", ix.error().what());
    for (auto& child : ix->manifests())
      TRY(load_oci_node(sink, x, child, in, depth + 1, done));
  } else if (oci::media::is_manifest(d.media_type)) {
    TRY_ASSIGN(std::string bytes, read_file(m->file, 16 << 20));
    auto man = oci::Manifest::parse(bytes, d.media_type);
    if (!man) return fail(in.string(), ": manifest ", d.digest.str(), ": ", man.error().what());
    TRY(load_oci_node(sink, x, man->config(), in, depth + 1, done));
    for (auto& l : man->layers())
      TRY(load_oci_node(sink, x, l, in, depth + 1, done));
  }
  return sink.put(*m, d.digest);
}

Result<std::vector<LoadedImage>> load_oci(BlobSink& sink, const Extracted& x, const fs::path& in) {
  TRY_ASSIGN(std::string text, x.text("index.json", in));
  auto ix = oci::Index::parse(text, oci::media::kOciIndex);
  if (!ix) return fail(in.string(), ": index.json: ", ix.error().what());
  std::vector<LoadedImage> out;
  std::set<std::string> done;
  for (auto& d : ix->manifests()) {
    if (!oci::media::is_manifest(d.media_type) && !oci::media::is_index(d.media_type))
      return fail(in.string(), ": index.json names a \"", d.media_type, "\", not an image");
    TRY(load_oci_node(sink, x, d, in, 0, done));
    Descriptor clean = d;
    std::string name;
    if (auto it = d.annotations.find(std::string(oci::kRefNameAnnotation));
        it != d.annotations.end()) {
      name = store_name(it->second);
      if (name.empty()) return fail(in.string(), ": invalid image name \"", it->second, "\"");
      clean.annotations.erase(std::string(oci::kRefNameAnnotation));
    }
    out.push_back({name, clean});
  }
  return out;
}

}  // namespace

Result<std::vector<LoadedImage>> load_archive(oci::Store& store, const fs::path& in) {
  TRY_ASSIGN(auto scratch, TempDir::create(store.tmp_dir(), "load-"));
  TRY_ASSIGN(auto x, Extracted::read(in, scratch.path()));
  TRY_ASSIGN(auto lease, oci::Lease::create(store, "load " + in.string()));
  BlobSink sink(store, std::move(lease));
  std::vector<LoadedImage> images;
  if (x.find("oci-layout") && x.find("index.json")) {
    TRY_ASSIGN(images, load_oci(sink, x, in));
  } else if (x.find("manifest.json")) {
    TRY_ASSIGN(images, load_docker(sink, x, in));
  } else {
    return fail(in.string(),
                ": not an image archive (no manifest.json for docker-archive, no oci-layout for "
                "oci-archive)");
  }
  TRY(store.update_index([&](std::vector<Descriptor>& list) -> Status {
    for (auto& img : images) {
      Descriptor d = img.descriptor;
      if (!img.name.empty()) {
        std::erase_if(list, [&](const Descriptor& e) {
          auto it = e.annotations.find(std::string(oci::kRefNameAnnotation));
          return it != e.annotations.end() && it->second == img.name;
        });
        d.annotations[std::string(oci::kRefNameAnnotation)] = img.name;
      } else if (std::any_of(list.begin(), list.end(),
                             [&](const Descriptor& e) { return e.digest == d.digest; })) {
        continue;  // an unnamed image already present
      }
      list.push_back(std::move(d));
    }
    return {};
  }));
  sink.commit();
  return images;
}

}  // namespace kiln::layers
