// How BuildKit's line parser splits the text after an instruction word
// (internal to parser/; ast.hpp is the API).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "parser/ast.hpp"

namespace kiln::parser::detail {

// Leading `--flag[=value]` words (quotes and backslashes handled as
// BuildKit's extractBuilderFlags does); returns the rest of the text.
std::string_view split_flags(std::string_view rest, std::vector<std::string>& flags);

// Words that keep their quotes and escapes (ENV, LABEL and ARG arguments).
std::vector<std::string> parse_words(std::string_view rest, char escape);

// A JSON array of strings with Go's encoding/json rules.
enum class JsonArray { invalid, not_strings, ok };
JsonArray parse_json_array(std::string_view text, std::vector<std::string>& out);

// Fills args / pairs / json / trigger of `node` from the argument text, by
// instruction. Errors are bare messages; the caller adds the location.
// `depth` counts ONBUILD nesting: a trigger that is itself ONBUILD is an
// error later, so its own trigger is not parsed (which bounds recursion).
Status split_arguments(Node& node, std::string_view rest, char escape, int depth = 0);

// The instruction line split into keyword, flags and arguments.
Result<Node> node_from_line(std::string_view line, char escape, int depth = 0);

// Heredocs named on an instruction line, in order.
Result<std::vector<Heredoc>> heredocs_in_line(std::string_view line);
// One word: `<<EOF`, `<<-"EOF"`, `2<<'END'`; nullopt when it is not a heredoc.
Result<std::optional<Heredoc>> parse_heredoc_word(std::string_view word);
// RUN, COPY, ADD in shell form (or ONBUILD of one of them).
bool can_contain_heredoc(const Node& node);

}  // namespace kiln::parser::detail
