// TokenServer: a Docker token-auth server for tests (plain HTTP on 127.0.0.1).
//
// GET /token?service=S&scope=... with optional Basic credentials, and the OAuth2
// form POST (grant_type=password or refresh_token). Grants each requested scope
// only the actions the user was given; refuses unknown users and bad passwords
// with 401. Tokens are RS256 JWTs with an x5c header holding TestPki's token
// certificate, which RegistryServer lists as its rootcertbundle.
// Thread-safe; one background thread serves connections until destruction.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/fd.hpp"

namespace kiln::test {

class TokenServer {
 public:
  TokenServer(std::string service = "kiln-test-registry", std::string issuer = "kiln-test-issuer");
  ~TokenServer();
  TokenServer(const TokenServer&) = delete;

  // Grants are "type:name" → actions, e.g. {"repository:team/app", {"pull","push"}};
  // a name of "*" matches every name of that type. User "" is the anonymous user.
  void add_user(const std::string& user, const std::string& password,
                std::map<std::string, std::set<std::string>> grants);
  // Accepts `token` as an OAuth2 refresh token of `user` (an identitytoken).
  void add_refresh_token(const std::string& token, const std::string& user);
  int port() const { return port_; }
  std::string realm() const { return "http://127.0.0.1:" + std::to_string(port_) + "/token"; }
  void set_expires_in(int seconds) { expires_in_ = seconds; }

  int token_requests() const { return requests_; }
  // The scopes of every token request, in order (one string per request, scopes joined by ' ').
  std::vector<std::string> scope_log() const;
  // Whether any request arrived carrying the given substring in its raw head.
  bool saw_in_requests(const std::string& needle) const;

 private:
  struct User {
    std::string password;
    std::map<std::string, std::set<std::string>> grants;
  };
  void serve();
  void handle(int fd);
  std::string make_jwt(const std::string& subject, const std::vector<std::string>& scopes,
                       const User* user);

  std::string service_, issuer_;
  Fd listen_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> expires_in_{300};
  mutable std::mutex mu_;
  std::map<std::string, User> users_;
  std::map<std::string, std::string> refresh_tokens_;  // token → user
  std::vector<std::string> scope_log_;
  std::vector<std::string> heads_;
  std::thread thread_;
};

}  // namespace kiln::test
