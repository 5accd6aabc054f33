// libFuzzer target: the Go-regexp subset behind ignore patterns. Input is
// "expression\0text"; the fast matcher (prefilters, bit sets) must agree
// with the plain NFA simulation.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "parser/go_regex.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t z = in.find('\0');
  std::string_view expr = in.substr(0, z);
  std::string_view text = z == std::string_view::npos ? std::string_view() : in.substr(z + 1);
  auto re = kiln::parser::detail::GoRegex::compile(expr);
  if (!re) return 0;
  if (re->match(text) != re->match_reference(text)) std::abort();
  return 0;
}
