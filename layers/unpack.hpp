// Whole images on disk: the flattened filesystem of an image (unpack,
// export), and the store's cache of unpacked layers for overlay lower dirs.
//
// Every layer is verified (digest, size, diff-id) as it streams. Nothing is
// ever half there: work happens in a staging directory that is renamed into
// place only when every layer applied cleanly.
// Thread-safety / processes: concurrent calls are safe; two processes filling
// the same cache entry both work and the first rename wins.
#pragma once

#include <filesystem>
#include <vector>

#include "base/result.hpp"
#include "base/stream.hpp"
#include "layers/apply.hpp"
#include "oci/store.hpp"

namespace kiln::layers {

// The image's flattened filesystem into `dest`, which must not exist or be an
// empty directory.
Status unpack_image(const oci::Store& store, const oci::LocalImage& image,
                    const std::filesystem::path& dest, const ApplyOptions& opts = {});

// The flattened filesystem as an uncompressed, deterministic tar into `out`
// (unpacked into the store's tmp dir first, then written sorted).
Status export_image(const oci::Store& store, const oci::LocalImage& image, Writer& out);

// STORE/kiln/layers/<diff-id hex>/: the layer applied alone, whiteouts kept
// in overlayfs form, ready to be an overlay lower dir. Applied on first use.
Result<std::filesystem::path> unpacked_layer(const oci::Store& store, const oci::Descriptor& layer,
                                             const oci::DiffId& diff_id);

// Every layer of an image in the cache, bottom first.
Result<std::vector<std::filesystem::path>> unpacked_layers(const oci::Store& store,
                                                           const oci::LocalImage& image);

}  // namespace kiln::layers
