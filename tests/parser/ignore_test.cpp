// Table tests for .dockerignore semantics, from the Dockerfile reference's
// .dockerignore section and Docker's documented behaviour (moby's
// patternmatcher and BuildKit's context walk).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "parser/context_walk.hpp"
#include "parser/go_regex.hpp"
#include "parser/ignore.hpp"

using namespace kiln::parser;

namespace {

IgnoreMatcher matcher(const std::string& file) {
  auto m = IgnoreMatcher::create(read_ignore_lines(file));
  EXPECT_TRUE(m) << m.error().what();
  return m ? std::move(*m) : IgnoreMatcher();
}

struct Case {
  const char* ignore;  // the .dockerignore text
  const char* path;
  bool excluded;
};

void run(std::initializer_list<Case> cases) {
  for (const Case& c : cases) {
    IgnoreMatcher m = matcher(c.ignore);
    EXPECT_EQ(m.matches(c.path), c.excluded) << "ignore file:\n"
                                             << c.ignore << "\npath: " << c.path;
  }
}

}  // namespace

TEST(IgnoreFile, ReadingCleansAndSkips) {
  auto lines = read_ignore_lines(
      "\xEF\xBB\xBF# comment\n\n  spaced  \r\n/abs\n./rel\n !  neg \n #not-a-comment\n"
      "a/../b\ndir/\n!/x\n");
  std::vector<std::string> got;
  for (auto& l : lines)
    got.push_back(l.pattern);
  EXPECT_EQ(got, (std::vector<std::string>{"spaced", "abs", "rel", "!neg", "#not-a-comment", "b",
                                           "dir", "!x"}));
  EXPECT_EQ(lines[0].line, 3);
}

TEST(IgnoreFile, ReferenceExamples) {
  run({
      // */temp*: names starting with temp one level below the root.
      {"*/temp*", "somedir/temporary.txt", true},
      {"*/temp*", "somedir/temp", true},
      {"*/temp*", "temp", false},
      {"*/temp*", "a/b/temp", false},
      // */*/temp*: two levels below the root.
      {"*/*/temp*", "somedir/subdir/temporary.txt", true},
      {"*/*/temp*", "somedir/temporary.txt", false},
      // temp?: one character after temp, in the root.
      {"temp?", "tempa", true},
      {"temp?", "tempab", false},
      {"temp?", "dir/tempa", false},
      // **/*.go: every .go file, the root included.
      {"**/*.go", "main.go", true},
      {"**/*.go", "cmd/kiln/main.go", true},
      {"**/*.go", "main.gox", false},
      // Exceptions, applied in order.
      {"*.md\n!README.md", "README.md", false},
      {"*.md\n!README.md", "CHANGES.md", true},
      {"*.md\n!README*.md\nREADME-secret.md", "README-secret.md", true},
      {"*.md\n!README*.md\nREADME-secret.md", "README-public.md", false},
      {"!README*.md\n*.md", "README.md", true},
  });
}

TEST(IgnoreFile, DirectoriesAndParents) {
  run({
      {"node_modules", "node_modules", true},
      {"node_modules", "node_modules/x/y.js", true},  // a parent match counts
      {"node_modules", "src/node_modules", false},
      {"**/node_modules", "src/node_modules/x", true},
      {"**/node_modules", "node_modules", true},  // ** may match no directory
      {"foo/bar", "foo/bar/baz", true},
      {"foo/bar", "foo", false},
      {"foo/", "foo/x", true},  // a trailing slash is cleaned away
      {"/foo", "foo", true},    // so is a leading one
      {"./foo", "foo", true},
      {"foo/**", "foo/x", true},
      {"foo/**", "foo/x/y", true},
      {"foo/**", "foo", false},
      {"a/**/b", "a/b", true},
      {"a/**/b", "a/x/y/b", true},
      {"a/**/b", "a/x/y/c", false},
      {"*", "anything", true},
      {"*", "dir/file", true},  // through the parent "dir"
      {"a/../b", "b", true},
  });
}

TEST(IgnoreFile, GlobSyntax) {
  run({
      {"*.txt", "a.txt", true},
      {"*.txt", "dir/a.txt", false},  // * does not cross /
      {"a?b", "axb", true},
      {"a?b", "a/b", false},  // neither does ?
      {"[abc].txt", "b.txt", true},
      {"[abc].txt", "d.txt", false},
      {"[a-c]x", "bx", true},
      {"[^a]x", "bx", true},
      {"[^a]x", "ax", false},
      {"[!a]x", "!x", true},  // ! is not negation in Go's syntax
      {"\\*.txt", "*.txt", true},
      {"\\*.txt", "a.txt", false},
      {"a+b", "a+b", true},  // regexp characters are literal
      {"a+b", "aab", false},
      {"(x)", "(x)", true},
      {"f.o", "fxo", false},
      {"é?", "éa", true},
      {"?", "é", true},                       // ? is one character, not one byte
      {"#notcomment", "#notcomment", false},  // a comment line
      {" #notcomment", "#notcomment", true},  // not a comment: it starts with a space
  });
}

TEST(IgnoreFile, Errors) {
  for (const char* bad : {"[", "a[b", "x\\", "[]a]", "[a-]"}) {
    auto m = IgnoreMatcher::create(read_ignore_lines(bad));
    ASSERT_FALSE(m) << bad;
    EXPECT_NE(m.error().what().find("syntax error in pattern"), std::string::npos) << bad;
  }
  auto m = IgnoreMatcher::create(read_ignore_lines("ok\n!\n"), ".dockerignore");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().what(), ".dockerignore:2: illegal exclusion pattern: \"!\"");
}

TEST(IgnoreFile, DescendIntoExcludedDirectories) {
  IgnoreMatcher m = matcher("docs\n!docs/keep.md\nbuild\n");
  EXPECT_TRUE(m.must_descend("docs"));    // an exception lies under it
  EXPECT_FALSE(m.must_descend("build"));  // none does: never read
  IgnoreMatcher wild = matcher("build\n!**/*.keep\n");
  EXPECT_TRUE(wild.must_descend("build"));  // a wildcard exception could match anywhere
  IgnoreMatcher none = matcher("build\n");
  EXPECT_FALSE(none.must_descend("build"));
  EXPECT_FALSE(matcher("").must_descend("x"));
}

namespace {

struct Tree {
  std::filesystem::path root;
  explicit Tree(std::initializer_list<const char*> files) {
    root = std::filesystem::temp_directory_path() /
           ("kiln-ctx-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::create_directories(root);
    for (std::string f : files) {
      std::filesystem::path p = root / f;
      if (f.back() == '/') {
        std::filesystem::create_directories(p);
      } else {
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p) << f;
      }
    }
  }
  ~Tree() { std::filesystem::remove_all(root); }
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::vector<std::string> ls(const std::string& ignore, WalkStats* stats = nullptr) {
    IgnoreMatcher m = matcher(ignore);
    auto r = walk_context(root, m, stats);
    EXPECT_TRUE(r) << r.error().what();
    std::vector<std::string> out;
    if (r)
      for (auto& e : *r)
        out.push_back(e.path + (e.type == ContextEntry::Type::dir ? "/" : ""));
    return out;
  }
};

using Paths = std::vector<std::string>;

}  // namespace

TEST(ContextWalk, ListsEverythingInOrder) {
  Tree t({"b.txt", "a/z", "a/b/c", "a-c", "empty/"});
  // Depth first, each directory's entries in byte order (as BuildKit sends them).
  EXPECT_EQ(t.ls(""), (Paths{"a/", "a/b/", "a/b/c", "a/z", "a-c", "b.txt", "empty/"}));
}

TEST(ContextWalk, ExcludedDirectoryIsNotRead) {
  Tree t({"src/main.c", "node_modules/x/y.js", "node_modules/z.js", "README.md"});
  WalkStats stats;
  EXPECT_EQ(t.ls("node_modules\n*.md", &stats), (Paths{"src/", "src/main.c"}));
  EXPECT_EQ(stats.dirs_skipped, 1u);
  EXPECT_EQ(stats.entries_seen, 4u);  // node_modules' contents were never listed
}

TEST(ContextWalk, ExceptionReincludesWithParents) {
  Tree t({"docs/keep.md", "docs/drop.md", "docs/sub/keep.md", "other"});
  EXPECT_EQ(t.ls("docs\n!docs/keep.md"), (Paths{"docs/", "docs/keep.md", "other"}));
  EXPECT_EQ(t.ls("docs\n!docs/sub"), (Paths{"docs/", "docs/sub/", "docs/sub/keep.md", "other"}));
  // A wildcard exception makes the walk read everything.
  EXPECT_EQ(t.ls("docs\n!**/keep.md"),
            (Paths{"docs/", "docs/keep.md", "docs/sub/", "docs/sub/keep.md", "other"}));
}

TEST(ContextWalk, ExceptionUnderUnrelatedDirectoryDoesNotReopenIt) {
  Tree t({"bar/x", "foo/x"});
  EXPECT_EQ(t.ls("bar\nfoo\n!foo/x"), (Paths{"foo/", "foo/x"}));
}

TEST(ContextWalk, EverythingButTheException) {
  Tree t({"a", "b/c", "keep/d"});
  EXPECT_EQ(t.ls("*\n!keep"), (Paths{"keep/", "keep/d"}));
}

TEST(ContextWalk, SymlinksAreNotFollowed) {
  Tree t({"dir/file"});
  std::filesystem::create_directory_symlink(t.root / "dir", t.root / "link");
  auto m = IgnoreMatcher();
  auto r = walk_context(t.root, m);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[2].path, "link");
  EXPECT_EQ((*r)[2].type, ContextEntry::Type::symlink);
}

TEST(IgnoreFile, FindsThePerFileIgnoreFirst) {
  Tree t({"ctx/.dockerignore", "ctx/.containerignore", "ctx/Containerfile", "ctx/app.Containerfile",
          "ctx/app.Containerfile.dockerignore", "build/Dockerfile",
          "build/Dockerfile.containerignore", "build/Dockerfile.dockerignore"});
  auto at = [&](const char* p) { return t.root / p; };
  EXPECT_EQ(find_ignore_file(at("ctx"), at("ctx/Containerfile")), at("ctx/.containerignore"));
  EXPECT_EQ(find_ignore_file(at("ctx"), at("ctx/app.Containerfile")),
            at("ctx/app.Containerfile.dockerignore"));
  EXPECT_EQ(find_ignore_file(at("ctx"), at("build/Dockerfile")),
            at("build/Dockerfile.containerignore"));
  std::filesystem::remove(at("ctx/.containerignore"));
  EXPECT_EQ(find_ignore_file(at("ctx"), at("ctx/Containerfile")), at("ctx/.dockerignore"));
  std::filesystem::remove(at("ctx/.dockerignore"));
  EXPECT_EQ(find_ignore_file(at("ctx"), at("ctx/Containerfile")), std::nullopt);
}

TEST(GoRegex, FastMatcherAgreesWithReference) {
  using kiln::parser::detail::GoRegex;
  const char* exprs[] = {"^(.*/)?[^/]*\\.go$",
                         "^[^/]*\\.log$",
                         "^[[^/]*][^/]*$",
                         "^a^b$",
                         "^(a|bc)*d$",
                         "^.*$",
                         "b+c",
                         "^[^a]x$",
                         "^\\d+[[:alpha:]]?$",
                         "^é[^/]$",
                         "^(.*/)?x(.*/)?y.*$"};
  const char* texts[] = {"",         "a",   "main.go",   "cmd/main.go", "a/b.log", "b.log",
                         "]x",       "[x",  "ab",        "abcbcd",      "ad",      "a\nb",
                         "aaabbbcd", "bx",  "ax",        "12",          "12z",     "éa",
                         "é/",       "x/y", "a/x/b/y/z", "x\ny"};
  for (const char* e : exprs) {
    auto re = GoRegex::compile(e);
    ASSERT_TRUE(re) << e;
    for (const char* t : texts)
      EXPECT_EQ(re->match(t), re->match_reference(t)) << e << " on " << t;
  }
  EXPECT_TRUE(GoRegex::compile("^a^b$")->match_reference("x") == false);
  EXPECT_TRUE(GoRegex::compile("^[[^/]*][^/]*$")->match("]x"));  // Docker's [*] quirk
  EXPECT_FALSE(GoRegex::compile("^.*$")->match("a\nb"));         // . never matches \n
  EXPECT_TRUE(GoRegex::compile("^[^a]$")->match("\n"));          // a negated class does
}
