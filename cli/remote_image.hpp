// An image named on the command line that may live in the local store or on
// its registry: the local store is asked first; a name it does not have (or
// one written docker://REF) is looked up on the registry, manifest and config
// only. Used by the commands that read an image (inspect, unpack, mutate,
// append).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cli/command.hpp"
#include "registry/remote.hpp"

namespace kiln::cli {

struct FoundImage {
  oci::LocalImage image;
  std::optional<oci::Store> store;         // when found locally
  std::optional<registry::Remote> remote;  // when found on the registry
};

// `platform` ("" for the host's) picks from an index, local or remote; a
// single local image must be of that platform.
Result<FoundImage> find_image(const Globals& g, std::string_view name, const std::string& platform);

}  // namespace kiln::cli
