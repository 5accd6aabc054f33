// Platform in the image model: the one kiln::Platform (base/platform.hpp:
// parsing, containerd's normalisation and matching), plus its JSON form in
// descriptors and image configs.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "base/platform.hpp"
#include "base/result.hpp"

namespace kiln::oci {

using Platform = kiln::Platform;

// Explicit functions, not nlohmann's to_json hook: ADL would look for that in
// namespace kiln, where JSON has no place. Variant, os.version and os.features
// are written only when set.
nlohmann::json platform_to_json(const Platform& p);
Result<Platform> platform_from_json(const nlohmann::json& j);

}  // namespace kiln::oci
