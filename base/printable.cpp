#include "base/printable.hpp"

namespace kiln {

namespace {

// The length of the well-formed UTF-8 sequence at s[i] (lead byte >= 0x80),
// or 0 when it is not one (RFC 3629: no overlongs, surrogates or > U+10FFFF).
size_t utf8_length(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = at(i);
  size_t n = c >= 0xc2 && c <= 0xdf   ? 2
             : c >= 0xe0 && c <= 0xef ? 3
             : c >= 0xf0 && c <= 0xf4 ? 4
                                      : 0;
  if (n == 0 || i + n > s.size()) return 0;
  unsigned char lo = 0x80, hi = 0xbf;  // the second byte's range
  if (c == 0xe0) lo = 0xa0;
  if (c == 0xed) hi = 0x9f;
  if (c == 0xf0) lo = 0x90;
  if (c == 0xf4) hi = 0x8f;
  if (at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (at(i + k) < 0x80 || at(i + k) > 0xbf) return 0;
  return n;
}

void escape(std::string& out, const char* prefix, unsigned char c) {
  static const char* hex = "0123456789abcdef";
  out += prefix;
  out += hex[c >> 4];
  out += hex[c & 15];
}

}  // namespace

std::string printable(std::string_view text, bool keep_layout) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if ((c < 0x20 && !(keep_layout && (c == '\n' || c == '\t'))) || c == 0x7f)
        escape(out, "\\u00", c);
      else
        out += static_cast<char>(c);
      ++i;
      continue;
    }
    size_t n = utf8_length(text, i);
    if (n == 0) {
      escape(out, "\\x", c);
      ++i;
    } else if (c == 0xc2 && static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      escape(out, "\\u00", static_cast<unsigned char>(text[i + 1]));  // C1: U+0080..U+009F
      i += 2;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

bool visible_ascii(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text)
    if (c <= ' ' || c >= 0x7f) return false;
  return true;
}

}  // namespace kiln
