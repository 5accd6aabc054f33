// Remote::open_blob: a Reader over a blob that survives dropped connections.
// On a connection failure mid-body it asks again with `Range: bytes=N-` and
// carries on from byte N; a registry that ignores Range (200 instead of 206)
// has its first N bytes skipped. The digest is checked by whoever consumes the
// bytes (Store::put_blob, or a VerifyingReader in copy).
#include <cerrno>

#include "registry/remote.hpp"

namespace kiln::registry {

namespace {

class BlobReader final : public Reader {
 public:
  BlobReader(Remote remote, oci::Descriptor d, std::string url, int64_t offset, BodyUse use)
      : remote_(std::move(remote)),
        d_(std::move(d)),
        url_(std::move(url)),
        got_(offset),
        use_(use) {
    what_ = remote_.name() + ": blob " + d_.digest.str();
  }

  Result<size_t> read(std::span<std::byte> buf) override {
    for (;;) {
      if (!ex_) TRY(open_at());
      auto n = ex_->read(buf);
      if (n && *n > 0) {
        got_ += static_cast<int64_t>(*n);
        if (got_ > d_.size)
          return fail(what_, ": the registry sent more than the expected ", d_.size, " bytes");
        return n;
      }
      Error err;
      if (n) {  // clean end of body
        if (got_ >= d_.size) return size_t{0};
        err = Error{what_ + ": connection closed after " + std::to_string(got_) + " of " +
                        std::to_string(d_.size) + " bytes",
                    {},
                    0,
                    {},
                    ECONNRESET};
      } else {
        err = n.error();
      }
      if (!retryable_error(err) || !remote_.client().options().retry.allows(++failures_)) {
        if (err.message.find(d_.digest.str()) == std::string::npos)
          err.message = what_ + ": " + err.message;
        return tl::unexpected(err);
      }
      ex_.reset();
      remote_.client().backoff(failures_);
    }
  }

 private:
  Status open_at() {
    Request req;
    req.url = url_;
    req.use = use_;
    if (got_ > 0) req.headers.emplace_back("Range", "bytes=" + std::to_string(got_) + "-");
    TRY_ASSIGN(auto ex, remote_.client().send(req, {Scope::pull(remote_.repository())}));
    int s = ex->response().status;
    if (s == 206 && got_ > 0) {
      std::string cr = ex->response().header("content-range");
      if (!cr.starts_with("bytes " + std::to_string(got_) + "-"))
        return fail(what_, ": the registry resumed at the wrong offset (", cr, ")");
    } else if (s == 200) {
      // Range ignored: skip what we already have.
      std::vector<std::byte> skip(64 * 1024);
      int64_t left = got_;
      while (left > 0) {
        auto k = ex->read(
            std::span(skip).first(static_cast<size_t>(std::min<int64_t>(left, skip.size()))));
        if (!k) return tl::unexpected(k.error());
        if (*k == 0) return fail(what_, ": the registry sent a shorter blob on retry");
        left -= static_cast<int64_t>(*k);
      }
    } else {
      return tl::unexpected(exchange_error(*ex, what_));
    }
    ex_ = std::move(ex);
    return {};
  }

  Remote remote_;
  oci::Descriptor d_;
  std::string url_, what_;
  int64_t got_ = 0;
  BodyUse use_;
  std::unique_ptr<Exchange> ex_;
  int failures_ = 0;
};

}  // namespace

Result<std::unique_ptr<Reader>> Remote::open_blob(const oci::Descriptor& d, int64_t offset,
                                                  BodyUse use) {
  TRY_ASSIGN(std::string url, client_->url("/v2/" + repo_ + "/blobs/" + d.digest.str()));
  auto r = std::make_unique<BlobReader>(*this, d, url, offset, use);
  return std::unique_ptr<Reader>(std::move(r));
}

}  // namespace kiln::registry
