// Whole images on disk: the flattened filesystem of an image (unpack,
// export), and the store's cache of unpacked layers for overlay lower dirs.
//
// Every layer is verified (digest, size, diff-id) as it streams. Nothing is
// ever half there: work happens in a staging directory that is renamed into
// place only when every layer applied cleanly.
// unpack, export (and so `kiln diff`) merge the cached layers below rather
// than apply blobs again: each layer is applied once per store.
// Thread-safety / processes: concurrent calls are safe; a cache entry is
// filled under a lock file by one process and appears by rename, complete.
#pragma once

#include <filesystem>
#include <vector>

#include "base/result.hpp"
#include "base/stream.hpp"
#include "layers/apply.hpp"
#include "oci/lease.hpp"
#include "oci/store.hpp"

namespace kiln::layers {

// The image's flattened filesystem into `dest`, which must not exist or be an
// empty directory.
Status unpack_image(const oci::Store& store, const oci::LocalImage& image,
                    const std::filesystem::path& dest, const ApplyOptions& opts = {});

// Registry → rootfs: the image's layers applied into `dest` straight from
// `open`, bottom first, each streamed once (digest, size and diff-id checked
// on the way); nothing is stored and no cache entry is made. `dest` as above.
Status unpack_image_from(const oci::BlobOpen& open, const oci::LocalImage& image,
                         const std::filesystem::path& dest, const ApplyOptions& opts = {});

// The flattened filesystem as an uncompressed, deterministic tar into `out`
// (unpacked into the store's tmp dir first, then written sorted).
Status export_image(const oci::Store& store, const oci::LocalImage& image, Writer& out);

// STORE/kiln/layers/<diff-id hex>/: the layer applied alone, whiteouts kept
// in overlayfs form, ready to be an overlay lower dir. Applied on first use.
// `lowers` are the entries of the layers below (bottom first): a hardlink to
// a file of theirs is copied up, and since that entry then depends on what
// lies below, it is STORE/kiln/layers/<chain-id hex>/ instead.
// `lease` names both possible entries (and the layer blob) before either is
// looked for, so prune leaves the entry alone while the caller, who keeps the
// lease, still uses the returned directory.
Result<std::filesystem::path> unpacked_layer(const oci::Store& store, const oci::Descriptor& layer,
                                             const oci::DiffId& diff_id,
                                             const std::vector<std::filesystem::path>& lowers,
                                             const oci::Digest& chain_id, oci::Lease& lease);

// Every layer of an image in the cache, bottom first, named in `lease`.
Result<std::vector<std::filesystem::path>> unpacked_layers(const oci::Store& store,
                                                           const oci::LocalImage& image,
                                                           oci::Lease& lease);

}  // namespace kiln::layers
