#include "parser/shell_pattern.hpp"

#include <algorithm>
#include <vector>

#include "parser/text.hpp"

namespace kiln::parser::pattern {
namespace {

struct Token {
  enum Kind { lit, any, star } kind;
  char32_t cp = 0;
};

// A value decoded into code points, remembering where each starts so the
// unchanged parts can be copied byte for byte.
struct Decoded {
  std::vector<char32_t> cps;
  std::vector<size_t> offsets;  // offsets[i] = byte offset of cps[i]; back() = size
};

Decoded decode(std::string_view s) {
  Decoded d;
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    size_t w = text::decode_utf8(s, i, cp);
    d.cps.push_back(cp);
    d.offsets.push_back(i);
    i += w;
  }
  d.offsets.push_back(s.size());
  return d;
}

Result<std::vector<Token>> compile(std::string_view pattern) {
  std::vector<char32_t> cps = decode(pattern).cps;
  std::vector<Token> out;
  for (size_t i = 0; i < cps.size(); ++i) {
    char32_t c = cps[i];
    if (c == '*') {
      // Adjacent stars choose the same end as one star, so keep one.
      if (out.empty() || out.back().kind != Token::star) out.push_back({Token::star});
    } else if (c == '?') {
      out.push_back({Token::any});
    } else if (c == '\\') {
      if (i + 1 < cps.size() && (cps[i + 1] == '}' || cps[i + 1] == '/')) continue;
      if (i + 1 >= cps.size()) return fail("invalid escape '\\%!c(int32=-1)'");
      char32_t n = cps[++i];
      if (n != '*' && n != '?' && n != '\\') {
        std::string msg = "invalid escape '\\";
        text::append_utf8(msg, n);
        return fail(msg, "'");
      }
      out.push_back({Token::lit, n});
    } else {
      out.push_back({Token::lit, c});
    }
  }
  return out;
}

// The matcher costs pattern x value steps; refuse what no Containerfile needs.
Status check_cost(size_t pattern, size_t value) {
  if ((pattern + 1) * (value + 1) > (size_t{1} << 22)) return fail("pattern too complex for value");
  return {};
}

// row[v] = end of the first match (in Go's leftmost-first priority) of the
// whole pattern starting at v, or -1. Built from the last token backwards.
std::vector<long> match_ends(const std::vector<Token>& toks, const std::vector<char32_t>& v,
                             bool greedy) {
  const long n = static_cast<long>(v.size());
  std::vector<long> next(n + 1), row(n + 1);
  for (long i = 0; i <= n; ++i)
    next[i] = i;
  for (size_t t = toks.size(); t-- > 0;) {
    const Token& tok = toks[t];
    if (tok.kind == Token::star) {
      // cand = the position where the star stops: nearest (lazy) or farthest
      // (greedy) k in [i, next newline] from which the rest matches.
      long cand = -1;
      for (long i = n; i >= 0; --i) {
        bool can_eat = i < n && v[i] != '\n';
        if (!can_eat) cand = -1;
        if (greedy) {
          if (cand < 0 && next[i] >= 0) cand = i;
        } else if (next[i] >= 0) {
          cand = i;
        }
        row[i] = cand >= 0 ? next[cand] : -1;
      }
    } else {
      for (long i = 0; i <= n; ++i) {
        bool ok = i < n && (tok.kind == Token::any ? v[i] != '\n' : v[i] == tok.cp);
        row[i] = ok ? next[i + 1] : -1;
      }
    }
    std::swap(next, row);
  }
  return next;
}

std::string encode(const std::vector<char32_t>& cps, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i)
    text::append_utf8(out, cps[i]);
  return out;
}

// Go's Regexp.Expand for a pattern without groups: $0 and ${0} are the whole
// match, other names and numbers are empty, $$ is $, a malformed $ stays.
void expand_template(std::string& out, std::string_view tmpl, std::string_view match) {
  for (size_t i = 0; i < tmpl.size();) {
    char c = tmpl[i];
    if (c != '$') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 < tmpl.size() && tmpl[i + 1] == '$') {
      out += '$';
      i += 2;
      continue;
    }
    size_t j = i + 1;
    bool brace = j < tmpl.size() && tmpl[j] == '{';
    if (brace) ++j;
    size_t start = j;
    while (j < tmpl.size()) {
      char32_t cp;
      size_t w = text::decode_utf8(tmpl, j, cp);
      bool word = cp == '_' || (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
                  (cp >= 'A' && cp <= 'Z') || (cp >= 0x80 && cp != 0xFFFD);
      if (!word) break;
      j += w;
    }
    std::string_view name = tmpl.substr(start, j - start);
    bool ok = !name.empty() && (!brace || (j < tmpl.size() && tmpl[j] == '}'));
    if (!ok) {
      out += '$';
      ++i;
      continue;
    }
    if (brace) ++j;
    if (name == "0") out.append(match);
    i = j;
  }
}

}  // namespace

Result<std::string> trim_prefix(std::string_view pattern, std::string_view value, bool greedy) {
  auto toks = compile(pattern);
  if (!toks) return fail("invalid pattern (", pattern, ") in substitution: ", toks.error().message);
  Decoded v = decode(value);
  TRY(check_cost(toks->size(), v.cps.size()));
  long end = match_ends(*toks, v.cps, greedy)[0];
  if (end < 0) return std::string(value);
  return std::string(value.substr(v.offsets[end]));
}

Result<std::string> trim_suffix(std::string_view pattern, std::string_view value, bool greedy) {
  // As BuildKit: reverse both, trim a prefix, reverse back. Escape pairs
  // keep their order so a\*c becomes c\*a.
  std::vector<char32_t> p = decode(pattern).cps;
  std::vector<char32_t> rp(p.size());
  size_t last = p.size() ? p.size() - 1 : 0;
  for (size_t i = 0; i < p.size();) {
    size_t o = last - i;
    if (p[i] == '\\' && i != last) {
      rp[o - 1] = p[i];
      rp[o] = p[i + 1];
      i += 2;
    } else {
      rp[o] = p[i];
      ++i;
    }
  }
  std::string rpattern = encode(rp, 0, rp.size());
  auto toks = compile(rpattern);
  if (!toks)
    return fail("invalid pattern (", rpattern, ") in substitution: ", toks.error().message);
  std::vector<char32_t> rv = decode(value).cps;
  TRY(check_cost(toks->size(), rv.size()));
  std::reverse(rv.begin(), rv.end());
  long end = match_ends(*toks, rv, greedy)[0];
  if (end < 0) end = 0;
  std::vector<char32_t> kept(rv.begin() + end, rv.end());
  std::reverse(kept.begin(), kept.end());
  return encode(kept, 0, kept.size());
}

Result<std::string> replace(std::string_view pattern, std::string_view value,
                            std::string_view replacement, bool all) {
  auto toks = compile(pattern);
  if (!toks) return fail("invalid pattern (", pattern, ") in substitution: ", toks.error().message);
  Decoded v = decode(value);
  TRY(check_cost(toks->size(), v.cps.size()));
  std::vector<long> ends = match_ends(*toks, v.cps, true);
  const size_t n = v.cps.size();
  auto find_from = [&](size_t from, size_t& s, size_t& e) {
    for (size_t i = from; i <= n; ++i)
      if (ends[i] >= 0) {
        s = i, e = static_cast<size_t>(ends[i]);
        return true;
      }
    return false;
  };
  size_t s = 0, e = 0;
  if (!all) {
    if (!find_from(0, s, e)) return std::string(value);
    std::string out(value.substr(0, v.offsets[s]));
    out.append(replacement);
    out.append(value.substr(v.offsets[e]));
    return out;
  }
  // Regexp.ReplaceAllString: successive non-overlapping matches; an empty
  // match right after a previous match is skipped.
  std::string out;
  size_t last_end = 0, search = 0;
  while (search <= n && find_from(search, s, e)) {
    out.append(value.substr(v.offsets[last_end], v.offsets[s] - v.offsets[last_end]));
    if (e > last_end || s == 0)
      expand_template(out, replacement, value.substr(v.offsets[s], v.offsets[e] - v.offsets[s]));
    if (out.size() > (size_t{1} << 18)) return fail("expansion result too large");
    last_end = e;
    size_t width = search < n ? 1 : 0;  // always advance at least one character
    if (search + width > e)
      search += width;
    else if (search + 1 > e)
      ++search;
    else
      search = e;
  }
  out.append(value.substr(v.offsets[last_end]));
  return out;
}

}  // namespace kiln::parser::pattern
