// Whole-store walks: what is reachable from index.json, fsck (every blob
// re-hashed, every reference resolvable) and garbage collection.
// All take the store lock for their duration, so a concurrent `kiln tag`
// cannot name something a collection is removing.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "oci/store.hpp"

namespace kiln::oci {

struct Reachable {
  std::set<Digest> blobs;          // manifests, indexes, configs, layers
  std::set<std::string> diff_ids;  // hex of every diff-id and chain id of a reachable config
};

// Walks from `roots`; a missing or unparsable node is added to `problems`
// (when given) and its children are not followed.
Reachable walk(const Store& store, const std::vector<Descriptor>& roots,
               std::vector<std::string>* problems);

struct FsckReport {
  size_t blobs_checked = 0;
  size_t images = 0;
  std::vector<std::string> problems;  // one line each; empty when clean
};
Result<FsckReport> fsck(const Store& store);

struct PruneReport {
  std::vector<Digest> blobs_removed;
  std::vector<std::string> layers_removed;  // unpacked-layer dirs (diff-id hex)
  int64_t bytes_freed = 0;
  std::vector<std::string> leases_cleared;  // dead leases (and non-files) removed from leases/
};
// Removes blobs and unpacked layers nothing in index.json or a live lease
// (oci/lease.hpp) reaches, dead leases, and
// temporaries (kiln/tmp, half-filled layer-cache entries) older than an hour:
// younger ones may belong to a running kiln.
Result<PruneReport> prune(Store& store);

// Removes the names, then the blobs only they reached and no live lease
// names (dead leases are left for prune). Fails, changing
// nothing, when any name is unknown.
Result<PruneReport> remove_images(Store& store, const std::vector<std::string>& names);

}  // namespace kiln::oci
