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

// A blob of `src` streamed to `dst`, verified on the way; a resumed upload
// reads from its offset on (the registry checks the digest at the end).
BlobOpener remote_opener(Remote& src, const oci::Descriptor& d) {
  return [&src, d](int64_t offset) -> Result<std::unique_ptr<Reader>> {
    if (offset == 0) return open_verified_blob(src, d);
    return src.open_blob(d, offset);
  };
}

// Counts an upload's outcome and reports it; called under the caller's lock.
void account(TransferResult& res, const oci::Descriptor& d, UploadOutcome out,
             const TransferOptions& opts) {
  if (out == UploadOutcome::uploaded) {
    ++res.blobs_moved;
    res.bytes_moved += d.size;
  }
  if (out == UploadOutcome::existed) ++res.blobs_skipped;
  if (out == UploadOutcome::mounted) ++res.blobs_mounted;
  if (opts.progress)
    opts.progress((out == UploadOutcome::uploaded  ? "Copied blob "
                   : out == UploadOutcome::mounted ? "Mounted blob "
                                                   : "Blob already there ") +
                  d.digest.str());
}

// Moves `blobs` to `dst` in parallel: from `added` when listed there, else from `src`.
Status move_blobs(Remote& src, Remote& dst, const std::vector<oci::Descriptor>& blobs,
                  const std::vector<NewBlob>& added, const TransferOptions& opts,
                  TransferResult& res) {
  bool same_registry = src.client().registry() == dst.client().registry();
  std::mutex mu;
  return run_parallel(opts.jobs, blobs.size(), [&](size_t i) -> Status {
    const oci::Descriptor& d = blobs[i];
    UploadOptions up = opts.upload;
    BlobOpener open;
    for (auto& a : added)
      if (a.descriptor.digest == d.digest) open = a.open;
    if (!open) {
      if (same_registry && src.repository() != dst.repository()) up.mount_from = src.repository();
      open = remote_opener(src, d);
    }
    TRY_ASSIGN(UploadOutcome out, dst.upload_blob(d, open, up));
    std::lock_guard lock(mu);
    account(res, d, out, opts);
    return {};
  });
}

}  // namespace

Result<std::unique_ptr<Reader>> open_verified_blob(Remote& src, const oci::Descriptor& d) {
  TRY_ASSIGN(auto r, src.open_blob(d));
  return std::unique_ptr<Reader>(
      new VerifiedBlob(std::move(r), d, src.name() + ": blob " + d.digest.str()));
}

Result<TransferResult> copy_image(Remote& src, const std::string& src_reference, Remote& dst,
                                  const std::string& dst_tag, const TransferOptions& opts) {
  TRY_ASSIGN(auto img, resolve_remote(src, src_reference, opts.platforms));
  TransferResult res;
  TRY(move_blobs(src, dst, img.blobs, {}, opts, res));
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

Result<TransferResult> push_derived(Remote& src, Remote& dst, const std::string& tag,
                                    const oci::Manifest& manifest,
                                    const std::vector<NewBlob>& added,
                                    const TransferOptions& opts) {
  std::vector<oci::Descriptor> blobs{manifest.config()};
  for (auto& l : manifest.layers())
    blobs.push_back(l);
  TransferResult res;
  TRY(move_blobs(src, dst, blobs, added, opts, res));
  TRY(dst.put_manifest(tag.empty() ? manifest.digest().str() : tag, manifest.bytes(),
                       manifest.media_type()));
  res.target = manifest.descriptor();
  if (opts.progress) opts.progress("Wrote manifest " + manifest.digest().str());
  return res;
}

}  // namespace kiln::registry
