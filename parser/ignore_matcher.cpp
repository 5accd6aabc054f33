// IgnoreMatcher: moby/patternmatcher, pattern by pattern.
#include <algorithm>

#include "parser/go_regex.hpp"
#include "parser/ignore.hpp"
#include "parser/text.hpp"

namespace kiln::parser {

namespace {

// Go's path/filepath.Clean for '/'-separated paths.
std::string go_clean(std::string_view path) {
  if (path.empty()) return ".";
  const bool rooted = path[0] == '/';
  const size_t n = path.size();
  std::string out;
  size_t r = 0, dotdot = 0;
  if (rooted) {
    out += '/';
    r = dotdot = 1;
  }
  while (r < n) {
    if (path[r] == '/') {
      ++r;
    } else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
      ++r;
    } else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || path[r + 2] == '/')) {
      r += 2;
      if (out.size() > dotdot) {
        out.pop_back();
        while (out.size() > dotdot && out.back() != '/')
          out.pop_back();
        if (out.size() > dotdot && out.back() == '/') out.pop_back();
        // Go backs up to (not past) the slash before the element; the slash
        // it leaves is removed here and re-added before the next element.
      } else if (!rooted) {
        if (!out.empty()) out += '/';
        out += "..";
        dotdot = out.size();
      }
    } else {
      if ((rooted && out.size() != 1) || (!rooted && !out.empty())) out += '/';
      for (; r < n && path[r] != '/'; ++r)
        out += path[r];
    }
  }
  if (out.empty()) return ".";
  return out;
}

// filepath.Match's syntax check: every chunk must parse.
bool valid_glob(std::string_view pattern) {
  auto get_esc = [](std::string_view& chunk) {
    if (chunk.empty() || chunk[0] == '-' || chunk[0] == ']') return false;
    if (chunk[0] == '\\') {
      chunk.remove_prefix(1);
      if (chunk.empty()) return false;
    }
    char32_t cp;
    size_t w = text::decode_utf8(chunk, 0, cp);
    if (cp == 0xFFFD && w == 1 && static_cast<unsigned char>(chunk[0]) >= 0x80) return false;
    chunk.remove_prefix(w);
    return !chunk.empty();
  };
  while (!pattern.empty()) {
    while (!pattern.empty() && pattern[0] == '*')
      pattern.remove_prefix(1);
    bool in_range = false;
    size_t i = 0;
    for (; i < pattern.size(); ++i) {
      char c = pattern[i];
      if (c == '\\') {
        if (i + 1 < pattern.size()) ++i;
      } else if (c == '[') {
        in_range = true;
      } else if (c == ']') {
        in_range = false;
      } else if (c == '*' && !in_range) {
        break;
      }
    }
    std::string_view chunk = pattern.substr(0, i);
    pattern.remove_prefix(i);
    while (!chunk.empty()) {
      if (chunk[0] == '[') {
        chunk.remove_prefix(1);
        if (!chunk.empty() && chunk[0] == '^') chunk.remove_prefix(1);
        int nrange = 0;
        for (;;) {
          if (!chunk.empty() && chunk[0] == ']' && nrange > 0) {
            chunk.remove_prefix(1);
            break;
          }
          if (!get_esc(chunk)) return false;
          if (chunk[0] == '-') {
            chunk.remove_prefix(1);
            if (!get_esc(chunk)) return false;
          }
          ++nrange;
        }
      } else if (chunk[0] == '\\') {
        chunk.remove_prefix(1);
        if (chunk.empty()) return false;
        chunk.remove_prefix(1);
      } else {
        chunk.remove_prefix(1);
      }
    }
  }
  return true;
}

bool should_escape(char32_t c) {
  return c == '.' || c == '+' || c == '(' || c == ')' || c == '|' || c == '{' || c == '}' ||
         c == '$';
}

// Short-string comparisons that reject on the first or last byte before
// calling memcmp: most checks fail, and they fail there.
inline bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && (a.empty() || (a[0] == b[0] && a.back() == b.back())) && a == b;
}
inline bool has_suffix(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && (suf.empty() || s.back() == suf.back()) &&
         s.substr(s.size() - suf.size()) == suf;
}
inline bool has_prefix(std::string_view s, std::string_view pre) {
  return s.size() >= pre.size() && (pre.empty() || s[0] == pre[0]) &&
         s.substr(0, pre.size()) == pre;
}

struct Pattern {
  enum Type { exact, prefix, suffix, regexp } type = exact;
  std::string cleaned;  // without the leading "!"
  bool exclusion = false;
  std::string literal;  // the prefix (prefix) or suffix (suffix) compared
  detail::GoRegex re;

  bool match(std::string_view path) const {
    switch (type) {
      case exact:
        return same(path, cleaned);
      case prefix:
        return has_prefix(path, literal);
      case suffix:
        if (has_suffix(path, literal)) return true;
        return !literal.empty() && literal[0] == '/' &&
               same(path, std::string_view(literal).substr(1));
      case regexp:
        return re.match(path);
    }
    return false;
  }
};

// Pattern.compile: the pattern as a Go regexp, or one of three shortcuts.
Status compile(Pattern& p) {
  std::string re = "^";
  Pattern::Type type = Pattern::exact;
  const std::string& pat = p.cleaned;
  size_t i = 0;
  for (int k = 0; i < pat.size(); ++k) {
    char32_t ch;
    size_t w = text::decode_utf8(pat, i, ch);
    i += w;
    if (ch == '*') {
      if (i < pat.size() && pat[i] == '*') {
        ++i;
        if (i < pat.size() && pat[i] == '/') ++i;  // **/ is **
        if (i == pat.size()) {
          if (type == Pattern::exact) {
            type = Pattern::prefix;
          } else {
            re += ".*";
            type = Pattern::regexp;
          }
        } else {
          re += "(.*/)?";
          type = Pattern::regexp;
        }
        if (k == 0) type = Pattern::suffix;
      } else {
        re += "[^/]*";
        type = Pattern::regexp;
      }
    } else if (ch == '?') {
      re += "[^/]";
      type = Pattern::regexp;
    } else if (should_escape(ch)) {
      re += '\\';
      text::append_utf8(re, ch);
    } else if (ch == '\\') {
      if (i < pat.size()) {
        char32_t next;
        size_t nw = text::decode_utf8(pat, i, next);
        i += nw;
        re += '\\';
        text::append_utf8(re, next);
        type = Pattern::regexp;
      } else {
        re += '\\';
      }
    } else if (ch == '[' || ch == ']') {
      text::append_utf8(re, ch);
      type = Pattern::regexp;
    } else {
      text::append_utf8(re, ch);
    }
  }
  p.type = type;
  if (type == Pattern::prefix) p.literal = pat.substr(0, pat.size() - 2);
  if (type == Pattern::suffix) p.literal = pat.substr(2);
  if (type != Pattern::regexp) return {};
  re += '$';
  auto compiled = detail::GoRegex::compile(re);
  if (!compiled) return fail("syntax error in pattern");
  p.re = std::move(*compiled);
  return {};
}

std::string without_trailing_glob(std::string_view p) {
  if (text::ends_with(p, "/**")) p.remove_suffix(3);
  if (text::ends_with(p, "/*")) p.remove_suffix(2);
  return std::string(p);
}

}  // namespace

struct IgnoreMatcher::Impl {
  std::vector<Pattern> patterns;
  bool exceptions = false;
  bool only_prefix_exceptions = true;
};

IgnoreMatcher::IgnoreMatcher() : impl_(std::make_unique<Impl>()) {}
IgnoreMatcher::~IgnoreMatcher() = default;
IgnoreMatcher::IgnoreMatcher(IgnoreMatcher&&) noexcept = default;
IgnoreMatcher& IgnoreMatcher::operator=(IgnoreMatcher&&) noexcept = default;

std::vector<IgnoreLine> read_ignore_lines(std::string_view text) {
  std::vector<IgnoreLine> out;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  int lineno = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++lineno;
    if (!line.empty() && line[0] == '#') continue;
    std::string_view p = text::trim_space(line);
    if (p.empty()) continue;
    bool invert = p[0] == '!';
    if (invert) p = text::trim_space(p.substr(1));
    std::string cleaned;
    if (!p.empty()) {
      cleaned = go_clean(p);
      if (cleaned.size() > 1 && cleaned[0] == '/') cleaned.erase(0, 1);
    }
    out.push_back({(invert ? "!" : "") + cleaned, lineno});
  }
  return out;
}

Result<IgnoreMatcher> IgnoreMatcher::create(const std::vector<IgnoreLine>& lines,
                                            std::string_view source) {
  IgnoreMatcher m;
  Impl& impl = *m.impl_;
  for (const IgnoreLine& l : lines) {
    std::string_view t = text::trim_space(l.pattern);
    if (t.empty()) continue;
    std::string p = go_clean(t);
    // Appended, not `":" + std::to_string(...)`: GCC 12 at -O3 sees a false
    // overlap (-Wrestrict) in operator+(const char*, std::string&&).
    std::string where(source);
    if (l.line) where.append(":").append(std::to_string(l.line));
    Pattern pat;
    if (p[0] == '!') {
      if (p.size() == 1) return fail(where, ": illegal exclusion pattern: \"!\"");
      pat.exclusion = true;
      p.erase(0, 1);
      impl.exceptions = true;
    }
    if (!valid_glob(p))
      return fail(where, ": bad pattern ", text::go_quote(p), ": syntax error in pattern");
    pat.cleaned = p;
    if (Status st = compile(pat); !st)
      return fail(where, ": bad pattern ", text::go_quote(p), ": ", st.error().message);
    if (pat.exclusion && without_trailing_glob(p).find_first_of("*[]?^\\") != std::string::npos)
      impl.only_prefix_exceptions = false;
    impl.patterns.push_back(std::move(pat));
  }
  return m;
}

Result<IgnoreMatcher> IgnoreMatcher::create(const std::vector<std::string>& patterns) {
  std::vector<IgnoreLine> lines;
  for (const std::string& p : patterns)
    lines.push_back({p, 0});
  return create(lines, "pattern");
}

// True when go_clean(p) == p and p is relative (the usual case: no copy).
bool is_clean_relative(std::string_view p) {
  if (p.empty() || p[0] == '/' || p.back() == '/') return false;
  size_t start = 0;
  for (;;) {
    size_t slash = p.find('/', start);
    std::string_view seg = p.substr(start, slash - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

bool IgnoreMatcher::matches(std::string_view path) const {
  std::string clean;
  if (!is_clean_relative(path)) {
    clean = go_clean(path);
    if (clean == ".") return false;
    path = clean;
  }
  // The parent directories ("a", "a/b" for "a/b/c"), found once.
  size_t ends[64];
  size_t nends = 0;
  std::vector<size_t> more;
  for (size_t i = 0; i < path.size(); ++i)
    if (path[i] == '/') {
      if (nends < 64)
        ends[nends++] = i;
      else
        more.push_back(i);
    }
  bool matched = false;
  for (const Pattern& p : impl_->patterns) {
    if (p.exclusion != matched) continue;
    bool m = p.match(path);
    for (size_t k = 0; !m && k < nends; ++k)
      m = p.match(path.substr(0, ends[k]));
    for (size_t k = 0; !m && k < more.size(); ++k)
      m = p.match(path.substr(0, more[k]));
    if (m) matched = !p.exclusion;
  }
  return matched;
}

bool IgnoreMatcher::matches(std::string_view path, const PerPattern& parent,
                            PerPattern& out) const {
  const auto& pats = impl_->patterns;
  out.assign(pats.size(), false);
  bool matched = false;
  size_t last_slash = path.rfind('/');
  for (size_t i = 0; i < pats.size(); ++i) {
    const Pattern& p = pats[i];
    bool m = !parent.empty() && parent[i];
    if (!m) {
      if (p.exclusion != matched) continue;
      m = p.match(path);
      if (!m && parent.empty() && last_slash != std::string_view::npos) {
        for (size_t s = path.find('/'); s != std::string_view::npos && s <= last_slash;
             s = path.find('/', s + 1))
          if (s > 0 && p.match(path.substr(0, s))) {
            m = true;
            break;
          }
      }
    }
    out[i] = m;
    if (m) matched = !p.exclusion;
  }
  return matched;
}

bool IgnoreMatcher::must_descend(std::string_view dir) const {
  if (!impl_->only_prefix_exceptions) return true;
  if (!impl_->exceptions) return false;
  std::string dir_slash = std::string(dir) + "/";
  for (const Pattern& p : impl_->patterns)
    if (p.exclusion && text::starts_with(without_trailing_glob(p.cleaned) + "/", dir_slash))
      return true;
  return false;
}

bool IgnoreMatcher::empty() const {
  return impl_->patterns.empty();
}
bool IgnoreMatcher::has_exceptions() const {
  return impl_->exceptions;
}
size_t IgnoreMatcher::size() const {
  return impl_->patterns.size();
}

}  // namespace kiln::parser
