// Image archives: docker-archive (what `docker save` / `podman save` write:
// manifest.json, config JSON, uncompressed layer tars) and oci-archive (a tar
// of an OCI image layout), to and from the local store.
//
// Both directions stream: layers go blob → (decompress) → tar entry without
// being held in memory. Archives are hostile input: entry names are only keys
// into a table (nothing is extracted by name), every blob is verified before
// it is stored, and a failed load removes the blobs it added.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "base/stream.hpp"
#include "oci/store.hpp"

namespace kiln::layers {

enum class ArchiveFormat { docker, oci };

Result<ArchiveFormat> parse_archive_format(std::string_view s);  // "docker-archive", "oci-archive"

// Writes `images` as one archive into `out`. On failure `out` has been given
// part of an archive, never its end blocks: the caller drops what it holds (an
// uncommitted OutputTarget leaves nothing). Temporaries are gone on return.
Status save_archive(const oci::Store& store, const std::vector<oci::LocalImage>& images,
                    ArchiveFormat format, Writer& out);

// As save_archive, for single-manifest images whose manifest and config are
// in hand and whose layers `open` streams straight into the archive (oci) or,
// for docker-archive, through one temporary file in `tmp_dir` per layer (a tar
// header needs the uncompressed size before the bytes).
Status save_archive_from(const oci::BlobOpen& open, const std::vector<oci::LocalImage>& images,
                         ArchiveFormat format, Writer& out, const std::filesystem::path& tmp_dir);

struct LoadedImage {
  std::string name;  // normalized reference, "" for an unnamed image
  oci::Descriptor descriptor;
};

// Loads every image of a docker-archive or oci-archive (format detected from
// the content) into the store and names them.
Result<std::vector<LoadedImage>> load_archive(oci::Store& store, const std::filesystem::path& in);

}  // namespace kiln::layers
