#include "registry/auth.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/printable.hpp"
#include "oci/json.hpp"
#include "registry/url.hpp"

namespace kiln::registry {

Status validate_realm(const std::string& realm, bool insecure) {
  auto u = Url::parse(realm);
  if (!u)
    return fail("the registry's token realm \"", realm, "\" is unusable: ", u.error().message);
  if (u->scheme != "https" && !insecure)
    return fail("the registry's token realm ", realm,
                " is not https; refusing to send credentials (use --tls-verify=false only for a "
                "registry you trust on this network)");
  return {};
}

Result<Request> token_request(const TokenRequest& t) {
  TRY(validate_realm(t.realm, t.insecure));
  TRY_ASSIGN(Url u, Url::parse(t.realm));
  // An insecure registry relaxes TLS for itself, not for whatever its realm
  // names: a plain-http realm elsewhere gets no secrets. Refused rather than
  // asked anonymously, as docker refuses to send credentials over http: an
  // anonymous token would only surface later as a puzzling "unauthorized".
  bool secrets =
      t.credentials && (!t.credentials->username.empty() || !t.credentials->identity_token.empty());
  if (secrets && u.scheme != "https") {
    auto base = Url::parse(t.registry_base);
    if (!base || !u.same_origin(*base))
      return fail("the registry's token realm ", url_for_messages(t.realm),
                  " is plain http on another server than the registry; refusing to send "
                  "credentials there (--tls-verify=false relaxes certificate checks only)");
  }
  Request r;
  if (t.credentials && !t.credentials->identity_token.empty()) {
    // OAuth2: the refresh token goes in a form body, never in the URL.
    std::string scope;
    for (auto& s : t.scopes.items()) {
      if (!scope.empty()) scope += ' ';
      scope += s.str();
    }
    r.method = "POST";
    r.url = u.str();
    r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    r.body = "grant_type=refresh_token&client_id=kiln&service=" + query_escape(t.service) +
             "&refresh_token=" + query_escape(t.credentials->identity_token);
    if (!scope.empty()) r.body += "&scope=" + query_escape(scope);
    return r;
  }
  if (!t.service.empty()) u = u.with_query("service", t.service);
  for (auto& s : t.scopes.items())
    u = u.with_query("scope", s.str());
  r.url = u.str();
  if (t.credentials && !t.credentials->username.empty())
    r.headers.emplace_back("Authorization", "Basic " + base64_encode(t.credentials->username + ":" +
                                                                     t.credentials->password));
  return r;
}

Result<TokenReply> parse_token_reply(std::string_view body) {
  auto j = oci::parse_untrusted_json(body);
  if (j.is_discarded() || !j.is_object()) return fail("the token service answered with non-JSON");
  TokenReply t;
  for (const char* k : {"token", "access_token"})
    if (j.contains(k) && j[k].is_string() && !j[k].get<std::string>().empty()) {
      t.token = j[k];
      break;
    }
  if (t.token.empty()) return fail("the token service answered without a token");
  // It goes into an Authorization header: a CR, LF or other control byte
  // would let the token service write headers of its own into requests.
  if (!visible_ascii(t.token))
    return fail("the token service answered with a token that holds spaces or control characters");
  if (j.contains("expires_in") && j["expires_in"].is_number_integer()) {
    // Bounded: a day is far past any real token's life, and a larger figure
    // would overflow the clock arithmetic that schedules the renewal.
    int64_t s = j["expires_in"];
    t.expires_in = std::chrono::seconds(std::clamp<int64_t>(s, 1, 24 * 3600));
  }
  return t;
}

}  // namespace kiln::registry
