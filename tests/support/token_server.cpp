#include "tests/support/token_server.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "tests/support/registry_net.hpp"
#include "tests/support/registry_server.hpp"
#include "tests/support/tmp.hpp"

namespace kiln::test {

namespace {

using Json = nlohmann::json;

std::string der_of_cert(const std::filesystem::path& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(pem.c_str(), "r"), BIO_free);
  if (!bio) throw std::runtime_error("cannot read " + pem.string());
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) throw std::runtime_error("bad certificate " + pem.string());
  unsigned char* der = nullptr;
  int n = i2d_X509(cert.get(), &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

std::string rs256(const std::filesystem::path& key_pem, const std::string& input) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(key_pem.c_str(), "r"), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) throw std::runtime_error("bad key " + key_pem.string());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t len = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1)
    throw std::runtime_error("sign failed");
  std::string sig(len, '\0');
  EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  sig.resize(len);
  return sig;
}

std::string random_hex(size_t n) {
  std::string raw(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(n));
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

// Splits "a=1&b=2" into pairs, decoded; repeated keys kept.
std::multimap<std::string, std::string> parse_form(const std::string& q) {
  std::multimap<std::string, std::string> out;
  std::stringstream ss(q);
  std::string part;
  while (std::getline(ss, part, '&')) {
    size_t eq = part.find('=');
    if (eq == std::string::npos) continue;
    out.emplace(url_decode(part.substr(0, eq)), url_decode(part.substr(eq + 1)));
  }
  return out;
}

void reply(int fd, int status, const std::string& body, const std::string& extra = "") {
  std::string reason = status == 200 ? "OK" : status == 401 ? "Unauthorized" : "Bad Request";
  write_all(fd, "HTTP/1.1 " + std::to_string(status) + " " + reason +
                    "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body);
}

}  // namespace

TokenServer::TokenServer(std::string service, std::string issuer)
    : service_(std::move(service)), issuer_(std::move(issuer)) {
  test_pki();  // make the keys before serving
  listen_ = listen_local(port_);
  if (!listen_) throw std::runtime_error("token server: cannot listen");
  thread_ = std::thread([this] { serve(); });
}

TokenServer::~TokenServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void TokenServer::add_user(const std::string& user, const std::string& password,
                           std::map<std::string, std::set<std::string>> grants) {
  std::lock_guard lock(mu_);
  users_[user] = User{password, std::move(grants)};
}

void TokenServer::add_refresh_token(const std::string& token, const std::string& user) {
  std::lock_guard lock(mu_);
  refresh_tokens_[token] = user;
}

std::vector<std::string> TokenServer::scope_log() const {
  std::lock_guard lock(mu_);
  return scope_log_;
}

bool TokenServer::saw_in_requests(const std::string& needle) const {
  std::lock_guard lock(mu_);
  for (auto& h : heads_)
    if (h.find(needle) != std::string::npos) return true;
  return false;
}

void TokenServer::serve() {
  while (!stop_) {
    if (!wait_readable(listen_.get(), std::chrono::milliseconds(50))) continue;
    Fd c(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (c) handle(c.get());
  }
}

void TokenServer::handle(int fd) {
  HttpHead head;
  std::string rest;
  if (!read_head(fd, head, rest, std::chrono::seconds(5))) return;
  size_t want = 0;
  if (auto cl = head.header("content-length"); !cl.empty())
    want = std::strtoul(cl.c_str(), nullptr, 10);
  while (rest.size() < want && wait_readable(fd, std::chrono::seconds(5))) {
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    rest.append(buf, static_cast<size_t>(n));
  }
  ++requests_;
  size_t qpos = head.target.find('?');
  std::string path = head.target.substr(0, qpos);
  auto params = parse_form(qpos == std::string::npos ? "" : head.target.substr(qpos + 1));
  if (head.method == "POST") params.merge(parse_form(rest));
  {
    std::lock_guard lock(mu_);
    heads_.push_back(head.raw + rest);
  }
  if (path != "/token") return reply(fd, 404, R"({"error":"not found"})");

  std::string user_name, password;
  bool have_creds = false, offline = false;
  std::string grant = params.count("grant_type") ? params.find("grant_type")->second : "";
  if (head.method == "POST") {
    if (grant == "password") {
      user_name = params.count("username") ? params.find("username")->second : "";
      password = params.count("password") ? params.find("password")->second : "";
      have_creds = true;
      offline = true;
    } else if (grant == "refresh_token") {
      std::string rt = params.count("refresh_token") ? params.find("refresh_token")->second : "";
      std::lock_guard lock(mu_);
      auto it = refresh_tokens_.find(rt);
      if (it == refresh_tokens_.end()) return reply(fd, 401, R"({"error":"invalid_grant"})");
      user_name = it->second;
    } else {
      return reply(fd, 400, R"({"error":"unsupported_grant_type"})");
    }
  } else if (auto a = head.header("authorization"); a.rfind("Basic ", 0) == 0) {
    std::string dec = base64_decode(a.substr(6));
    size_t colon = dec.find(':');
    user_name = dec.substr(0, colon);
    password = colon == std::string::npos ? "" : dec.substr(colon + 1);
    have_creds = true;
    offline = params.count("offline_token") && params.find("offline_token")->second == "true";
  }
  if (params.count("service") && params.find("service")->second != service_)
    return reply(fd, 400, R"({"error":"wrong service"})");

  std::vector<std::string> scopes;
  for (auto [it, end] = params.equal_range("scope"); it != end; ++it) {
    std::stringstream ss(it->second);  // the OAuth2 form joins scopes with spaces
    std::string s;
    while (ss >> s)
      scopes.push_back(s);
  }
  std::string joined;
  for (auto& s : scopes)
    joined += (joined.empty() ? "" : " ") + s;

  User user_copy;
  {
    std::lock_guard lock(mu_);
    scope_log_.push_back(joined);
    auto it = users_.find(user_name);
    if (have_creds && (it == users_.end() || it->second.password != password || user_name.empty()))
      return reply(fd, 401, R"({"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]})",
                   "WWW-Authenticate: Basic realm=\"kiln-test-token\"\r\n");
    if (it == users_.end())
      return reply(fd, 401,
                   R"({"errors":[{"code":"UNAUTHORIZED","message":"anonymous access refused"}]})");
    user_copy = it->second;
  }
  Json resp;
  std::string token = make_jwt(user_name, scopes, &user_copy);
  resp["token"] = token;
  resp["access_token"] = token;
  resp["expires_in"] = expires_in_.load();
  resp["issued_at"] = "2020-01-01T00:00:00Z";  // ignored by clients that trust expires_in
  if (offline) {
    std::string rt = "rt-" + random_hex(16);
    std::lock_guard lock(mu_);
    refresh_tokens_[rt] = user_name;
    resp["refresh_token"] = rt;
  }
  reply(fd, 200, resp.dump());
}

std::string TokenServer::make_jwt(const std::string& subject,
                                  const std::vector<std::string>& scopes, const User* user) {
  const TestPki& pki = test_pki();
  Json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"x5c", {base64(der_of_cert(pki.token_crt))}}};
  Json access = Json::array();
  for (auto& s : scopes) {
    size_t c1 = s.find(':'), c2 = s.rfind(':');
    if (c1 == std::string::npos || c2 == c1) continue;
    std::string type = s.substr(0, c1), name = s.substr(c1 + 1, c2 - c1 - 1);
    Json actions = Json::array();
    std::stringstream as(s.substr(c2 + 1));
    std::string a;
    while (std::getline(as, a, ',')) {
      bool ok = false;
      for (auto& [res, acts] : user->grants)
        if ((res == type + ":" + name || res == type + ":*") && (acts.count(a) || acts.count("*")))
          ok = true;
      if (ok) actions.push_back(a);
    }
    if (!actions.empty()) access.push_back({{"type", type}, {"name", name}, {"actions", actions}});
  }
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  Json claims = {{"iss", issuer_},       {"sub", subject},
                 {"aud", service_},      {"exp", now + expires_in_.load()},
                 {"nbf", now - 10},      {"iat", now},
                 {"jti", random_hex(8)}, {"access", access}};
  std::string input = base64(header.dump(), true) + "." + base64(claims.dump(), true);
  return input + "." + base64(rs256(pki.token_key, input), true);
}

}  // namespace kiln::test
