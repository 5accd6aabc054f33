#include "registry/keychain.hpp"

#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/files.hpp"
#include "oci/json.hpp"

namespace kiln::registry {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

std::string getenv_str(const char* n) {
  const char* v = std::getenv(n);
  return v ? v : "";
}

bool is_docker_hub(const std::string& r) {
  return r == "docker.io" || r == "index.docker.io" || r == "registry-1.docker.io";
}

// The server URL a credential helper knows the registry by.
std::string helper_server(const std::string& registry) {
  return is_docker_hub(registry) ? "https://index.docker.io/v1/" : registry;
}

Result<std::optional<Credentials>> from_entry(const Json& e, const std::string& where) {
  if (!e.is_object()) return std::optional<Credentials>();
  Credentials c;
  if (e.contains("auth") && e["auth"].is_string() && !e["auth"].get<std::string>().empty()) {
    auto dec = base64_decode(e["auth"].get<std::string>());
    if (!dec) return fail(where, ": an \"auth\" entry is not valid base64");
    size_t colon = dec->find(':');
    if (colon == std::string::npos) return fail(where, ": an \"auth\" entry has no ':'");
    c.username = dec->substr(0, colon);
    c.password = dec->substr(colon + 1);
  } else {
    if (e.contains("username") && e["username"].is_string()) c.username = e["username"];
    if (e.contains("password") && e["password"].is_string()) c.password = e["password"];
  }
  if (e.contains("identitytoken") && e["identitytoken"].is_string())
    c.identity_token = e["identitytoken"];
  if (c.empty()) return std::optional<Credentials>();
  return std::optional<Credentials>(c);
}

}  // namespace

KeychainPaths KeychainPaths::from_env(std::string authfile) {
  KeychainPaths p;
  p.authfile = std::move(authfile);
  p.registry_auth_file = getenv_str("REGISTRY_AUTH_FILE");
  p.xdg_runtime_dir = getenv_str("XDG_RUNTIME_DIR");
  p.docker_config = getenv_str("DOCKER_CONFIG");
  p.home = getenv_str("HOME");
  p.uid = ::geteuid();
  return p;
}

std::vector<fs::path> KeychainPaths::search_path() const {
  std::vector<fs::path> out;
  if (!authfile.empty()) out.push_back(authfile);
  if (!registry_auth_file.empty()) out.push_back(registry_auth_file);
  if (!xdg_runtime_dir.empty())
    out.push_back(fs::path(xdg_runtime_dir) / "containers/auth.json");
  else
    out.push_back(fs::path("/run/containers") / std::to_string(uid) / "auth.json");
  if (!docker_config.empty())
    out.push_back(fs::path(docker_config) / "config.json");
  else if (!home.empty())
    out.push_back(fs::path(home) / ".docker/config.json");
  return out;
}

fs::path KeychainPaths::login_file() const {
  if (!authfile.empty()) return authfile;
  if (!registry_auth_file.empty()) return registry_auth_file;
  if (!xdg_runtime_dir.empty()) return fs::path(xdg_runtime_dir) / "containers/auth.json";
  return fs::path("/run/containers") / std::to_string(uid) / "auth.json";
}

std::string normalize_auth_key(std::string key) {
  for (const char* scheme : {"https://", "http://"})
    if (key.rfind(scheme, 0) == 0) key = key.substr(std::string(scheme).size());
  while (!key.empty() && key.back() == '/')
    key.pop_back();
  for (const char* suffix : {"/v1", "/v2"})
    if (key.size() > 3 && key.ends_with(suffix)) key.resize(key.size() - 3);
  size_t slash = key.find('/');
  std::string host = key.substr(0, slash);
  if (is_docker_hub(host))
    key = "docker.io" + (slash == std::string::npos ? "" : key.substr(slash));
  return key;
}

std::string auth_key(const std::string& registry) {
  return normalize_auth_key(registry);
}

Result<std::optional<Credentials>> FileKeychain::get(const std::string& registry,
                                                     const std::string& repository) {
  std::string host = auth_key(registry);
  // Most specific first: "host/a/b", "host/a", "host".
  std::vector<std::string> wanted;
  std::string path = host + (repository.empty() ? "" : "/" + repository);
  while (true) {
    wanted.push_back(path);
    size_t slash = path.rfind('/');
    if (path == host || slash == std::string::npos) break;
    path = path.substr(0, slash);
  }
  for (const fs::path& file : paths_.search_path()) {
    std::error_code ec;
    if (!fs::exists(file, ec)) continue;
    TRY_ASSIGN(std::string text, read_file(file, 4 << 20));
    Json j = oci::parse_untrusted_json(text);
    if (j.is_discarded() || !j.is_object()) return fail(file.string(), ": not valid JSON");
    if (j.contains("credHelpers") && j["credHelpers"].is_object())
      for (auto& [k, v] : j["credHelpers"].items())
        if (normalize_auth_key(k) == host && v.is_string()) {
          TRY_ASSIGN(auto c, run_credential_helper(v.get<std::string>(), helper_server(registry)));
          if (c) return c;
        }
    if (j.contains("auths") && j["auths"].is_object()) {
      for (auto& w : wanted)
        for (auto& [k, v] : j["auths"].items())
          if (normalize_auth_key(k) == w) {
            TRY_ASSIGN(auto c, from_entry(v, file.string()));
            if (c) return c;
          }
    }
    if (j.contains("credsStore") && j["credsStore"].is_string() &&
        !j["credsStore"].get<std::string>().empty()) {
      TRY_ASSIGN(auto c, run_credential_helper(j["credsStore"].get<std::string>(),
                                               helper_server(registry)));
      if (c) return c;
    }
  }
  return std::optional<Credentials>();
}

Status store_credentials(const fs::path& file, const std::string& registry, const Credentials& c) {
  Json j = Json::object();
  std::error_code ec;
  if (fs::exists(file, ec)) {
    TRY_ASSIGN(std::string text, read_file(file, 4 << 20));
    j = oci::parse_untrusted_json(text);
    if (j.is_discarded() || !j.is_object()) return fail(file.string(), ": not valid JSON");
  }
  if (!j.contains("auths") || !j["auths"].is_object()) j["auths"] = Json::object();
  std::string key = auth_key(registry);
  // Drop aliases of the same registry so the new entry is the one found.
  for (auto it = j["auths"].begin(); it != j["auths"].end();) {
    if (normalize_auth_key(it.key()) == key)
      it = j["auths"].erase(it);
    else
      ++it;
  }
  Json entry = Json::object();
  if (!c.identity_token.empty()) {
    entry["identitytoken"] = c.identity_token;
    if (!c.username.empty()) entry["auth"] = base64_encode(c.username + ":");
  } else {
    entry["auth"] = base64_encode(c.username + ":" + c.password);
  }
  j["auths"][key] = entry;
  if (!file.parent_path().empty()) TRY(make_dirs(file.parent_path()));
  return write_file_atomic(file, oci::dump_json(j, 2) + "\n", 0600);
}

Result<bool> remove_credentials(const fs::path& file, const std::string& registry) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return false;
  TRY_ASSIGN(std::string text, read_file(file, 4 << 20));
  Json j = oci::parse_untrusted_json(text);
  if (j.is_discarded() || !j.is_object()) return fail(file.string(), ": not valid JSON");
  if (!j.contains("auths") || !j["auths"].is_object()) return false;
  std::string key = auth_key(registry);
  bool removed = false;
  for (auto it = j["auths"].begin(); it != j["auths"].end();) {
    if (normalize_auth_key(it.key()) == key) {
      it = j["auths"].erase(it);
      removed = true;
    } else {
      ++it;
    }
  }
  if (removed) TRY(write_file_atomic(file, oci::dump_json(j, 2) + "\n", 0600));
  return removed;
}

std::string base64_encode(std::string_view data) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(data[i]) << 16) |
                 (static_cast<unsigned char>(data[i + 1]) << 8) |
                 static_cast<unsigned char>(data[i + 2]);
    out += {t[(v >> 18) & 63], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  if (i < data.size()) {
    unsigned v = static_cast<unsigned char>(data[i]) << 16;
    if (i + 1 < data.size()) v |= static_cast<unsigned char>(data[i + 1]) << 8;
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += i + 1 < data.size() ? t[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> base64_decode(std::string_view s) {
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : s) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+' || c == '-')
      v = 62;
    else if (c == '/' || c == '_')
      v = 63;
    else if (c == '=' || c == '\n' || c == '\r')
      continue;
    else
      return fail("invalid base64");
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace kiln::registry
