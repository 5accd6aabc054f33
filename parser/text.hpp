// Small text helpers shared by the parser sources (internal, not API).
//
// The Dockerfile frontend we match is written in Go, so several helpers copy
// Go's notion of a thing: unicode.IsSpace, strings.TrimSpace, %q quoting,
// UTF-8 decoding that turns a bad byte into U+FFFD of width one.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::parser::text {

// Decodes the code point at s[pos]; returns its width (1 for an invalid byte,
// which decodes to U+FFFD as in Go).
size_t decode_utf8(std::string_view s, size_t pos, char32_t& cp);
void append_utf8(std::string& out, char32_t cp);

// Go's unicode.IsSpace.
bool is_space(char32_t cp);
// unicode.IsSpace(rune(b)) for a single byte, as Go code that indexes a string
// byte by byte does (so 0x85 and 0xA0 count as space).
inline bool is_space_byte(unsigned char b) {
  return b == ' ' || (b >= '\t' && b <= '\r') || b == 0x85 || b == 0xA0;
}
// The Dockerfile parser's [\t\v\f\r ] class.
inline bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

std::string_view trim_space(std::string_view s);       // strings.TrimSpace
std::string_view trim_left_space(std::string_view s);  // TrimLeftFunc(IsSpace)
std::string_view trim_right_space(std::string_view s);

std::string to_lower(std::string_view s);  // ASCII only
std::string to_upper(std::string_view s);  // ASCII only
bool iequals(std::string_view a, std::string_view b);

// Splits on runs of [\t\v\f\r ]; at most `limit` pieces when limit > 0
// (the last one keeps the rest of the string), like regexp.Split.
std::vector<std::string> split_blank(std::string_view s, int limit = -1);

// Go's strconv.Quote, used where BuildKit formats an error with %q.
std::string go_quote(std::string_view s);

bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);

}  // namespace kiln::parser::text
