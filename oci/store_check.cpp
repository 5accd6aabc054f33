#include "oci/store_check.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>

#include "base/fd.hpp"
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
  if (::stat(store.blob_path(d.digest).c_str(), &st) != 0) {
    note(problems, owner + ": blob " + d.digest.str() + " is missing");
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

Result<std::vector<fs::path>> list_dir(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec))
    out.push_back(it->path());
  if (ec && ec != std::errc::no_such_file_or_directory)
    return fail("list ", dir.string(), ": ", ec.message());
  return out;
}

// Unpacked trees may hold read-only dirs; they are made writable to go.
bool remove_tree(const fs::path& p) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(p, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_directory(ec) && !it->is_symlink(ec))
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(p, ec);
  return !ec;
}

Status remove_unreached(Store& store, const Reachable& keep, PruneReport& report) {
  TRY_ASSIGN(auto blobs, list_dir(store.root() / "blobs" / "sha256"));
  for (auto& p : blobs) {
    auto d = Digest::parse("sha256:" + p.filename().string());
    if (d && keep.blobs.count(*d)) continue;
    std::error_code ec;
    auto size = fs::file_size(p, ec);
    if (fs::remove(p, ec)) {
      if (d) report.blobs_removed.push_back(*d);
      report.bytes_freed += ec ? 0 : static_cast<int64_t>(size);
    }
  }
  TRY_ASSIGN(auto layers, list_dir(store.layers_dir()));
  for (auto& p : layers) {
    std::string name = p.filename().string();
    if (keep.diff_ids.count(name) || name.starts_with(".")) continue;
    if (remove_tree(p)) report.layers_removed.push_back(name);
  }
  return {};
}

// True when some process holds a layer-cache fill lock (".<diff-id>.lock").
bool layer_fill_running(const fs::path& layers_dir) {
  auto entries = list_dir(layers_dir);
  if (!entries) return false;
  for (auto& p : *entries) {
    std::string n = p.filename().string();
    if (!n.starts_with(".") || !n.ends_with(".lock")) continue;
    Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd && ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) return true;
  }
  return false;
}

// Temporaries older than an hour: younger ones may belong to a running kiln,
// older ones were left by a crash (a killed build, a layer-cache fill cut off).
void remove_stale(const fs::path& dir, std::string_view prefix) {
  auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(1);
  auto entries = list_dir(dir);
  if (!entries) return;
  for (auto& p : *entries) {
    std::error_code ec;
    if (p.filename().string().starts_with(prefix) && fs::last_write_time(p, ec) < cutoff && !ec)
      remove_tree(p);
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
  TRY_ASSIGN(auto blobs, list_dir(store.root() / "blobs" / "sha256"));
  std::sort(blobs.begin(), blobs.end());
  for (auto& p : blobs) {
    auto d = Digest::parse("sha256:" + p.filename().string());
    if (!d) {
      report.problems.push_back(p.string() + ": not a sha256 blob name");
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
  return report;
}

Result<PruneReport> prune(Store& store) {
  TRY_ASSIGN(auto held, store.lock());
  TRY_ASSIGN(auto roots, store.entries());
  std::vector<std::string> problems;
  Reachable keep = walk_roots(store, roots, &problems);
  PruneReport report;
  TRY(remove_unreached(store, keep, report));
  remove_stale(store.tmp_dir(), "");
  // A long fill may write deep in its staging dir for over an hour without
  // touching the dir itself: while any fill holds its lock, none is stale.
  if (!layer_fill_running(store.layers_dir())) remove_stale(store.layers_dir(), ".tmp-");
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
  for (auto& d : gone.blobs) {
    if (keep.blobs.count(d)) continue;
    std::error_code ec;
    auto p = store.blob_path(d);
    auto size = fs::file_size(p, ec);
    if (!ec && fs::remove(p, ec)) {
      report.blobs_removed.push_back(d);
      report.bytes_freed += static_cast<int64_t>(size);
    }
  }
  return report;
}

}  // namespace kiln::oci
