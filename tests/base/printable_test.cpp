#include "base/printable.hpp"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(Printable, EscapesControlCharactersAndKeepsTheRest) {
  EXPECT_EQ(printable("blob unknown: sha256:ab"), "blob unknown: sha256:ab");
  EXPECT_EQ(printable("caf\xc3\xa9 \xc4\x80"), "caf\xc3\xa9 \xc4\x80");  // UTF-8 stays
  EXPECT_EQ(printable("a\x1b[2Jb\r\n\t\x7f"), "a\\x1b[2Jb\\x0d\\x0a\\x09\\x7f");
  EXPECT_EQ(printable("\x1b]52;c;aGk=\x07"), "\\x1b]52;c;aGk=\\x07");
  EXPECT_EQ(printable("x\xc2\x9b"
                      "31m"),
            "x\\u009b31m");              // CSI as a C1 control
  EXPECT_EQ(printable("\xc2"), "\xc2");  // a lead byte at the end
}

}  // namespace
}  // namespace kiln
