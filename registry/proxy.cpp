#include "registry/proxy.hpp"

#include <arpa/inet.h>
#include <strings.h>

#include <algorithm>
#include <cstdlib>

namespace kiln::registry {

namespace {

std::string env(const char* a, const char* b) {
  for (const char* n : {a, b})
    if (const char* v = std::getenv(n); v && *v) return v;
  return "";
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

// Whether `host` (an IP literal) is inside `cidr` ("10.0.0.0/8", "fd00::/8").
bool in_cidr(const std::string& cidr, const std::string& host) {
  size_t slash = cidr.find('/');
  unsigned char net[16], addr[16];
  int family = cidr.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (inet_pton(family, cidr.substr(0, slash).c_str(), net) != 1 ||
      inet_pton(family, host.c_str(), addr) != 1)
    return false;
  int bits = family == AF_INET6 ? 128 : 32;
  if (slash != std::string::npos) {
    int prefix = std::atoi(cidr.c_str() + slash + 1);
    if (prefix < 0 || prefix > bits) return false;
    bits = prefix;
  }
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    unsigned mask = bits >= 8 ? 0xffu : (0xffu << (8 - bits)) & 0xffu;
    if ((net[i] & mask) != (addr[i] & mask)) return false;
  }
  return true;
}

}  // namespace

std::string proxy_from_env(const std::string& scheme) {
  std::string proxy =
      scheme == "https" ? env("https_proxy", "HTTPS_PROXY") : env("http_proxy", "HTTP_PROXY");
  return proxy.empty() ? env("all_proxy", "ALL_PROXY") : proxy;
}

std::string no_proxy_from_env() {
  return env("no_proxy", "NO_PROXY");
}

std::string proxy_userinfo(const std::string& proxy) {
  size_t start = proxy.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t at = proxy.rfind('@');
  return at == std::string::npos || at < start ? "" : proxy.substr(start, at - start);
}

std::string proxy_for_messages(const std::string& proxy) {
  std::string user = proxy_userinfo(proxy);
  if (user.empty()) return proxy;
  size_t start = proxy.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  return proxy.substr(0, start) + proxy.substr(start + user.size() + 1);
}

std::string redact_proxy(std::string text, const std::string& proxy) {
  std::string user = proxy_userinfo(proxy);
  if (user.empty()) return text;
  replace_all(text, proxy, proxy_for_messages(proxy));
  replace_all(text, user, "***");
  size_t colon = user.find(':');
  if (colon != std::string::npos && user.size() - colon > 4)
    replace_all(text, user.substr(colon + 1), "***");
  return text;
}

bool bypasses_proxy(const std::string& no_proxy, std::string host) {
  if (host.starts_with("[") && host.ends_with("]")) host = host.substr(1, host.size() - 2);
  size_t pos = 0;
  while (pos <= no_proxy.size()) {
    size_t comma = std::min(no_proxy.find_first_of(", \t", pos), no_proxy.size());
    std::string entry = no_proxy.substr(pos, comma - pos);
    pos = comma + 1;
    entry.erase(0, entry.find_first_not_of(" \t"));
    entry.erase(entry.find_last_not_of(" \t") + 1);
    if (entry.starts_with("[") && entry.ends_with("]")) entry = entry.substr(1, entry.size() - 2);
    if (entry.starts_with(".")) entry.erase(0, 1);
    if (entry.empty()) continue;
    if (entry == "*" || strcasecmp(entry.c_str(), host.c_str()) == 0 || in_cidr(entry, host))
      return true;
    if (host.size() > entry.size() && host[host.size() - entry.size() - 1] == '.' &&
        strcasecmp(host.c_str() + host.size() - entry.size(), entry.c_str()) == 0)
      return true;
  }
  return false;
}

}  // namespace kiln::registry
