// Url: the small URL model the registry client needs: parse absolute http(s)
// URLs, resolve a Location header against the request URL, compare origins (to
// decide whether credentials may go there) and escape query values.
#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"

namespace kiln::registry {

struct Url {
  std::string scheme;            // "http" or "https", lower-case
  std::string host;              // lower-case, IPv6 literals keep their brackets
  int port = 0;                  // explicit or the scheme's default
  std::string path_query = "/";  // path plus "?query", never empty

  // Absolute http(s) URLs only; userinfo ("user:pw@host") is refused.
  static Result<Url> parse(std::string_view s);
  std::string str() const;
  std::string origin() const;  // "https://host:port" (port always explicit)
  bool same_origin(const Url& o) const { return origin() == o.origin(); }
  // Appends "name=value" (value escaped) with ? or & as needed.
  Url with_query(std::string_view name, std::string_view value) const;
};

// Resolves `location` (absolute, or relative to `base`) as RFC 3986 does for
// the forms registries send: "https://h/p", "//h/p", "/p?q", "p".
Result<Url> resolve_url(const Url& base, std::string_view location);

// Checks an upload Location or redirect target before anything is sent to it:
// http(s) only, no userinfo, no https → http downgrade unless `insecure`.
// `credentials_ok` says whether the registry's credentials may go there
// (only to the same scheme, host and port).
struct ValidatedLocation {
  Url url;
  bool credentials_ok = false;
};
Result<ValidatedLocation> validate_location(const Url& request, std::string_view location,
                                            bool insecure);

std::string query_escape(std::string_view s);

// `url` as messages and logs show it: without its query, where a signed
// storage URL or an upload session carries what grants access to it.
std::string url_for_messages(std::string_view url);

}  // namespace kiln::registry
