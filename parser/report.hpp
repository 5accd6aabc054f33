// What `kiln parse` prints: the stages and typed instructions of a
// Containerfile, each with its arguments as written and as expanded.
//
// JSON shape: {"directives":{syntax,escape,check}, "stages":[{index, name,
// base, platform, base_stage, depends_on, needed, instructions:[...]}],
// "global_args":[...], "target": index}. An instruction is {instruction,
// line, end_line, original, flags, form, args, heredocs, expanded,
// expanded_flags, expanded_heredocs}; see parser/README.md for each field.
// Pure functions over values; thread-safe. Errors as in build_plan.hpp.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "parser/build_plan.hpp"
#include "parser/containerfile.hpp"

namespace kiln::parser {

using ExpandedStages = std::vector<std::optional<std::vector<Instruction>>>;

// Everything `kiln parse` shows, computed in BuildKit's order (syntax, typed
// instructions, global ARGs and stage bases, graph and target, then each
// needed stage expanded), so the first error is the one docker build reports.
struct ParseResult {
  Containerfile cf;
  BuildPlan plan;
  ExpandedStages expanded;
  // Parser and planner warnings as "FILE:LINE: message".
  std::vector<std::string> warnings() const;
};
Result<ParseResult> parse_for_report(std::string_view text, std::string_view filename,
                                     const BuildOptions& opts);

std::string render_json(const Containerfile& cf, const BuildPlan& plan,
                        const ExpandedStages& expanded);
std::string render_text(const Containerfile& cf, const BuildPlan& plan,
                        const ExpandedStages& expanded);

}  // namespace kiln::parser
