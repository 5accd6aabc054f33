// libFuzzer target: word expansion. The first byte picks the options, the
// rest is "word\0value-of-V\0value-of-W".
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "parser/shell_expander.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln::parser;
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  auto take = [&rest]() {
    size_t z = rest.find('\0');
    std::string_view part = rest.substr(0, z);
    rest = z == std::string_view::npos ? std::string_view() : rest.substr(z + 1);
    return part;
  };
  std::string_view word = take();
  VarMap vars;
  vars.set("V", std::string(take()));
  vars.set("W", std::string(take()));
  vars.set("EMPTY", "");
  ShellExpander sx;
  sx.escape = (mode & 1) ? '`' : '\\';
  sx.raw_quotes = mode & 2;
  sx.raw_escapes = mode & 4;
  sx.skip_quotes = mode & 8;
  sx.skip_unset = mode & 16;
  (void)sx.expand(word, vars);
  (void)sx.expand_words(word, vars);
  return 0;
}
