#include "tests/support/registry_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "tests/support/registry_net.hpp"

namespace kiln::test {

namespace fs = std::filesystem;

namespace {

void must(const std::string& script) {
  RunResult r = sh(script);
  if (r.status != 0) throw std::runtime_error("fixture command failed: " + script + ": " + r.err);
}

}  // namespace

bool peers_required() {
  const char* v = std::getenv("KILN_REQUIRE_PEERS");
  return v && *v;
}

const TestPki& test_pki() {
  static std::once_flag once;
  static std::unique_ptr<Scratch> dir;
  static TestPki pki;
  std::call_once(once, [] {
    dir = std::make_unique<Scratch>();
    fs::path d = dir->path();
    pki.dir = d;
    pki.ca_crt = d / "ca.crt";
    pki.ca_key = d / "ca.key";
    pki.server_crt = d / "server.crt";
    pki.server_key = d / "server.key";
    pki.token_crt = d / "token.crt";
    pki.token_key = d / "token.key";
    pki.client_crt = d / "client.crt";
    pki.client_key = d / "client.key";
    std::string q = "cd '" + d.string() + "' && ";
    write_text(d / "ext.cnf",
               "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
    must(q +
         "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
         "-keyout ca.key -out ca.crt -days 3 -subj /CN=kiln-test-ca "
         "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
         " 2>&1");
    must(q +
         "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
         "-keyout server.key -out server.csr -subj /CN=127.0.0.1 2>&1 && "
         "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
         "-out server.crt -days 3 -extfile ext.cnf 2>&1");
    must(q +
         "openssl req -x509 -newkey rsa:2048 -nodes -keyout token.key -out token.crt -days 3 "
         "-subj /CN=kiln-test-token-issuer 2>&1");
    write_text(d / "client.cnf", "extendedKeyUsage=clientAuth\n");
    must(q +
         "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
         "-keyout client.key -out client.csr -subj /CN=kiln-test-client 2>&1 && "
         "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
         "-out client.crt -days 3 -extfile client.cnf 2>&1");
  });
  return pki;
}

RegistryServer::RegistryServer(RegistryOptions opts) : opts_(std::move(opts)) {
  storage_ = dir_ / "storage";
  fs::create_directories(storage_);
  std::string auth;
  if (!opts_.user.empty()) {
    RunResult r = run({"htpasswd", "-Bbn", opts_.user, opts_.password});
    if (r.status != 0) throw std::runtime_error("htpasswd failed: " + r.err);
    write_text(dir_ / "htpasswd", r.out);
    auth = "auth:\n  htpasswd:\n    realm: kiln-test\n    path: " + (dir_ / "htpasswd").string() +
           "\n";
  } else if (!opts_.token_realm.empty()) {
    auth = "auth:\n  token:\n    realm: " + opts_.token_realm +
           "\n    service: " + opts_.token_service + "\n    issuer: " + opts_.token_issuer +
           "\n    rootcertbundle: " + test_pki().token_crt.string() + "\n";
  }
  std::string tls;
  if (opts_.tls) {
    const TestPki& pki = test_pki();
    tls = "  tls:\n    certificate: " + pki.server_crt.string() +
          "\n    key: " + pki.server_key.string() + "\n";
    if (opts_.client_ca) tls += "    clientcas:\n      - " + pki.ca_crt.string() + "\n";
  }
  // A taken port shows up as an early exit; try a few.
  for (int attempt = 0; attempt < 4; ++attempt) {
    int port = free_port();
    write_text(dir_ / "config.yml",
               "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
               "storage:\n  filesystem:\n    rootdirectory: " +
                   storage_.string() +
                   "\n  delete:\n    enabled: " + (opts_.allow_delete ? "true" : "false") +
                   "\n  maintenance:\n    uploadpurging:\n      enabled: false\n"
                   "http:\n  addr: 127.0.0.1:" +
                   std::to_string(port) + "\n  secret: kiln-test-secret\n" + tls + auth);
    start_once(port);
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < end) {
      int status;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      if (connect_local(port)) {
        port_ = port;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  throw std::runtime_error("docker-registry did not start: " + log());
}

void RegistryServer::start_once(int) {
  std::string cfg = (dir_ / "config.yml").string();
  std::string logf = (dir_ / "registry.log").string();
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, logf.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  // A clean environment: REGISTRY_* variables would reconfigure the server.
  std::string path = "PATH=/usr/local/bin:/usr/bin:/bin";
  char* envp[] = {path.data(), nullptr};
  std::string bin = "docker-registry", serve = "serve";
  char* argv[] = {bin.data(), serve.data(), cfg.data(), nullptr};
  int rc = ::posix_spawnp(&pid_, "docker-registry", &fa, nullptr, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    pid_ = -1;
    throw std::runtime_error("cannot start docker-registry (is it installed?)");
  }
}

RegistryServer::~RegistryServer() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

std::string RegistryServer::log() const {
  return read_text(dir_ / "registry.log");
}

}  // namespace kiln::test
