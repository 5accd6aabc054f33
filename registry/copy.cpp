#include "registry/blob_set.hpp"
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

// A blob of `src` streamed to `dst` from `offset`; the upload verifies it as
// it goes (BlobCursor), so a lying source fails before `dst` has it whole.
BlobOpener remote_opener(Remote& src, const oci::Descriptor& d) {
  return [&src, d](int64_t offset) { return src.open_blob(d, offset); };
}

// Moves `blobs` to `dst`: from `added` when listed there, else from `src`
// (mounted when both are repositories of one registry).
Status move_blobs(Remote& src, Remote& dst, const std::vector<oci::Descriptor>& blobs,
                  const std::vector<NewBlob>& added, const TransferOptions& opts,
                  TransferResult& res) {
  bool mount =
      src.client().registry() == dst.client().registry() && src.repository() != dst.repository();
  std::vector<BlobToSend> send;
  for (auto& d : blobs) {
    BlobToSend b{d, {}, {}};
    for (auto& a : added)
      if (a.descriptor.digest == d.digest) b.open = a.open;
    if (!b.open) {
      b.open = remote_opener(src, d);
      if (mount) b.mount_from = src.repository();
    }
    send.push_back(std::move(b));
  }
  return send_blobs(dst, send, opts, res);
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
  Presence there = image_presence(dst, img.target, dst_tag);
  if (there != Presence::absent) {
    res.blobs_skipped = static_cast<int>(img.blobs.size());
    if (opts.progress) opts.progress("Image " + img.target.digest.str() + " already there");
    if (there == Presence::present) {
      const FetchedManifest& top = img.keep_index ? img.top : img.manifests.front();
      TRY(dst.put_manifest(dst_tag, top.bytes, top.media_type));
    }
  } else if (img.keep_index) {
    TRY(move_blobs(src, dst, img.blobs, {}, opts, res));
    for (auto& m : img.manifests)
      TRY(dst.put_manifest(m.digest.str(), m.bytes, m.media_type));
    TRY(dst.put_manifest(dst_tag.empty() ? img.top.digest.str() : dst_tag, img.top.bytes,
                         img.top.media_type));
  } else {
    TRY(move_blobs(src, dst, img.blobs, {}, opts, res));
    const FetchedManifest& m = img.manifests.front();
    TRY(dst.put_manifest(dst_tag.empty() ? m.digest.str() : dst_tag, m.bytes, m.media_type));
  }
  res.target = img.target;
  if (opts.progress && there != Presence::tagged)
    opts.progress("Wrote manifest " + img.target.digest.str());
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
  Presence there = image_presence(dst, manifest.descriptor(), tag);
  if (there != Presence::absent)
    res.blobs_skipped = static_cast<int>(blobs.size());
  else
    TRY(move_blobs(src, dst, blobs, added, opts, res));
  if (there != Presence::tagged)
    TRY(dst.put_manifest(tag.empty() ? manifest.digest().str() : tag, manifest.bytes(),
                         manifest.media_type()));
  res.target = manifest.descriptor();
  if (opts.progress && there != Presence::tagged)
    opts.progress("Wrote manifest " + manifest.digest().str());
  return res;
}

}  // namespace kiln::registry
