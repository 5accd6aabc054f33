#include <set>

#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "registry/blob_set.hpp"
#include "registry/sources.hpp"
#include "registry/transfer.hpp"

namespace kiln::registry {

namespace {

struct LocalPlan {
  std::vector<std::pair<oci::Descriptor, std::string>> manifests;  // descriptor, bytes
  std::vector<oci::Descriptor> blobs;
  std::set<oci::Digest> planned;  // blobs' digests, for a check that stays cheap
};

Status plan_manifest(const oci::Store& store, const oci::Descriptor& d, LocalPlan& plan) {
  TRY_ASSIGN(std::string bytes, store.read_blob(d.digest));
  auto m = oci::Manifest::parse(bytes, d.media_type);
  if (!m) return fail("manifest ", d.digest.str(), ": ", m.error().message);
  auto add = [&](const oci::Descriptor& b) {
    if (plan.planned.insert(b.digest).second) plan.blobs.push_back(b);
  };
  add(m->config());
  for (auto& l : m->layers())
    add(l);
  plan.manifests.emplace_back(d, std::move(bytes));
  return {};
}

}  // namespace

// A store blob from `offset`; the upload verifies it as it goes (BlobCursor).
BlobOpener store_blob_opener(const oci::Store& store, const oci::Descriptor& d) {
  return [&store, d](int64_t offset) { return store.open_blob_raw(d.digest, offset); };
}

BlobOpener bytes_opener(std::string bytes) {
  return [bytes = std::move(bytes)](int64_t offset) -> Result<std::unique_ptr<Reader>> {
    return std::unique_ptr<Reader>(new StringReader(bytes.substr(static_cast<size_t>(offset))));
  };
}

Result<TransferResult> push_image(const oci::Store& store, const oci::Descriptor& top, Remote& dest,
                                  const std::string& tag, const TransferOptions& opts) {
  // Names each blob before it is read, so an rmi and prune meanwhile cannot
  // take what is being sent.
  TRY_ASSIGN(auto lease,
             oci::Lease::create(store, "push " + top.digest.str() + " to " + dest.name()));
  TRY(lease.add(top.digest));
  LocalPlan plan;
  std::string top_bytes;
  if (oci::media::is_index(top.media_type)) {
    TRY_ASSIGN(top_bytes, store.read_blob(top.digest));
    auto ix = oci::Index::parse(top_bytes, top.media_type);
    if (!ix) return fail("index ", top.digest.str(), ": ", ix.error().message);
    oci::LeaseNames children;
    for (auto& child : ix->manifests())
      children.blobs.push_back(child.digest);
    TRY(lease.add(children));
    for (auto& child : ix->manifests()) {
      if (!store.has_blob(child.digest))
        return fail("index ", top.digest.str(), ": manifest ", child.digest.str(),
                    " is not in the store (was the image pulled for one platform only?)");
      TRY(plan_manifest(store, child, plan));
    }
  } else {
    TRY(plan_manifest(store, top, plan));
    top_bytes = plan.manifests.back().second;
  }
  oci::LeaseNames blobs;
  for (auto& b : plan.blobs)
    blobs.blobs.push_back(b.digest);
  TRY(lease.add(blobs));
  for (auto& b : plan.blobs)
    TRY(store.blob_size(b.digest));  // says missing, a symlink, or not a regular file

  BlobSources sources(store);
  const std::string& registry = dest.client().registry();
  TransferResult res;
  Presence there = image_presence(dest, top, tag);
  if (there != Presence::absent) {
    res.blobs_skipped = static_cast<int>(plan.blobs.size());
    if (opts.progress) opts.progress("Image " + top.digest.str() + " already there");
  } else {
    std::vector<BlobToSend> send;
    for (auto& d : plan.blobs)
      send.push_back({d, store_blob_opener(store, d),
                      sources.find(d.digest, registry, dest.repository()).value_or("")});
    TRY(send_blobs(dest, send, opts, res));
    if (oci::media::is_index(top.media_type))
      for (auto& [d, b] : plan.manifests)
        TRY(dest.put_manifest(d.digest.str(), b, d.media_type));
  }
  if (there != Presence::tagged)
    TRY(dest.put_manifest(tag.empty() ? top.digest.str() : tag, top_bytes, top.media_type));
  res.target = top;
  res.target.annotations.clear();
  for (auto& b : plan.blobs)
    sources.record(b.digest, registry, dest.repository());
  if (opts.progress && there != Presence::tagged)
    opts.progress("Wrote manifest " + top.digest.str());
  return res;
}

}  // namespace kiln::registry
