// Remote::upload_blob: HEAD, then a cross-repository mount when a source
// repository is known, else POST to open an upload session and either one
// streamed PUT (small blobs) or PATCH chunks then a closing PUT (large blobs).
// A failed chunk is resumed where the registry says the upload stands (GET on
// the session gives its Range); a failed session is started again. Every
// Location is validated, and credentials only go to the registry's origin.
#include <cerrno>
#include <charconv>

#include "base/log.hpp"
#include "registry/remote.hpp"
#include "registry/url.hpp"

namespace kiln::registry {

namespace {

// At most `left` bytes of an owned reader (one chunk of a blob).
class LimitedReader final : public Reader {
 public:
  LimitedReader(std::unique_ptr<Reader> inner, int64_t left)
      : inner_(std::move(inner)), left_(left) {}
  Result<size_t> read(std::span<std::byte> buf) override {
    if (left_ <= 0) return size_t{0};
    if (static_cast<int64_t>(buf.size()) > left_) buf = buf.first(static_cast<size_t>(left_));
    TRY_ASSIGN(size_t n, inner_->read(buf));
    left_ -= static_cast<int64_t>(n);
    return n;
  }

 private:
  std::unique_ptr<Reader> inner_;
  int64_t left_;
};

// The end offset (exclusive) from a "Range: 0-N" upload status header, at
// most `sent` (the end of what kiln has sent): a registry cannot claim bytes it
// was never given, whatever figure it sends.
int64_t range_end(const std::string& h, int64_t sent) {
  size_t dash = h.find('-');
  if (dash == std::string::npos) return 0;
  int64_t last = 0;
  auto [end, ec] = std::from_chars(h.data() + dash + 1, h.data() + h.size(), last);
  // Registries answer "0-0" both for nothing and for one byte; chunks are far
  // larger than a byte, so read it as nothing.
  if (ec != std::errc() || last <= 0) return 0;
  return last >= sent ? sent : last + 1;
}

}  // namespace

Result<UploadOutcome> Remote::upload_blob(const oci::Descriptor& d, const BlobOpener& open,
                                          const UploadOptions& opts) {
  TRY_ASSIGN(bool have, has_blob(d, true));
  if (have) return UploadOutcome::existed;
  const RetryPolicy& policy = client_->options().retry;
  for (int attempt = 1;; ++attempt) {
    auto r = upload_once(d, open, opts, attempt == 1 && !opts.mount_from.empty());
    if (r) return r;
    if (!retryable_error(r.error()) || !policy.allows(attempt)) return r;
    log_debug(r.error().message + "; starting the upload again");
    client_->backoff(attempt);
  }
}

Result<UploadOutcome> Remote::upload_once(const oci::Descriptor& d, const BlobOpener& open,
                                          const UploadOptions& opts, bool try_mount) {
  std::string obj = "blob " + d.digest.str();
  Scopes scopes{Scope::push(repo_)};
  std::string path = "/v2/" + repo_ + "/blobs/uploads/";
  if (try_mount) {
    scopes.add(Scope::pull(opts.mount_from));
    path += "?mount=" + query_escape(d.digest.str()) + "&from=" + query_escape(opts.mount_from);
  }
  TRY_ASSIGN(std::string url, client_->url(path));
  Request post;
  post.method = "POST";
  post.url = url;
  TRY_ASSIGN(auto ex, client_->send(post, scopes));
  const Response& pr = ex->response();
  if (pr.status == 201 && try_mount) return UploadOutcome::mounted;
  if (pr.status != 202) return tl::unexpected(exchange_error(*ex, what(obj + ": starting upload")));
  TRY_ASSIGN(Url base, Url::parse(url));
  auto loc = validate_location(base, pr.header("location"), client_->insecure());
  if (!loc) return fail(what(obj), ": ", loc.error().message);
  std::string location = loc->url.str();
  int64_t chunk = opts.chunk_size;
  if (int64_t min = std::atoll(pr.header("oci-chunk-min-length").c_str()); min > chunk) chunk = min;
  ex.reset();

  Request put;
  put.method = "PUT";
  if (d.size > opts.monolithic_max) {
    TRY_ASSIGN(location, upload_chunks(d, open, location, chunk));
  } else {
    put.open_body = [open] { return open(0); };
    put.body_size = d.size;
  }
  TRY_ASSIGN(Url lu, Url::parse(location));
  put.url = lu.with_query("digest", d.digest.str()).str();
  // Not retried as is: a broken PUT leaves the session in an unknown state, so
  // upload_blob starts a new one.
  TRY_ASSIGN(auto done, client_->send(put, {Scope::push(repo_)}, false));
  int s = done->response().status;
  if (s != 201 && s != 204 && s != 200)
    return tl::unexpected(exchange_error(*done, what(obj + ": completing upload")));
  if (std::string dcd = done->response().header("docker-content-digest");
      !dcd.empty() && dcd != d.digest.str())
    return fail(what(obj), ": the registry stored it as ", dcd);
  return UploadOutcome::uploaded;
}

Result<std::string> Remote::upload_chunks(const oci::Descriptor& d, const BlobOpener& open,
                                          std::string location, int64_t chunk) {
  std::string obj = "blob " + d.digest.str();
  const RetryPolicy& policy = client_->options().retry;
  int64_t off = 0;
  int failures = 0;
  while (off < d.size) {
    int64_t len = std::min(chunk, d.size - off);
    Request patch;
    patch.method = "PATCH";
    patch.url = location;
    patch.headers.emplace_back("Content-Range",
                               std::to_string(off) + "-" + std::to_string(off + len - 1));
    patch.open_body = [open, off, len]() -> Result<std::unique_ptr<Reader>> {
      TRY_ASSIGN(auto r, open(off));
      return std::unique_ptr<Reader>(new LimitedReader(std::move(r), len));
    };
    patch.body_size = len;
    auto ex = client_->send(patch, {Scope::push(repo_)}, false);
    Error err;
    if (ex && (*ex)->response().status == 202) {
      TRY_ASSIGN(Url cur, Url::parse(location));
      auto loc = validate_location(cur, (*ex)->response().header("location"), client_->insecure());
      if (!loc) return fail(what(obj), ": ", loc.error().message);
      location = loc->url.str();
      int64_t end = range_end((*ex)->response().header("range"), off + len);
      off = end > off ? end : off + len;
      continue;
    }
    err = ex ? exchange_error(**ex, what(obj + ": uploading a chunk")) : ex.error();
    bool transient = retryable_error(err) || err.http_status == 416;
    if (!transient || !policy.allows(++failures)) return tl::unexpected(err);
    log_debug(err.message + "; asking the registry where the upload stands");
    client_->backoff(failures);
    // Where does the session stand? The answer carries the offset and a fresh Location.
    Request status;
    status.url = location;
    TRY_ASSIGN(auto st, client_->send(status, {Scope::push(repo_)}));
    if (st->response().status != 204 && st->response().status != 200)
      return tl::unexpected(exchange_error(*st, what(obj + ": upload status")));
    TRY_ASSIGN(Url cur, Url::parse(location));
    if (std::string l = st->response().header("location"); !l.empty()) {
      auto loc = validate_location(cur, l, client_->insecure());
      if (!loc) return fail(what(obj), ": ", loc.error().message);
      location = loc->url.str();
    }
    off = range_end(st->response().header("range"), off + len);
  }
  return location;
}

}  // namespace kiln::registry
