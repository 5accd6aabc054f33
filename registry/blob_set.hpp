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

// What a target already has of an image. A registry only accepts a manifest
// once it has every blob (and child manifest) it names, so a manifest that is
// there means nothing below it needs to move: one HEAD instead of one per blob.
enum class Presence {
  absent,   // push it
  present,  // there by digest: only the tag is left to write
  tagged,   // there under the tag already (or by digest when no tag is asked for)
};

// Asks for `tag` first when one is given (an unchanged re-push is then a
// single request), then for the digest; any failure to tell means absent.
Presence image_presence(Remote& dst, const oci::Descriptor& top, const std::string& tag);

// Uploads `blobs` to `dst` on opts.jobs threads (each skipped when the registry
// has it, mounted when it can be), adding each outcome to `res` and reporting
// it through opts.progress.
Status send_blobs(Remote& dst, const std::vector<BlobToSend>& blobs, const TransferOptions& opts,
                  TransferResult& res);

}  // namespace kiln::registry
