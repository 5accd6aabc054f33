// BlobSources: which repositories of which registries are known to hold a
// blob, so a push can mount it instead of uploading it. Kept beside the store
// in ROOT/kiln/registry/sources/<hex> (one "registry/repository" per line);
// written after pulls and pushes. Only a hint: a failed mount falls back to an
// upload, and a store whose sources dir cannot be opened safely (a symlink
// there) simply has no hints. Thread-safe enough: a lost line costs one
// upload, nothing else.
#pragma once

#include <optional>
#include <string>

#include "base/fd.hpp"
#include "oci/digest.hpp"
#include "oci/store.hpp"

namespace kiln::registry {

class BlobSources {
 public:
  explicit BlobSources(const oci::Store& store);
  void record(const oci::Digest& d, const std::string& registry, const std::string& repository);
  // A repository of `registry` other than `except` known to have the blob.
  std::optional<std::string> find(const oci::Digest& d, const std::string& registry,
                                  const std::string& except) const;

 private:
  Fd dir_;  // ROOT/kiln/registry/sources, or none
  std::filesystem::path shown_;
};

}  // namespace kiln::registry
