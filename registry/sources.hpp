// BlobSources: which repositories of which registries are known to hold a
// blob, so a push can mount it instead of uploading it. Kept beside the store
// in ROOT/kiln/registry/sources/<hex> (one "registry/repository" per line);
// written after pulls and pushes. Only a hint: a failed mount falls back to an
// upload. Thread-safe enough: a lost line costs one upload, nothing else.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "oci/digest.hpp"

namespace kiln::registry {

class BlobSources {
 public:
  explicit BlobSources(std::filesystem::path dir) : dir_(std::move(dir)) {}
  void record(const oci::Digest& d, const std::string& registry, const std::string& repository);
  // A repository of `registry` other than `except` known to have the blob.
  std::optional<std::string> find(const oci::Digest& d, const std::string& registry,
                                  const std::string& except) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace kiln::registry
