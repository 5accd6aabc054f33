#include "registry/client.hpp"

#include <cerrno>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/log.hpp"
#include "oci/json.hpp"
#include "registry/auth.hpp"
#include "registry/tls.hpp"
#include "registry/url.hpp"

namespace kiln::registry {

using std::chrono::milliseconds;

namespace {

bool is_redirect(int s) {
  return s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
}

std::string describe_status(int s) {
  switch (s) {
    case 400:
      return "bad request (HTTP 400)";
    case 401:
      return "unauthorized (HTTP 401): check the credentials (kiln login)";
    case 403:
      return "denied (HTTP 403)";
    case 404:
      return "not found (HTTP 404)";
    case 405:
      return "operation not supported by the registry (HTTP 405)";
    case 409:
      return "conflict (HTTP 409)";
    case 412:
      return "precondition failed (HTTP 412)";
    case 416:
      return "range not satisfiable (HTTP 416)";
    case 429:
      return "too many requests (HTTP 429)";
    default:
      return "HTTP " + std::to_string(s);
  }
}

}  // namespace

ClientOptions ClientOptions::defaults() {
  ClientOptions o;
  o.insecure_registries = default_insecure_registries();
  return o;
}

ClientOptions ClientOptions::from_flags(bool tls_verify, std::string cert_dir,
                                        std::string authfile) {
  ClientOptions o = defaults();
  o.tls_verify = tls_verify;
  o.cert_dir = std::move(cert_dir);
  o.authfile = std::move(authfile);
  return o;
}

Error response_error(const Response& r, std::string_view body, std::string_view what) {
  Error e;
  e.http_status = r.status;
  std::string detail;
  auto j = oci::parse_untrusted_json(body);
  if (!j.is_discarded() && j.is_object() && j.contains("errors") && j["errors"].is_array() &&
      !j["errors"].empty() && j["errors"][0].is_object()) {
    auto& first = j["errors"][0];
    if (first.contains("code") && first["code"].is_string()) e.code = first["code"];
    if (first.contains("message") && first["message"].is_string()) detail = first["message"];
  }
  e.message = std::string(what) + ": " + describe_status(r.status);
  if (!e.code.empty()) e.message += ": " + e.code;
  if (!detail.empty()) e.message += ": " + detail.substr(0, 300);
  return e;
}

Error exchange_error(Exchange& ex, std::string_view what) {
  auto body = read_all(ex, 64 * 1024, "error body");
  return response_error(ex.response(), body ? *body : "", what);
}

std::shared_ptr<Client> Client::create(std::string registry, ClientOptions opts) {
  return std::shared_ptr<Client>(new Client(std::move(registry), std::move(opts)));
}

Client::Client(std::string registry, ClientOptions opts)
    : registry_(std::move(registry)), opts_(std::move(opts)) {
  api_host_ = registry_ == "docker.io" ? "registry-1.docker.io" : registry_;
  if (opts_.certs_d_roots.empty()) opts_.certs_d_roots = default_certs_d_roots();
  if (!opts_.transport) {
    CurlOptions co;
    co.connect_timeout = opts_.connect_timeout;
    co.stall_timeout = opts_.stall_timeout;
    co.document_deadline = opts_.document_deadline;
    co.blob_min_rate = opts_.blob_min_rate;
    co.blob_rate_window = opts_.blob_rate_window;
    bool verify = !insecure();
    std::string cert_dir = opts_.cert_dir;
    auto roots = opts_.certs_d_roots;
    co.tls_for = [verify, cert_dir, roots](const std::string& host_port) {
      return load_tls_settings(host_port, cert_dir, roots, verify);
    };
    opts_.transport = make_curl_transport(std::move(co));
  }
  if (!opts_.keychain)
    opts_.keychain = std::make_shared<FileKeychain>(KeychainPaths::from_env(opts_.authfile));
}

bool Client::insecure() const {
  return !opts_.tls_verify || opts_.insecure_registries.count(registry_) > 0;
}

void Client::backoff(int attempt, std::optional<milliseconds> retry_after) {
  milliseconds d = opts_.retry.delay(attempt, retry_after);
  log_debug(registry_ + ": retrying in " + std::to_string(d.count()) + "ms");
  if (opts_.sleep)
    opts_.sleep(d);
  else
    std::this_thread::sleep_for(d);
}

void Client::learn_challenge(const Response& r) {
  std::string all;
  for (auto& h : r.headers_named("www-authenticate"))
    all += (all.empty() ? "" : ", ") + h;
  auto challenges = parse_www_authenticate(all);
  for (auto& c : challenges)
    if (c.scheme == "bearer" && !c.param("realm").empty()) {
      method_ = Method::bearer;
      realm_ = c.param("realm");
      service_ = c.param("service");
      return;
    }
  for (auto& c : challenges)
    if (c.scheme == "basic") {
      method_ = Method::basic;
      return;
    }
}

Status Client::ping() {
  std::lock_guard once(ping_mu_);
  {
    std::lock_guard lock(mu_);
    if (pinged_) return {};
  }
  std::vector<std::string> bases = {"https://" + api_host_};
  if (insecure()) bases.push_back("http://" + api_host_);
  Error last;
  for (size_t i = 0; i < bases.size(); ++i) {
    Request req;
    req.url = bases[i] + "/v2/";
    for (int attempt = 1;; ++attempt) {
      auto ex = opts_.transport->start(req);
      if (!ex) {
        last = ex.error();
        // An https attempt on an insecure registry falls back to http at once.
        bool more = i + 1 < bases.size();
        if (!more && retryable_error(last) && opts_.retry.allows(attempt)) {
          backoff(attempt);
          continue;
        }
        break;
      }
      const Response& r = (*ex)->response();
      if (retryable_status(r.status) && opts_.retry.allows(attempt)) {
        backoff(attempt, parse_retry_after(r.header("retry-after")));
        continue;
      }
      std::lock_guard lock(mu_);
      base_ = bases[i];
      if (r.status == 401) learn_challenge(r);
      pinged_ = true;
      log_debug(registry_ + ": API at " + base_ + ", auth " +
                (method_ == Method::bearer  ? "bearer"
                 : method_ == Method::basic ? "basic"
                                            : "none"));
      return {};
    }
    // A TLS failure or refused connection on https falls through to plain http
    // only for an insecure registry.
  }
  Error e = last;
  e.message = "registry " + registry_ + " is unreachable: " + e.message;
  if (e.sys_errno == EPROTO && !insecure())
    e.message +=
        " (for a registry without TLS, or with a certificate kiln cannot verify, see "
        "--cert-dir and --tls-verify=false)";
  return tl::unexpected(e);
}

Result<std::string> Client::url(std::string_view path) {
  TRY(ping());
  std::lock_guard lock(mu_);
  return base_ + std::string(path);
}

Result<std::optional<Credentials>> Client::credentials_for(const Scopes& scopes) {
  if (opts_.credentials) return opts_.credentials;
  std::string repo;
  for (auto& s : scopes.items())
    if (s.type == "repository" && s.actions.count("push")) repo = s.name;
  if (repo.empty())
    for (auto& s : scopes.items())
      if (s.type == "repository") {
        repo = s.name;
        break;
      }
  {
    std::lock_guard lock(mu_);
    if (auto it = creds_.find(repo); it != creds_.end()) return it->second;
  }
  TRY_ASSIGN(auto c, opts_.keychain->get(registry_, repo));
  std::lock_guard lock(mu_);
  creds_[repo] = c;
  return c;
}

Result<std::string> Client::token_for(const Scopes& scopes, bool fresh) {
  std::string key = scopes.key();
  std::lock_guard fetch(fetch_mu_);
  auto now = std::chrono::steady_clock::now();
  TokenRequest t;
  {
    std::lock_guard lock(mu_);
    if (!fresh)
      if (auto it = tokens_.find(key); it != tokens_.end() && it->second.expires > now)
        return it->second.value;
    t.realm = realm_;
    t.service = service_;
    t.registry_base = base_;
  }
  t.scopes = scopes;
  t.insecure = insecure();
  TRY_ASSIGN(t.credentials, credentials_for(scopes));
  TRY_ASSIGN(Request req, token_request(t));
  std::string what = "registry " + registry_ + ": token service " + t.realm;
  for (int attempt = 1;; ++attempt) {
    auto ex = opts_.transport->start(req);
    if (!ex) {
      if (retryable_error(ex.error()) && opts_.retry.allows(attempt)) {
        backoff(attempt);
        continue;
      }
      Error e = ex.error();
      e.message = what + ": " + e.message;
      return tl::unexpected(e);
    }
    const Response& r = (*ex)->response();
    if (retryable_status(r.status) && opts_.retry.allows(attempt)) {
      backoff(attempt, parse_retry_after(r.header("retry-after")));
      continue;
    }
    if (r.status != 200) {
      Error e = exchange_error(**ex, what);
      if (r.status == 401 || r.status == 403)
        e.message += t.credentials ? " (the credentials were refused)" : " (no credentials found)";
      return tl::unexpected(e);
    }
    TRY_ASSIGN(std::string body, read_body(**ex, 1 << 20));
    auto reply = parse_token_reply(body);
    if (!reply) return fail(what, ": ", reply.error().message);
    // Renew a little before the server's expiry, so a token never dies in flight.
    auto life = std::chrono::duration_cast<std::chrono::steady_clock::duration>(reply->expires_in);
    auto margin = std::min<std::chrono::steady_clock::duration>(std::chrono::seconds(10), life / 5);
    std::lock_guard lock(mu_);
    tokens_[key] = Token{reply->token, now + life - margin};
    return reply->token;
  }
}

Status Client::authorize(Request& req, const Scopes& scopes, bool fresh) {
  Method m;
  {
    std::lock_guard lock(mu_);
    m = method_;
  }
  if (m == Method::basic) {
    TRY_ASSIGN(auto c, credentials_for(scopes));
    if (c && !c->username.empty())
      req.headers.emplace_back("Authorization",
                               "Basic " + base64_encode(c->username + ":" + c->password));
  } else if (m == Method::bearer) {
    TRY_ASSIGN(std::string tok, token_for(scopes, fresh));
    req.headers.emplace_back("Authorization", "Bearer " + tok);
  }
  return {};
}

Result<std::unique_ptr<Exchange>> Client::send(Request req, const Scopes& scopes, bool retry) {
  TRY(ping());
  Url origin;
  {
    std::lock_guard lock(mu_);
    TRY_ASSIGN(origin, Url::parse(base_));
  }
  Headers plain = req.headers;
  Scopes want = scopes;
  TRY_ASSIGN(Url first, Url::parse(req.url));
  bool creds_ok = first.same_origin(origin), reauthed = false, fresh = false;
  int attempt = 1, redirects = 0;
  for (;;) {
    req.headers = plain;
    if (creds_ok) TRY(authorize(req, want, fresh));
    fresh = false;
    auto ex = opts_.transport->start(req);
    if (!ex) {
      if (retry && retryable_error(ex.error()) && opts_.retry.allows(attempt)) {
        log_debug(ex.error().message);
        backoff(attempt++);
        continue;
      }
      return tl::unexpected(ex.error());
    }
    const Response& r = (*ex)->response();
    if (r.status == 401 && creds_ok && !reauthed) {
      // Expired or revoked token, or the registry wants more scope: learn and retry once.
      reauthed = true;
      fresh = true;
      std::string all;
      for (auto& h : r.headers_named("www-authenticate"))
        all += (all.empty() ? "" : ", ") + h;
      for (auto& c : parse_www_authenticate(all))
        if (c.scheme == "bearer")
          if (std::string s = c.param("scope"); !s.empty()) {
            Scope sc;
            if (Scope::parse(s, sc)) want.add(sc);
          }
      bool basic_again;
      {
        std::lock_guard lock(mu_);
        bool was_basic = method_ == Method::basic;
        learn_challenge(r);
        basic_again = was_basic && method_ == Method::basic;
      }
      if (basic_again) return ex;  // the same credentials would be refused again
      continue;
    }
    if (is_redirect(r.status) && !r.header("location").empty() && redirects < 10) {
      ++redirects;
      TRY_ASSIGN(Url cur, Url::parse(req.url));
      auto v = validate_location(cur, r.header("location"), insecure());
      if (!v)
        return fail("registry ", registry_, ": redirect from ", url_for_messages(req.url), ": ",
                    v.error().message);
      req.url = v->url.str();
      creds_ok = v->url.same_origin(origin);
      if (r.status == 303) {
        req.method = "GET";
        req.body.clear();
        req.open_body = nullptr;
      }
      log_debug("redirected to " + v->url.origin() + (creds_ok ? "" : " (without credentials)"));
      continue;
    }
    if (retry && retryable_status(r.status) && opts_.retry.allows(attempt)) {
      auto ra = parse_retry_after(r.header("retry-after"));
      log_debug(req.method + " " + url_for_messages(req.url) + ": HTTP " +
                std::to_string(r.status) + ", will retry");
      ex->reset();
      backoff(attempt++, ra);
      continue;
    }
    return ex;
  }
}

Status Client::check_credentials() {
  TRY(ping());
  Method m;
  {
    std::lock_guard lock(mu_);
    m = method_;
  }
  if (m == Method::bearer) {
    TRY(token_for(Scopes{}, true));
    return {};
  }
  TRY_ASSIGN(std::string u, url("/v2/"));
  Request req;
  req.url = u;
  TRY_ASSIGN(auto ex, send(req, Scopes{}));
  if (ex->response().status != 200)
    return tl::unexpected(exchange_error(*ex, "registry " + registry_));
  return {};
}

}  // namespace kiln::registry
