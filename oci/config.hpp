// ImageConfig: the image configuration blob (OCI config / Docker container
// image v1). Kept as its JSON document, so fields kiln does not model survive
// a mutation; the exact bytes are kept for parsed configs (their digest).
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "oci/digest.hpp"
#include "oci/platform.hpp"

namespace kiln::oci {

// The largest config kiln reads (Store::read_blob's default): a pull refuses a
// larger one, so it never stores an image its other commands cannot read.
inline constexpr size_t kMaxConfigSize = 16 << 20;

struct HistoryEntry {
  std::string created;
  std::string created_by;
  std::string comment;
  bool empty_layer = false;
};

class ImageConfig {
 public:
  static Result<ImageConfig> parse(std::string bytes);
  // A new config: platform, creation time (RFC 3339), no layers yet.
  static ImageConfig create(const Platform& platform, std::string created);
  // Re-serializes an edited document (canonical bytes).
  static Result<ImageConfig> from_json(nlohmann::json doc);

  const std::string& bytes() const { return bytes_; }
  Digest digest() const { return Digest::of_bytes(bytes_); }
  const nlohmann::json& json() const { return doc_; }

  Platform platform() const;
  std::string created() const;
  std::string author() const;
  std::vector<DiffId> diff_ids() const;  // invalid entries are rejected by parse()
  // The OCI chain ids, one per layer: a layer's diff-id together with every
  // layer below it (chain(0) = diff(0); chain(n) = sha256(chain(n-1) + " " + diff(n))).
  std::vector<Digest> chain_ids() const;
  std::vector<HistoryEntry> history() const;
  // From the "config" object (the runtime defaults).
  std::vector<std::string> env() const;
  std::vector<std::string> entrypoint() const;
  std::vector<std::string> cmd() const;
  std::map<std::string, std::string> labels() const;
  std::string user() const;
  std::string working_dir() const;
  std::vector<std::string> exposed_ports() const;
  std::vector<std::string> volumes() const;
  std::string stop_signal() const;

 private:
  std::string bytes_;
  nlohmann::json doc_;
};

// Formats a time as RFC 3339 UTC ("2026-11-24T23:15:34Z"), as configs store it.
std::string rfc3339(int64_t unix_seconds);
int64_t now_unix();

}  // namespace kiln::oci
