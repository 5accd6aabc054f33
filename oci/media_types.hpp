// Media types of the OCI image-spec and Docker's v2 schema 2, and what kind of
// object each names.
#pragma once

#include <string_view>

namespace kiln::oci::media {

inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kOciForeignLayer =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
inline constexpr std::string_view kOciForeignLayerGzip =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr std::string_view kOciForeignLayerZstd =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
inline constexpr std::string_view kOciEmpty = "application/vnd.oci.empty.v1+json";

inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerForeignLayerGzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
inline constexpr std::string_view kDockerSchema1 =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

enum class Compression { none, gzip, zstd, unknown };

bool is_manifest(std::string_view mt);  // single-platform image manifest
bool is_index(std::string_view mt);     // OCI index or Docker manifest list
bool is_config(std::string_view mt);
bool is_layer(std::string_view mt);  // any layer type, foreign included
bool is_foreign_layer(std::string_view mt);
bool is_schema1(std::string_view mt);
// Compression a layer media type declares (unknown for non-layers).
Compression layer_compression(std::string_view mt);
// The OCI layer media type for a compression.
std::string_view oci_layer_type(Compression c);
// The Accept header value for manifest requests: every manifest and index type.
std::string_view manifest_accept();

}  // namespace kiln::oci::media
