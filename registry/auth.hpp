// Bearer tokens per the Docker token-auth spec: GET realm?service=&scope= with
// Basic credentials (or none), or the OAuth2 form POST with a refresh token
// when the keychain holds an identity token. The realm must be https unless the
// registry is insecure; credentials go over plain http only to the registry's
// own origin (a registry reached over http by explicit configuration).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "base/result.hpp"
#include "registry/http.hpp"
#include "registry/keychain.hpp"
#include "registry/retry.hpp"
#include "registry/scope.hpp"

namespace kiln::registry {

struct TokenRequest {
  std::string realm, service;
  Scopes scopes;
  std::optional<Credentials> credentials;
  bool insecure = false;
  std::string registry_base;  // the registry's API base ("http://host:port")
};

struct TokenReply {
  std::string token;
  std::chrono::seconds expires_in{60};
};

// Checks a realm URL before credentials go to it.
Status validate_realm(const std::string& realm, bool insecure);

// The request that asks for a token (exposed for tests).
Result<Request> token_request(const TokenRequest& t);
// Parses a token endpoint's JSON answer.
Result<TokenReply> parse_token_reply(std::string_view body);

}  // namespace kiln::registry
