// Remote: one repository on a registry, and the distribution-spec operations
// on it. Thread-safe (the Client is); cheap to copy.
//
// Every error is one line naming registry, repository and the object
// ("127.0.0.1:5000/team/app: blob sha256:…: not found (HTTP 404): BLOB_UNKNOWN: …")
// with Error::http_status and Error::code kept.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "base/stream.hpp"
#include "oci/descriptor.hpp"
#include "oci/digest.hpp"
#include "registry/client.hpp"

namespace kiln::registry {

struct FetchedManifest {
  std::string bytes;       // exactly as served
  std::string media_type;  // Content-Type, else sniffed from the document
  oci::Digest digest;      // verified against the reference's digest when it has one
  oci::Descriptor descriptor() const;
};

// Opens a blob's bytes from `offset` on (a store file, another registry).
class BlobCursor;  // a blob verified as it is sent (blob_upload.cpp)

using BlobOpener = std::function<Result<std::unique_ptr<Reader>>(int64_t offset)>;

struct UploadOptions {
  std::string mount_from;  // a repository of the same registry that has the blob
  // Blobs up to this size go in one PUT; larger ones in PATCH chunks of
  // chunk_size (raised to the registry's OCI-Chunk-Min-Length).
  int64_t monolithic_max = 32 << 20;
  int64_t chunk_size = 64 << 20;
};

enum class UploadOutcome { existed, mounted, uploaded };

class Remote {
 public:
  Remote(std::shared_ptr<Client> client, std::string repository)
      : client_(std::move(client)), repo_(std::move(repository)) {}

  Client& client() const { return *client_; }
  const std::shared_ptr<Client>& client_ptr() const { return client_; }
  const std::string& repository() const { return repo_; }
  std::string name() const { return client_->registry() + "/" + repo_; }

  // GET a manifest or index by tag or digest, with every supported type accepted.
  Result<FetchedManifest> get_manifest(const std::string& reference, size_t limit = 4 << 20);
  // HEAD: the descriptor, or nullopt when the registry does not have it.
  // `for_push` asks with the push scope (the token a push needs anyway).
  Result<std::optional<oci::Descriptor>> head_manifest(const std::string& reference,
                                                       bool for_push = false);
  // PUT by tag or digest; returns the digest the registry reports (checked).
  Result<oci::Digest> put_manifest(const std::string& reference, std::string_view bytes,
                                   std::string_view media_type);
  Status delete_manifest(const oci::Digest& digest);

  // `for_push` asks with the push scope, so a push needs one token, not two.
  Result<bool> has_blob(const oci::Descriptor& d, bool for_push = false);
  // The blob's bytes; a dropped connection is resumed with Range (and retried
  // from the start when the registry ignores Range). Bytes past the
  // descriptor's size fail at once; the digest is the reader's caller's to check.
  // `offset` > 0 starts there (for resuming an upload that copies this blob).
  // `use` says whether the caller streams it or reads it whole (a config), which
  // decides how slow the registry may be (BodyUse).
  Result<std::unique_ptr<Reader>> open_blob(const oci::Descriptor& d, int64_t offset = 0,
                                            BodyUse use = BodyUse::blob);
  // Uploads unless the registry has it already (HEAD first); mounts when asked.
  Result<UploadOutcome> upload_blob(const oci::Descriptor& d, const BlobOpener& open,
                                    const UploadOptions& opts = {});

  // Tags, following Link pagination.
  Result<std::vector<std::string>> tags(int page_size = 0);

 private:
  std::string what(std::string_view object) const { return name() + ": " + std::string(object); }
  // client().send(), with errors that do not say so already naming this repository.
  Result<std::unique_ptr<Exchange>> call(Request req, const Scopes& scopes, std::string_view object,
                                         bool retry = true);
  Result<UploadOutcome> upload_once(const oci::Descriptor& d, const BlobOpener& open,
                                    const UploadOptions& opts, bool try_mount);
  Result<std::string> upload_chunks(const oci::Descriptor& d, std::shared_ptr<BlobCursor> cursor,
                                    std::string location, int64_t chunk);
  std::shared_ptr<Client> client_;
  std::string repo_;
};

// A Remote for a reference's registry and repository, with its own Client.
Remote remote_for(const std::string& registry, const std::string& repository,
                  const ClientOptions& opts);

// The repositories of a registry (GET /v2/_catalog, paginated).
Result<std::vector<std::string>> catalog(Client& client, int page_size = 0);

// The next page's URL from a Link header (`<url>; rel="next"`), "" when none.
std::string next_link(const std::string& link_header);

}  // namespace kiln::registry
