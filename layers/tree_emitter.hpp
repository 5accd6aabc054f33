// TreeEmitter: writes filesystem objects, found through directory fds, as tar
// entries: hardlinks within the layer, sparse files, xattrs, mtime clamping,
// and (in overlay mode) whiteouts and opaque dirs translated to OCI names.
// Internal to layers/. Not thread-safe.
#pragma once

#include <sys/stat.h>

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "base/result.hpp"
#include "layers/tar_writer.hpp"
#include "layers/writer.hpp"

namespace kiln::layers {

enum class WalkMode { plain, overlay };

class TreeEmitter {
 public:
  TreeEmitter(TarWriter& tw, const LayerOptions& opts, WalkMode mode)
      : tw_(tw), opts_(opts), mode_(mode) {}

  // Emits child `name` of `dirfd` as `path`, and everything under it when it is
  // a directory and `recurse` is set.
  Status add(int dirfd, const std::string& name, const std::string& path, bool recurse = true);
  // Emits every child of the open directory `dirfd` whose layer path is `prefix`
  // ("" for the layer root), recursively.
  Status add_children(int dirfd, const std::string& prefix);
  Status add_whiteout(const std::string& removed_path);
  Status add_opaque(const std::string& dir_path);

 private:
  void clamp(TarEntry& e) const;
  TarWriter& tw_;
  const LayerOptions& opts_;
  WalkMode mode_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;  // first path of each multi-link inode
  int depth_ = 0;
};

// Joins a layer prefix and a child name (both already clean).
inline std::string child_path(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "/" + name;
}

}  // namespace kiln::layers
