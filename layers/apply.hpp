// Layer apply: a tar layer (gzip, zstd or plain, detected from the bytes)
// written onto a root directory, every path resolved inside that root.
//
// Whiteouts follow the OCI image-spec: ".wh.NAME" removes NAME from what lay
// below, ".wh..wh..opq" hides every sibling that this layer did not create.
// With WhiteoutMode::overlay they are recorded instead, as overlayfs expects
// of a lower dir: a 0/0 character device (or, unprivileged, a file with the
// user.overlay.whiteout xattr) and the *.overlay.opaque xattr.
//
// Hostile input: names with "..", whiteouts of "." / ".." / "", hardlinks whose
// target is missing, and files beyond max_file_size fail the layer; absolute
// names are taken relative to the root; devices are skipped unless privileged.
// Apply is not atomic by itself: callers apply into a staging directory and
// rename it into place (unpack.hpp does).
// Thread-safety: independent calls may run concurrently on different roots.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "base/stream.hpp"
#include "oci/descriptor.hpp"
#include "oci/digest.hpp"
#include "oci/store.hpp"

namespace kiln::layers {

// One line of a user-namespace id map: ids [container, container+size) are
// host ids [host, host+size).
struct IdMapping {
  uint32_t container = 0, host = 0, size = 0;
};

enum class WhiteoutMode { remove, overlay };

struct ApplyOptions {
  WhiteoutMode whiteouts = WhiteoutMode::remove;
  // Owners, device nodes and trusted.* xattrs need privilege; unprivileged,
  // files belong to the caller and devices are skipped with a warning.
  bool privileged = default_privileged();
  std::vector<IdMapping> uid_map, gid_map;   // empty: ids kept as they are
  int64_t max_file_size = int64_t{1} << 40;  // a larger (even sparse) claim fails
  // Applying a layer alone for the layer cache: the cached dirs of the layers
  // below it, bottom first. A hardlink whose target this layer does not have
  // is then copied up from them, see unpack.hpp.
  std::vector<std::filesystem::path> lowers;

  static bool default_privileged();
};

struct ApplyStats {
  int64_t entries = 0;
  int64_t skipped = 0;    // devices without privilege, xattrs the filesystem refused
  int64_t copied_up = 0;  // hardlink targets copied from ApplyOptions::lowers
};

// Applies a tar stream onto `root`. `what` names the layer in errors.
Result<ApplyStats> apply_tar(Reader& bytes, const std::filesystem::path& root,
                             const ApplyOptions& opts, const std::string& what);

// Applies a stored layer, checking its digest and size as the compressed
// bytes stream and its diff-id as the uncompressed bytes do; a mismatch fails
// the call (after the bytes were written: apply into a staging directory).
Result<ApplyStats> apply_layer(const oci::Store& store, const oci::Descriptor& layer,
                               const oci::DiffId& diff_id, const std::filesystem::path& root,
                               const ApplyOptions& opts);

// The same from a layer's compressed bytes read elsewhere (a registry): `blob`
// must check the layer's digest and size itself (registry::open_verified_blob
// does); the diff-id is checked here.
Result<ApplyStats> apply_layer_from(Reader& blob, const oci::Descriptor& layer,
                                    const oci::DiffId& diff_id, const std::filesystem::path& root,
                                    const ApplyOptions& opts);

// Merges a layer cache dir (overlay form: whiteouts as 0/0 devices or
// *.overlay.whiteout files, opaque dirs by xattr) onto `root`, as overlayfs
// would show it stacked on what `root` holds: whiteouts remove, opaque dirs
// first empty their counterpart, everything else is copied (never linked: the
// result is the caller's to change, the cache is shared). Hardlinks within the
// layer stay hardlinks. Owners go through the id map when privileged.
Status merge_layer_dir(const std::filesystem::path& layer, const std::filesystem::path& root,
                       const ApplyOptions& opts);

}  // namespace kiln::layers
