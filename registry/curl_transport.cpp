// The libcurl Transport. Each exchange borrows a slot (a multi handle with one
// easy handle) from a pool; slots keep their connection caches, so requests
// reuse connections. Bodies are pulled: read() drives curl until data arrives,
// and the write callback pauses the transfer when the waiting read() is full,
// so memory stays bounded whatever the blob size. Callbacks are noexcept and
// record failures for read() to report.
//
// The slot is driven through libcurl's socket interface, not curl_multi_perform:
// kiln polls the sockets libcurl names and tells it which are ready. That lets
// TLS connections read ahead (one recv for several 16 KiB records instead of
// two per record): libcurl 7.88 only looks at the socket and at SSL_pending,
// which ignores read-ahead bytes, so kiln itself tells libcurl the socket is
// readable while OpenSSL still holds unread records.
#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <strings.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "base/files.hpp"
#include "base/log.hpp"
#include "registry/http.hpp"
#include "registry/proxy.hpp"
#include "registry/url.hpp"

namespace kiln::registry {

namespace {

constexpr size_t kHighWater = 1 << 20;  // pause the transfer past this much unread data
constexpr size_t kRecord = 16 * 1024;   // the most a TLS record carries
// libcurl hands the write callback at most this much at a time; a read() with
// kRecord of room left can always take the next piece.
static_assert(kRecord >= CURL_MAX_WRITE_SIZE);
constexpr int kMaxFruitless = 3;  // nudges in a row that deliver nothing

struct MultiDel {
  void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
struct EasyDel {
  void operator()(CURL* e) const { curl_easy_cleanup(e); }
};
struct SlistDel {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct StoreDel {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};

// Every TLS connection to a registry reads ahead, and when verifying gets the
// registry's shared trust store.
CURLcode setup_ssl_ctx(CURL*, void* ssl_ctx, void* store) noexcept {
  auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_default_read_buffer_len(ctx, 128 * 1024);
  if (store) SSL_CTX_set1_cert_store(ctx, static_cast<X509_STORE*>(store));
  return CURLE_OK;
}

struct Slot {
  // What libcurl asked to wait for, through its socket and timer callbacks:
  // sockets with CURL_POLL_IN/OUT/INOUT, and when to call it back regardless.
  // Declared first: they outlive the handles whose callbacks write them.
  std::vector<std::pair<curl_socket_t, int>> socks;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  std::unique_ptr<CURLM, MultiDel> multi;
  std::unique_ptr<CURL, EasyDel> easy;
};

int on_socket(CURL*, curl_socket_t fd, int what, void* slot_ptr, void*) noexcept {
  auto& socks = static_cast<Slot*>(slot_ptr)->socks;
  auto it = std::find_if(socks.begin(), socks.end(), [&](auto& e) { return e.first == fd; });
  if (what == CURL_POLL_REMOVE) {
    if (it != socks.end()) socks.erase(it);
  } else if (it != socks.end()) {
    it->second = what;
  } else {
    try {
      socks.emplace_back(fd, what);
    } catch (...) {
      return -1;
    }
  }
  return 0;
}

int on_timer(CURLM*, long ms, void* slot_ptr) noexcept {
  auto& deadline = static_cast<Slot*>(slot_ptr)->deadline;
  if (ms < 0)
    deadline.reset();
  else
    deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  return 0;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// "60s", "1.5s": a limit as messages state it.
std::string seconds_text(std::chrono::milliseconds ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%gs", static_cast<double>(ms.count()) / 1000);
  return buf;
}

int errno_for(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_CONNECT:
      return ECONNREFUSED;
    case CURLE_OPERATION_TIMEDOUT:
      return ETIMEDOUT;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return ECONNRESET;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return EPROTO;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return EADDRNOTAVAIL;
    default:
      return 0;
  }
}

class CurlTransport;

class CurlExchange final : public Exchange {
 public:
  CurlExchange(CurlTransport& t, std::unique_ptr<Slot> slot) : t_(t), slot_(std::move(slot)) {
    errbuf_[0] = '\0';
  }
  ~CurlExchange() override;
  Status begin(const Request& req);
  Result<size_t> read(std::span<std::byte> buf) override;
  const Response& response() const override { return resp_; }

  static size_t on_write(char* data, size_t size, size_t n, void* ud) noexcept;
  static size_t on_header(char* data, size_t size, size_t n, void* ud) noexcept;
  static size_t on_read(char* data, size_t size, size_t n, void* ud) noexcept;

 private:
  Status pump();
  Status check_pace(std::chrono::steady_clock::time_point round_start);
  Status act(curl_socket_t fd, int bits);
  bool tls_read_ahead() const;
  curl_socket_t nudge_socket() const;
  Error failure() const;

  CurlTransport& t_;
  std::unique_ptr<Slot> slot_;
  bool added_ = false;
  std::string what_;       // "GET url" for messages
  std::string proxy_;      // the proxy this exchange goes through, for messages
  std::string proxy_raw_;  // as configured, credentials and all: never shown
  Response resp_;
  bool head_done_ = false, done_ = false, paused_ = false;
  // Nudges in a row that delivered nothing. A partial record held by OpenSSL
  // needs the socket; a record with no body bytes (a chunk header) needs
  // another nudge: so up to kMaxFruitless nudges, with 1 ms polls between,
  // before only the socket (or a timer) wakes the next round.
  int fruitless_ = 0;
  uint64_t received_ = 0;  // header and body bytes so far
  // How slow the registry may be (BodyUse): a document's deadline, or a blob's
  // minimum rate, judged per window of time spent waiting in pump() (a slow
  // consumer pauses the transfer and is not the registry's fault).
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  int64_t min_rate_ = 0;
  std::chrono::steady_clock::duration window_{}, waited_{};
  uint64_t window_start_ = 0;  // received_ when the current window began
  CURLcode result_ = CURLE_OK;
  std::string buf_;  // received, not yet read
  size_t pos_ = 0;
  std::span<std::byte> out_;  // while read() waits: its buffer, filled to out_len_
  size_t out_len_ = 0;
  std::string body_;
  size_t body_pos_ = 0;
  std::unique_ptr<Reader> body_reader_;
  std::optional<Error> body_error_;
  bool write_failed_ = false;
  std::unique_ptr<curl_slist, SlistDel> headers_;
  char errbuf_[CURL_ERROR_SIZE];
};

class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(CurlOptions o) : opts_(std::move(o)) { global_init(); }

  Result<std::unique_ptr<Exchange>> start(const Request& req) override {
    auto ex = std::make_unique<CurlExchange>(*this, acquire());
    TRY(ex->begin(req));
    return std::unique_ptr<Exchange>(std::move(ex));
  }

  std::unique_ptr<Slot> acquire() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        auto s = std::move(idle_.back());
        idle_.pop_back();
        return s;
      }
    }
    auto s = std::make_unique<Slot>();
    s->multi.reset(curl_multi_init());
    s->easy.reset(curl_easy_init());
    curl_multi_setopt(s->multi.get(), CURLMOPT_SOCKETFUNCTION, &on_socket);
    curl_multi_setopt(s->multi.get(), CURLMOPT_SOCKETDATA, s.get());
    curl_multi_setopt(s->multi.get(), CURLMOPT_TIMERFUNCTION, &on_timer);
    curl_multi_setopt(s->multi.get(), CURLMOPT_TIMERDATA, s.get());
    return s;
  }

  void release(std::unique_ptr<Slot> s) {
    std::lock_guard lock(mu_);
    if (idle_.size() < 32) idle_.push_back(std::move(s));
  }

  const CurlOptions& opts() const { return opts_; }

  // The system CAs plus the registry's own, set up once per registry and
  // shared by its connections: left to libcurl, every new connection would
  // parse the whole system bundle again (tens of milliseconds of CPU each).
  // The system CAs come from the hashed directory when it has hash links,
  // where OpenSSL reads only the issuer a chain asks for, else from the bundle.
  Result<X509_STORE*> ca_store(const std::string& host_port, const std::string& extra) {
    std::lock_guard lock(mu_);
    auto& slot = stores_[host_port];
    if (slot) return slot.get();
    probe_system_cas();
    std::unique_ptr<X509_STORE, StoreDel> store(X509_STORE_new());
    if (!store) return fail("TLS for ", host_port, ": cannot create a certificate store");
    // As libcurl does: a CA given for one registry may be an intermediate.
    X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_TRUSTED_FIRST);
    if (hashed_dir_)
      X509_STORE_load_path(store.get(), system_dir_.c_str());
    else if (!system_bundle_.empty())
      X509_STORE_load_file(store.get(), system_bundle_.c_str());
    int added = 0;
    if (!extra.empty()) {
      BIO* bio = BIO_new_mem_buf(extra.data(), static_cast<int>(extra.size()));
      while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
        X509_STORE_add_cert(store.get(), cert);
        X509_free(cert);
        ++added;
      }
      BIO_free(bio);
    }
    ERR_clear_error();
    if (!extra.empty() && added == 0)
      return fail("TLS for ", host_port,
                  ": its CA files (certs.d or --cert-dir) hold no PEM certificate");
    slot = std::move(store);
    return slot.get();
  }

  // The system CAs and the registry's, as one PEM text: for connections
  // through an https:// proxy, whose own TLS must keep libcurl's defaults.
  std::string ca_pem(const std::string& extra) {
    std::lock_guard lock(mu_);
    probe_system_cas();
    if (!system_pem_) system_pem_ = read_file(system_bundle_, 16 << 20).value_or("");
    return *system_pem_ + "\n" + extra;
  }

 private:
  // libcurl's built-in CA locations, once; called under mu_.
  void probe_system_cas() {
    if (system_probed_) return;
    system_probed_ = true;
    CURL* probe = curl_easy_init();
    if (!probe) return;
    char* path = nullptr;
    if (curl_easy_getinfo(probe, CURLINFO_CAPATH, &path) == CURLE_OK && path) system_dir_ = path;
    path = nullptr;
    if (curl_easy_getinfo(probe, CURLINFO_CAINFO, &path) == CURLE_OK && path) system_bundle_ = path;
    curl_easy_cleanup(probe);
    // OpenSSL finds certificates in a directory only through c_rehash links.
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(system_dir_, ec);
         !ec && it != std::filesystem::directory_iterator() && !hashed_dir_; it.increment(ec)) {
      std::string n = it->path().filename().string();
      hashed_dir_ =
          n.size() == 10 && n.ends_with(".0") && n.find_first_not_of("0123456789abcdef") == 8;
    }
  }

  CurlOptions opts_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Slot>> idle_;
  std::map<std::string, std::unique_ptr<X509_STORE, StoreDel>> stores_;
  bool system_probed_ = false, hashed_dir_ = false;
  std::string system_dir_, system_bundle_;
  std::optional<std::string> system_pem_;
};

CurlExchange::~CurlExchange() {
  if (added_) curl_multi_remove_handle(slot_->multi.get(), slot_->easy.get());
  t_.release(std::move(slot_));
}

size_t CurlExchange::on_write(char* data, size_t size, size_t n, void* ud) noexcept {
  auto* ex = static_cast<CurlExchange*>(ud);
  size_t len = size * n;
  // Straight into the buffer of a waiting read().
  size_t room = ex->out_len_ < ex->out_.size() ? ex->out_.size() - ex->out_len_ : 0;
  size_t direct = std::min(len, room);
  // A read() that already has bytes returns them rather than take a piece it
  // cannot hold. Pausing leaves the records libcurl has not read yet in
  // OpenSSL and the socket; keeping the piece would copy every byte libcurl
  // reads in this round twice (into buf_, then out of it). libcurl keeps the
  // rest of what it last received (over TLS one record at most) and hands it
  // over again on unpause. Only a read() too small for the first piece keeps
  // its rest in buf_ (or the head's arrival, with no read() waiting).
  if (direct < len && (ex->out_len_ > 0 || ex->buf_.size() - ex->pos_ >= kHighWater)) {
    ex->paused_ = true;
    return CURL_WRITEFUNC_PAUSE;
  }
  ex->received_ += len;
  if (direct > 0) std::memcpy(ex->out_.data() + ex->out_len_, data, direct);
  ex->out_len_ += direct;
  if (direct == len) return len;
  try {
    if (ex->pos_ == ex->buf_.size()) {
      ex->buf_.clear();
      ex->pos_ = 0;
    }
    ex->buf_.append(data + direct, len - direct);
  } catch (...) {
    ex->write_failed_ = true;
    return 0;
  }
  return len;
}

size_t CurlExchange::on_header(char* data, size_t size, size_t n, void* ud) noexcept {
  auto* ex = static_cast<CurlExchange*>(ud);
  size_t len = size * n;
  ex->received_ += len;
  try {
    std::string_view line(data, len);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
      line.remove_suffix(1);
    if (line.starts_with("HTTP/")) {
      ex->resp_.headers.clear();
      size_t sp = line.find(' ');
      ex->resp_.status =
          sp == std::string_view::npos ? 0 : std::atoi(std::string(line.substr(sp + 1, 3)).c_str());
    } else if (line.empty()) {
      if (ex->resp_.status >= 200) ex->head_done_ = true;
    } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
      std::string name(line.substr(0, colon));
      for (auto& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string_view v = line.substr(colon + 1);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
        v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
        v.remove_suffix(1);
      ex->resp_.headers.emplace_back(std::move(name), std::string(v));
    }
  } catch (...) {
    return 0;
  }
  return len;
}

size_t CurlExchange::on_read(char* data, size_t size, size_t n, void* ud) noexcept {
  auto* ex = static_cast<CurlExchange*>(ud);
  size_t len = size * n;
  try {
    if (!ex->body_reader_) {
      size_t k = std::min(len, ex->body_.size() - ex->body_pos_);
      std::memcpy(data, ex->body_.data() + ex->body_pos_, k);
      ex->body_pos_ += k;
      return k;
    }
    auto r = ex->body_reader_->read(std::span(reinterpret_cast<std::byte*>(data), len));
    if (!r) {
      ex->body_error_ = r.error();
      return CURL_READFUNC_ABORT;
    }
    return *r;
  } catch (...) {
    ex->body_error_ = Error{"reading the request body failed", {}, 0, {}, 0};
    return CURL_READFUNC_ABORT;
  }
}

Status CurlExchange::begin(const Request& req) {
  CURL* e = slot_->easy.get();
  curl_easy_reset(e);
  what_ = req.method + " " + url_for_messages(req.url);
  resp_.url = req.url;
  auto url = Url::parse(req.url);
  if (!url) return fail(what_, ": ", url.error().message);
  std::string host_port = url->host;
  if (url->port != (url->scheme == "https" ? 443 : 80))
    host_port += ":" + std::to_string(url->port);

  const CurlOptions& o = t_.opts();
  if (!req.open_body && req.use == BodyUse::document && o.document_deadline.count() > 0)
    deadline_ = std::chrono::steady_clock::now() + o.document_deadline;
  if (!req.open_body && req.use == BodyUse::blob && o.blob_min_rate > 0 &&
      o.blob_rate_window.count() > 0) {
    min_rate_ = o.blob_min_rate;
    window_ = o.blob_rate_window;
  }
  curl_easy_setopt(e, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  // AES-128-GCM first, as Go's crypto/tls (skopeo, the registry itself) and
  // browsers order TLS 1.3 suites; OpenSSL's default puts AES-256 first. Both
  // ends spend less per byte, and a server that follows the client's order
  // (nginx, OpenSSL's default) picks it.
  curl_easy_setopt(e, CURLOPT_TLS13_CIPHERS,
                   "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf_);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
                   std::max(1L, static_cast<long>((o.stall_timeout.count() + 999) / 1000)));
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 256L * 1024);
  curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
  curl_easy_setopt(e, CURLOPT_USERAGENT, o.user_agent.c_str());
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &CurlExchange::on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &CurlExchange::on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, this);

  TlsSettings tls = o.tls_for ? o.tls_for(host_port) : TlsSettings{};
  if (!tls.verify) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!tls.client_cert.empty()) {
    curl_easy_setopt(e, CURLOPT_SSLCERT, tls.client_cert.c_str());
    curl_easy_setopt(e, CURLOPT_SSLKEY, tls.client_key.c_str());
  }
  std::string proxy = proxy_from_env(url->scheme);
  // libcurl splits a proxy's user and password from its host at the first '@':
  // one that also holds '@' or '/' would be half taken for the host, and its
  // pieces would reach libcurl's messages. Refused unseen.
  if (std::string user = proxy_userinfo(proxy); user.find_first_of("@/?#") != std::string::npos)
    return fail(what_,
                ": the proxy URL from the environment is malformed (percent-encode '@' "
                "and '/' in its user name and password)");
  curl_easy_setopt(e, CURLOPT_PROXY, proxy.c_str());
  if (url->scheme == "https") {
    if (strncasecmp(proxy.c_str(), "https://", 8) == 0) {
      // libcurl would hand the proxy's TLS to the same callback: the
      // registry's CAs must not vouch for the proxy, so no shared store here.
      if (tls.verify && !tls.extra_ca_pem.empty()) {
        std::string pem = t_.ca_pem(tls.extra_ca_pem);
        curl_blob blob{pem.data(), pem.size(), CURL_BLOB_COPY};
        curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
      }
    } else {
      X509_STORE* store = nullptr;
      if (tls.verify) {
        TRY_ASSIGN(store, t_.ca_store(host_port, tls.extra_ca_pem));
        curl_easy_setopt(e, CURLOPT_CAINFO, nullptr);
        curl_easy_setopt(e, CURLOPT_CAPATH, nullptr);
      }
      if (curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, &setup_ssl_ctx) != CURLE_OK)
        return fail(what_, ": this libcurl is not built with OpenSSL, which kiln needs for TLS");
      curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, store);
    }
  }
  // The proxy's "200 Connection established" must not pass for the registry's answer.
  curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  std::string no_proxy = no_proxy_from_env();
  if (!no_proxy.empty()) curl_easy_setopt(e, CURLOPT_NOPROXY, no_proxy.c_str());
  proxy_raw_ = proxy;
  proxy_ = proxy.empty() || bypasses_proxy(no_proxy, url->host) ? "" : proxy_for_messages(proxy);

  curl_slist* list = nullptr;
  bool has_type = false;
  for (auto& [k, v] : req.headers) {
    std::string line = k + ": " + v;
    list = curl_slist_append(list, line.c_str());
    if (strcasecmp(k.c_str(), "content-type") == 0) has_type = true;
  }
  list = curl_slist_append(list, "Expect:");
  bool with_body = req.method == "PUT" || req.method == "POST" || req.method == "PATCH";
  if (with_body && !has_type)
    list = curl_slist_append(list, "Content-Type: application/octet-stream");
  headers_.reset(list);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);

  if (req.method == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (with_body) {
    int64_t size = static_cast<int64_t>(req.body.size());
    if (req.open_body) {
      TRY_ASSIGN(body_reader_, req.open_body());
      size = req.body_size;
    } else {
      body_ = req.body;
    }
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
    curl_easy_setopt(e, CURLOPT_READFUNCTION, &CurlExchange::on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, this);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  } else if (req.method != "GET") {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }

  if (curl_multi_add_handle(slot_->multi.get(), e) != CURLM_OK)
    return fail(what_, ": cannot start the transfer");
  added_ = true;
  log_debug(what_);
  while (!head_done_ && !done_)
    TRY(pump());
  if (!head_done_) return tl::unexpected(failure());
  log_debug(what_ + " → " + std::to_string(resp_.status));
  return {};
}

Status CurlExchange::act(curl_socket_t fd, int bits) {
  int running = 0;
  if (curl_multi_socket_action(slot_->multi.get(), fd, bits, &running) != CURLM_OK)
    return fail(what_, ": transfer failed inside libcurl");
  return {};
}

// The socket to tell libcurl is readable, when OpenSSL holds bytes of it that
// libcurl cannot see; CURL_SOCKET_BAD when the next round should poll instead.
curl_socket_t CurlExchange::nudge_socket() const {
  if (fruitless_ >= kMaxFruitless || !tls_read_ahead()) return CURL_SOCKET_BAD;
  // The socket libcurl reads from (CURLINFO_ACTIVESOCKET names the previous
  // transfer's connection until this one is done).
  for (auto& [fd, what] : slot_->socks)
    if (what & CURL_POLL_IN) return fd;
  return CURL_SOCKET_BAD;
}

// Whether OpenSSL holds bytes of this connection that libcurl cannot see.
bool CurlExchange::tls_read_ahead() const {
  curl_tlssessioninfo* info = nullptr;
  if (curl_easy_getinfo(slot_->easy.get(), CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || !info ||
      info->backend != CURLSSLBACKEND_OPENSSL || !info->internals)
    return false;
  return SSL_has_pending(static_cast<SSL*>(info->internals)) == 1;
}

// One round: wait until a socket is ready or libcurl's timer is due (at most
// 100 ms), and let libcurl act on it.
Status CurlExchange::pump() {
  Slot& s = *slot_;
  auto round_start = std::chrono::steady_clock::now();
  uint64_t before = received_;
  if (curl_socket_t fd = nudge_socket(); fd != CURL_SOCKET_BAD) {
    TRY(act(fd, CURL_CSELECT_IN));
    fruitless_ = received_ != before ? 0 : fruitless_ + 1;
  } else {
    using namespace std::chrono;
    auto now = steady_clock::now();
    long cap = fruitless_ > 0 && fruitless_ < kMaxFruitless ? 1 : 100;
    long wait = cap;
    if (s.deadline)  // rounded up: a wait of 0 for a deadline 0.3 ms away would spin
      wait = std::clamp<long>(
          duration_cast<milliseconds>(*s.deadline - now + microseconds(999)).count(), 0, cap);
    pollfd fds[8];
    nfds_t n = 0;
    for (auto& [sock, what] : s.socks) {
      if (n == std::size(fds)) break;
      short events = static_cast<short>(((what & CURL_POLL_IN) ? POLLIN : 0) |
                                        ((what & CURL_POLL_OUT) ? POLLOUT : 0));
      fds[n++] = pollfd{sock, events, 0};
    }
    int ready = ::poll(fds, n, static_cast<int>(wait));
    if (ready < 0 && errno != EINTR) return fail(what_, ": poll failed: ", std::strerror(errno));
    if (ready > 0 || fruitless_ >= kMaxFruitless) fruitless_ = 0;
    for (nfds_t i = 0; ready > 0 && i < n; ++i) {
      int bits = ((fds[i].revents & (POLLIN | POLLHUP)) ? CURL_CSELECT_IN : 0) |
                 ((fds[i].revents & POLLOUT) ? CURL_CSELECT_OUT : 0) |
                 ((fds[i].revents & (POLLERR | POLLNVAL)) ? CURL_CSELECT_ERR : 0);
      if (bits) TRY(act(fds[i].fd, bits));
    }
    if (s.deadline && steady_clock::now() >= *s.deadline) TRY(act(CURL_SOCKET_TIMEOUT, 0));
  }
  int left = 0;
  while (CURLMsg* m = curl_multi_info_read(s.multi.get(), &left))
    if (m->msg == CURLMSG_DONE) {
      done_ = true;
      result_ = m->data.result;
    }
  return check_pace(round_start);
}

Status CurlExchange::check_pace(std::chrono::steady_clock::time_point round_start) {
  using namespace std::chrono;
  auto now = steady_clock::now();
  if (deadline_ && now >= *deadline_)
    return tl::unexpected(Error{
        what_ + ": not complete after " + seconds_text(t_.opts().document_deadline) +
            ", the deadline for a document (" + std::to_string(received_) + " bytes received)",
        {},
        0,
        {},
        ETIMEDOUT});
  if (min_rate_ == 0) return {};
  waited_ += now - round_start;
  if (waited_ < window_) return {};
  uint64_t got = received_ - window_start_;
  double waited = duration<double>(waited_).count();
  if (static_cast<double>(got) < static_cast<double>(min_rate_) * waited)
    return tl::unexpected(Error{what_ + ": " + std::to_string(got) + " bytes in " +
                                    seconds_text(duration_cast<milliseconds>(waited_)) +
                                    ", below the minimum of " + std::to_string(min_rate_) +
                                    " bytes/s for a blob",
                                {},
                                0,
                                {},
                                ETIMEDOUT});
  waited_ = {};
  window_start_ = received_;
  return {};
}

Error CurlExchange::failure() const {
  if (body_error_) {
    Error e = *body_error_;
    e.context.push_back(what_);
    return e;
  }
  if (write_failed_)
    return Error{what_ + ": out of memory buffering the response", {}, 0, {}, ENOMEM};
  std::string detail = redact_proxy(errbuf_[0] ? errbuf_ : curl_easy_strerror(result_), proxy_raw_);
  if (result_ == CURLE_OPERATION_TIMEDOUT)
    detail = "no data for " +
             std::to_string(t_.opts().stall_timeout.count() / 1000.0).substr(0, 4) +
             "s (stalled or timed out): " + detail;
  if (!proxy_.empty()) detail += " (through the proxy " + proxy_ + ")";
  return Error{what_ + ": " + detail, {}, 0, {}, errno_for(result_)};
}

Result<size_t> CurlExchange::read(std::span<std::byte> out) {
  if (pos_ == buf_.size()) {
    // Let the write callback fill `out` itself, and top it up while the next
    // records are already in memory: fewer copies, fewer and larger writes.
    out_ = out;
    out_len_ = 0;
    Status st;
    // Held bytes first: libcurl does not finish a paused transfer, and if it
    // ever did, ending here would cut the body short without a word.
    while (st && out_len_ == 0 && pos_ == buf_.size() && (paused_ || !done_)) {
      if (paused_) {
        paused_ = false;
        // The held bytes go to the write callback now; if that fails they are
        // gone, and the body would carry on with a gap.
        if (curl_easy_pause(slot_->easy.get(), CURLPAUSE_CONT) != CURLE_OK)
          st = fail(what_, ": resuming the transfer failed");
        else if (write_failed_)
          st = tl::unexpected(failure());
      } else {
        st = pump();
      }
    }
    while (st && out_len_ > 0 && out_len_ + kRecord <= out.size() && pos_ == buf_.size() &&
           !done_ && !paused_ && fruitless_ == 0 && nudge_socket() != CURL_SOCKET_BAD)
      st = pump();
    out_ = {};
    size_t got = std::exchange(out_len_, 0);
    if (!st) return tl::unexpected(st.error());
    if (got > 0) return got;
    if (pos_ == buf_.size()) {
      if (result_ != CURLE_OK || body_error_ || write_failed_) return tl::unexpected(failure());
      return size_t{0};
    }
  }
  size_t n = std::min(out.size(), buf_.size() - pos_);
  std::memcpy(out.data(), buf_.data() + pos_, n);
  pos_ += n;
  return n;
}

}  // namespace

std::shared_ptr<Transport> make_curl_transport(CurlOptions opts) {
  return std::make_shared<CurlTransport>(std::move(opts));
}

}  // namespace kiln::registry
