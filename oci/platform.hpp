// Platform: os/architecture[/variant], normalized as the OCI image-spec and
// containerd's platform matcher do (aarch64 → arm64, arm64 ≡ arm64/v8, …).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace kiln::oci {

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
  std::string os_version;
  std::vector<std::string> os_features;

  // "linux/arm64/v8", "linux/amd64", "arm64" (os defaults to linux).
  static Result<Platform> parse(std::string_view s);
  static Platform host();
  // Canonical spelling: amd64 not x86_64, arm64 without the default v8, arm with v7 default.
  Platform normalized() const;
  std::string str() const;  // "linux/arm64" or "linux/arm/v7"
  // True when an image for `have` runs where `*this` is wanted.
  bool matches(const Platform& have) const;
  bool operator==(const Platform&) const = default;
};

void to_json(nlohmann::json& j, const Platform& p);
Result<Platform> platform_from_json(const nlohmann::json& j);

}  // namespace kiln::oci
