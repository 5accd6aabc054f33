// Streaming compressors for layers. gzip uses ISA-L's igzip when the build has
// it (several times faster than zlib at a similar ratio) and zlib otherwise;
// either way the gzip framing (header and trailer) is written here so that it
// is byte-for-byte fixed.
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <thread>
#include <vector>

#include "layers/compression.hpp"

#ifdef KILN_HAVE_ISAL
#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#endif

namespace kiln::layers {

namespace {

// gzip member header: magic, deflate, no flags, mtime 0, no extra flags, OS
// unknown (255) — the same bytes Go's compress/gzip writes, so layers do not
// depend on the host or the clock.
constexpr unsigned char kGzipHeader[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};

// Input is gathered into blocks of this size before it reaches the deflater,
// so the output depends only on the bytes, not on how callers split them.
constexpr size_t kGzipBlock = 256 << 10;

Status write_bytes(Writer& out, const void* p, size_t n) {
  return out.write(std::span(static_cast<const std::byte*>(p), n));
}

Status gzip_trailer(Writer& out, uint32_t crc, uint64_t size) {
  unsigned char t[8];
  for (int i = 0; i < 4; ++i) {
    t[i] = static_cast<unsigned char>(crc >> (8 * i));
    t[4 + i] = static_cast<unsigned char>(size >> (8 * i));
  }
  return write_bytes(out, t, sizeof t);
}

// Common block gathering for both gzip backends.
class GzipWriterBase : public CompressWriter {
 public:
  explicit GzipWriterBase(Writer& out) : out_(out) { block_.reserve(kGzipBlock); }
  using Writer::write;
  Status write(std::span<const std::byte> data) override {
    while (!data.empty()) {
      size_t n = std::min(data.size(), kGzipBlock - block_.size());
      block_.insert(block_.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(n));
      data = data.subspan(n);
      if (block_.size() == kGzipBlock) {
        TRY(deflate_block(false));
        block_.clear();
      }
    }
    return {};
  }
  Status finish() override {
    TRY(deflate_block(true));
    block_.clear();
    return {};
  }

 protected:
  virtual Status deflate_block(bool last) = 0;
  Writer& out_;
  std::vector<std::byte> block_;
  std::vector<unsigned char> obuf_ = std::vector<unsigned char>(kGzipBlock + (64 << 10));
  uint32_t crc_ = 0;
  uint64_t total_ = 0;
  bool header_done_ = false;
};

#ifdef KILN_HAVE_ISAL
class IsalGzipWriter : public GzipWriterBase {
 public:
  IsalGzipWriter(Writer& out, int level) : GzipWriterBase(out) {
    isal_deflate_init(&s_);
    // ISA-L has levels 0-3; map zlib-style levels onto them.
    s_.level = level < 0 ? 1 : level <= 3 ? (level == 0 ? 0 : 1) : level <= 6 ? 2 : 3;
    size_t lb = s_.level == 1   ? ISAL_DEF_LVL1_DEFAULT
                : s_.level == 2 ? ISAL_DEF_LVL2_DEFAULT
                : s_.level == 3 ? ISAL_DEF_LVL3_DEFAULT
                                : 0;
    level_buf_.resize(lb);
    s_.level_buf = lb ? level_buf_.data() : nullptr;
    s_.level_buf_size = static_cast<uint32_t>(lb);
    s_.gzip_flag = IGZIP_DEFLATE;  // raw deflate: framing is ours
  }

 protected:
  Status deflate_block(bool last) override {
    if (!header_done_) {
      TRY(write_bytes(out_, kGzipHeader, sizeof kGzipHeader));
      header_done_ = true;
    }
    auto* in = reinterpret_cast<uint8_t*>(block_.data());
    crc_ = crc32_gzip_refl(crc_, in, block_.size());
    total_ += block_.size();
    s_.next_in = in;
    s_.avail_in = static_cast<uint32_t>(block_.size());
    s_.end_of_stream = last ? 1 : 0;
    s_.flush = NO_FLUSH;
    do {
      s_.next_out = obuf_.data();
      s_.avail_out = static_cast<uint32_t>(obuf_.size());
      int rc = isal_deflate(&s_);
      if (rc != COMP_OK) return fail("gzip compression failed (isa-l error ", rc, ")");
      size_t produced = obuf_.size() - s_.avail_out;
      if (produced) TRY(write_bytes(out_, obuf_.data(), produced));
    } while (s_.avail_in > 0 || (last && s_.internal_state.state != ZSTATE_END));
    if (last) TRY(gzip_trailer(out_, crc_, total_));
    return {};
  }

 private:
  isal_zstream s_{};
  std::vector<uint8_t> level_buf_;
};
#endif

class ZlibGzipWriter : public GzipWriterBase {
 public:
  ZlibGzipWriter(Writer& out, int level) : GzipWriterBase(out) {
    ok_ = deflateInit2(&z_, level < 0 ? Z_DEFAULT_COMPRESSION : std::min(level, 9), Z_DEFLATED, -15,
                       8, Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~ZlibGzipWriter() override {
    if (ok_) deflateEnd(&z_);
  }

 protected:
  Status deflate_block(bool last) override {
    if (!ok_) return fail("gzip compression: zlib initialisation failed");
    if (!header_done_) {
      TRY(write_bytes(out_, kGzipHeader, sizeof kGzipHeader));
      header_done_ = true;
    }
    auto* in = reinterpret_cast<Bytef*>(block_.data());
    crc_ = static_cast<uint32_t>(crc32(crc_, in, static_cast<uInt>(block_.size())));
    total_ += block_.size();
    z_.next_in = in;
    z_.avail_in = static_cast<uInt>(block_.size());
    int rc;
    do {
      z_.next_out = obuf_.data();
      z_.avail_out = static_cast<uInt>(obuf_.size());
      rc = deflate(&z_, last ? Z_FINISH : Z_NO_FLUSH);
      if (rc == Z_STREAM_ERROR) return fail("gzip compression failed (zlib)");
      size_t produced = obuf_.size() - z_.avail_out;
      if (produced) TRY(write_bytes(out_, obuf_.data(), produced));
    } while (z_.avail_in > 0 || (last && rc != Z_STREAM_END));
    if (last) TRY(gzip_trailer(out_, crc_, total_));
    return {};
  }

 private:
  z_stream z_{};
  bool ok_ = false;
};

class ZstdWriter : public CompressWriter {
 public:
  ZstdWriter(Writer& out, int level, int threads) : out_(out), cctx_(ZSTD_createCCtx()) {
    if (!cctx_) return;
    if (level != -1) ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level);
    // Always multi-threaded (even with one worker): the output of zstd's
    // threaded mode is the same whatever the worker count.
    int n = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
    ok_ = !ZSTD_isError(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_nbWorkers, std::max(n, 1)));
    // Jobs of 2 MiB instead of the default (up to 8 MiB at the fast levels)
    // keep the in-flight buffers, and so peak RSS, under 64 MiB; the ratio
    // does not move measurably. Fixed, so output stays deterministic.
    if (ok_) ZSTD_CCtx_setParameter(cctx_, ZSTD_c_jobSize, 2 << 20);
  }
  ~ZstdWriter() override { ZSTD_freeCCtx(cctx_); }
  using Writer::write;
  Status write(std::span<const std::byte> data) override {
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    while (in.pos < in.size)
      TRY(step(in, ZSTD_e_continue));
    return {};
  }
  Status finish() override {
    ZSTD_inBuffer in{nullptr, 0, 0};
    for (;;) {
      TRY_ASSIGN(size_t left, step(in, ZSTD_e_end));
      if (left == 0) return {};
    }
  }

 private:
  Result<size_t> step(ZSTD_inBuffer& in, ZSTD_EndDirective mode) {
    if (!ok_) return fail("zstd compression: multi-threaded zstd is unavailable");
    ZSTD_outBuffer o{obuf_.data(), obuf_.size(), 0};
    size_t rc = ZSTD_compressStream2(cctx_, &o, &in, mode);
    if (ZSTD_isError(rc)) return fail("zstd compression failed: ", ZSTD_getErrorName(rc));
    if (o.pos) TRY(write_bytes(out_, obuf_.data(), o.pos));
    return rc;
  }
  Writer& out_;
  ZSTD_CCtx* cctx_;
  bool ok_ = false;
  std::vector<unsigned char> obuf_ = std::vector<unsigned char>(ZSTD_CStreamOutSize());
};

class PlainWriter : public CompressWriter {
 public:
  explicit PlainWriter(Writer& out) : out_(out) {}
  using Writer::write;
  Status write(std::span<const std::byte> data) override { return out_.write(data); }
  Status finish() override { return {}; }

 private:
  Writer& out_;
};

}  // namespace

Result<std::unique_ptr<CompressWriter>> make_compressor(Compression c, Writer& out, int level,
                                                        int threads) {
  switch (c) {
    case Compression::none:
      return std::unique_ptr<CompressWriter>(new PlainWriter(out));
    case Compression::gzip:
      if (level < -1 || level > 9) return fail("gzip level ", level, " is not in 0-9");
#ifdef KILN_HAVE_ISAL
      return std::unique_ptr<CompressWriter>(new IsalGzipWriter(out, level));
#else
      return make_zlib_gzip(out, level);
#endif
    case Compression::zstd:
      if (level != -1 && (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()))
        return fail("zstd level ", level, " is out of range");
      return std::unique_ptr<CompressWriter>(new ZstdWriter(out, level, threads));
    case Compression::unknown:
      break;
  }
  return fail("unknown compression");
}

const char* gzip_backend() {
#ifdef KILN_HAVE_ISAL
  return "isa-l";
#else
  return "zlib";
#endif
}

Result<Compression> parse_compression(std::string_view s) {
  if (s == "gzip") return Compression::gzip;
  if (s == "zstd") return Compression::zstd;
  if (s == "none" || s == "uncompressed") return Compression::none;
  return fail("unknown compression \"", s, "\" (want gzip, zstd or none)");
}

std::unique_ptr<CompressWriter> make_zlib_gzip(Writer& out, int level) {
  return std::unique_ptr<CompressWriter>(new ZlibGzipWriter(out, level));
}

}  // namespace kiln::layers
