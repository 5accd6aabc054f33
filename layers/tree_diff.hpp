// Comparing two trees, walked side by side from directory fds in byte order
// (never following symlinks). Drives both write_diff_layer and `kiln diff`.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace kiln::layers {

// What differs about an object present in both trees.
enum DiffBits : unsigned {
  kDiffType = 1,
  kDiffContent = 2,  // regular-file bytes (compared when the sizes agree) or size
  kDiffMode = 4,
  kDiffOwner = 8,
  kDiffLink = 16,  // symlink target or device numbers
  kDiffXattrs = 32,
  kDiffMtime = 64,
};

std::vector<std::string> diff_bit_names(unsigned bits);

// Callbacks in layer order (parents before children, siblings by
// compare_layer_names, a removal where its ".wh." whiteout would sort).
class DiffVisitor {
 public:
  virtual ~DiffVisitor() = default;
  // Only in the lower tree. Its children are not visited.
  virtual Status removed(const std::string& path) = 0;
  // Only in the upper tree (child `name` of `upper_dirfd`). Children not visited.
  virtual Status added(int upper_dirfd, const std::string& name, const std::string& path) = 0;
  // In both and different (bits != 0). A directory in both is then walked
  // into, whether it differs or not; `leave` follows its children.
  virtual Status changed(int upper_dirfd, const std::string& name, const std::string& path,
                         unsigned bits, bool is_dir) = 0;
  virtual Status enter(int /*upper_dirfd*/, const std::string& /*name*/,
                       const std::string& /*path*/) {
    return {};
  }
  virtual Status leave(const std::string& /*path*/) { return {}; }
};

// Walks `lower` against `upper`. Bits in `ignore` are not compared.
Status walk_diff(const std::filesystem::path& lower, const std::filesystem::path& upper,
                 DiffVisitor& v, unsigned ignore = 0);

struct TreeChange {
  std::string path;
  char kind;  // 'A' added, 'D' removed, 'M' modified
  unsigned bits = 0;
};

// The flat list of changes (mtimes ignored): what `kiln diff` prints.
Result<std::vector<TreeChange>> diff_trees(const std::filesystem::path& a,
                                           const std::filesystem::path& b);

}  // namespace kiln::layers
