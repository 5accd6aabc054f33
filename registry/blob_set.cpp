#include "registry/blob_set.hpp"

#include <mutex>

#include "registry/parallel.hpp"

namespace kiln::registry {

Result<Presence> image_presence(Remote& dst, const oci::Descriptor& top, const std::string& tag) {
  if (!tag.empty()) {
    TRY_ASSIGN(auto under_tag, dst.head_manifest(tag, true));
    if (under_tag && under_tag->digest == top.digest) return Presence::tagged;
  }
  TRY_ASSIGN(auto by_digest, dst.head_manifest(top.digest.str(), true));
  if (!by_digest || by_digest->digest != top.digest) return Presence::absent;
  return tag.empty() ? Presence::tagged : Presence::present;
}

Status send_blobs(Remote& dst, const std::vector<BlobToSend>& blobs, const TransferOptions& opts,
                  TransferResult& res) {
  std::mutex mu;
  return run_parallel(opts.jobs, blobs.size(), [&](size_t i) -> Status {
    const BlobToSend& b = blobs[i];
    const oci::Descriptor& d = b.descriptor;
    UploadOptions up = opts.upload;
    up.mount_from = b.mount_from;
    TRY_ASSIGN(UploadOutcome out, dst.upload_blob(d, b.open, up));
    std::lock_guard lock(mu);
    switch (out) {
      case UploadOutcome::uploaded:
        ++res.blobs_moved;
        res.bytes_moved += d.size;
        break;
      case UploadOutcome::existed:
        ++res.blobs_skipped;
        break;
      case UploadOutcome::mounted:
        ++res.blobs_mounted;
        break;
    }
    if (opts.progress)
      opts.progress(out == UploadOutcome::uploaded
                        ? "Copied blob " + d.digest.str() + " (" + human_size(d.size) + ")"
                    : out == UploadOutcome::mounted ? "Mounted blob " + d.digest.str()
                                                    : "Blob already there " + d.digest.str());
    return {};
  });
}

}  // namespace kiln::registry
