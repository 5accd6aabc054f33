// RegistryServer: a real docker-registry (the reference distribution server)
// on 127.0.0.1, started for one test and killed when the object dies.
//
// docker-registry reads every REGISTRY_* environment variable as configuration,
// so it runs with a clean environment. Plain HTTP by default; TLS with a test CA
// (see TestPki), htpasswd Basic auth, or Bearer tokens trusted from TokenServer's
// signing certificate. Construction throws std::runtime_error when the server
// does not come up within a few seconds.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

#include "tests/support/tmp.hpp"

namespace kiln::test {

// Keys and certificates made once per test process with the openssl CLI.
struct TestPki {
  std::filesystem::path dir;
  std::filesystem::path ca_crt, ca_key;          // the test CA
  std::filesystem::path server_crt, server_key;  // for 127.0.0.1 and localhost, signed by the CA
  std::filesystem::path token_crt, token_key;    // RSA, self-signed: the token issuer
  std::filesystem::path client_crt, client_key;  // clientAuth, signed by the CA
};
const TestPki& test_pki();

struct RegistryOptions {
  bool tls = false;
  // Basic auth through an htpasswd file (bcrypt) when user is set.
  std::string user, password;
  // Bearer auth when realm is set: tokens signed by TestPki's token key.
  std::string token_realm;
  std::string token_service = "kiln-test-registry";
  std::string token_issuer = "kiln-test-issuer";
  bool allow_delete = true;
  // With tls: demand a client certificate signed by the test CA (http.tls.clientcas).
  bool client_ca = false;
};

class RegistryServer {
 public:
  explicit RegistryServer(RegistryOptions opts = {});
  ~RegistryServer();
  RegistryServer(const RegistryServer&) = delete;

  int port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string url() const { return (opts_.tls ? "https://" : "http://") + host(); }
  const std::filesystem::path& storage() const { return storage_; }
  std::string log() const;  // the server's output, for failure messages

 private:
  void start_once(int port);
  RegistryOptions opts_;
  Scratch dir_;
  std::filesystem::path storage_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// True when CI demands the peer tools (KILN_REQUIRE_PEERS is set).
bool peers_required();

}  // namespace kiln::test
