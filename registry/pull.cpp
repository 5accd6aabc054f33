#include <atomic>
#include <mutex>

#include "registry/parallel.hpp"
#include "registry/sources.hpp"
#include "registry/transfer.hpp"

namespace kiln::registry {

Result<TransferResult> pull_image(Remote& remote, const std::string& reference, oci::Store& store,
                                  const TransferOptions& opts) {
  TRY_ASSIGN(auto img, resolve_remote(remote, reference, opts.platforms));
  TransferResult res;
  res.target = img.target;
  // Every name goes into the lease before anything is looked for or stored:
  // a blob found present now stays present.
  TRY_ASSIGN(auto lease, oci::Lease::create(store, "pull " + remote.name() + " " + reference));
  oci::LeaseNames names;
  for (auto& b : img.blobs)
    names.blobs.push_back(b.digest);
  for (auto& m : img.manifests)
    names.blobs.push_back(oci::Digest::of_bytes(m.bytes));
  if (img.keep_index) names.blobs.push_back(oci::Digest::of_bytes(img.top.bytes));
  TRY(lease.add(names));
  res.lease = std::move(lease);
  std::vector<oci::Descriptor> todo;
  for (auto& b : img.blobs) {
    if (store.has_blob(b.digest)) {
      ++res.blobs_skipped;
      if (opts.progress) opts.progress("Blob " + b.digest.str() + " already present");
    } else {
      todo.push_back(b);
    }
  }
  // Configs are checked as every command that reads them from the store checks
  // them, so a pull never stores an image `images` or `inspect` would refuse:
  // their sizes before anything is fetched, their bytes before they are stored.
  for (auto& d : todo)
    if (img.configs.count(d.digest)) TRY(check_config_size(remote, d));
  std::mutex mu;
  std::atomic<int64_t> bytes{0};
  TRY(run_parallel(opts.jobs, todo.size(), [&](size_t i) -> Status {
    const oci::Descriptor& d = todo[i];
    if (opts.progress) {
      std::lock_guard lock(mu);
      opts.progress("Copying blob " + d.digest.str() + " (" + human_size(d.size) + ")");
    }
    if (img.configs.count(d.digest)) {
      TRY_ASSIGN(auto cfg, fetch_config(remote, d));
      TRY(store.put_blob_bytes(cfg.bytes()));
      bytes += d.size;
      return {};
    }
    TRY_ASSIGN(auto reader, remote.open_blob(d));
    auto put = store.put_blob(*reader, d.digest, d.size);
    if (!put) {
      Error e = put.error();
      if (e.message.find(remote.name()) == std::string::npos)
        e.message = remote.name() + ": " + e.message;
      return tl::unexpected(e);
    }
    bytes += d.size;
    return {};
  }));
  res.blobs_moved = static_cast<int>(todo.size());
  res.bytes_moved = bytes;
  for (auto& m : img.manifests)
    TRY(store.put_blob_bytes(m.bytes));
  if (img.keep_index) TRY(store.put_blob_bytes(img.top.bytes));
  BlobSources sources(store);
  for (auto& b : img.blobs)
    sources.record(b.digest, remote.client().registry(), remote.repository());
  if (opts.progress) opts.progress("Stored " + img.target.digest.str());
  return res;
}

}  // namespace kiln::registry
