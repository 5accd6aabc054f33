// Directory-fd helpers shared by the layer writer, apply and diff: listing a
// directory in byte order, opening children without following symlinks, and
// reading a filesystem object into a TarEntry. Never follows a symlink in
// the final component; callers hold the parent's fd.
#pragma once

#include <sys/stat.h>

#include <string>
#include <vector>

#include "base/fd.hpp"
#include "base/result.hpp"
#include "layers/tar_entry.hpp"

namespace kiln::layers {

// Children of an open directory (not "." or ".."), in layer order
// (compare_layer_names).
Result<std::vector<std::string>> list_dir(int dirfd);

// Opens child `name` of `dirfd` as a directory, refusing symlinks.
Result<Fd> open_subdir(int dirfd, const std::string& name);

// Opens a whole path as a directory (the tree's root; this one may be a symlink).
Result<Fd> open_root_dir(const std::string& path);

// The xattrs of child `name` of `dirfd` (not following it), sorted. `fd` is an
// fd on the object itself when the caller has one (faster), else -1.
// system.* (ACLs) and security.selinux are host state, not image content: left out.
Result<std::vector<std::pair<std::string, std::string>>> read_xattrs(int dirfd,
                                                                     const std::string& name,
                                                                     int fd);

// A TarEntry from lstat data (type, perm, ids, mtime, size, rdev, link target).
// Returns false in `supported` for sockets and other types tar cannot carry.
Result<TarEntry> entry_from_stat(int dirfd, const std::string& name, const struct stat& st,
                                 std::string path, bool& supported);

// Overlayfs whiteout forms, as found in an upper or lower dir: a 0/0
// character device, or an empty file with a *.overlay.whiteout xattr. `st`
// is the child's lstat.
bool is_overlay_whiteout(int dirfd, const std::string& name, const struct stat& st);
// An opaque directory (*.overlay.opaque = "y"), from an fd on it.
bool is_overlay_opaque(int fd);

// Data extents of a regular file when it has holes; empty when it is dense.
Result<std::vector<std::pair<int64_t, int64_t>>> sparse_extents(int fd, const struct stat& st);

}  // namespace kiln::layers
