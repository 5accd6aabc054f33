// The Containerfile syntax tree: one Node per instruction, in file order.
//
// parse_ast() follows BuildKit's line parser: parser directives at the top
// (`# syntax=`, `# escape=`, `# check=`), case-insensitive instruction words,
// line continuations with the escape character (comment and blank lines
// inside a continuation are dropped), exec form (a JSON array of strings,
// falling back to shell form when the text is not valid JSON), heredocs for
// RUN, COPY and ADD (and an ONBUILD of those). It does not validate flags or
// argument counts; to_instruction() (instructions.hpp) does.
//
// Errors read `FILE:LINE: INSTRUCTION: message`. Values, no shared state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace kiln::parser {

struct Heredoc {
  std::string name;     // the delimiter word, quotes removed
  std::string content;  // the body as written: raw lines with their newlines
  bool expand = true;   // false when any part of the delimiter was quoted
  bool chomp = false;   // <<- : leading tabs are stripped (see chomped())
  unsigned fd = 0;      // 3<<EOF gives 3; 0 when not given

  // The body a builder uses: with `<<-`, leading tabs removed from each line.
  std::string chomped() const;
};

// ENV and LABEL pairs; `legacy` marks the old `ENV key value` form.
struct KeyValue {
  std::string key;
  std::string value;
  bool legacy = false;
  bool operator==(const KeyValue&) const = default;
};

struct Node {
  std::string keyword;             // as written: "run", "COPY"
  std::string original;            // the logical line, continuations joined
  std::vector<std::string> flags;  // "--from=build": leading --flags, quotes removed
  std::vector<std::string> args;   // split the way the Dockerfile reference says
  std::vector<KeyValue> pairs;     // ENV, LABEL
  bool json = false;               // args came from a JSON array (exec form)
  std::vector<Heredoc> heredocs;
  std::vector<Node> trigger;          // ONBUILD: the trigger instruction (zero or one)
  std::vector<std::string> comments;  // comment lines just above
  int line = 0;                       // first line (1-based)
  int end_line = 0;                   // last line, heredoc terminators included

  std::string name() const;  // upper-case keyword: "RUN"
};

struct Directive {
  std::string name;  // lower case: syntax, escape, check
  std::string value;
  int line = 0;
};

struct Directives {
  char escape = '\\';
  std::optional<std::string> syntax;
  std::optional<std::string> check;
  std::vector<Directive> all;  // in file order
};

// A warning that does not stop the build (BuildKit prints these too).
struct Diagnostic {
  int line = 0;
  std::string message;
};

struct Ast {
  std::string filename;
  Directives directives;
  std::vector<Node> nodes;
  std::vector<Diagnostic> warnings;
};

Result<Ast> parse_ast(std::string_view text, std::string_view filename);

// One instruction on its own, as an ONBUILD trigger stored in an image config.
Result<Node> parse_instruction_line(std::string_view line, char escape = '\\');

// "FILE:LINE: " (or "FILE: " when line is 0), the prefix of every parser error.
std::string location_prefix(std::string_view filename, int line);

}  // namespace kiln::parser
