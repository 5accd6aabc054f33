// Patterns of ${v#p} ${v%p} ${v/p/r} (internal).
//
// BuildKit turns the pattern into a Go regular expression: * is .*? (or .*
// when greedy), ? is ., \* \? \\ are literal, \} and \/ drop the backslash,
// everything else is literal; . does not match a newline. We match the same
// language with a dynamic programme over code points that reproduces the
// leftmost-first choice of Go's regexp, in O(pattern x value) time.
#pragma once

#include <string>
#include <string_view>

#include "base/result.hpp"

namespace kiln::parser::pattern {

// ${v#p} / ${v##p}: value without its shortest / longest matching prefix.
Result<std::string> trim_prefix(std::string_view pattern, std::string_view value, bool greedy);
// ${v%p} / ${v%%p}
Result<std::string> trim_suffix(std::string_view pattern, std::string_view value, bool greedy);
// ${v/p/r} / ${v//p/r}
Result<std::string> replace(std::string_view pattern, std::string_view value,
                            std::string_view replacement, bool all);

}  // namespace kiln::parser::pattern
