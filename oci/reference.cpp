#include "oci/reference.hpp"

#include <cctype>

namespace kiln::oci {

namespace {

constexpr size_t kMaxNameLength = 255;

bool is_alnum_lower(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}
bool is_word(char c) {
  return is_alnum(c) || c == '_';
}

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | "__" | "-"+
bool valid_path_component(std::string_view s) {
  size_t i = 0, n = s.size();
  auto alnum_run = [&] {
    size_t start = i;
    while (i < n && is_alnum_lower(s[i]))
      ++i;
    return i > start;
  };
  if (!alnum_run()) return false;
  while (i < n) {
    if (s[i] == '.') {
      ++i;
    } else if (s[i] == '_') {
      ++i;
      if (i < n && s[i] == '_') ++i;
    } else if (s[i] == '-') {
      while (i < n && s[i] == '-')
        ++i;
    } else {
      return false;
    }
    if (!alnum_run()) return false;
  }
  return true;
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool valid_domain_component(std::string_view s) {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  for (char c : s)
    if (!is_alnum(c) && c != '-') return false;
  return true;
}

bool valid_port(std::string_view p) {
  if (p.empty()) return false;
  for (char c : p)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

bool valid_domain(std::string_view d) {
  std::string_view host = d;
  if (!d.empty() && d.front() == '[') {  // [IPv6]
    auto close = d.find(']');
    if (close == std::string_view::npos || close < 2) return false;
    for (char c : d.substr(1, close - 1))
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':') return false;
    std::string_view rest = d.substr(close + 1);
    return rest.empty() || (rest.front() == ':' && valid_port(rest.substr(1)));
  }
  if (auto colon = d.rfind(':'); colon != std::string_view::npos) {
    if (!valid_port(d.substr(colon + 1))) return false;
    host = d.substr(0, colon);
  }
  size_t start = 0;
  for (;;) {
    size_t dot = host.find('.', start);
    if (!valid_domain_component(host.substr(start, dot - start))) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// tag := [\w][\w.-]{0,127}
bool valid_tag(std::string_view t) {
  if (t.empty() || t.size() > 128 || !is_word(t[0])) return false;
  for (char c : t)
    if (!is_word(c) && c != '.' && c != '-') return false;
  return true;
}

bool is_64_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c)) ||
        std::isupper(static_cast<unsigned char>(c)))
      return false;
  return true;
}

// Strings here are appended, never built as `"literal" + std::string(...)`:
// GCC 12 at -O3 sees a false overlap (-Wrestrict) in operator+(const char*,
// std::string&&).
std::string quoted(std::string_view s) {
  std::string out = "\"";
  out.append(s.substr(0, 300));
  if (s.size() > 300) out.append("…");
  out.append("\"");
  return out;
}

Result<Reference> parse_impl(std::string_view s, bool default_tag) {
  auto bad = [&](auto&&... why) { return fail("invalid reference ", quoted(s), ": ", why...); };
  if (s.empty()) return bad("repository name must have at least one component");
  if (is_64_hex(s)) return bad("a 64-character hexadecimal string is an image ID, not a name");
  for (char c : s)
    if (static_cast<unsigned char>(c) <= ' ' || static_cast<unsigned char>(c) >= 0x7f)
      return bad("contains a space, control or non-ASCII character");

  Reference ref;
  std::string_view rest = s;
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    auto d = Digest::parse(rest.substr(at + 1));
    if (!d) return bad(d.error().message);
    ref.digest = *d;
    rest = rest.substr(0, at);
  }
  // Docker's domain rule: the first component is a registry only when it has a
  // '.' or ':', is "localhost", or has an upper-case letter.
  std::string_view remainder = rest;
  auto slash = rest.find('/');
  bool has_domain = false;
  if (slash != std::string_view::npos) {
    std::string_view first = rest.substr(0, slash);
    bool upper = false;
    for (char c : first)
      upper |= std::isupper(static_cast<unsigned char>(c)) != 0;
    has_domain =
        first.find_first_of(".:") != std::string_view::npos || first == "localhost" || upper;
    if (has_domain) {
      ref.registry = std::string(first);
      remainder = rest.substr(slash + 1);
    }
  }
  if (!has_domain) ref.registry = std::string(kDockerHub);
  if (ref.registry == "index.docker.io") ref.registry = std::string(kDockerHub);
  if (!valid_domain(ref.registry)) return bad("invalid registry host \"", ref.registry, "\"");

  std::string_view path = remainder;
  if (auto colon = remainder.find(':'); colon != std::string_view::npos) {
    path = remainder.substr(0, colon);
    ref.tag = std::string(remainder.substr(colon + 1));
    if (!valid_tag(ref.tag))
      return bad("invalid tag \"", std::string_view(ref.tag).substr(0, 200),
                 "\" (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')");
  }
  if (path.empty()) return bad("repository name must have at least one component");
  for (char c : path)
    if (std::isupper(static_cast<unsigned char>(c)))
      return bad("repository name \"", path.substr(0, 200), "\" must be lowercase");
  size_t start = 0;
  for (;;) {
    size_t next = path.find('/', start);
    std::string_view comp = path.substr(start, next - start);
    if (!valid_path_component(comp))
      return bad("invalid repository path component \"", comp.substr(0, 200),
                 "\" (lower-case letters and digits, separated by '.', '_', '__' or '-')");
    if (next == std::string_view::npos) break;
    start = next + 1;
  }
  ref.repository = std::string(path);
  if (ref.registry == kDockerHub && ref.repository.find('/') == std::string::npos)
    ref.repository = "library/" + ref.repository;
  if (ref.name().size() > kMaxNameLength)
    return bad("repository name must not be more than 255 characters");
  if (default_tag && ref.tag.empty() && !ref.digest) ref.tag = "latest";
  return ref;
}

}  // namespace

Result<Reference> Reference::parse(std::string_view s) {
  return parse_impl(s, true);
}

Result<Reference> Reference::parse_repository(std::string_view s) {
  TRY_ASSIGN(Reference r, parse_impl(s, false));
  if (!r.tag.empty() || r.digest)
    return fail("invalid repository \"", s, "\": a repository takes no tag or digest");
  return r;
}

std::string Reference::str() const {
  std::string s = name();
  if (!tag.empty()) s += ":" + tag;
  if (digest) s += "@" + digest->str();
  return s;
}

std::string Reference::familiar_name() const {
  if (registry != kDockerHub) return name();
  std::string_view repo = repository;
  if (repo.starts_with("library/") && repo.find('/', 8) == std::string_view::npos)
    repo.remove_prefix(8);
  return std::string(repo);
}

std::string Reference::familiar() const {
  std::string s = familiar_name();
  if (!tag.empty()) s += ":" + tag;
  if (digest) s += "@" + digest->str();
  return s;
}

std::string Reference::identifier() const {
  return digest ? digest->str() : tag;
}

std::string Reference::pull_ref() const {
  std::string s = name();
  s.append(digest ? "@" : ":").append(identifier());
  return s;
}

}  // namespace kiln::oci
