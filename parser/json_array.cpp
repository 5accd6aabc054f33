// Exec form: a JSON array of strings, decided with Go's encoding/json rules
// (BuildKit calls json.Unmarshal): the whole text must be one valid JSON
// value; invalid UTF-8 inside strings becomes U+FFFD; lone surrogates in
// \u escapes become U+FFFD. Valid JSON that is not an array of strings is an
// error rather than a fall-back to shell form.
#include "parser/line_args.hpp"
#include "parser/text.hpp"

namespace kiln::parser::detail {
namespace {

class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}

  bool value(std::string* str_out, int depth) {
    if (depth > 1000) return false;  // bounded recursion (Go stops at 10000)
    ws();
    if (i_ >= s_.size()) return false;
    char c = s_[i_];
    if (c == '"') return string(str_out);
    if (c == '[') return array(nullptr, depth);
    if (c == '{') return object(depth);
    if (c == 't') return literal("true");
    if (c == 'f') return literal("false");
    if (c == 'n') return literal("null");
    return number();
  }

  // The top-level array; each element goes to out, non-strings set not_strings.
  bool array(std::vector<std::string>* out, int depth, bool* not_strings = nullptr) {
    ++i_;  // [
    ws();
    if (peek(']')) {
      ++i_;
      return true;
    }
    for (;;) {
      ws();
      std::string elem;
      bool is_string = i_ < s_.size() && s_[i_] == '"';
      if (!value(is_string ? &elem : nullptr, depth + 1)) return false;
      if (out && is_string) out->push_back(std::move(elem));
      if (!is_string && not_strings) *not_strings = true;
      ws();
      if (peek(',')) {
        ++i_;
        continue;
      }
      if (peek(']')) {
        ++i_;
        return true;
      }
      return false;
    }
  }

  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool at_end() const { return i_ == s_.size(); }

 private:
  bool peek(char c) const { return i_ < s_.size() && s_[i_] == c; }

  bool object(int depth) {
    ++i_;  // {
    ws();
    if (peek('}')) {
      ++i_;
      return true;
    }
    for (;;) {
      ws();
      if (!peek('"') || !string(nullptr)) return false;
      ws();
      if (!peek(':')) return false;
      ++i_;
      if (!value(nullptr, depth + 1)) return false;
      ws();
      if (peek(',')) {
        ++i_;
        continue;
      }
      if (peek('}')) {
        ++i_;
        return true;
      }
      return false;
    }
  }

  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  bool digits() {
    size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9')
      ++i_;
    return i_ > start;
  }

  bool number() {
    if (peek('-')) ++i_;
    if (peek('0')) {
      ++i_;
    } else if (!digits()) {
      return false;
    }
    if (peek('.')) {
      ++i_;
      if (!digits()) return false;
    }
    if (peek('e') || peek('E')) {
      ++i_;
      if (peek('+') || peek('-')) ++i_;
      if (!digits()) return false;
    }
    return true;
  }

  static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool hex4(char32_t& out) {
    if (i_ + 4 > s_.size()) return false;
    out = 0;
    for (int k = 0; k < 4; ++k) {
      int h = hexval(s_[i_ + k]);
      if (h < 0) return false;
      out = out * 16 + static_cast<char32_t>(h);
    }
    i_ += 4;
    return true;
  }

  bool string(std::string* out) {
    ++i_;  // "
    std::string tmp;
    while (i_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        if (out) *out = std::move(tmp);
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++i_ >= s_.size()) return false;
        char e = s_[i_++];
        switch (e) {
          case '"':
          case '\\':
          case '/':
            tmp += e;
            break;
          case 'b':
            tmp += '\b';
            break;
          case 'f':
            tmp += '\f';
            break;
          case 'n':
            tmp += '\n';
            break;
          case 'r':
            tmp += '\r';
            break;
          case 't':
            tmp += '\t';
            break;
          case 'u': {
            char32_t cp;
            if (!hex4(cp)) return false;
            if (cp >= 0xD800 && cp < 0xDC00) {
              // A high surrogate only pairs with an immediately following \uDC00-\uDFFF.
              char32_t lo = 0;
              size_t save = i_;
              if (i_ + 1 < s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
                i_ += 2;
                if (hex4(lo) && lo >= 0xDC00 && lo < 0xE000) {
                  cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else {
                  i_ = save;
                  cp = 0xFFFD;
                }
              } else {
                cp = 0xFFFD;
              }
            } else if (cp >= 0xDC00 && cp < 0xE000) {
              cp = 0xFFFD;
            }
            text::append_utf8(tmp, cp);
            break;
          }
          default:
            return false;
        }
        continue;
      }
      char32_t cp;
      size_t w = text::decode_utf8(s_, i_, cp);
      if (cp == 0xFFFD && w == 1)
        text::append_utf8(tmp, cp);
      else
        tmp.append(s_.substr(i_, w));
      i_ += w;
    }
    return false;
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

JsonArray parse_json_array(std::string_view text, std::vector<std::string>& out) {
  out.clear();
  if (text.empty() || text[0] != '[') return JsonArray::invalid;
  JsonReader r(text);
  bool not_strings = false;
  std::vector<std::string> items;
  if (!r.array(&items, 1, &not_strings)) return JsonArray::invalid;
  r.ws();
  if (!r.at_end()) return JsonArray::invalid;
  if (not_strings) return JsonArray::not_strings;
  out = std::move(items);
  return JsonArray::ok;
}

}  // namespace kiln::parser::detail
