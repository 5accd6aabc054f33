// JSON from outside kiln (a registry, an archive, a credential helper, a file
// in the store) parsed with a bound on nesting; JSON written without throwing. nlohmann's parser is
// iterative, but copying and comparing a value recurse once per level: a 400 KB manifest of nested
// brackets would exhaust the stack when a descriptor keeps it.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace kiln::oci {

// Deeper than any OCI or Docker document, or any registry reply kiln reads.
inline constexpr int kMaxJsonDepth = 64;

// Whether no array or object in `text` opens more than `max_depth` levels deep
// (brackets inside strings do not count). Says nothing of validity.
bool json_nesting_within(std::string_view text, int max_depth = kMaxJsonDepth);

// `j` as text, compact (indent -1) or indented. A string that is not valid
// UTF-8 (a Linux file name or label may hold any bytes) is written with U+FFFD
// for each bad sequence, as Go's encoding/json writes it, where nlohmann's
// dump() would throw. Every JSON kiln writes goes through here. Never throws.
std::string dump_json(const nlohmann::json& j, int indent = -1);

// `text` parsed, or a discarded value (is_discarded()) when it is not valid
// JSON or nests deeper than kMaxJsonDepth. Never throws.
nlohmann::json parse_untrusted_json(std::string_view text);

}  // namespace kiln::oci
