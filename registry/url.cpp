#include "registry/url.hpp"

#include <cctype>
#include <vector>

namespace kiln::registry {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int default_port(std::string_view scheme) {
  return scheme == "https" ? 443 : 80;
}

// Removes "." and ".." segments so "/v2/a/../b" cannot escape what it claims.
std::string remove_dots(std::string_view path) {
  std::vector<std::string> out;
  size_t pos = 0;
  bool trailing = false;
  while (pos <= path.size()) {
    size_t e = path.find('/', pos);
    if (e == std::string_view::npos) e = path.size();
    std::string seg(path.substr(pos, e - pos));
    trailing = false;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      trailing = true;
    } else if (seg == ".") {
      trailing = true;
    } else if (!seg.empty() || e == path.size()) {
      out.push_back(seg);
    }
    pos = e + 1;
  }
  std::string r;
  for (auto& s : out)
    r += "/" + s;
  if (trailing) r += "/";
  return r.empty() ? "/" : r;
}

}  // namespace

Result<Url> Url::parse(std::string_view s) {
  size_t colon = s.find("://");
  if (colon == std::string_view::npos) return fail("not an absolute URL: \"", s, "\"");
  Url u;
  u.scheme = lower(s.substr(0, colon));
  if (u.scheme != "http" && u.scheme != "https")
    return fail("unsupported URL scheme \"", u.scheme, "\"");
  std::string_view rest = s.substr(colon + 3);
  size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view tail = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos)
    return fail("URL with embedded credentials refused");
  if (authority.empty()) return fail("URL without a host: \"", s, "\"");
  std::string_view hostpart = authority, portpart;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("bad IPv6 host in URL");
    hostpart = authority.substr(0, close + 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return fail("bad host in URL");
      portpart = authority.substr(close + 2);
    }
  } else if (size_t c = authority.rfind(':'); c != std::string_view::npos) {
    hostpart = authority.substr(0, c);
    portpart = authority.substr(c + 1);
  }
  // A ':' left in the host ("h:80p:" split at its last colon) would make a
  // URL that str() writes and no parser reads back as the same origin.
  for (char c : hostpart)
    if (std::isspace(static_cast<unsigned char>(c)) || c == '\\' ||
        (c == ':' && hostpart.front() != '['))
      return fail("bad host in URL");
  u.host = lower(hostpart);
  if (u.host.empty()) return fail("URL without a host");
  u.port = default_port(u.scheme);
  if (!portpart.empty()) {
    int p = 0;
    for (char c : portpart) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || p > 65535) return fail("bad URL port");
      p = p * 10 + (c - '0');
    }
    if (p <= 0 || p > 65535) return fail("bad URL port");
    u.port = p;
  }
  if (size_t hash = tail.find('#'); hash != std::string_view::npos) tail = tail.substr(0, hash);
  // Appended, not "/" + string: GCC 12 at -O3 warns (-Wrestrict) on the latter.
  u.path_query.assign(tail.empty() || tail.front() == '?' ? "/" : "");
  u.path_query += tail;
  return u;
}

std::string Url::str() const {
  std::string s = scheme;
  s += "://";
  s += host;
  if (port != default_port(scheme)) {
    s += ':';
    s += std::to_string(port);
  }
  s += path_query;
  return s;
}

std::string Url::origin() const {
  return scheme + "://" + host + ":" + std::to_string(port);
}

Url Url::with_query(std::string_view name, std::string_view value) const {
  Url u = *this;
  u.path_query += (path_query.find('?') == std::string::npos ? "?" : "&");
  u.path_query += std::string(name) + "=" + query_escape(value);
  return u;
}

Result<Url> resolve_url(const Url& base, std::string_view loc) {
  if (loc.empty()) return fail("empty Location");
  // "scheme:..." is absolute whatever the scheme; only http(s) passes Url::parse.
  size_t colon = loc.find(':');
  if (colon != std::string_view::npos && colon > 0 &&
      std::isalpha(static_cast<unsigned char>(loc[0]))) {
    bool scheme = true;
    for (char c : loc.substr(0, colon))
      scheme = scheme &&
               (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.');
    if (scheme && loc.find_first_of("/?#") > colon) {
      if (loc.substr(colon).starts_with("://")) return Url::parse(loc);
      return fail("unsupported Location \"", loc.substr(0, colon), ":...\"");
    }
  }
  if (loc.starts_with("//")) return Url::parse(base.scheme + ":" + std::string(loc));
  for (char c : loc)
    if (static_cast<unsigned char>(c) < 0x21 || c == '\\')
      return fail("bad Location \"", loc, "\"");
  Url u = base;
  std::string_view path = loc, query;
  if (size_t q = loc.find('?'); q != std::string_view::npos) {
    path = loc.substr(0, q);
    query = loc.substr(q);
  }
  std::string base_path = base.path_query.substr(0, base.path_query.find('?'));
  std::string joined;
  if (path.empty())
    joined = base_path;
  else if (path.front() == '/')
    joined = std::string(path);
  else
    joined = base_path.substr(0, base_path.rfind('/') + 1) + std::string(path);
  u.path_query = remove_dots(joined) + std::string(query);
  return u;
}

Result<ValidatedLocation> validate_location(const Url& request, std::string_view location,
                                            bool insecure) {
  auto u = resolve_url(request, location);
  if (!u) return fail("registry sent an unusable Location: ", u.error().message);
  if (request.scheme == "https" && u->scheme == "http" && !insecure)
    return fail("registry sent a Location that downgrades https to http: ",
                url_for_messages(u->str()));
  return ValidatedLocation{*u, u->same_origin(request)};
}

std::string url_for_messages(std::string_view url) {
  size_t q = url.find('?');
  if (q == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, q)) + "?…";
}

std::string query_escape(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace kiln::registry
