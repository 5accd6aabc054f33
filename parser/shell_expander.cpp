#include "parser/shell_expander.hpp"

#include "parser/shell_pattern.hpp"
#include "parser/text.hpp"

namespace kiln::parser {
namespace {

constexpr char32_t kEof = 0xFFFFFFFF;

// unicode.IsLetter, approximately: ASCII letters plus the common alphabetic
// blocks (Latin, Greek, Cyrillic, kana, CJK, Hangul). Only variable names
// depend on it.
bool is_letter(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  return c == 0xAA || c == 0xB5 || c == 0xBA ||
         (c >= 0xC0 && c <= 0x2C1 && c != 0xD7 && c != 0xF7) ||
         (c >= 0x370 && c <= 0x3FF && c != 0x37E && c != 0x387) || (c >= 0x400 && c <= 0x481) ||
         (c >= 0x48A && c <= 0x52F) || (c >= 0x3041 && c <= 0x30FF) ||
         (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7A3);
}
bool is_digit(char32_t c) {
  return c >= '0' && c <= '9';
}
bool is_special_param(char32_t c) {
  switch (c) {
    case '@':
    case '*':
    case '#':
    case '?':
    case '-':
    case '$':
    case '!':
    case '0':
      return true;
    default:
      return false;
  }
}

std::string rune_str(char32_t c) {
  std::string s;
  text::append_utf8(s, c == kEof ? 0xFFFD : c);
  return s;
}

// Word splitting after expansion (ProcessWords).
struct Words {
  std::vector<std::string> words;
  std::string buf;
  bool in_word = false;

  void add_char(char32_t c) {
    if (text::is_space(c)) {
      if (in_word && !buf.empty()) {
        words.push_back(std::move(buf));
        buf.clear();
        in_word = false;
      }
    } else {
      add_raw_char(c);
    }
  }
  void add_raw_char(char32_t c) {
    text::append_utf8(buf, c);
    in_word = true;
  }
  void add_string(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
      char32_t c;
      i += text::decode_utf8(s, i, c);
      add_char(c);
    }
  }
  void add_raw_string(std::string_view s) {
    buf.append(s);
    in_word = true;
  }
  std::vector<std::string> take() {
    if (!buf.empty()) words.push_back(std::move(buf));
    return std::move(words);
  }
};

class Lexer {
 public:
  Lexer(const ShellExpander& opt, const VarLookup& vars, std::string_view src)
      : opt_(opt), vars_(vars), src_(src), raw_escapes_(opt.raw_escapes) {}

  Status run(std::string& result, std::vector<std::string>* words) {
    return stop_on(kEof, raw_escapes_, result, words);
  }

 private:
  char32_t peek() const {
    if (pos_ >= src_.size()) return kEof;
    char32_t c;
    text::decode_utf8(src_, pos_, c);
    return c;
  }
  char32_t next() {
    if (pos_ >= src_.size()) return kEof;
    char32_t c;
    pos_ += text::decode_utf8(src_, pos_, c);
    return c;
  }
  char32_t esc() const { return static_cast<unsigned char>(opt_.escape); }

  const std::string* lookup(std::string_view name) const { return vars_.get(name); }

  // Reads up to `stop` (consumed) or the end. Escapes are kept verbatim when
  // raw_escapes is set, as for the patterns of ${v#p} and ${v/p/r}.
  Status stop_on(char32_t stop, bool raw_escapes, std::string& result,
                 std::vector<std::string>* words_out) {
    bool saved = raw_escapes_;
    raw_escapes_ = raw_escapes;
    Words words;
    Status st = stop_on_inner(stop, result, words);
    raw_escapes_ = saved;
    if (st && words_out) *words_out = words.take();
    return st;
  }

  Status stop_on_inner(char32_t stop, std::string& result, Words& words) {
    while (peek() != kEof) {
      char32_t c = peek();
      if (stop != kEof && c == stop) {
        next();
        return {};
      }
      if (c == '$') {
        TRY_ASSIGN(std::string tmp, dollar());
        result += tmp;
        words.add_string(tmp);
        continue;
      }
      if (!opt_.skip_quotes && (c == '\'' || c == '"')) {
        std::string tmp;
        TRY(c == '\'' ? single_quote(tmp) : double_quote(tmp));
        result += tmp;
        words.add_raw_string(tmp);
        continue;
      }
      c = next();
      if (c == esc()) {
        if (raw_escapes_) {
          words.add_raw_char(c);
          text::append_utf8(result, c);
        }
        c = next();
        if (c == kEof) break;
        words.add_raw_char(c);
      } else {
        words.add_char(c);
      }
      text::append_utf8(result, c);
    }
    if (stop != kEof)
      return fail("unexpected end of statement while looking for matching ", rune_str(stop));
    return {};
  }

  Status single_quote(std::string& out) {
    char32_t c = next();
    if (opt_.raw_quotes) text::append_utf8(out, c);
    for (;;) {
      c = next();
      if (c == kEof)
        return fail("unexpected end of statement while looking for matching single-quote");
      if (c == '\'') {
        if (opt_.raw_quotes) text::append_utf8(out, c);
        return {};
      }
      text::append_utf8(out, c);
    }
  }

  Status double_quote(std::string& out) {
    char32_t c = next();
    if (opt_.raw_quotes) text::append_utf8(out, c);
    for (;;) {
      char32_t p = peek();
      if (p == kEof)
        return fail("unexpected end of statement while looking for matching double-quote");
      if (p == '"') {
        c = next();
        if (opt_.raw_quotes) text::append_utf8(out, c);
        return {};
      }
      if (p == '$') {
        TRY_ASSIGN(std::string v, dollar());
        out += v;
        continue;
      }
      c = next();
      if (c == esc()) {
        if (raw_escapes_) text::append_utf8(out, c);
        char32_t q = peek();
        if (q == kEof) continue;  // a trailing escape is dropped; the quote stays open
        if (q == '"' || q == '$' || q == esc()) c = next();
      }
      text::append_utf8(out, c);
    }
  }

  std::string name() {
    std::string n;
    while (peek() != kEof) {
      char32_t c = peek();
      if (n.empty() && is_digit(c)) {
        while (is_digit(peek()))
          text::append_utf8(n, next());
        return n;
      }
      if (n.empty() && is_special_param(c)) {
        next();
        return rune_str(c);
      }
      if (!is_letter(c) && !is_digit(c) && c != '_') break;
      text::append_utf8(n, next());
    }
    return n;
  }

  Result<std::string> dollar() {
    // ${a:-${b:-...}} recurses; bound it so no input can exhaust the stack.
    if (++depth_ > 200) return fail("expansion nested too deeply");
    struct Leave {
      int& d;
      ~Leave() { --d; }
    } leave{depth_};
    TRY_ASSIGN(std::string r, dollar_inner());
    // Nested ${v//?/${v//?/...}} grows exponentially; no real Containerfile
    // word comes near this budget, so stop instead of exhausting memory.
    produced_ += r.size();
    if (produced_ > (size_t{1} << 18)) return fail("expansion result too large");
    return r;
  }

  Result<std::string> dollar_inner() {
    next();  // $
    if (peek() != '{') {
      std::string n = name();
      if (n.empty()) return std::string("$");
      const std::string* v = lookup(n);
      if (!v) return opt_.skip_unset ? "$" + n : std::string();
      return *v;
    }
    next();  // {
    char32_t p = peek();
    if (p == kEof) return fail("syntax error: missing '}'");
    if (p == '{' || p == '}' || p == ':') return fail("syntax error: bad substitution");
    std::string n = name();
    char32_t c = next();
    std::string chs = rune_str(c);
    bool null_is_unset = false;
    switch (c) {
      case '}': {
        const std::string* v = lookup(n);
        if (!v) return opt_.skip_unset ? "${" + n + "}" : std::string();
        return *v;
      }
      case ':':
        null_is_unset = true;
        c = next();
        chs += rune_str(c);
        [[fallthrough]];
      case '+':
      case '-':
      case '?':
      case '#':
      case '%':
        return modifier(n, c, chs, null_is_unset);
      case '/':
        return substitute(n);
      default:
        if (opt_.skip_unset) return "${" + n + "}";
        return fail("unsupported modifier (", chs, ") in substitution");
    }
  }

  Result<std::string> modifier(const std::string& n, char32_t c, const std::string& chs,
                               bool null_is_unset) {
    bool raw = c == '#' || c == '%';
    if (null_is_unset && raw) return fail("unsupported modifier (", chs, ") in substitution");
    std::string word;
    if (Status st = stop_on('}', raw, word, nullptr); !st) {
      if (peek() == kEof) return fail("syntax error: missing '}'");
      return tl::unexpected(st.error());
    }
    const std::string* v = lookup(n);
    if (opt_.skip_unset && !v) return "${" + n + chs + word + "}";
    bool empty = !v || (null_is_unset && v->empty());
    switch (c) {
      case '-':
        return empty ? word : *v;
      case '+':
        return empty ? std::string() : word;
      case '?':
        if (!v) return fail(n, ": ", word.empty() ? "is not allowed to be unset" : word);
        if (null_is_unset && v->empty())
          return fail(n, ": ", word.empty() ? "is not allowed to be empty" : word);
        return *v;
      case '%':
      case '#': {
        bool greedy = !word.empty() && static_cast<unsigned char>(word[0]) == c;
        if (greedy) word.erase(0, 1);
        std::string value = v ? *v : std::string();
        return c == '%' ? pattern::trim_suffix(word, value, greedy)
                        : pattern::trim_prefix(word, value, greedy);
      }
      default:
        return fail("unsupported modifier (", chs, ") in substitution");
    }
  }

  Result<std::string> substitute(const std::string& n) {
    bool all = peek() == '/';
    if (all) next();
    std::string pat, repl;
    if (Status st = stop_on('/', true, pat, nullptr); !st) {
      if (peek() == kEof) return fail("syntax error: missing '/' in ${}");
      return tl::unexpected(st.error());
    }
    if (Status st = stop_on('}', true, repl, nullptr); !st) {
      if (peek() == kEof) return fail("syntax error: missing '}'");
      return tl::unexpected(st.error());
    }
    const std::string* v = lookup(n);
    if (opt_.skip_unset && !v) return "${" + n + "/" + pat + "/" + repl + "}";
    return pattern::replace(pat, v ? *v : std::string(), repl, all);
  }

  const ShellExpander& opt_;
  const VarLookup& vars_;
  std::string_view src_;
  size_t pos_ = 0;
  bool raw_escapes_;
  int depth_ = 0;
  size_t produced_ = 0;
};

}  // namespace

Result<std::string> ShellExpander::expand(std::string_view word, const VarLookup& vars) const {
  Lexer lx(*this, vars, word);
  std::string result;
  if (Status st = lx.run(result, nullptr); !st)
    return fail("failed to process ", text::go_quote(word), ": ", st.error().message);
  return result;
}

Result<std::vector<std::string>> ShellExpander::expand_words(std::string_view word,
                                                             const VarLookup& vars) const {
  Lexer lx(*this, vars, word);
  std::string result;
  std::vector<std::string> words;
  if (Status st = lx.run(result, &words); !st)
    return fail("failed to process ", text::go_quote(word), ": ", st.error().message);
  return words;
}

}  // namespace kiln::parser
