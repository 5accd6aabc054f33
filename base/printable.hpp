// Text from outside kiln (a registry's error message, an image's labels or
// history, a file name in a layer) made safe to print on a terminal: control
// characters — the escape sequences that move the cursor, retitle the window
// or write the clipboard among them — are shown as \u00NN instead of being
// sent as they are. That form is also a JSON string escape, so printing JSON
// through it keeps the JSON valid and its values the same. Bytes that are not
// UTF-8 are shown as \xNN.
#pragma once

#include <string>
#include <string_view>

namespace kiln {

// `keep_layout`: newlines and tabs pass (multi-line text, tables, JSON).
std::string printable(std::string_view text, bool keep_layout = false);

// Whether `text` is non-empty and only visible ASCII (no space, no control):
// what may go into a header value or be listed as a name as it is.
bool visible_ascii(std::string_view text);

}  // namespace kiln
