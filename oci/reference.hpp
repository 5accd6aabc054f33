// Reference: an image reference with Docker's normalization, following the
// grammar of the distribution reference library:
//   ubuntu                  → docker.io/library/ubuntu:latest
//   localhost:5000/a/b:t@sha256:… keeps both tag and digest
// Uppercase repository names, 64-hex names, bad tags and bad digests are
// rejected with the reason.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "oci/digest.hpp"

namespace kiln::oci {

inline constexpr std::string_view kDockerHub = "docker.io";

struct Reference {
  std::string registry;    // "docker.io", "localhost:5000", "[::1]:5000"
  std::string repository;  // "library/ubuntu"
  std::string tag;         // "" when only a digest was given
  std::optional<Digest> digest;

  // Parses and normalizes; adds tag "latest" when neither tag nor digest is given.
  static Result<Reference> parse(std::string_view s);
  // As parse(), but without the default tag (for repository arguments: `kiln ls`).
  static Result<Reference> parse_repository(std::string_view s);

  std::string name() const { return registry + "/" + repository; }  // no tag, no digest
  std::string str() const;                                          // name[:tag][@digest]
  std::string familiar() const;  // Docker's short form: "ubuntu:latest"
  std::string familiar_name() const;
  // What a registry's manifest URL takes: the digest when there is one (so
  // `busybox:latest@sha256:…` is pulled by digest, as docker pulls it), else the tag.
  std::string identifier() const;
  // The reference a pull fetches: name@digest when a digest is given, else name:tag.
  std::string pull_ref() const;
};

}  // namespace kiln::oci
