#include "oci/store_check.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>

#include "base/fd.hpp"
#include "base/stream.hpp"
#include "oci/lease.hpp"
#include "oci/media_types.hpp"

namespace kiln::oci {

namespace fs = std::filesystem;

namespace {

std::string describe(const Descriptor& d) {
  auto it = d.annotations.find(std::string(kRefNameAnnotation));
  return it != d.annotations.end() ? it->second + " (" + d.digest.str() + ")" : d.digest.str();
}

void note(std::vector<std::string>* problems, std::string line) {
  if (problems) problems->push_back(std::move(line));
}

// Checks that a blob exists with the size its descriptor claims.
bool present(const Store& store, const Descriptor& d, const std::string& owner,
             std::vector<std::string>* problems) {
  struct stat st;
  if (!d.digest.verifiable() || ::fstatat(store.blobs_fd(), std::string(d.digest.hex()).c_str(),
                                          &st, AT_SYMLINK_NOFOLLOW) != 0) {
    note(problems, owner + ": blob " + d.digest.str() + " is missing");
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    note(problems, owner + ": blob " + d.digest.str() + " is not a regular file");
    return false;
  }
  if (st.st_size != d.size) {
    note(problems, owner + ": blob " + d.digest.str() + " has " + std::to_string(st.st_size) +
                       " bytes, the descriptor says " + std::to_string(d.size));
    return false;
  }
  return true;
}

void walk_node(const Store& store, const Descriptor& d, const std::string& owner, Reachable& out,
               std::vector<std::string>* problems, int depth) {
  if (!out.blobs.insert(d.digest).second) return;
  if (depth > 8) {
    note(problems, owner + ": index nesting deeper than 8 levels");
    return;
  }
  if (media::is_foreign_layer(d.media_type) && !store.has_blob(d.digest)) return;
  if (!present(store, d, owner, problems)) return;
  if (media::is_index(d.media_type)) {
    auto bytes = store.read_blob(d.digest);
    auto ix = bytes ? Index::parse(std::move(*bytes), d.media_type) : tl::unexpected(bytes.error());
    if (!ix) return note(problems, owner + ": index " + d.digest.str() + ": " + ix.error().what());
    for (auto& child : ix->manifests())
      walk_node(store, child, owner, out, problems, depth + 1);
  } else if (media::is_manifest(d.media_type)) {
    auto bytes = store.read_blob(d.digest);
    auto m =
        bytes ? Manifest::parse(std::move(*bytes), d.media_type) : tl::unexpected(bytes.error());
    if (!m) return note(problems, owner + ": manifest " + d.digest.str() + ": " + m.error().what());
    out.blobs.insert(m->config().digest);
    if (present(store, m->config(), owner, problems)) {
      auto cfg_bytes = store.read_blob(m->config().digest);
      auto cfg =
          cfg_bytes ? ImageConfig::parse(std::move(*cfg_bytes)) : tl::unexpected(cfg_bytes.error());
      if (!cfg) {
        note(problems, owner + ": config " + m->config().digest.str() + ": " + cfg.error().what());
      } else {
        // The layer cache keys an entry by diff-id, or by chain id when it
        // holds files copied up from the layers below.
        for (auto& id : cfg->diff_ids())
          out.diff_ids.insert(std::string(id.digest().hex()));
        for (auto& id : cfg->chain_ids())
          out.diff_ids.insert(std::string(id.hex()));
      }
    }
    for (auto& layer : m->layers()) {
      out.blobs.insert(layer.digest);
      if (media::is_foreign_layer(layer.media_type) && !store.has_blob(layer.digest)) continue;
      present(store, layer, owner, problems);
    }
  } else if (!media::is_layer(d.media_type) && !media::is_config(d.media_type)) {
    note(problems, owner + ": unknown media type \"" + d.media_type + "\"");
  }
}

Reachable walk_roots(const Store& store, const std::vector<Descriptor>& roots,
                     std::vector<std::string>* problems) {
  Reachable out;
  for (auto& d : roots)
    walk_node(store, d, describe(d), out, problems, 0);
  return out;
}

struct Entry {
  std::string name;
  mode_t type = 0;  // S_IFMT bits, as lstat gives them
};

// The children of an open directory, never following a symlink.
Result<std::vector<Entry>> list_fd(int dirfd, const fs::path& shown) {
  Fd dup(::fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
  if (!dup) return fail_errno(errno, "list " + shown.string());
  DIR* dir = ::fdopendir(dup.get());
  if (!dir) return fail_errno(errno, "list " + shown.string());
  dup.release();
  ::rewinddir(dir);  // the dup shares its offset with `dirfd`
  std::vector<Entry> out;
  while (dirent* e = ::readdir(dir)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    struct stat st;
    mode_t type =
        ::fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 ? st.st_mode & S_IFMT : 0;
    out.push_back({std::move(n), type});
  }
  ::closedir(dir);
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return out;
}

// Removes `name` in `dirfd`: a symlink or file is unlinked (never followed),
// a directory removed with everything in it (read-only dirs made writable).
bool remove_entry(int dirfd, const fs::path& shown, const Entry& e) {
  if (e.type != S_IFDIR) return ::unlinkat(dirfd, e.name.c_str(), 0) == 0;
  std::error_code ec;
  fs::path p = shown / e.name;
  for (auto it = fs::recursive_directory_iterator(p, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_directory(ec) && !it->is_symlink(ec))
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(p, ec);
  return !ec;
}

Status remove_unreached(Store& store, const Reachable& keep, PruneReport& report) {
  fs::path blobs_dir = store.root() / "blobs" / "sha256";
  TRY_ASSIGN(auto blobs, list_fd(store.blobs_fd(), blobs_dir));
  for (auto& e : blobs) {
    auto d = Digest::parse("sha256:" + e.name);
    if (d && keep.blobs.count(*d) && e.type == S_IFREG) continue;
    struct stat st;
    int64_t size = ::fstatat(store.blobs_fd(), e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0
                       ? static_cast<int64_t>(st.st_size)
                       : 0;
    if (remove_entry(store.blobs_fd(), blobs_dir, e)) {
      if (d) report.blobs_removed.push_back(*d);
      report.bytes_freed += size;
    }
  }
  TRY_ASSIGN(Fd layers_fd, store.state_dir("layers"));
  TRY_ASSIGN(auto layers, list_fd(layers_fd.get(), store.layers_dir()));
  for (auto& e : layers) {
    // A symlink is never a layer-cache entry, whatever its name.
    bool wrong_kind = e.type == S_IFLNK;
    if (!wrong_kind && (keep.diff_ids.count(e.name) || e.name.starts_with("."))) continue;
    if (remove_entry(layers_fd.get(), store.layers_dir(), e))
      report.layers_removed.push_back(e.name);
  }
  return {};
}

// Adds what every live lease names to `keep` (see oci/lease.hpp); the store
// lock is held. With `clear`, dead leases and anything in leases/ that is not
// a regular file (never followed) are removed.
Status keep_leased(const Store& store, bool clear, Reachable& keep, PruneReport& report) {
  TRY_ASSIGN(Fd dir, store.state_dir("leases"));
  fs::path shown = store.kiln_dir() / "leases";
  TRY_ASSIGN(auto entries, list_fd(dir.get(), shown));
  for (auto& e : entries) {
    if (e.type != S_IFREG) {
      if (clear && remove_entry(dir.get(), shown, e)) report.leases_cleared.push_back(e.name);
      continue;
    }
    Fd fd(::openat(dir.get(), e.name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd && errno == ENOENT) continue;  // released since the listing
    if (!fd) return fail_errno(errno, "open lease " + (shown / e.name).string());
    if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) {
      // Nobody holds it: its holder is gone (a lock dies with its process).
      if (clear && ::unlinkat(dir.get(), e.name.c_str(), 0) == 0)
        report.leases_cleared.push_back(e.name);
      continue;
    }
    if (errno != EWOULDBLOCK) return fail_errno(errno, "lock lease " + (shown / e.name).string());
    FdReader r(std::move(fd));
    TRY_ASSIGN(std::string text, read_all(r, 16 << 20, (shown / e.name).string()));
    LeaseNames names = parse_lease(text);
    keep.blobs.insert(names.blobs.begin(), names.blobs.end());
    keep.diff_ids.insert(names.layers.begin(), names.layers.end());
  }
  return {};
}

// True when some process holds a layer-cache fill lock (".<diff-id>.lock").
bool layer_fill_running(int layers_fd, const fs::path& shown) {
  auto entries = list_fd(layers_fd, shown);
  if (!entries) return false;
  for (auto& e : *entries) {
    if (!e.name.starts_with(".") || !e.name.ends_with(".lock") || e.type != S_IFREG) continue;
    Fd fd(::openat(layers_fd, e.name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (fd && ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) return true;
  }
  return false;
}

// Temporaries older than an hour: younger ones may belong to a running kiln,
// older ones were left by a crash (a killed build, a layer-cache fill cut off).
void remove_stale(int dirfd, const fs::path& shown, std::string_view prefix) {
  auto cutoff = std::chrono::system_clock::now() - std::chrono::hours(1);
  auto entries = list_fd(dirfd, shown);
  if (!entries) return;
  for (auto& e : *entries) {
    struct stat st;
    if (!e.name.starts_with(prefix) ||
        ::fstatat(dirfd, e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      continue;
    auto mtime = std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec);
    if (mtime < cutoff) remove_entry(dirfd, shown, e);
  }
}

// kiln's own state holds directories and regular files only; the trees inside
// the layer cache and kiln/tmp are image contents, where symlinks are normal.
void check_state(int dirfd, const fs::path& shown, int depth, std::vector<std::string>& problems) {
  auto entries = list_fd(dirfd, shown);
  if (!entries) return problems.push_back(entries.error().what());
  for (auto& e : *entries) {
    fs::path p = shown / e.name;
    if (e.type == S_IFLNK) {
      problems.push_back(p.string() + ": a symlink inside the store (kiln never follows one)");
    } else if (e.type == S_IFDIR) {
      bool image_tree = depth == 1 && (shown.filename() == "layers" || shown.filename() == "tmp");
      if (image_tree || depth > 8) continue;
      Fd sub(::openat(dirfd, e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (sub) check_state(sub.get(), p, depth + 1, problems);
    } else if (e.type != S_IFREG) {
      problems.push_back(p.string() + ": not a regular file or directory");
    }
  }
}

}  // namespace

Reachable walk(const Store& store, const std::vector<Descriptor>& roots,
               std::vector<std::string>* problems) {
  return walk_roots(store, roots, problems);
}

Result<FsckReport> fsck(const Store& store) {
  TRY_ASSIGN(auto held, store.lock());
  FsckReport report;
  TRY_ASSIGN(auto roots, store.entries());
  report.images = roots.size();
  walk_roots(store, roots, &report.problems);
  fs::path blobs_dir = store.root() / "blobs" / "sha256";
  TRY_ASSIGN(auto blobs, list_fd(store.blobs_fd(), blobs_dir));
  for (auto& e : blobs) {
    auto d = Digest::parse("sha256:" + e.name);
    if (!d) {
      report.problems.push_back((blobs_dir / e.name).string() + ": not a sha256 blob name");
      continue;
    }
    if (e.type != S_IFREG) {
      report.problems.push_back((blobs_dir / e.name).string() +
                                (e.type == S_IFLNK ? ": a symlink where a blob belongs"
                                                   : ": not a regular file where a blob belongs"));
      continue;
    }
    ++report.blobs_checked;
    auto reader = store.open_blob(*d);
    if (!reader) {
      report.problems.push_back(reader.error().what());
      continue;
    }
    // Hash without keeping the bytes: a Writer that drops everything.
    struct Null : Writer {
      using Writer::write;
      Status write(std::span<const std::byte>) override { return {}; }
    } null;
    if (auto r = copy_stream(**reader, null); !r) report.problems.push_back(r.error().what());
  }
  check_state(store.kiln_fd(), store.kiln_dir(), 0, report.problems);
  return report;
}

Result<PruneReport> prune(Store& store) {
  TRY_ASSIGN(auto held, store.lock());
  TRY_ASSIGN(auto roots, store.entries());
  std::vector<std::string> problems;
  Reachable keep = walk_roots(store, roots, &problems);
  PruneReport report;
  TRY(keep_leased(store, true, keep, report));
  TRY(remove_unreached(store, keep, report));
  TRY_ASSIGN(Fd tmp_fd, store.state_dir("tmp"));
  remove_stale(tmp_fd.get(), store.tmp_dir(), "");
  // A long fill may write deep in its staging dir for over an hour without
  // touching the dir itself: while any fill holds its lock, none is stale.
  TRY_ASSIGN(Fd layers_fd, store.state_dir("layers"));
  if (!layer_fill_running(layers_fd.get(), store.layers_dir()))
    remove_stale(layers_fd.get(), store.layers_dir(), ".tmp-");
  return report;
}

Result<PruneReport> remove_images(Store& store, const std::vector<std::string>& names) {
  TRY_ASSIGN(auto held, store.lock());
  TRY_ASSIGN(auto before, store.entries());
  std::vector<Descriptor> removed;
  TRY(store.update_index_locked(held, [&](std::vector<Descriptor>& list) -> Status {
    for (auto& name : names) {
      auto it = std::find_if(list.begin(), list.end(), [&](const Descriptor& d) {
        auto a = d.annotations.find(std::string(kRefNameAnnotation));
        return a != d.annotations.end() && a->second == name;
      });
      if (it == list.end()) return fail("image ", name, " not found in ", store.root().string());
      removed.push_back(*it);
      list.erase(it);
    }
    return {};
  }));
  TRY_ASSIGN(auto after, store.entries());
  // Only what the removed images reached and nothing left reaches.
  Reachable gone = walk_roots(store, removed, nullptr);
  Reachable keep = walk_roots(store, after, nullptr);
  PruneReport report;
  TRY(keep_leased(store, false, keep, report));
  for (auto& d : gone.blobs) {
    if (keep.blobs.count(d)) continue;
    auto size = store.blob_size(d);
    if (size && store.remove_blob(d)) {
      report.blobs_removed.push_back(d);
      report.bytes_freed += *size;
    }
  }
  return report;
}

}  // namespace kiln::oci
