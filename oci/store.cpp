#include "oci/store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "base/files.hpp"
#include "oci/json.hpp"
#include "oci/media_types.hpp"
#include "oci/reference.hpp"

namespace kiln::oci {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kLayoutFile = R"({"imageLayoutVersion":"1.0.0"})";

bool is_hex_prefix(std::string_view s) {
  if (s.size() < 4 || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

fs::path Store::default_root() {
  if (const char* env = std::getenv("KILN_ROOT"); env && *env) return env;
  if (::geteuid() == 0) return "/var/lib/kiln";
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return fs::path(xdg) / "kiln";
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : "/tmp") / ".local/share/kiln";
}

Result<Store> Store::open(const fs::path& root) {
  std::error_code ec;
  fs::path layout = root / "oci-layout";
  if (!fs::exists(layout, ec)) {
    if (fs::exists(root, ec) && !fs::is_empty(root, ec))
      return fail(root.string(), ": not a kiln store (no oci-layout, but not empty)");
    TRY(make_dirs(root / "blobs" / "sha256"));
    TRY(make_dirs(root / "kiln" / "tmp"));
    // The layout files are written under the lock so two first runs agree.
    TRY_ASSIGN(auto lock, FileLock::acquire(root / "kiln" / "lock"));
    if (!fs::exists(root / "index.json", ec))
      TRY(write_file_atomic(
          root / "index.json",
          R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})"));
    if (!fs::exists(layout, ec)) TRY(write_file_atomic(layout, kLayoutFile));
  } else {
    TRY_ASSIGN(std::string text, read_file(layout, 4096));
    auto j = oci::parse_untrusted_json(text);
    if (j.is_discarded() || !j.is_object() || !j.contains("imageLayoutVersion"))
      return fail(layout.string(), ": not a valid oci-layout file");
    TRY(make_dirs(root / "blobs" / "sha256"));
    TRY(make_dirs(root / "kiln" / "tmp"));
  }
  return Store(root);
}

fs::path Store::blob_path(const Digest& d) const {
  return root_ / "blobs" / std::string(d.algorithm()) / std::string(d.hex());
}

bool Store::has_blob(const Digest& d) const {
  struct stat st;
  return ::stat(blob_path(d).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<BlobInfo> Store::put_blob(Reader& from, const std::optional<Digest>& expected,
                                 std::optional<int64_t> size) {
  if (expected && !expected->verifiable())
    return fail("cannot store blob ", expected->str(), ": only sha256 content is verified");
  // The temporary lives in kiln/tmp (same filesystem) so blobs/ never holds a
  // file whose content does not match its name.
  TRY_ASSIGN(auto tmp, AtomicFile::create_in(tmp_dir()));
  if (size) tmp.expect_size(*size);
  HashingWriter hw(tmp);
  TRY_ASSIGN(uint64_t n, copy_stream(from, hw));
  Digest got = Digest::from_sha256_hex(hw.hex_final());
  if (size && static_cast<int64_t>(n) != *size)
    return fail("blob ", expected ? expected->str() : got.str(), ": got ", n, " bytes, expected ",
                *size);
  if (expected && got != *expected)
    return fail("blob ", expected->str(), ": content has digest ", got.str());
  TRY(tmp.commit_as(blob_path(got)));
  return BlobInfo{got, static_cast<int64_t>(n)};
}

Result<BlobInfo> Store::put_blob_bytes(std::string_view bytes) {
  Digest d = Digest::of_bytes(bytes);
  if (has_blob(d)) return BlobInfo{d, static_cast<int64_t>(bytes.size())};
  StringReader r{std::string(bytes)};
  return put_blob(r, d, static_cast<int64_t>(bytes.size()));
}

namespace {

// Owns the file reader that the verifying reader wraps.
class BlobReader : public Reader {
 public:
  BlobReader(Fd fd, std::optional<int64_t> size, const Digest& d)
      : file_(std::move(fd)),
        verify_(file_, size ? std::optional<uint64_t>(*size) : std::nullopt, std::string(d.hex()),
                "blob " + d.str()) {}
  Result<size_t> read(std::span<std::byte> buf) override { return verify_.read(buf); }

 private:
  FdReader file_;
  VerifyingReader verify_;
};

}  // namespace

Result<std::unique_ptr<Reader>> Store::open_blob(const Digest& d,
                                                 std::optional<int64_t> size) const {
  if (!d.verifiable()) return fail("blob ", d.str(), ": only sha256 content is supported");
  int fd = ::open(blob_path(d).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return fail("blob ", d.str(), " is missing from the store ", root_.string());
    return fail_errno(errno, "open blob " + d.str());
  }
  return std::unique_ptr<Reader>(new BlobReader(Fd(fd), size, d));
}

Result<std::string> Store::read_blob(const Digest& d, size_t limit) const {
  TRY_ASSIGN(auto reader, open_blob(d));
  return read_all(*reader, limit, "blob " + d.str());
}

Result<std::vector<Descriptor>> Store::entries() const {
  fs::path p = root_ / "index.json";
  TRY_ASSIGN(std::string text, read_file(p));
  auto j = oci::parse_untrusted_json(text);
  if (j.is_discarded() || !j.is_object()) return fail(p.string(), ": not valid JSON");
  if (!j.contains("manifests") || !j["manifests"].is_array())
    return fail(p.string(), ": has no manifests array");
  std::vector<Descriptor> out;
  for (auto& m : j["manifests"]) {
    auto d = Descriptor::from_json(m);
    if (!d) return fail(p.string(), ": ", d.error().what());
    out.push_back(std::move(*d));
  }
  return out;
}

Result<FileLock> Store::lock() const {
  return FileLock::acquire(kiln_dir() / "lock");
}

Status Store::update_index(const std::function<Status(std::vector<Descriptor>&)>& edit) {
  TRY_ASSIGN(auto held, lock());
  return update_index_locked(held, edit);
}

Status Store::update_index_locked(const FileLock&,
                                  const std::function<Status(std::vector<Descriptor>&)>& edit) {
  fs::path p = root_ / "index.json";
  TRY_ASSIGN(std::string text, read_file(p));
  auto j = oci::parse_untrusted_json(text);
  if (j.is_discarded() || !j.is_object()) return fail(p.string(), ": not valid JSON");
  TRY_ASSIGN(auto list, entries());
  TRY(edit(list));
  // Keep the index's own unknown fields; replace only the manifests.
  j["schemaVersion"] = 2;
  j["mediaType"] = media::kOciIndex;
  j["manifests"] = nlohmann::json::array();
  for (auto& d : list)
    j["manifests"].push_back(d.to_json());
  return write_file_atomic(p, dump_json(j));
}

Status Store::set_name(const std::string& name, Descriptor target) {
  return update_index([&](std::vector<Descriptor>& list) -> Status {
    std::erase_if(list, [&](const Descriptor& d) {
      auto it = d.annotations.find(std::string(kRefNameAnnotation));
      return it != d.annotations.end() && it->second == name;
    });
    target.annotations[std::string(kRefNameAnnotation)] = name;
    list.push_back(std::move(target));
    return {};
  });
}

Status Store::remove_name(const std::string& name) {
  return update_index([&](std::vector<Descriptor>& list) -> Status {
    size_t removed = std::erase_if(list, [&](const Descriptor& d) {
      auto it = d.annotations.find(std::string(kRefNameAnnotation));
      return it != d.annotations.end() && it->second == name;
    });
    if (removed == 0) return fail("image ", name, " not found in ", root_.string());
    return {};
  });
}

Result<Descriptor> Store::resolve(std::string_view image) const {
  TRY_ASSIGN(auto list, entries());
  auto ref = Reference::parse(image);
  if (ref) {
    for (auto& d : list) {
      auto it = d.annotations.find(std::string(kRefNameAnnotation));
      if (it != d.annotations.end() && it->second == ref->str()) return d;
    }
    // Layouts other tools wrote name images loosely ("1", "app:v2" for
    // `skopeo copy … oci:DIR:1`); `kiln images` shows those names normalized,
    // so they are found by either spelling.
    for (auto& d : list) {
      auto it = d.annotations.find(std::string(kRefNameAnnotation));
      if (it == d.annotations.end()) continue;
      auto stored = Reference::parse(it->second);
      if (stored && stored->str() == ref->str()) return d;
    }
    // name@digest also finds an image stored under name:tag with that digest.
    if (ref->digest)
      for (auto& d : list)
        if (d.digest == *ref->digest) return d;
  }
  std::string_view hex = image;
  if (hex.starts_with("sha256:")) hex.remove_prefix(7);
  if (is_hex_prefix(hex)) {
    std::vector<Descriptor> found;
    for (auto& d : list) {
      bool match = d.digest.hex().starts_with(hex);
      if (!match && media::is_manifest(d.media_type))
        if (auto bytes = read_blob(d.digest))
          if (auto m = Manifest::parse(*bytes, d.media_type))
            match = m->config().digest.hex().starts_with(hex);
      if (match && std::none_of(found.begin(), found.end(),
                                [&](const Descriptor& f) { return f.digest == d.digest; }))
        found.push_back(d);
    }
    if (found.size() == 1) {
      found[0].annotations.erase(std::string(kRefNameAnnotation));
      return found[0];
    }
    if (found.size() > 1) return fail("image ID ", image, " is ambiguous in ", root_.string());
  }
  if (!ref) return tl::unexpected(ref.error());
  return fail("image ", ref->str(), " not found in ", root_.string());
}

Result<LocalImage> Store::load_descriptor(const Descriptor& top, std::string name,
                                          const std::optional<Platform>& platform) const {
  const std::string what = name.empty() ? top.digest.str() : name;
  Descriptor target = top;
  if (media::is_index(top.media_type)) {
    TRY_ASSIGN(std::string bytes, read_blob(top.digest));
    auto ix = Index::parse(std::move(bytes), top.media_type);
    if (!ix) return fail("index ", top.digest.str(), ": ", ix.error().what());
    Platform want = platform.value_or(Platform::host());
    const Descriptor* pick = nullptr;
    std::string have;
    for (auto& m : ix->manifests()) {
      if (!media::is_manifest(m.media_type) || !m.platform) continue;
      if (!pick && want.matches(*m.platform)) pick = &m;
      have += (have.empty() ? "" : ", ") + m.platform->str();
    }
    if (!pick)
      return fail(
          "image ", what, " has no manifest for ", want.str(),
          have.empty() ? std::string(" (its index names no platforms)") : " (it has " + have + ")");
    target = *pick;
  } else if (!media::is_manifest(top.media_type)) {
    return fail("unknown media type \"", top.media_type, "\" for ", top.digest.str());
  }
  TRY_ASSIGN(std::string bytes, read_blob(target.digest));
  auto m = Manifest::parse(std::move(bytes), target.media_type);
  if (!m) return fail("manifest ", target.digest.str(), ": ", m.error().what());
  TRY_ASSIGN(std::string cfg_bytes, read_blob(m->config().digest));
  auto cfg = ImageConfig::parse(std::move(cfg_bytes));
  if (!cfg) return fail("config ", m->config().digest.str(), ": ", cfg.error().what());
  if (platform && !media::is_index(top.media_type) && !platform->matches(cfg->platform()))
    return fail("image ", what, " is ", cfg->platform().str(), ", not ", platform->str());
  return LocalImage{std::move(name), top, std::move(*m), std::move(*cfg)};
}

Result<LocalImage> Store::load_image(std::string_view image,
                                     const std::optional<Platform>& platform) const {
  TRY_ASSIGN(Descriptor d, resolve(image));
  auto it = d.annotations.find(std::string(kRefNameAnnotation));
  std::string name = it != d.annotations.end() ? it->second : "";
  return load_descriptor(d, name, platform);
}

}  // namespace kiln::oci
