// Layer writer: turns a change set into a content-addressed layer blob in the
// store, in one streaming pass (tar → diff-id hash → compressor → digest hash →
// temporary file → verified rename into blobs/). Memory stays flat whatever the
// layer size; a failure leaves nothing under blobs/.
//
// Three kinds of change set:
//   write_dir_layer      a whole tree (import, COPY into an empty layer)
//   write_overlay_layer  an overlayfs upper dir: whiteouts and opaque dirs become
//                        ".wh.NAME" and ".wh..wh..opq"
//   write_diff_layer     the difference between two trees, when overlay is not usable
//   write_list_layer     explicit paths under a root (COPY), with their parents
// Trees are walked from directory fds without following symlinks. Every kind
// writes its entries in one order (layer_path_less, tar_entry.hpp: parents
// first, whiteouts before their siblings), so the same content always gives
// the same bytes whatever order it was found or given in. A file whose own name
// starts with ".wh." is refused: every reader would take it for a whiteout.
//
// Thread-safety: functions are independent; the Store must allow blob writes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "oci/descriptor.hpp"
#include "oci/digest.hpp"
#include "oci/media_types.hpp"
#include "oci/store.hpp"

namespace kiln::layers {

struct LayerOptions {
  oci::media::Compression compression = oci::media::Compression::gzip;
  int level = -1;   // -1: the format's default
  int threads = 0;  // zstd workers; 0: every core
  // Reproducible builds: mtimes later than this are clamped to it.
  std::optional<int64_t> source_date_epoch;
};

struct WrittenLayer {
  oci::Descriptor descriptor;  // media type (OCI layer type), digest, compressed size
  oci::DiffId diff_id;
  int64_t uncompressed_size = 0;
};

Result<WrittenLayer> write_dir_layer(oci::Store& store, const std::filesystem::path& dir,
                                     const LayerOptions& opts);

// An existing rootfs tar (plain, gzip or zstd, detected from the bytes),
// re-encoded entry by entry: names cleaned (leading "/" and "./" dropped), an
// entry with ".." in its name or hardlink target rejected, a name given twice
// rejected (unless both are directories), entries sorted (hardlinks re-pointed
// at the first name of their group). A file that is not a tar is one error
// naming the file.
Result<WrittenLayer> write_tar_layer(oci::Store& store, const std::filesystem::path& tar,
                                     const LayerOptions& opts);

Result<WrittenLayer> write_overlay_layer(oci::Store& store, const std::filesystem::path& upper,
                                         const LayerOptions& opts);

Result<WrittenLayer> write_diff_layer(oci::Store& store, const std::filesystem::path& lower,
                                      const std::filesystem::path& upper, const LayerOptions& opts);

// `paths` are relative to `root`; each is written with every parent directory
// (their metadata from `root`), and directories with everything under them.
Result<WrittenLayer> write_list_layer(oci::Store& store, const std::filesystem::path& root,
                                      const std::vector<std::string>& paths,
                                      const LayerOptions& opts);

// A file or directory argument: write_dir_layer or write_tar_layer.
Result<WrittenLayer> write_layer_from(oci::Store& store, const std::filesystem::path& src,
                                      const LayerOptions& opts);

}  // namespace kiln::layers
