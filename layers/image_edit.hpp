// Committing new layers as an image: the config gains the diff-ids and one
// history entry per layer, and a new OCI manifest points at it all. Used by
// `kiln import` (no base) and `kiln append` (a local or, for the config,
// a registry base image).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "layers/writer.hpp"
#include "oci/manifest.hpp"
#include "oci/store.hpp"

namespace kiln::layers {

struct NewLayer {
  WrittenLayer layer;
  std::string created_by;  // the history line ("kiln import rootfs.tar")
};

// `base` (or, without one, a new config for the host platform) with the
// layers' diff-ids and one history entry each; `created` set.
Result<oci::ImageConfig> layered_config(const oci::ImageConfig* base,
                                        const std::vector<NewLayer>& layers, int64_t created);

// Stores config and manifest blobs (the layers are already stored) and
// returns the manifest; naming it is the caller's business. Without a base the
// config is new, for the host platform. Docker media types of the base are
// carried over as their OCI equivalents (the bytes are the same).
Result<oci::Manifest> commit_layers(oci::Store& store, const oci::LocalImage* base,
                                    const std::vector<NewLayer>& layers, int64_t created);

// The creation time for new images: $SOURCE_DATE_EPOCH when set, else now.
Result<int64_t> creation_time();

}  // namespace kiln::layers
