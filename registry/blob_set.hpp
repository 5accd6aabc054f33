// What push, copy and push_derived share: the check that a target already has
// a whole image, and the parallel upload of a set of blobs with its counting
// and progress lines.
#pragma once

#include <string>
#include <vector>

#include "registry/transfer.hpp"

namespace kiln::registry {

// One blob to put on a registry: where its bytes come from, and a repository
// of the same registry to mount it from ("" when none is known).
struct BlobToSend {
  oci::Descriptor descriptor;
  BlobOpener open;
  std::string mount_from;
};

// True when `dst` already holds the manifest or index `top`. A registry only
// accepts a manifest once it has every blob (and child manifest) it names, so
// when the digest is there nothing below it needs to move: one HEAD instead of
// one per blob.
Result<bool> image_present(Remote& dst, const oci::Descriptor& top);

// Uploads `blobs` to `dst` on opts.jobs threads (each skipped when the registry
// has it, mounted when it can be), adding each outcome to `res` and reporting
// it through opts.progress.
Status send_blobs(Remote& dst, const std::vector<BlobToSend>& blobs, const TransferOptions& opts,
                  TransferResult& res);

}  // namespace kiln::registry
