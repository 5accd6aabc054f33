// Editing an image's metadata without touching its layers: the runtime config
// changes `kiln mutate` makes, and the OCI manifest of a derived image (a new
// config over the base's layers plus any new ones). Pure functions; the
// callers store or upload the results.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "oci/config.hpp"
#include "oci/manifest.hpp"

namespace kiln::oci {

// Changes to the "config" object of an image config. Unset fields keep the
// base's value. Keys are removed before values are set, so `--unset-env A
// --env A=1` sets A.
struct ConfigEdit {
  std::optional<std::vector<std::string>> entrypoint, cmd;  // empty vector: cleared
  std::optional<std::string> user, working_dir, stop_signal;
  std::vector<std::string> env;                                // K=V: replaces K or is appended
  std::vector<std::string> labels;                             // K=V
  std::vector<std::string> expose;                             // PORT[/PROTO], tcp when no protocol
  std::vector<std::string> unset_env, unset_labels, unexpose;  // keys / ports
  bool empty() const;
};

// The edited config. Bad input ("--env =x", "--expose http") is one error
// naming the flag and the value.
Result<ImageConfig> apply_config_edit(const ImageConfig& base, const ConfigEdit& edit);

// An OCI manifest with `config` over `base`'s layers followed by `extra`.
// Docker media types of the base layers become their OCI equivalents (the
// bytes are the same, and one manifest must not mix the two families).
Manifest derive_manifest(const Manifest* base, Descriptor config, std::vector<Descriptor> extra);

// "[\"a\",\"b\"]" (a JSON array of strings) or words split on whitespace;
// "" gives an empty list (clears the field).
Result<std::vector<std::string>> parse_command_words(const std::string& flag,
                                                     const std::string& value);

}  // namespace kiln::oci
