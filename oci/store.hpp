// Store: kiln's local image store, an OCI image layout on disk that skopeo
// (oci:DIR:REF) and umoci read as it is.
//
//   ROOT/oci-layout, ROOT/index.json, ROOT/blobs/sha256/<hex>
//   ROOT/kiln/lock        flock taken for every index.json update
//   ROOT/kiln/tmp/        temporary files, renamed into blobs/ once verified
//   ROOT/kiln/layers/     unpacked layers by diff-id (owned by layers/)
//
// Image names are org.opencontainers.image.ref.name annotations holding the
// full normalized reference. Blob writes are verified before they get their
// name; index updates are read-modify-write under the lock, written atomically.
//
// A store may be shared, or restored from a CI cache, so nothing under its
// root is trusted to be what its name says: the root's directories are opened
// once, without following symlinks, and every blob, lock and state entry is
// then reached from those fds with O_NOFOLLOW (a symlink is an error, never
// followed). The root itself may be a symlink the user chose. A new store is
// created mode 0700, as containers/storage does.
// Thread-safety: a Store may be shared between threads for blob operations;
// index updates serialize on the file lock (which also guards other processes).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/files.hpp"
#include "base/result.hpp"
#include "base/stream.hpp"
#include "oci/config.hpp"
#include "oci/descriptor.hpp"
#include "oci/digest.hpp"
#include "oci/manifest.hpp"

namespace kiln::oci {

struct BlobInfo {
  Digest digest;
  int64_t size = 0;
};

// One image in the store resolved to a single platform: what most commands need.
struct LocalImage {
  std::string name;  // full reference, "" when found by digest
  Descriptor top;    // what the name points at (manifest or index)
  Manifest manifest;
  ImageConfig config;
};

// Opens a blob's bytes, verified (digest and size) as they are read: a
// store's, or a registry's when the blob is not in any store.
using BlobOpen = std::function<Result<std::unique_ptr<Reader>>(const Descriptor&)>;

class Store {
 public:
  // Opens the layout at `root`, creating it when absent. A directory that holds
  // something else (no oci-layout, but other files) is refused.
  static Result<Store> open(const std::filesystem::path& root);
  // The default root: $KILN_ROOT, else /var/lib/kiln for root, else $XDG_DATA_HOME/kiln.
  static std::filesystem::path default_root();

  const std::filesystem::path& root() const { return root_; }
  // Where a blob lives, for messages and for peers (skopeo, umoci) only: kiln
  // itself reaches blobs through the methods below, never by this path.
  std::filesystem::path blob_path(const Digest& d) const;
  std::filesystem::path kiln_dir() const { return root_ / "kiln"; }
  std::filesystem::path tmp_dir() const { return root_ / "kiln" / "tmp"; }
  std::filesystem::path layers_dir() const { return root_ / "kiln" / "layers"; }
  // kiln/NAME (one component), created when missing, as an fd; a symlink or
  // other non-directory there is an error. Modules keep their state in these.
  Result<Fd> state_dir(std::string_view name) const;
  // The open blobs/sha256 and kiln/ directories, for whole-store walks.
  int blobs_fd() const;
  int kiln_fd() const;

  // --- blobs ---
  // True when the blob is a regular file (a symlink in its place is not a blob).
  bool has_blob(const Digest& d) const;
  // Its size on disk, or an error when missing or not a regular file.
  Result<int64_t> blob_size(const Digest& d) const;
  // Streams `from` into the store. With `expected`, the bytes must match it (and
  // `size` when given) or nothing is stored.
  Result<BlobInfo> put_blob(Reader& from, const std::optional<Digest>& expected = std::nullopt,
                            std::optional<int64_t> size = std::nullopt);
  Result<BlobInfo> put_blob_bytes(std::string_view bytes);
  // For writers that compute a blob's digest themselves: a temporary in
  // kiln/tmp, then commit_blob() names it (the caller has verified `d`).
  Result<AtomicFile> new_blob_file() const;
  Status commit_blob(AtomicFile& file, const Digest& d) const;
  Status remove_blob(const Digest& d) const;
  // A reader that fails at end of stream if the file does not match its name.
  Result<std::unique_ptr<Reader>> open_blob(const Digest& d,
                                            std::optional<int64_t> size = std::nullopt) const;
  // The blob's bytes from `offset`, unverified: for a sender that verifies the
  // whole blob itself (a resumed upload). Still never through a symlink.
  Result<std::unique_ptr<Reader>> open_blob_raw(const Digest& d, int64_t offset = 0) const;
  // A small blob (manifest, config), verified, at most `limit` bytes.
  Result<std::string> read_blob(const Digest& d, size_t limit = kMaxConfigSize) const;

  // --- index.json ---
  Result<std::vector<Descriptor>> entries() const;
  // Read-modify-write of index.json's manifests under the store lock.
  Status update_index(const std::function<Status(std::vector<Descriptor>&)>& edit);
  // The store lock, for callers that must hold it across several steps (GC);
  // they then edit with update_index_locked, passing the lock as proof.
  Result<FileLock> lock() const;
  Status update_index_locked(const FileLock& held,
                             const std::function<Status(std::vector<Descriptor>&)>& edit);
  // Points `name` (a full normalized reference string) at `target`, replacing
  // any previous entry of that name.
  Status set_name(const std::string& name, Descriptor target);
  Status remove_name(const std::string& name);

  // Finds IMAGE as the user typed it: a reference (normalized), a full digest,
  // or a unique prefix (≥4 hex) of a manifest or config digest.
  Result<Descriptor> resolve(std::string_view image) const;
  // resolve() + manifest + config. From an index, the manifest for `platform`
  // (the host's when not given); a single image given a platform must be of it.
  Result<LocalImage> load_image(std::string_view image,
                                const std::optional<Platform>& platform = std::nullopt) const;
  Result<LocalImage> load_descriptor(const Descriptor& d, std::string name = "",
                                     const std::optional<Platform>& platform = std::nullopt) const;

 private:
  struct Dirs;
  Store(std::filesystem::path root, std::shared_ptr<const Dirs> dirs)
      : root_(std::move(root)), dirs_(std::move(dirs)) {}
  Result<Fd> open_blob_fd(const Digest& d) const;
  std::filesystem::path root_;
  std::shared_ptr<const Dirs> dirs_;  // shared: a Store is a cheap, copyable handle
};

}  // namespace kiln::oci
