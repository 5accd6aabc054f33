// Platform: os/architecture[/variant], the one platform type every module uses
// (oci::Platform and parser::Platform name it). Normalisation and matching
// are those of containerd's `platforms` package, so kiln picks from an index
// what docker and containerd pick: x86_64 → amd64, aarch64 → arm64, arm64/v8
// ≡ arm64, amd64/v1 ≡ amd64, arm ≡ arm/v7, armhf → arm/v7, armel → arm/v6.
// Spellings containerd does not alias (i686, armv7l) stay as written; they
// are uname(2) names, read by host() only. JSON lives in oci/platform.hpp.
//
// Values; no shared state.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace kiln {

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
  std::string os_version;
  std::vector<std::string> os_features;

  // A specifier: "OS/ARCH[/VARIANT]", or one word that is an OS ("linux":
  // this host's architecture) or else a known architecture ("arm64": on
  // linux). Components are [A-Za-z0-9_.-]+. The result is normalized().
  static Result<Platform> parse(std::string_view s);
  // This host, from uname(2): always linux.
  static Platform host();
  // Canonical spelling: lower case, aliases resolved, default variants
  // dropped (arm64/v8, amd64/v1) or filled in (arm → arm/v7).
  Platform normalized() const;
  std::string str() const;  // "linux/arm64" or "linux/arm/v7"
  // True when `have` (an index entry or an image config) is this platform:
  // os, architecture and variant equal once both are normalized, and have's
  // os features a subset of these. So linux/arm64 matches linux/arm64/v8,
  // but linux/arm/v7 does not match linux/arm/v6, nor linux/amd64 match
  // linux/amd64/v3 (containerd's strict matcher; no fallback to older variants).
  bool matches(const Platform& have) const;
  bool operator==(const Platform&) const = default;
};

}  // namespace kiln
