// Descriptor: a typed pointer to content (media type, digest, size), with the
// fields it did not recognise kept verbatim so round trips lose nothing.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "oci/digest.hpp"
#include "oci/platform.hpp"

namespace kiln::oci {

inline constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
  std::vector<std::string> urls;
  std::string artifact_type;
  nlohmann::json extra = nlohmann::json::object();  // unknown fields

  nlohmann::json to_json() const;
  static Result<Descriptor> from_json(const nlohmann::json& j);
};

}  // namespace kiln::oci
