// The build context after ignore rules: what a build can COPY or ADD.
//
// walk_context() walks the context directory depth first, entries of each
// directory in byte order, without following symlinks, as BuildKit's
// context transfer does: an excluded file is left out; an excluded
// directory is not even read unless an exception could re-include
// something inside (IgnoreMatcher::must_descend); a re-included path
// brings its parent directories with it.
//
// Thread-safety: reentrant; the tree must not change during the walk (a
// vanished entry is skipped).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "parser/ignore.hpp"

namespace kiln::parser {

struct ContextEntry {
  enum class Type { file, dir, symlink, other };
  std::string path;  // relative to the context root, '/'-separated
  Type type = Type::file;
  uint64_t size = 0;
  mode_t mode = 0;  // st_mode (type and permission bits)
};

struct WalkStats {
  uint64_t entries_seen = 0;  // directory entries read
  uint64_t checks = 0;        // paths matched against the ignore rules
  uint64_t dirs_skipped = 0;  // excluded directories never read
};

Result<std::vector<ContextEntry>> walk_context(const std::filesystem::path& root,
                                               const IgnoreMatcher& ignore,
                                               WalkStats* stats = nullptr);

const char* entry_type_name(ContextEntry::Type t);

}  // namespace kiln::parser
