// Proxies from the environment, and what messages may show of them. libcurl
// does the proxying; these decide which proxy a request names (upper- and
// lower-case variables alike: libcurl itself ignores HTTP_PROXY in upper case)
// and keep a proxy's user and password out of every message.
#pragma once

#include <string>

namespace kiln::registry {

// $https_proxy / $http_proxy for the URL's scheme, else $all_proxy; "" for none.
std::string proxy_from_env(const std::string& scheme);
// $no_proxy.
std::string no_proxy_from_env();

// A proxy URL's "user:password": between "://" and the last '@' (libcurl
// splits at the first, so a password with '@' in it must not leak either).
std::string proxy_userinfo(const std::string& proxy);

// A proxy URL as a message may show it: without its user and password.
std::string proxy_for_messages(const std::string& proxy);

// `text` (one of libcurl's messages, which may quote the proxy URL whole) with
// the proxy's credentials blanked.
std::string redact_proxy(std::string text, const std::string& proxy);

// Whether NO_PROXY keeps `host` off the proxy, by libcurl's rules ("*", a host,
// a domain and its subdomains, an address or address range, IPv6 in brackets
// or not; entries split on commas and spaces). Only for messages: libcurl
// decides for itself.
bool bypasses_proxy(const std::string& no_proxy, std::string host);

}  // namespace kiln::registry
