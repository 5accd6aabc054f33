#include "oci/media_types.hpp"

namespace kiln::oci::media {

bool is_manifest(std::string_view mt) {
  return mt == kOciManifest || mt == kDockerManifest;
}
bool is_index(std::string_view mt) {
  return mt == kOciIndex || mt == kDockerManifestList;
}
bool is_config(std::string_view mt) {
  return mt == kOciConfig || mt == kDockerConfig;
}
bool is_foreign_layer(std::string_view mt) {
  return mt == kOciForeignLayer || mt == kOciForeignLayerGzip || mt == kOciForeignLayerZstd ||
         mt == kDockerForeignLayerGzip;
}
bool is_layer(std::string_view mt) {
  return mt == kOciLayer || mt == kOciLayerGzip || mt == kOciLayerZstd || mt == kDockerLayerGzip ||
         is_foreign_layer(mt);
}
bool is_schema1(std::string_view mt) {
  return mt == kDockerSchema1 || mt == kDockerSchema1Signed;
}

Compression layer_compression(std::string_view mt) {
  if (mt == kOciLayer || mt == kOciForeignLayer) return Compression::none;
  if (mt == kOciLayerGzip || mt == kDockerLayerGzip || mt == kOciForeignLayerGzip ||
      mt == kDockerForeignLayerGzip)
    return Compression::gzip;
  if (mt == kOciLayerZstd || mt == kOciForeignLayerZstd) return Compression::zstd;
  return Compression::unknown;
}

std::string_view oci_layer_type(Compression c) {
  switch (c) {
    case Compression::gzip:
      return kOciLayerGzip;
    case Compression::zstd:
      return kOciLayerZstd;
    default:
      return kOciLayer;
  }
}

std::string_view manifest_accept() {
  return "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
         "application/vnd.docker.distribution.manifest.v2+json, "
         "application/vnd.docker.distribution.manifest.list.v2+json";
}

}  // namespace kiln::oci::media
