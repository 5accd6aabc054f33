#include <atomic>
#include <mutex>

#include "registry/parallel.hpp"
#include "registry/transfer.hpp"

namespace kiln::registry {

namespace {

// A source blob streamed into the upload; read whole, it is verified on the way
// so a lying source aborts the upload before the registry commits anything.
class VerifiedBlob final : public Reader {
 public:
  VerifiedBlob(std::unique_ptr<Reader> inner, const oci::Descriptor& d, std::string what)
      : inner_(std::move(inner)),
        verify_(*inner_, static_cast<uint64_t>(d.size), std::string(d.digest.hex()),
                std::move(what)) {}
  Result<size_t> read(std::span<std::byte> buf) override { return verify_.read(buf); }

 private:
  std::unique_ptr<Reader> inner_;
  VerifyingReader verify_;
};

}  // namespace

Result<TransferResult> copy_image(Remote& src, const std::string& src_reference, Remote& dst,
                                  const std::string& dst_tag, const TransferOptions& opts) {
  TRY_ASSIGN(auto img, resolve_remote(src, src_reference, opts.platforms));
  bool same_registry = src.client().registry() == dst.client().registry();
  TransferResult res;
  std::mutex mu;
  std::atomic<int64_t> bytes{0};
  TRY(run_parallel(opts.jobs, img.blobs.size(), [&](size_t i) -> Status {
    const oci::Descriptor& d = img.blobs[i];
    UploadOptions up = opts.upload;
    if (same_registry && src.repository() != dst.repository()) up.mount_from = src.repository();
    BlobOpener open = [&src, d](int64_t offset) -> Result<std::unique_ptr<Reader>> {
      TRY_ASSIGN(auto r, src.open_blob(d, offset));
      if (offset > 0) return r;
      return std::unique_ptr<Reader>(
          new VerifiedBlob(std::move(r), d, src.name() + ": blob " + d.digest.str()));
    };
    TRY_ASSIGN(UploadOutcome out, dst.upload_blob(d, open, up));
    std::lock_guard lock(mu);
    if (out == UploadOutcome::uploaded) {
      ++res.blobs_moved;
      bytes += d.size;
    }
    if (out == UploadOutcome::existed) ++res.blobs_skipped;
    if (out == UploadOutcome::mounted) ++res.blobs_mounted;
    if (opts.progress)
      opts.progress((out == UploadOutcome::uploaded  ? "Copied blob "
                     : out == UploadOutcome::mounted ? "Mounted blob "
                                                     : "Blob already there ") +
                    d.digest.str());
    return {};
  }));
  res.bytes_moved = bytes;
  if (img.keep_index) {
    for (auto& m : img.manifests)
      TRY(dst.put_manifest(m.digest.str(), m.bytes, m.media_type));
    TRY(dst.put_manifest(dst_tag.empty() ? img.top.digest.str() : dst_tag, img.top.bytes,
                         img.top.media_type));
  } else {
    const FetchedManifest& m = img.manifests.front();
    TRY(dst.put_manifest(dst_tag.empty() ? m.digest.str() : dst_tag, m.bytes, m.media_type));
  }
  res.target = img.target;
  if (opts.progress) opts.progress("Wrote manifest " + img.target.digest.str());
  return res;
}

}  // namespace kiln::registry
