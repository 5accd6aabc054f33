// The subset of Go's regexp that ignore patterns turn into (internal).
//
// Docker translates each .dockerignore pattern into a Go regular expression
// string and compiles it; `[` and `]` pass through untouched, so odd
// patterns produce odd expressions. To match exactly what Docker matches we
// compile that same string with Go's syntax rules (Perl flags: `.` excludes
// \n, negated classes include it, ^ and $ anchor the whole text) into a
// Thompson NFA and simulate it. Unsupported syntax (\p{..}, \b, named
// groups) is an error, as a compile error is in Go.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

namespace kiln::parser::detail {

class GoRegex {
 public:
  static Result<GoRegex> compile(std::string_view expr);
  // regexp.MatchString: true when the expression matches somewhere in s.
  bool match(std::string_view s) const;
  // The same without prefilters or bit sets (the reference for tests).
  bool match_reference(std::string_view s) const { return simulate(s); }

  // Literal text every match must start with (when anchored at ^) and end
  // with (when anchored at $); cheap rejections before running the NFA.
  const std::string& required_prefix() const { return prefix_; }
  const std::string& required_suffix() const { return suffix_; }

  // Program representation (public only so the compiler helpers can build it).
  struct Class {
    bool negated = false;
    std::vector<std::pair<char32_t, char32_t>> ranges;  // sorted, merged
    uint64_t ascii[2] = {0, 0};  // membership for code points < 128, negation applied
    bool contains(char32_t c) const;
  };
  struct Inst {
    enum Op : uint8_t { ch, any_not_nl, in_class, split, begin, end, match } op;
    int x = -1, y = -1;  // next (and alternative for split)
    char32_t c = 0;
    int cls = -1;
  };

 private:
  friend class GoRegexParser;

  bool simulate(std::string_view s) const;
  // The same simulation with state sets as bit masks, for programs of at
  // most 64 instructions (every ignore pattern in practice).
  void prepare_bitsets();
  bool simulate_bits(std::string_view s) const;
  uint64_t closure_bits(uint64_t set, bool at_start, bool at_end) const;

  std::vector<Inst> prog_;
  std::vector<Class> classes_;
  int start_ = 0;
  bool anchored_ = false;  // begins with ^: only position 0 can start a match
  bool use_bits_ = false;
  std::vector<uint64_t> eps_;        // per pc: reachable through splits only (itself included)
  std::vector<uint64_t> succ_;       // per consuming pc: eps_ of its successor
  uint64_t accept_ascii_[128] = {};  // consuming pcs that accept each ASCII character
  uint64_t consuming_ = 0, begin_ = 0, end_ = 0, match_ = 0;
  std::string prefix_, suffix_;
};

}  // namespace kiln::parser::detail
