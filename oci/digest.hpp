// Digest and DiffId: content addresses, as distinct types so a compressed-blob
// digest can never be used where an uncompressed diff-id is meant.
//
// Only sha256 is accepted for content kiln stores or verifies; sha512 parses
// (the image-spec registers it) but `verifiable()` is false.
#pragma once

#include <compare>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace kiln::oci {

class Digest {
 public:
  // "sha256:<64 lower-case hex>" (or sha512 with 128); anything else is an error.
  static Result<Digest> parse(std::string_view s);
  static Digest from_sha256_hex(std::string hex);  // hex must come from Sha256
  static Digest of_bytes(std::string_view bytes);

  Digest() = default;
  const std::string& str() const { return s_; }
  std::string_view algorithm() const { return std::string_view(s_).substr(0, s_.find(':')); }
  std::string_view hex() const { return std::string_view(s_).substr(s_.find(':') + 1); }
  bool verifiable() const { return algorithm() == "sha256"; }
  bool empty() const { return s_.empty(); }
  // "sha256:abcdef012345" style short form (12 hex chars) for listings.
  std::string short_hex() const { return std::string(hex().substr(0, 12)); }

  auto operator<=>(const Digest&) const = default;

 private:
  explicit Digest(std::string s) : s_(std::move(s)) {}
  std::string s_;
};

// The digest of an uncompressed layer tar (rootfs.diff_ids in the config).
class DiffId {
 public:
  DiffId() = default;
  explicit DiffId(Digest d) : d_(std::move(d)) {}
  static Result<DiffId> parse(std::string_view s);
  const Digest& digest() const { return d_; }
  const std::string& str() const { return d_.str(); }
  auto operator<=>(const DiffId&) const = default;

 private:
  Digest d_;
};

}  // namespace kiln::oci

template <>
struct std::hash<kiln::oci::Digest> {
  size_t operator()(const kiln::oci::Digest& d) const { return std::hash<std::string>()(d.str()); }
};
