// Manifest (one platform) and Index (many): parsed from, and kept as, their
// exact bytes, since the digest that names them is over those bytes. Created
// objects serialize once; unknown fields of parsed ones are kept in json().
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "oci/descriptor.hpp"
#include "oci/digest.hpp"

namespace kiln::oci {

class Manifest {
 public:
  // `declared` is the media type the transport announced (Content-Type, or the
  // descriptor that pointed here); empty when unknown.
  static Result<Manifest> parse(std::string bytes, std::string_view declared = "");
  static Manifest create(std::string_view media_type, Descriptor config,
                         std::vector<Descriptor> layers,
                         std::map<std::string, std::string> annotations = {});

  const std::string& bytes() const { return bytes_; }
  const Digest& digest() const { return digest_; }
  const std::string& media_type() const { return media_type_; }
  const Descriptor& config() const { return config_; }
  const std::vector<Descriptor>& layers() const { return layers_; }
  const std::map<std::string, std::string>& annotations() const { return annotations_; }
  const nlohmann::json& json() const { return json_; }
  // A descriptor pointing at this manifest.
  Descriptor descriptor() const;

 private:
  std::string bytes_;
  Digest digest_;
  std::string media_type_;
  Descriptor config_;
  std::vector<Descriptor> layers_;
  std::map<std::string, std::string> annotations_;
  nlohmann::json json_;
};

class Index {
 public:
  static Result<Index> parse(std::string bytes, std::string_view declared = "");
  static Index create(std::string_view media_type, std::vector<Descriptor> manifests,
                      std::map<std::string, std::string> annotations = {});

  const std::string& bytes() const { return bytes_; }
  const Digest& digest() const { return digest_; }
  const std::string& media_type() const { return media_type_; }
  const std::vector<Descriptor>& manifests() const { return manifests_; }
  const nlohmann::json& json() const { return json_; }
  Descriptor descriptor() const;

 private:
  std::string bytes_;
  Digest digest_;
  std::string media_type_;
  std::vector<Descriptor> manifests_;
  nlohmann::json json_;
};

// What a manifest-ish document is, from its declared type or, failing that, its
// content ("manifests" → index, "config" → manifest). Schema 1 and unknown
// types are errors naming the type.
Result<std::string> sniff_manifest_type(const nlohmann::json& j, std::string_view declared);

// Serialization kiln uses for every document it creates: compact, keys sorted.
std::string canonical_bytes(const nlohmann::json& j);

}  // namespace kiln::oci
