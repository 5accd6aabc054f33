// Keychain: where registry credentials come from, and the auth file that
// `kiln login` writes.
//
// Lookup order (first hit wins): --authfile, $REGISTRY_AUTH_FILE,
// $XDG_RUNTIME_DIR/containers/auth.json (else /run/containers/UID/auth.json),
// $DOCKER_CONFIG/config.json or ~/.docker/config.json. In each file:
// credHelpers[registry], then auths (the most specific "registry/namespace"
// key first; legacy "https://index.docker.io/v1/" keys understood), then
// credsStore. Helpers run as `docker-credential-NAME get` with the server URL on
// stdin. Credentials are never logged or put in an Error.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace kiln::registry {

struct Credentials {
  std::string username;
  std::string password;
  std::string identity_token;  // an OAuth2 refresh token (Username "<token>" from helpers)
  bool empty() const { return username.empty() && password.empty() && identity_token.empty(); }
};

class Keychain {
 public:
  virtual ~Keychain() = default;
  // `registry` as in a reference ("docker.io", "localhost:5000"). Thread-safe.
  virtual Result<std::optional<Credentials>> get(const std::string& registry,
                                                 const std::string& repository) = 0;
};

// Where the files are; from the environment by default, explicit in tests.
struct KeychainPaths {
  std::string authfile;            // --authfile
  std::string registry_auth_file;  // $REGISTRY_AUTH_FILE
  std::string xdg_runtime_dir;     // $XDG_RUNTIME_DIR
  std::string docker_config;       // $DOCKER_CONFIG (a directory)
  std::string home;                // $HOME
  unsigned uid = 0;
  static KeychainPaths from_env(std::string authfile);
  std::vector<std::filesystem::path> search_path() const;
  // The file `kiln login` writes: --authfile, $REGISTRY_AUTH_FILE, else the
  // runtime auth.json.
  std::filesystem::path login_file() const;
};

class FileKeychain : public Keychain {
 public:
  explicit FileKeychain(KeychainPaths paths) : paths_(std::move(paths)) {}
  Result<std::optional<Credentials>> get(const std::string& registry,
                                         const std::string& repository) override;

 private:
  KeychainPaths paths_;
};

// The auths key a registry is stored under ("docker.io" for Docker Hub).
std::string auth_key(const std::string& registry);
// Normalizes a key found in a file: scheme and "/v1/" stripped, Docker Hub aliases folded.
std::string normalize_auth_key(std::string key);

// Adds or replaces the registry's entry ({"auth": base64(user:password)}), keeping
// everything else in the file; written atomically with mode 0600.
Status store_credentials(const std::filesystem::path& file, const std::string& registry,
                         const Credentials& c);
// Removes the registry's entry; false when there was none.
Result<bool> remove_credentials(const std::filesystem::path& file, const std::string& registry);

// Runs `docker-credential-NAME get` for `server`; nullopt when it has nothing.
// A helper that has not exited within `timeout` is killed and is an error.
Result<std::optional<Credentials>> run_credential_helper(
    const std::string& name, const std::string& server,
    std::chrono::milliseconds timeout = std::chrono::seconds(60));

std::string base64_encode(std::string_view data);
Result<std::string> base64_decode(std::string_view s);

}  // namespace kiln::registry
