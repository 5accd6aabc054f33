#include "registry/blob_set.hpp"

#include <mutex>

#include "base/log.hpp"
#include "registry/parallel.hpp"

namespace kiln::registry {

Presence image_presence(Remote& dst, const oci::Descriptor& top, const std::string& tag) {
  // A shortcut only: whatever the registry answers short of the digest asked
  // for (an error, an old schema, no such repository yet) means "push it".
  auto holds = [&](const std::string& reference) {
    auto have = dst.head_manifest(reference, true);
    if (!have) log_debug(have.error().message + " (pushing everything)");
    return have && *have && (*have)->digest == top.digest;
  };
  if (!tag.empty() && holds(tag)) return Presence::tagged;
  if (!holds(top.digest.str())) return Presence::absent;
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
