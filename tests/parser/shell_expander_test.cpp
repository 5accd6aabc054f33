// Table tests for ShellExpander: every operator and quoting rule of
// BuildKit's Dockerfile word expansion.
#include <gtest/gtest.h>

#include "parser/shell_expander.hpp"

using kiln::parser::ShellExpander;
using kiln::parser::VarMap;

namespace {

const VarMap& env() {
  static const VarMap m = {
      {"PWD", "/home"},  {"EMPTY", ""},        {"FILE", "archive.tar.gz"},
      {"SPACED", "1 2"}, {"KOREAN", "한국어"}, {"PATHS", "/usr/local/bin:/usr/bin"},
      {"NL", "a\nb.c"},  {"DOLLAR", "$x"},
  };
  return m;
}

struct Case {
  const char* in;
  const char* out;  // nullptr: expect an error
  const char* err = "";
};

void check(const ShellExpander& sx, const Case& c) {
  auto r = sx.expand(c.in, env());
  if (c.out) {
    ASSERT_TRUE(r) << c.in << ": " << r.error().what();
    EXPECT_EQ(*r, c.out) << "input: " << c.in;
  } else {
    ASSERT_FALSE(r) << c.in << " gave " << *r;
    EXPECT_EQ(r.error().what(), c.err) << "input: " << c.in;
  }
}

}  // namespace

TEST(ShellExpander, PlainVariables) {
  ShellExpander sx;
  for (const Case& c : std::initializer_list<Case>{
           {"hello", "hello"},
           {"$PWD", "/home"},
           {"${PWD}", "/home"},
           {"x$PWD/y", "x/home/y"},
           {"${PWD}x", "/homex"},
           {"$PWDx", ""},
           {"$NOTSET", ""},
           {"${NOTSET}", ""},
           {"$", "$"},
           {"a$", "a$"},
           {"$-x", "x"},
           {"$1x", "x"},
           {"$@", ""},
           {"$KOREAN!", "한국어!"},
           {"${KOREAN}", "한국어"},
           {"$DOLLAR", "$x"},
       })
    check(sx, c);
}

TEST(ShellExpander, Quoting) {
  ShellExpander sx;
  for (const Case& c : std::initializer_list<Case>{
           {"he'll'o", "hello"},
           {"'$PWD'", "$PWD"},
           {"\"$PWD\"", "/home"},
           {"\"'$PWD'\"", "'/home'"},
           {"'\"$PWD\"'", "\"$PWD\""},
           {"\\$PWD", "$PWD"},
           {"\"\\$PWD\"", "$PWD"},
           {"\"a\\\"b\"", "a\"b"},
           {"\"a\\\\b\"", "a\\b"},
           {"\"a\\nb\"", "a\\nb"},
           {"'a\\nb'", "a\\nb"},
           {"a\\ b", "a b"},
           {"a\\", "a"},
           {"\\'", "'"},
           {"'abc'\"def\"ghi", "abcdefghi"},
           {"\"  spaced  \"", "  spaced  "},
           {"'unterminated", nullptr,
            "failed to process \"'unterminated\": unexpected end of statement while looking for "
            "matching single-quote"},
           {"\"unterminated", nullptr,
            "failed to process \"\\\"unterminated\": unexpected end of statement while looking "
            "for matching double-quote"},
           {"\"a\\", nullptr,
            "failed to process \"\\\"a\\\\\": unexpected end of statement while looking for "
            "matching double-quote"},
       })
    check(sx, c);
}

TEST(ShellExpander, DefaultAndAlternative) {
  ShellExpander sx;
  for (const Case& c : std::initializer_list<Case>{
           {"${NOTSET:-def}", "def"},
           {"${EMPTY:-def}", "def"},
           {"${PWD:-def}", "/home"},
           {"${NOTSET-def}", "def"},
           {"${EMPTY-def}", ""},
           {"${NOTSET:-$PWD/x}", "/home/x"},
           {"${NOTSET:-'a b'}", "a b"},
           {"${NOTSET:-\"$PWD\"}", "/home"},
           {"${NOTSET:-a\\}b}", "a}b"},
           {"${NOTSET:-${EMPTY:-deep}}", "deep"},
           {"${PWD:+alt}", "alt"},
           {"${EMPTY:+alt}", ""},
           {"${NOTSET:+alt}", ""},
           {"${EMPTY+alt}", "alt"},
           {"${NOTSET+alt}", ""},
       })
    check(sx, c);
}

TEST(ShellExpander, RequiredVariables) {
  ShellExpander sx;
  for (const Case& c : std::initializer_list<Case>{
           {"${PWD:?}", "/home"},
           {"${PWD?}", "/home"},
           {"${EMPTY?}", ""},
           {"${NOTSET:?}", nullptr,
            "failed to process \"${NOTSET:?}\": NOTSET: is not allowed to be unset"},
           {"${NOTSET?}", nullptr,
            "failed to process \"${NOTSET?}\": NOTSET: is not allowed to be unset"},
           {"${EMPTY:?}", nullptr,
            "failed to process \"${EMPTY:?}\": EMPTY: is not allowed to be empty"},
           {"${EMPTY:?set it}", nullptr, "failed to process \"${EMPTY:?set it}\": EMPTY: set it"},
           {"${NOTSET?need $PWD}", nullptr,
            "failed to process \"${NOTSET?need $PWD}\": NOTSET: need /home"},
       })
    check(sx, c);
}

TEST(ShellExpander, PrefixAndSuffixRemoval) {
  ShellExpander sx;
  for (const Case& c : std::initializer_list<Case>{
           {"${FILE#*.}", "tar.gz"},
           {"${FILE##*.}", "gz"},
           {"${FILE%.*}", "archive.tar"},
           {"${FILE%%.*}", "archive"},
           {"${FILE#arch}", "ive.tar.gz"},
           {"${FILE#nomatch}", "archive.tar.gz"},
           {"${FILE%.gz}", "archive.tar"},
           {"${FILE#?}", "rchive.tar.gz"},
           {"${FILE%???}", "archive.tar"},
           {"${PATHS#*:}", "/usr/bin"},
           {"${PATHS%:*}", "/usr/local/bin"},
           {"${PATHS##*/}", "bin"},
           {"${NOTSET#*}", ""},
           {"${KOREAN#?}", "국어"},
           {"${KOREAN%?}", "한국"},
           {"${NL#*.}", "a\nb.c"},  // * never crosses a newline, as in Go's regexp
           {"${NL#a?b}", "a\nb.c"},
           {"${FILE#\\*}", "archive.tar.gz"},
           {"${FILE#*\\}}", "archive.tar.gz"},
           {"${FILE#a\\b}", nullptr,
            "failed to process \"${FILE#a\\\\b}\": invalid pattern (a\\b) in substitution: "
            "invalid escape '\\b'"},
           {"${FILE:#x}", nullptr,
            "failed to process \"${FILE:#x}\": unsupported modifier (:#) in substitution"},
       })
    check(sx, c);
}

TEST(ShellExpander, Replacement) {
  ShellExpander sx;
  for (const Case& c : std::initializer_list<Case>{
           {"${FILE/a/X}", "Xrchive.tar.gz"},
           {"${FILE//a/X}", "Xrchive.tXr.gz"},
           {"${FILE/*./}", "gz"},
           {"${FILE//?/-}", "--------------"},
           {"${FILE/nomatch/X}", "archive.tar.gz"},
           {"${FILE//./\\/}", "archive\\/tar\\/gz"},
           {"${PATHS//:/ }", "/usr/local/bin /usr/bin"},
           {"${FILE/tar/$PWD}", "archive./home.gz"},
           {"${FILE//a/$$}", "rchive.tr.gz"},  // $$ is the (unset) variable "$"
           // The replacement keeps its escapes and goes through Go's template
           // expansion, where $0 is the match.
           {"${FILE//a/<\\$0>}", "<\\a>rchive.t<\\a>r.gz"},
           {"${NOTSET/a/b}", ""},
           {"${FILE/a}", nullptr,
            "failed to process \"${FILE/a}\": syntax error: missing '/' in ${}"},
           {"${FILE/a/b", nullptr, "failed to process \"${FILE/a/b\": syntax error: missing '}'"},
       })
    check(sx, c);
}

TEST(ShellExpander, SyntaxErrors) {
  ShellExpander sx;
  for (const Case& c : std::initializer_list<Case>{
           {"${", nullptr, "failed to process \"${\": syntax error: missing '}'"},
           {"${}", nullptr, "failed to process \"${}\": syntax error: bad substitution"},
           {"${:x}", nullptr, "failed to process \"${:x}\": syntax error: bad substitution"},
           {"${{x}}", nullptr, "failed to process \"${{x}}\": syntax error: bad substitution"},
           {"${PWD:-x", nullptr, "failed to process \"${PWD:-x\": syntax error: missing '}'"},
           {"${PWD:=x}", nullptr,
            "failed to process \"${PWD:=x}\": unsupported modifier (:=) in substitution"},
           {"${PWD:0:1}", nullptr,
            "failed to process \"${PWD:0:1}\": unsupported modifier (:0) in substitution"},
           {"${#PWD}", nullptr,
            "failed to process \"${#PWD}\": unsupported modifier (P) in substitution"},
           {"${PWD", nullptr,
            "failed to process \"${PWD\": unsupported modifier (\xEF\xBF\xBD) in substitution"},
       })
    check(sx, c);
}

TEST(ShellExpander, BacktickEscape) {
  ShellExpander sx;
  sx.escape = '`';
  for (const Case& c : std::initializer_list<Case>{
           {"a`$PWD", "a$PWD"},
           {"c:\\windows", "c:\\windows"},
           {"\"a`\"b\"", "a\"b"},
           {"\"a\\\"", "a\\"},
       })
    check(sx, c);
}

TEST(ShellExpander, RawModes) {
  ShellExpander raw;
  raw.raw_quotes = true;
  raw.raw_escapes = true;
  auto r = raw.expand("'a b' \"$PWD\" \\$x", env());
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "'a b' \"/home\" \\$x");

  ShellExpander heredoc;  // COPY heredoc bodies: quotes are plain text
  heredoc.skip_quotes = true;
  r = heredoc.expand("echo '$PWD' \"x\" \\$y", env());
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "echo '/home' \"x\" $y");

  ShellExpander keep;
  keep.skip_unset = true;
  r = keep.expand("$NOTSET ${NOTSET} ${NOTSET:-x} $PWD", env());
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "$NOTSET ${NOTSET} ${NOTSET:-x} /home");
}

TEST(ShellExpander, WordSplitting) {
  ShellExpander sx;
  auto w = sx.expand_words("a b  'c d' \"e  f\"$SPACED", env());
  ASSERT_TRUE(w);
  EXPECT_EQ(*w, (std::vector<std::string>{"a", "b", "c d", "e  f1", "2"}));
  w = sx.expand_words("  ", env());
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->empty());
  w = sx.expand_words("80/tcp $NOTSET 443", env());
  ASSERT_TRUE(w);
  EXPECT_EQ(*w, (std::vector<std::string>{"80/tcp", "443"}));
}

TEST(ShellExpander, BoundedGrowth) {
  // Each level multiplies the length; BuildKit would try to build gigabytes.
  VarMap v = {{"V", std::string(40, 'x')}};
  ShellExpander sx;
  auto r = sx.expand("${V//?/-${V//?/-${V//?/-${V//?/-}}}}", v);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("too large"), std::string::npos) << r.error().what();
  auto ok = sx.expand("${V//?/-${V//?/-}}", v);  // 1640 characters is fine
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->size(), 40u * 41u);
}
