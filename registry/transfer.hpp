// Moving whole images: pull (registry → store), push (store → registry), copy
// (registry → registry, streamed, never through the store), and the remote
// image accessor `kiln inspect` uses. Blobs move in parallel (`jobs`), each
// streamed and verified; nothing is held in memory but manifests and configs.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "oci/lease.hpp"
#include "oci/manifest.hpp"
#include "oci/platform.hpp"
#include "oci/store.hpp"
#include "registry/remote.hpp"

namespace kiln::registry {

struct PlatformChoice {
  std::optional<oci::Platform> platform;  // default: the host's
  bool all = false;                       // keep the whole index
};

// An image on a registry resolved for a PlatformChoice.
struct ResolvedImage {
  FetchedManifest top;                     // what the reference names
  std::vector<FetchedManifest> manifests;  // single-platform manifests to move
  std::vector<oci::Descriptor> blobs;      // their configs and layers, each once
  std::set<oci::Digest> configs;           // which of those are configs
  oci::Descriptor target;  // what to name: the index (all), else the chosen manifest
  bool keep_index = false;
};
Result<ResolvedImage> resolve_remote(Remote& remote, const std::string& reference,
                                     const PlatformChoice& choice);

struct TransferOptions {
  PlatformChoice platforms;
  int jobs = 4;
  UploadOptions upload;
  // One line per event ("Copying blob sha256:… 12.3 MB"), for the CLI; may be null.
  // Called from worker threads, never concurrently.
  std::function<void(const std::string&)> progress;
};

struct TransferResult {
  oci::Descriptor target;  // what was stored / pushed under the name
  int blobs_moved = 0, blobs_skipped = 0, blobs_mounted = 0;
  int64_t bytes_moved = 0;
  // pull: names every blob of the image, so a prune cannot take them before
  // the caller has named the image; drop it only after that.
  std::optional<oci::Lease> lease;
};

// Pulls `reference` (tag or digest) into the store. The caller names it
// (Store::set_name) with the returned target while it still holds the
// returned lease.
Result<TransferResult> pull_image(Remote& remote, const std::string& reference, oci::Store& store,
                                  const TransferOptions& opts);

// Pushes what `top` points at in the store (manifest, or index with all its
// manifests) to `dest` under `tag` ("" pushes by digest only).
Result<TransferResult> push_image(const oci::Store& store, const oci::Descriptor& top, Remote& dest,
                                  const std::string& tag, const TransferOptions& opts);

// Registry to registry; blobs the target has are skipped, blobs in another
// repository of the same registry are mounted.
Result<TransferResult> copy_image(Remote& src, const std::string& src_reference, Remote& dst,
                                  const std::string& dst_tag, const TransferOptions& opts);

// A blob a derived image brings along: a new layer in the store, a config in memory.
struct NewBlob {
  oci::Descriptor descriptor;
  BlobOpener open;
};

// Writes `manifest` to `dst` under `tag` ("" by digest) for kiln mutate and
// kiln append on a registry image. Blobs listed in `added` are uploaded from
// there; every other blob belongs to the base image in `src` and never passes
// through here when avoidable: skipped after a HEAD when `dst` has it (same
// repository), mounted within one registry, else streamed registry to registry.
Result<TransferResult> push_derived(Remote& src, Remote& dst, const std::string& tag,
                                    const oci::Manifest& manifest,
                                    const std::vector<NewBlob>& added, const TransferOptions& opts);

// A blob's bytes from `src`, failing at EOF unless size and digest match.
Result<std::unique_ptr<Reader>> open_verified_blob(Remote& src, const oci::Descriptor& d);

// Openers for NewBlob: a store blob (resumable), bytes in memory. An opener
// gives plain bytes from an offset: the upload verifies them.
BlobOpener store_blob_opener(const oci::Store& store, const oci::Descriptor& d);
BlobOpener bytes_opener(std::string bytes);

// A config from a registry, read whole and checked as every command that reads
// it from the store checks it: refused unread when its descriptor says it is
// larger than oci::kMaxConfigSize (check_config_size), and when its bytes are
// not an image config.
Status check_config_size(const Remote& remote, const oci::Descriptor& d);
Result<oci::ImageConfig> fetch_config(Remote& remote, const oci::Descriptor& d);

// A remote image's manifest and config for one platform, without its layers:
// what `kiln inspect REF` shows. `name` is the reference, `top` what it names.
Result<oci::LocalImage> fetch_remote_image(Remote& remote, const std::string& reference,
                                           const std::optional<oci::Platform>& platform = {});

// "12.3 MB"
std::string human_size(int64_t bytes);

}  // namespace kiln::registry
