#include "layers/layer_sink.hpp"

#include "base/files.hpp"
#include "layers/async_stream.hpp"
#include "layers/compression.hpp"

namespace kiln::layers {

struct LayerSink::Impl {
  oci::Store& store;
  LayerOptions opts;
  AtomicFile file;
  HashingWriter compressed{file};
  std::unique_ptr<CompressWriter> compressor;
  std::unique_ptr<HashingWriter> uncompressed;
  // Hashing and compression run beside the tree walk, as `tar | zstd` would.
  std::unique_ptr<AsyncWriter> async;

  Impl(oci::Store& s, const LayerOptions& o, AtomicFile f)
      : store(s), opts(o), file(std::move(f)) {}
};

LayerSink::LayerSink(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LayerSink::~LayerSink() = default;

Result<std::unique_ptr<LayerSink>> LayerSink::open(oci::Store& store, const LayerOptions& opts) {
  TRY_ASSIGN(AtomicFile f, store.new_blob_file());
  auto impl = std::make_unique<Impl>(store, opts, std::move(f));
  TRY_ASSIGN(impl->compressor,
             make_compressor(opts.compression, impl->compressed, opts.level, opts.threads));
  impl->uncompressed = std::make_unique<HashingWriter>(*impl->compressor);
  impl->async = std::make_unique<AsyncWriter>(*impl->uncompressed);
  return std::unique_ptr<LayerSink>(new LayerSink(std::move(impl)));
}

Writer& LayerSink::tar_stream() {
  return *impl_->async;
}

Result<WrittenLayer> LayerSink::commit() {
  auto& m = *impl_;
  TRY(m.async->finish());
  TRY(m.compressor->finish());
  WrittenLayer out;
  out.diff_id = oci::DiffId(oci::Digest::from_sha256_hex(m.uncompressed->hex_final()));
  out.uncompressed_size = static_cast<int64_t>(m.uncompressed->size());
  out.descriptor.media_type = std::string(oci::media::oci_layer_type(m.opts.compression));
  out.descriptor.digest = oci::Digest::from_sha256_hex(m.compressed.hex_final());
  out.descriptor.size = static_cast<int64_t>(m.compressed.size());
  TRY(m.store.commit_blob(m.file, out.descriptor.digest));
  return out;
}

}  // namespace kiln::layers
