// Decompression for layers, chosen from the bytes rather than the media type:
// registries and old tools label layers loosely, and a plain tar sometimes
// travels under a gzip type.
#include <zlib.h>
#include <zstd.h>
#ifdef KILN_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include <cstring>
#include <vector>

#include "layers/compression.hpp"

namespace kiln::layers {

Compression sniff_compression(std::span<const std::byte> head) {
  auto b = [&](size_t i) { return std::to_integer<unsigned>(head[i]); };
  if (head.size() >= 2 && b(0) == 0x1f && b(1) == 0x8b) return Compression::gzip;
  if (head.size() >= 4 && b(0) == 0x28 && b(1) == 0xb5 && b(2) == 0x2f && b(3) == 0xfd)
    return Compression::zstd;
  return Compression::none;
}

namespace {

constexpr size_t kInBuf = 256 << 10;

class DecompressReader : public Reader {
 public:
  DecompressReader(Reader& in, std::string what) : in_(in), what_(std::move(what)) {}
  ~DecompressReader() override {
    if (zinit_) inflateEnd(&z_);
    ZSTD_freeDStream(zd_);
  }

  Result<size_t> read(std::span<std::byte> buf) override {
    if (buf.empty()) return size_t{0};
    if (!sniffed_) TRY(sniff());
    switch (mode_) {
      case Compression::gzip:
        return read_gzip(buf);
      case Compression::zstd:
        return read_zstd(buf);
      default:
        return read_plain(buf);
    }
  }

 private:
  // Fills the input buffer with at least 4 bytes (or all there is) and decides.
  Status sniff() {
    ibuf_.resize(kInBuf);
    while (iend_ < 4) {
      TRY_ASSIGN(size_t n, in_.read(std::span(ibuf_).subspan(iend_)));
      if (n == 0) {
        eof_ = true;
        break;
      }
      iend_ += n;
    }
    mode_ = sniff_compression(std::span(ibuf_).first(iend_));
    sniffed_ = true;
    if (mode_ == Compression::gzip) {
#ifdef KILN_HAVE_ISAL
      isal_ = std::make_unique<inflate_state>();
      isal_inflate_init(isal_.get());
      isal_->crc_flag = ISAL_GZIP;
#else
      if (inflateInit2(&z_, 15 + 16) != Z_OK) return fail(what_, ": zlib initialisation failed");
      zinit_ = true;
#endif
    } else if (mode_ == Compression::zstd) {
      zd_ = ZSTD_createDStream();
      if (!zd_) return fail(what_, ": zstd initialisation failed");
    }
    return {};
  }

  // Refills the input buffer when it is used up; false at end of input.
  Result<bool> refill() {
    if (ipos_ < iend_) return true;
    if (eof_) return false;
    ipos_ = iend_ = 0;
    TRY_ASSIGN(size_t n, in_.read(ibuf_));
    if (n == 0) {
      eof_ = true;
      return false;
    }
    iend_ = n;
    return true;
  }

  Result<size_t> read_plain(std::span<std::byte> buf) {
    TRY_ASSIGN(bool more, refill());
    if (!more) return size_t{0};
    size_t n = std::min(buf.size(), iend_ - ipos_);
    std::memcpy(buf.data(), ibuf_.data() + ipos_, n);
    ipos_ += n;
    return n;
  }

#ifdef KILN_HAVE_ISAL
  // igzip inflates two to three times as fast as zlib; it parses the gzip
  // header and checks the trailer's CRC and size itself.
  Result<size_t> read_gzip(std::span<std::byte> buf) {
    inflate_state& s = *isal_;
    for (;;) {
      if (member_done_) {
        // Another gzip member may follow (pigz and concatenation write them).
        TRY_ASSIGN(bool more, refill());
        if (!more) return size_t{0};
        isal_inflate_reset(&s);
        s.crc_flag = ISAL_GZIP;
        member_done_ = false;
      }
      TRY_ASSIGN(bool more, refill());
      s.next_in = reinterpret_cast<uint8_t*>(ibuf_.data() + (more ? ipos_ : 0));
      s.avail_in = more ? static_cast<uint32_t>(iend_ - ipos_) : 0;
      size_t room = std::min<size_t>(buf.size(), 1u << 30);
      s.next_out = reinterpret_cast<uint8_t*>(buf.data());
      s.avail_out = static_cast<uint32_t>(room);
      int rc = isal_inflate(&s);
      if (more) ipos_ = iend_ - s.avail_in;
      size_t produced = room - s.avail_out;
      if (rc != ISAL_DECOMP_OK)
        return fail(what_, ": corrupt gzip data (",
                    rc == ISAL_INCORRECT_CHECKSUM   ? "CRC or size in the trailer does not match"
                    : rc == ISAL_INVALID_WRAPPER    ? "not a gzip header"
                    : rc == ISAL_UNSUPPORTED_METHOD ? "not deflate-compressed"
                    : rc == ISAL_NEED_DICT          ? "needs a preset dictionary"
                                                    : "invalid deflate data",
                    ")");
      if (s.block_state == ISAL_BLOCK_FINISH)
        member_done_ = true;
      else if (!more && produced == 0)
        return fail(what_, ": gzip stream is truncated");
      if (produced) return produced;
    }
  }
#else
  Result<size_t> read_gzip(std::span<std::byte> buf) {
    for (;;) {
      if (member_done_) {
        // Another gzip member may follow (pigz and concatenation write them).
        TRY_ASSIGN(bool more, refill());
        if (!more) return size_t{0};
        if (inflateReset(&z_) != Z_OK) return fail(what_, ": zlib reset failed");
        member_done_ = false;
      }
      TRY_ASSIGN(bool more, refill());
      // With no input left inflate may still hold output; only when it makes
      // no progress is the stream truncated.
      z_.next_in = more ? reinterpret_cast<Bytef*>(ibuf_.data() + ipos_) : nullptr;
      z_.avail_in = more ? static_cast<uInt>(iend_ - ipos_) : 0;
      z_.next_out = reinterpret_cast<Bytef*>(buf.data());
      z_.avail_out = static_cast<uInt>(std::min<size_t>(buf.size(), 1u << 30));
      int rc = inflate(&z_, Z_NO_FLUSH);
      if (more) ipos_ = iend_ - z_.avail_in;
      size_t produced = std::min<size_t>(buf.size(), 1u << 30) - z_.avail_out;
      if (rc == Z_STREAM_END) {
        member_done_ = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return fail(what_, ": corrupt gzip data (", z_.msg ? z_.msg : "inflate error", ")");
      } else if (!more && produced == 0) {
        return fail(what_, ": gzip stream is truncated");
      }
      if (produced) return produced;
    }
  }
#endif

  Result<size_t> read_zstd(std::span<std::byte> buf) {
    for (;;) {
      TRY_ASSIGN(bool more, refill());
      ZSTD_inBuffer in{more ? ibuf_.data() + ipos_ : nullptr, more ? iend_ - ipos_ : 0, 0};
      ZSTD_outBuffer out{buf.data(), buf.size(), 0};
      size_t rc = ZSTD_decompressStream(zd_, &out, &in);
      if (ZSTD_isError(rc)) return fail(what_, ": corrupt zstd data (", ZSTD_getErrorName(rc), ")");
      // 0 means a frame just ended; only calls that moved bytes say so (an idle
      // call after a frame's end asks for the next frame's header instead).
      if (in.pos || out.pos) zrc_ = rc;
      ipos_ += in.pos;
      if (out.pos) return out.pos;
      if (!more) {
        if (zrc_ != 0) return fail(what_, ": zstd stream is truncated");
        return size_t{0};
      }
    }
  }

  Reader& in_;
  std::string what_;
  std::vector<std::byte> ibuf_;
  size_t ipos_ = 0, iend_ = 0;
  bool eof_ = false, sniffed_ = false;
  Compression mode_ = Compression::none;
  z_stream z_{};
  bool zinit_ = false, member_done_ = false;
#ifdef KILN_HAVE_ISAL
  std::unique_ptr<inflate_state> isal_;
#endif
  ZSTD_DStream* zd_ = nullptr;
  size_t zrc_ = 0;
};

}  // namespace

std::unique_ptr<Reader> make_decompressor(Reader& in, std::string what) {
  return std::unique_ptr<Reader>(new DecompressReader(in, std::move(what)));
}

}  // namespace kiln::layers
