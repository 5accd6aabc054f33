// TarEntry: one layer entry as kiln models it, independent of libarchive, and
// the path rules every layer path obeys.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace kiln::layers {

enum class EntryType { file, dir, symlink, hardlink, chr, blk, fifo };

struct TarEntry {
  std::string path;  // clean relative layer path: no leading "/" or "./", no "..", no "//"
  EntryType type = EntryType::file;
  uint32_t perm = 0644;  // permission bits including setuid, setgid and sticky (07777)
  int64_t uid = 0, gid = 0;
  int64_t mtime_sec = 0;
  int32_t mtime_nsec = 0;
  int64_t size = 0;  // logical size of a regular file
  std::string link;  // symlink target (verbatim) or hardlink target (clean path)
  uint32_t dev_major = 0, dev_minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;  // sorted by name
  // Data extents (offset, length) of a sparse file; empty when it is not sparse.
  std::vector<std::pair<int64_t, int64_t>> sparse;
};

// Cleans a path taken from an archive: strips leading "/" and "./", folds
// repeated slashes and "." components. A ".." component, an empty result, a
// NUL byte or a component longer than 255 bytes is an error (naming the path).
Result<std::string> clean_layer_path(std::string_view raw);

// "a/b/c" → {"a/b", "c"}; "c" → {"", "c"}.
std::pair<std::string_view, std::string_view> split_parent(std::string_view path);

// OCI whiteout names.
inline constexpr std::string_view kWhiteoutPrefix = ".wh.";
inline constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

// The one order of entries in every layer kiln writes: depth first, each
// directory right before its contents, siblings compared by name with the
// opaque marker first, then ".wh." whiteouts, then the rest, each group
// bytewise. Whiteouts lead because they act on the layers below only (the
// image-spec asks for them before their siblings): an applier that meets them
// first never has to tell this layer's entries from older ones.
int compare_layer_names(std::string_view a, std::string_view b);
// Whole clean paths, component by component with compare_layer_names (so
// "a" < "a/z" < "a-b", a parent before everything under it).
bool layer_path_less(std::string_view a, std::string_view b);

}  // namespace kiln::layers
