#include "oci/store.hpp"

#include <dirent.h>
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

struct Store::Dirs {
  Fd root, blobs, kiln, tmp;  // root/, blobs/sha256/, kiln/, kiln/tmp/
};

namespace {

// Empty, or holding only what another kiln's first open of the same root
// creates before it writes oci-layout: that open is still under way.
bool dir_is_empty(int dirfd) {
  Fd dup(::fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
  DIR* dir = dup ? ::fdopendir(dup.get()) : nullptr;
  if (!dir) return false;
  dup.release();
  bool empty = true;
  while (dirent* e = ::readdir(dir)) {
    std::string_view n = e->d_name;
    bool ours = n == "." || n == ".." || n == "blobs" || n == "kiln" || n == "index.json" ||
                n.starts_with(".tmp-");
    if (!ours) {
      empty = false;
      break;
    }
  }
  ::closedir(dir);
  return empty;
}

bool exists_beneath(int dirfd, const char* name) {
  struct stat st;
  return ::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

Status write_beneath(int dirfd, const fs::path& shown, const std::string& name,
                     std::string_view content) {
  TRY_ASSIGN(auto file, AtomicFile::create_in(dirfd, shown.parent_path()));
  TRY(file.write(content));
  return file.commit_at(dirfd, name);
}

}  // namespace

Result<Store> Store::open(const fs::path& root) {
  // The root may be a symlink the user chose (/var/lib/kiln on a data disk);
  // nothing beneath it is followed.
  if (::mkdir(root.c_str(), 0700) != 0) {
    if (errno == ENOENT) {
      TRY(make_dirs(root.parent_path()));
      if (::mkdir(root.c_str(), 0700) != 0 && errno != EEXIST)
        return fail_errno(errno, "create " + root.string());
    } else if (errno != EEXIST) {
      return fail_errno(errno, "create " + root.string());
    }
  }
  auto dirs = std::make_shared<Dirs>();
  dirs->root = Fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirs->root) return fail_errno(errno, root.string());
  int rfd = dirs->root.get();
  fs::path layout = root / "oci-layout";
  bool fresh = false;
  if (auto text = read_file_beneath(rfd, "oci-layout", layout, 4096)) {
    auto j = oci::parse_untrusted_json(*text);
    if (j.is_discarded() || !j.is_object() || !j.contains("imageLayoutVersion"))
      return fail(layout.string(), ": not a valid oci-layout file");
  } else if (text.error().sys_errno == ENOENT) {
    if (!dir_is_empty(rfd))
      return fail(root.string(), ": not a kiln store (no oci-layout, but not empty)");
    fresh = true;
  } else {
    return tl::unexpected(text.error());
  }
  TRY_ASSIGN(Fd blobs, ensure_dir_beneath(rfd, "blobs", 0755, root / "blobs"));
  TRY_ASSIGN(dirs->blobs,
             ensure_dir_beneath(blobs.get(), "sha256", 0755, root / "blobs" / "sha256"));
  // kiln's own state is nobody else's business (0700), whatever the root's mode.
  TRY_ASSIGN(dirs->kiln, ensure_dir_beneath(rfd, "kiln", 0700, root / "kiln"));
  TRY_ASSIGN(dirs->tmp, ensure_dir_beneath(dirs->kiln.get(), "tmp", 0755, root / "kiln" / "tmp"));
  Store store(root, std::move(dirs));
  if (fresh) {
    // The layout files are written under the lock so two first runs agree.
    TRY_ASSIGN(auto lock, store.lock());
    if (!exists_beneath(rfd, "index.json"))
      TRY(write_beneath(
          rfd, root / "index.json", "index.json",
          R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})"));
    if (!exists_beneath(rfd, "oci-layout"))
      TRY(write_beneath(rfd, layout, "oci-layout", kLayoutFile));
  }
  return store;
}

fs::path Store::blob_path(const Digest& d) const {
  return root_ / "blobs" / std::string(d.algorithm()) / std::string(d.hex());
}

int Store::blobs_fd() const {
  return dirs_->blobs.get();
}

int Store::kiln_fd() const {
  return dirs_->kiln.get();
}

Result<Fd> Store::state_dir(std::string_view name) const {
  return ensure_dir_beneath(dirs_->kiln.get(), name, 0755, kiln_dir() / name);
}

bool Store::has_blob(const Digest& d) const {
  struct stat st;
  return d.verifiable() &&
         ::fstatat(dirs_->blobs.get(), std::string(d.hex()).c_str(), &st, AT_SYMLINK_NOFOLLOW) ==
             0 &&
         S_ISREG(st.st_mode);
}

Result<int64_t> Store::blob_size(const Digest& d) const {
  TRY_ASSIGN(Fd fd, open_blob_fd(d));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return fail_errno(errno, "blob " + d.str());
  return static_cast<int64_t>(st.st_size);
}

Result<AtomicFile> Store::new_blob_file() const {
  // The temporary lives in kiln/tmp (same filesystem) so blobs/ never holds a
  // file whose content does not match its name.
  return AtomicFile::create_in(dirs_->tmp.get(), tmp_dir());
}

Status Store::commit_blob(AtomicFile& file, const Digest& d) const {
  if (!d.verifiable()) return fail("cannot store blob ", d.str(), ": only sha256 is supported");
  return file.commit_at(dirs_->blobs.get(), std::string(d.hex()));
}

Status Store::remove_blob(const Digest& d) const {
  if (!d.verifiable()) return fail("blob ", d.str(), ": only sha256 is supported");
  if (::unlinkat(dirs_->blobs.get(), std::string(d.hex()).c_str(), 0) != 0 && errno != ENOENT)
    return fail_errno(errno, "remove blob " + d.str());
  return {};
}

Result<BlobInfo> Store::put_blob(Reader& from, const std::optional<Digest>& expected,
                                 std::optional<int64_t> size) {
  if (expected && !expected->verifiable())
    return fail("cannot store blob ", expected->str(), ": only sha256 content is verified");
  TRY_ASSIGN(auto tmp, new_blob_file());
  if (size) tmp.expect_size(*size);
  HashingWriter hw(tmp);
  TRY_ASSIGN(uint64_t n, copy_stream(from, hw));
  Digest got = Digest::from_sha256_hex(hw.hex_final());
  if (size && static_cast<int64_t>(n) != *size)
    return fail("blob ", expected ? expected->str() : got.str(), ": got ", n, " bytes, expected ",
                *size);
  if (expected && got != *expected)
    return fail("blob ", expected->str(), ": content has digest ", got.str());
  TRY(commit_blob(tmp, got));
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

Result<Fd> Store::open_blob_fd(const Digest& d) const {
  if (!d.verifiable()) return fail("blob ", d.str(), ": only sha256 content is supported");
  TRY(refuse_special_beneath(dirs_->blobs.get(), d.hex(), "blob " + d.str()));
  // O_NONBLOCK: a FIFO planted in blobs/ must not hang the open; a regular
  // file ignores the flag.
  Fd fd(::openat(dirs_->blobs.get(), std::string(d.hex()).c_str(),
                 O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT)
      return fail("blob ", d.str(), " is missing from the store ", root_.string());
    if (errno == ELOOP)
      return fail("blob ", d.str(), " is a symlink in the store ", root_.string(),
                  "; kiln never follows a symlink inside its store");
    return fail_errno(errno, "open blob " + d.str());
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return fail_errno(errno, "blob " + d.str());
  if (!S_ISREG(st.st_mode))
    return fail("blob ", d.str(), " is not a regular file in the store ", root_.string());
  // Reads block as usual from here on.
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  return fd;
}

Result<std::unique_ptr<Reader>> Store::open_blob(const Digest& d,
                                                 std::optional<int64_t> size) const {
  TRY_ASSIGN(Fd fd, open_blob_fd(d));
  return std::unique_ptr<Reader>(new BlobReader(std::move(fd), size, d));
}

Result<std::unique_ptr<Reader>> Store::open_blob_raw(const Digest& d, int64_t offset) const {
  TRY_ASSIGN(Fd fd, open_blob_fd(d));
  if (offset != 0 && ::lseek(fd.get(), offset, SEEK_SET) != offset)
    return fail_errno(errno, "seek in blob " + d.str());
  return std::unique_ptr<Reader>(new FdReader(std::move(fd)));
}

Result<std::string> Store::read_blob(const Digest& d, size_t limit) const {
  TRY_ASSIGN(auto reader, open_blob(d));
  return read_all(*reader, limit, "blob " + d.str());
}

Result<std::vector<Descriptor>> Store::entries() const {
  fs::path p = root_ / "index.json";
  TRY_ASSIGN(std::string text, read_file_beneath(dirs_->root.get(), "index.json", p));
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
  return FileLock::acquire_beneath(dirs_->kiln.get(), "lock", kiln_dir() / "lock");
}

Status Store::update_index(const std::function<Status(std::vector<Descriptor>&)>& edit) {
  TRY_ASSIGN(auto held, lock());
  return update_index_locked(held, edit);
}

Status Store::update_index_locked(const FileLock&,
                                  const std::function<Status(std::vector<Descriptor>&)>& edit) {
  fs::path p = root_ / "index.json";
  TRY_ASSIGN(std::string text, read_file_beneath(dirs_->root.get(), "index.json", p));
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
  return write_beneath(dirs_->root.get(), p, "index.json", dump_json(j));
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
