// Client: one registry, authenticated, with retries. Thread-safe; share it
// (std::shared_ptr) between the workers of a pull or push.
//
// The first request pings GET /v2/ to learn the scheme (https, or http only for
// an insecure registry) and the auth method from WWW-Authenticate. Every later
// request carries Basic credentials or a Bearer token for exactly the scopes it
// needs; tokens are cached until shortly before they expire and fetched again
// on a 401. Connection failures, 5xx and 429 are retried with backoff
// (Retry-After honoured). Redirects are followed with credentials sent only to
// the registry's own scheme, host and port.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "registry/http.hpp"
#include "registry/keychain.hpp"
#include "registry/retry.hpp"
#include "registry/scope.hpp"
#include "registry/www_authenticate.hpp"

namespace kiln::registry {

struct ClientOptions {
  // --tls-verify; false also allows plain HTTP, but credentials go over plain
  // HTTP only to the registry's own origin (never to a token realm elsewhere).
  bool tls_verify = true;
  std::string cert_dir;                              // --cert-dir: replaces the certs.d lookup
  std::vector<std::filesystem::path> certs_d_roots;  // empty: the default roots
  std::set<std::string> insecure_registries;         // from registries.conf
  std::string authfile;                              // --authfile
  RetryPolicy retry;
  std::chrono::milliseconds connect_timeout{30000};
  std::chrono::milliseconds stall_timeout{60000};
  // How slow a registry may be with a document or a blob (see CurlOptions).
  std::chrono::milliseconds document_deadline{60000};
  int64_t blob_min_rate = 1024;
  std::chrono::milliseconds blob_rate_window{60000};
  std::shared_ptr<Transport> transport;    // null: libcurl with the settings above
  std::shared_ptr<Keychain> keychain;      // null: FileKeychain over KeychainPaths::from_env
  std::optional<Credentials> credentials;  // explicit (kiln login): the keychain is not asked
  std::function<void(std::chrono::milliseconds)> sleep;  // null: std::this_thread::sleep_for

  // Defaults for the CLI: insecure registries from registries.conf, plus the
  // global flags.
  static ClientOptions defaults();
  static ClientOptions from_flags(bool tls_verify, std::string cert_dir, std::string authfile);
};

class Client {
 public:
  // `registry` as a reference names it ("docker.io", "localhost:5000").
  static std::shared_ptr<Client> create(std::string registry, ClientOptions opts);

  const std::string& registry() const { return registry_; }
  bool insecure() const;
  const ClientOptions& options() const { return opts_; }

  // Learns scheme and auth method (done once, lazily, by send()).
  Status ping();
  // The absolute URL of `path` ("/v2/...") on this registry. Pings first.
  Result<std::string> url(std::string_view path);
  // Sends `req` with credentials for `scopes`, retrying as described above
  // (`retry` false: one attempt besides auth and redirects, for requests that
  // are not safe to repeat blindly). Credentials go only to the registry's own
  // origin. Any final HTTP status is returned as an exchange; the caller judges it.
  Result<std::unique_ptr<Exchange>> send(Request req, const Scopes& scopes, bool retry = true);
  // Checks the credentials (for kiln login): a token for no scope, or GET /v2/.
  Status check_credentials();
  // Waits before retry `attempt` (1-based); for callers that resume transfers.
  void backoff(int attempt, std::optional<std::chrono::milliseconds> retry_after = std::nullopt);

 private:
  Client(std::string registry, ClientOptions opts);
  enum class Method { none, basic, bearer };
  struct Token {
    std::string value;
    std::chrono::steady_clock::time_point expires;
  };
  Status authorize(Request& req, const Scopes& scopes, bool fresh);
  Result<std::optional<Credentials>> credentials_for(const Scopes& scopes);
  Result<std::string> token_for(const Scopes& scopes, bool fresh);
  void learn_challenge(const Response& r);

  std::string registry_, api_host_;
  ClientOptions opts_;
  // Held across the whole ping, so parallel transfers starting together find
  // the API base once instead of each opening a connection to do it.
  std::mutex ping_mu_;
  std::mutex mu_;  // guards everything below
  bool pinged_ = false;
  std::string base_;  // "https://host:port"
  Method method_ = Method::none;
  std::string realm_, service_;
  std::map<std::string, std::optional<Credentials>> creds_;
  std::map<std::string, Token> tokens_;
  std::mutex fetch_mu_;  // one token fetch at a time
};

// An Error for a failed response: "WHAT: not found (HTTP 404): MANIFEST_UNKNOWN: ...",
// keeping the status and the OCI error code.
Error response_error(const Response& r, std::string_view body, std::string_view what);
// Reads the (small) error body and builds response_error().
Error exchange_error(Exchange& ex, std::string_view what);

}  // namespace kiln::registry
