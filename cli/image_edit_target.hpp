// The image a metadata/layer edit starts from (kiln mutate, kiln append) and
// where the result goes. IMAGE is the local store's when the store has that
// name; otherwise, or when written docker://REF, it is read on its registry:
// manifest and config only, never the layers. A local base gives a local
// result named -t; a registry base gives a registry result pushed to -t.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "oci/config.hpp"
#include "oci/manifest.hpp"
#include "oci/reference.hpp"
#include "registry/transfer.hpp"

namespace kiln::cli {

struct EditBase {
  oci::LocalImage image;                 // manifest and config
  std::optional<registry::Remote> from;  // set for a registry image
};

// `platform` picks from an index, local or remote ("" : the host's). The lookup is
// find_image's (remote_image.hpp).
Result<EditBase> open_edit_base(const Globals& g, const std::string& image,
                                const std::string& platform);

// Where a registry base's result goes: the -t reference's repository, through
// the base's client when it is the same registry (one ping, one token cache).
registry::Remote edit_destination(const Globals& g, const registry::Remote& src,
                                  const oci::Reference& ref);

// Writes a derived image (config bytes, manifest over the base's layers and
// `added` layers already in `store`) under `tag`: named in the store for a
// local base, pushed to the registry -t names for a registry base. Prints the
// result: its digest, or with json {"ref", "digest"}.
Status write_edit_result(const Globals& g, oci::Store& store, EditBase& base,
                         const std::string& tag, const oci::ImageConfig& config,
                         const oci::Manifest& manifest, const std::vector<oci::Descriptor>& added,
                         bool json);

}  // namespace kiln::cli
