#include "registry/www_authenticate.hpp"

#include <cctype>

namespace kiln::registry {

namespace {

bool is_tchar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
    case '/':
      return true;
    default:
      return false;
  }
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  bool done() const { return p_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[p_]; }
  void skip_ws() {
    while (!done() && (s_[p_] == ' ' || s_[p_] == '\t'))
      ++p_;
  }
  void skip_ws_commas() {
    while (!done() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == ','))
      ++p_;
  }
  std::string token() {
    size_t b = p_;
    while (!done() && is_tchar(s_[p_]))
      ++p_;
    return std::string(s_.substr(b, p_ - b));
  }
  std::string quoted() {  // at the opening quote
    ++p_;
    std::string out;
    while (!done() && s_[p_] != '"') {
      if (s_[p_] == '\\' && p_ + 1 < s_.size()) ++p_;
      out += s_[p_++];
    }
    if (!done()) ++p_;  // closing quote (an unterminated string ends the header)
    return out;
  }
  size_t pos() const { return p_; }
  void seek(size_t p) { p_ = p; }
  void advance() { ++p_; }
  // Skips to the next comma, for garbage we do not understand.
  void skip_item() {
    while (!done() && s_[p_] != ',') {
      if (s_[p_] == '"')
        quoted();
      else
        ++p_;
    }
  }

 private:
  std::string_view s_;
  size_t p_ = 0;
};

}  // namespace

std::vector<Challenge> parse_www_authenticate(std::string_view header) {
  std::vector<Challenge> out;
  Scanner sc(header);
  Challenge* cur = nullptr;
  while (true) {
    sc.skip_ws_commas();
    if (sc.done()) break;
    std::string tok = sc.token();
    if (tok.empty()) {  // not a token: skip this list item
      sc.advance();
      sc.skip_item();
      continue;
    }
    sc.skip_ws();
    if (sc.peek() == '=' && cur) {
      // "name=value", or a token68 ("abc==") when only '='s follow.
      size_t eq = sc.pos();
      while (sc.peek() == '=')
        sc.advance();
      size_t after_eq = sc.pos();
      sc.skip_ws();
      if (sc.done() || sc.peek() == ',') {
        if (cur->params.empty() && cur->token68.empty())
          cur->token68 = tok + std::string(after_eq - eq, '=');
        continue;
      }
      if (after_eq - eq > 1) {  // "a==b": not a parameter
        sc.skip_item();
        continue;
      }
      std::string value = sc.peek() == '"' ? sc.quoted() : sc.token();
      cur->params[lower(tok)] = value;
      sc.skip_ws();
      if (!sc.done() && sc.peek() != ',') sc.skip_item();
      continue;
    }
    if (sc.peek() == '=' && !cur) {  // a parameter before any scheme: garbage
      sc.skip_item();
      continue;
    }
    // A new challenge: the scheme, maybe followed by a token68 or the first parameter.
    out.push_back(Challenge{lower(tok), {}, {}});
    cur = &out.back();
    if (!sc.done() && sc.peek() != ',') {
      size_t p = sc.pos();
      std::string t = sc.token();
      sc.skip_ws();
      if (!t.empty() && sc.peek() != '=' && (sc.done() || sc.peek() == ',')) {
        cur->token68 = t;  // "Negotiate abc"
      } else {
        sc.seek(p);  // let the loop read it as a parameter name
      }
    }
  }
  return out;
}

}  // namespace kiln::registry
