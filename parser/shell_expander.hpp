// ShellExpander: BuildKit's word expansion for Dockerfile arguments.
//
// It follows the Dockerfile frontend's shell lexer, not a real shell: $v,
// ${v}, ${v:-w} ${v-w} ${v:+w} ${v+w} ${v:?msg} ${v?msg}, ${v#p} ${v##p}
// ${v%p} ${v%%p} (patterns with * and ?), ${v/p/r} ${v//p/r}; single quotes
// are literal, double quotes allow $ and escapes of " $ and the escape
// character; the escape character (\ or the `# escape=` choice) escapes the
// next character outside quotes. No command substitution, no globbing.
//
// Errors carry BuildKit's text: `failed to process "${x:?}": x: is not
// allowed to be unset`. Thread-safety: const methods, no shared state.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace kiln::parser {

// Where an expansion looks variables up. A name that is absent is unset; a
// name mapped to "" is set but empty (${v-w} and ${v:-w} tell them apart).
class VarLookup {
 public:
  virtual ~VarLookup() = default;
  virtual const std::string* get(std::string_view name) const = 0;
};

// The usual lookup: a plain map.
class VarMap : public VarLookup {
 public:
  VarMap() = default;
  VarMap(std::initializer_list<std::pair<const std::string, std::string>> init) : vars(init) {}
  const std::string* get(std::string_view name) const override {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : &it->second;
  }
  void set(std::string name, std::string value) { vars[std::move(name)] = std::move(value); }
  std::map<std::string, std::string, std::less<>> vars;
};

struct ShellExpander {
  char escape = '\\';        // '\\' or '`' (the `# escape=` directive)
  bool raw_quotes = false;   // keep quote characters in the result
  bool raw_escapes = false;  // keep escape characters in the result
  bool skip_quotes = false;  // quotes are ordinary characters (COPY heredoc bodies)
  bool skip_unset = false;   // leave references to unset variables as written

  // ProcessWord: one string, quotes removed, spaces kept.
  Result<std::string> expand(std::string_view word, const VarLookup& vars) const;
  // ProcessWords: the expansion split into words on unquoted white space.
  Result<std::vector<std::string>> expand_words(std::string_view word, const VarLookup& vars) const;
};

}  // namespace kiln::parser
