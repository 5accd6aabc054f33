// Text from outside kiln (a registry's error message, a header, a file name)
// made safe to print on a terminal: control characters — the escape sequences
// that move the cursor, retitle the window or write the clipboard among them —
// are shown as \xNN (C1 controls as \u00NN) instead of being sent as they are.
#pragma once

#include <string>
#include <string_view>

namespace kiln {

std::string printable(std::string_view text);

}  // namespace kiln
