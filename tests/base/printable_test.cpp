#include "base/printable.hpp"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(Printable, EscapesControlCharactersAndKeepsTheRest) {
  EXPECT_EQ(printable("blob unknown: sha256:ab"), "blob unknown: sha256:ab");
  EXPECT_EQ(printable("caf\xc3\xa9 \xc4\x80 \xe2\x82\xac \xf0\x9f\x93\xa6"),
            "caf\xc3\xa9 \xc4\x80 \xe2\x82\xac \xf0\x9f\x93\xa6");  // UTF-8 stays
  EXPECT_EQ(printable("a\x1b[2Jb\r\n\t\x7f"), "a\\u001b[2Jb\\u000d\\u000a\\u0009\\u007f");
  EXPECT_EQ(printable("a\nb\tc\r", /*keep_layout=*/true), "a\nb\tc\\u000d");
  EXPECT_EQ(printable("\x1b]52;c;aGk=\x07"), "\\u001b]52;c;aGk=\\u0007");
  EXPECT_EQ(printable("x\xc2\x9b"
                      "31m"),
            "x\\u009b31m");  // CSI as a C1 control
  // Not UTF-8: a lone continuation byte (CSI in an 8-bit terminal), a lead
  // byte at the end, an overlong form, a surrogate.
  EXPECT_EQ(printable("\x9b"
                      "2J"),
            "\\x9b2J");
  EXPECT_EQ(printable("\xc2"), "\\xc2");
  EXPECT_EQ(printable("\xc0\xaf"), "\\xc0\\xaf");
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");
}

TEST(Printable, VisibleAscii) {
  EXPECT_TRUE(visible_ascii("v1.2-rc_3"));
  EXPECT_FALSE(visible_ascii(""));
  EXPECT_FALSE(visible_ascii("a b"));
  EXPECT_FALSE(visible_ascii("tok\r\nX: 1"));
  EXPECT_FALSE(visible_ascii("\x7f"));
  EXPECT_FALSE(visible_ascii("caf\xc3\xa9"));
}

TEST(Printable, JsonStaysValidJson) {
  // What nlohmann leaves raw inside strings (DEL, C1) becomes a JSON escape.
  EXPECT_EQ(printable("{\n  \"l\": \"a\x7f\xc2\x85\"\n}", true),
            "{\n  \"l\": \"a\\u007f\\u0085\"\n}");
}

}  // namespace
}  // namespace kiln
