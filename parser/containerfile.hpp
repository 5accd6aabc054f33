// A whole Containerfile as typed instructions grouped into build stages.
//
// parse_containerfile() = parse_ast() + to_instruction() for every node +
// grouping: ARGs before the first FROM are global, every FROM starts a stage
// (its instructions list begins with that FROM). Stage names are lower case;
// a repeated name is a warning, and the later stage wins, as in BuildKit. Errors read `FILE:LINE:
// INSTRUCTION: message`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "parser/ast.hpp"
#include "parser/instructions.hpp"

namespace kiln::parser {

struct Stage {
  int index = 0;
  std::string name;                       // lower case; "" when unnamed
  std::vector<Instruction> instructions;  // [0] is the FROM

  const Instruction& from() const { return instructions.front(); }
  const FromData& from_data() const { return from().as<FromData>(); }
  // "name" or "stage-N", as BuildKit calls stages in messages.
  std::string display_name() const;
};

struct Containerfile {
  std::string filename;
  Directives directives;
  std::vector<Instruction> global_args;  // ARG instructions before the first FROM
  std::vector<Stage> stages;
  std::vector<Diagnostic> warnings;

  // The last stage called `name` (case-insensitive), or -1.
  int find_stage(std::string_view name) const;
};

Result<Containerfile> parse_containerfile(std::string_view text, std::string_view filename);

}  // namespace kiln::parser
