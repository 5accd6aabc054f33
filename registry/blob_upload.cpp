// Remote::upload_blob: HEAD, then a cross-repository mount when a source
// repository is known, else POST to open an upload session and either one
// streamed PUT (small blobs) or PATCH chunks then a closing PUT (large blobs).
// A failed chunk is resumed where the registry says the upload stands (GET on
// the session gives its Range); a failed session is started again. Every
// Location is validated, and credentials only go to the registry's origin.
// The blob is verified as it is sent (BlobCursor): a source that is not what
// its descriptor says fails the request that would complete the upload.
#include <cerrno>
#include <charconv>
#include <memory>

#include "base/log.hpp"
#include "registry/remote.hpp"
#include "registry/url.hpp"

namespace kiln::registry {

// One blob read in order across the requests of one upload and hashed as it
// goes. The read that reaches the blob's last byte first checks that the
// source ends there and that the digest matches, so a source that lies (a
// store file swapped for a symlink to a secret of the same size, a registry
// serving other bytes) fails the request that would complete the upload —
// the monolithic PUT or the last PATCH — before the registry has the blob
// whole. libcurl reads exactly Content-Length bytes and would never reach a
// check at end of stream. A request sent again (a retry, an auth challenge)
// reopens the source at the last accepted chunk and hashes forward from there.
class BlobCursor {
 public:
  BlobCursor(BlobOpener open, const oci::Descriptor& d, std::string what)
      : open_(std::move(open)), d_(d), what_(std::move(what)) {}

  // Positions the cursor at `off` (at most the blob's size).
  Status seek(int64_t off) {
    if (in_ && pos_ == off) return {};
    bool from_mark = mark_pos_ <= off;
    int64_t base = from_mark ? mark_pos_ : 0;
    TRY_ASSIGN(in_, open_(base));
    hash_ = from_mark ? mark_hash_.clone() : Sha256();
    pos_ = base;
    std::vector<std::byte> skip(64 * 1024);
    while (pos_ < off) {
      auto want = static_cast<size_t>(std::min<int64_t>(off - pos_, std::ssize(skip)));
      TRY_ASSIGN(size_t n, in_->read(std::span(skip).first(want)));
      if (n == 0) return fail(what_, ": ended after ", pos_, " of ", d_.size, " bytes");
      hash_.update(std::span(skip).first(n));
      pos_ += static_cast<int64_t>(n);
    }
    return {};
  }

  // The registry accepted everything before `off`: a resend starts no earlier.
  void accepted(int64_t off) {
    if (off != pos_ || off <= mark_pos_) return;
    mark_pos_ = pos_;
    mark_hash_ = hash_.clone();
  }

  // Up to `end` (exclusive).
  Result<size_t> read(std::span<std::byte> buf, int64_t end) {
    if (pos_ >= end) {
      if (pos_ == d_.size) TRY(check_end());
      return size_t{0};
    }
    if (std::ssize(buf) > end - pos_) buf = buf.first(static_cast<size_t>(end - pos_));
    TRY_ASSIGN(size_t n, in_->read(buf));
    if (n == 0) return fail(what_, ": ended after ", pos_, " of ", d_.size, " bytes");
    hash_.update(buf.first(n));
    pos_ += static_cast<int64_t>(n);
    if (pos_ == d_.size) TRY(check_end());
    return n;
  }

 private:
  Status check_end() {
    std::byte extra;
    TRY_ASSIGN(size_t more, in_->read(std::span(&extra, 1)));
    if (more > 0) return fail(what_, ": more bytes than the expected ", d_.size);
    if (std::string got = hash_.clone().hex_final(); got != d_.digest.hex())
      return fail(what_, ": content has digest sha256:", got, "; the upload was stopped");
    return {};
  }

  BlobOpener open_;
  oci::Descriptor d_;
  std::string what_;
  std::unique_ptr<Reader> in_;
  int64_t pos_ = 0;
  Sha256 hash_;
  int64_t mark_pos_ = 0;
  Sha256 mark_hash_;
};

namespace {

// One request's body: the cursor's bytes from where it stands up to `end`.
class CursorBody final : public Reader {
 public:
  CursorBody(std::shared_ptr<BlobCursor> cursor, int64_t end)
      : cursor_(std::move(cursor)), end_(end) {}
  Result<size_t> read(std::span<std::byte> buf) override { return cursor_->read(buf, end_); }

 private:
  std::shared_ptr<BlobCursor> cursor_;
  int64_t end_;
};

// A request body for bytes [off, end) of the blob.
std::function<Result<std::unique_ptr<Reader>>()> cursor_body(std::shared_ptr<BlobCursor> cursor,
                                                             int64_t off, int64_t end) {
  return [cursor = std::move(cursor), off, end]() -> Result<std::unique_ptr<Reader>> {
    TRY(cursor->seek(off));
    return std::unique_ptr<Reader>(new CursorBody(cursor, end));
  };
}

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

  auto cursor = std::make_shared<BlobCursor>(open, d, what(obj));
  Request put;
  put.method = "PUT";
  if (d.size > opts.monolithic_max) {
    TRY_ASSIGN(location, upload_chunks(d, cursor, location, chunk));
  } else {
    put.open_body = cursor_body(cursor, 0, d.size);
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

Result<std::string> Remote::upload_chunks(const oci::Descriptor& d,
                                          std::shared_ptr<BlobCursor> cursor, std::string location,
                                          int64_t chunk) {
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
    patch.open_body = cursor_body(cursor, off, off + len);
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
      cursor->accepted(off);
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
