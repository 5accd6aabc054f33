// `kiln parse` and `kiln context ls` end to end: the JSON shape the issue
// fixes (field names exactly), errors as one `FILE:LINE: INSTRUCTION:` line
// with exit 1, and which ignore file a context listing uses.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/tmp.hpp"

namespace fs = std::filesystem;
using kiln::test::run;
using kiln::test::Scratch;
using kiln::test::write_text;

namespace {

std::vector<std::string> keys(const nlohmann::json& j) {
  std::vector<std::string> out;
  for (auto it = j.begin(); it != j.end(); ++it)
    out.push_back(it.key());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ParseCli, JsonShapeAndBuildArgs) {
  Scratch dir;
  write_text(dir / "Containerfile",
             "ARG BASE=alpine\n"
             "FROM $BASE AS build\n"
             "COPY --chmod=0644 <<EOF /etc/motd\n"
             "hello $BASE\n"
             "EOF\n"
             "FROM scratch\n"
             "COPY --from=build /etc/motd /\n"
             "ENV A=1 B=\"two words\"\n"
             "CMD [\"/bin/sh\"]\n");
  auto r = run({kiln::test::kiln_bin(), "parse", "--format", "json", "--build-arg", "BASE=busybox",
                (dir / "Containerfile").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  for (const char* k : {"directives", "stages", "global_args"})
    EXPECT_TRUE(j.contains(k)) << k;
  ASSERT_EQ(j["global_args"].size(), 1u);
  EXPECT_EQ(j["global_args"][0]["args"][0],
            (nlohmann::json{{"name", "BASE"}, {"default", "alpine"}}));
  ASSERT_EQ(j["stages"].size(), 2u);
  const auto& build = j["stages"][0];
  EXPECT_EQ(build["name"], "build");
  EXPECT_EQ(build["base"], "busybox");
  EXPECT_TRUE(build["platform"].is_null());
  const auto& from = build["instructions"][0];
  EXPECT_EQ(keys(from), (std::vector<std::string>{"args", "end_line", "expanded", "expanded_flags",
                                                  "expanded_heredocs", "flags", "form", "heredocs",
                                                  "instruction", "line", "original"}));
  EXPECT_EQ(from["instruction"], "FROM");
  EXPECT_EQ(from["args"], (nlohmann::json{"$BASE", "AS", "build"}));
  EXPECT_EQ(from["expanded"], (nlohmann::json{"busybox", "AS", "build"}));
  const auto& copy = build["instructions"][1];
  EXPECT_EQ(copy["line"], 3);
  EXPECT_EQ(copy["end_line"], 5);
  EXPECT_EQ(copy["flags"], (nlohmann::json{"--chmod=0644"}));
  EXPECT_EQ(copy["form"], "shell");
  EXPECT_EQ(
      copy["heredocs"][0],
      (nlohmann::json{
          {"name", "EOF"}, {"content", "hello $BASE\n"}, {"expand", true}, {"chomp", false}}));
  const auto& last = j["stages"][1]["instructions"];
  EXPECT_EQ(last[2]["args"][1], (nlohmann::json{{"key", "B"}, {"value", "\"two words\""}}));
  EXPECT_EQ(last[2]["expanded"][1], (nlohmann::json{{"key", "B"}, {"value", "two words"}}));
  EXPECT_EQ(last[3]["form"], "exec");
  EXPECT_TRUE(last[2]["form"].is_null());

  // --target prunes what the target does not need; plain output lists it.
  auto text =
      run({kiln::test::kiln_bin(), "parse", "--target", "build", (dir / "Containerfile").string()});
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("COPY"), std::string::npos) << text.out;
}

TEST(ParseCli, ErrorsAreOneLocatedLine) {
  Scratch dir;
  write_text(dir / "Containerfile", "FROM alpine\nRUNN echo\n");
  auto r = run({kiln::test::kiln_bin(), "parse", (dir / "Containerfile").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("Containerfile:2: RUNN: unknown instruction"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(r.out.empty());

  auto stdin_r = run({kiln::test::kiln_bin(), "parse", "-"}, "FROM alpine\nRUN <<EOF\nno end\n");
  EXPECT_EQ(stdin_r.status, 1);
  EXPECT_NE(stdin_r.err.find("<stdin>:2: RUN: unterminated heredoc EOF"), std::string::npos)
      << stdin_r.err;
}

std::vector<std::string> ls(const fs::path& ctx, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {kiln::test::kiln_bin(), "context", "ls", ctx.string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto r = run(argv);
  EXPECT_EQ(r.status, 0) << r.err;
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = r.out.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(r.out.substr(start, nl - start));
  return lines;
}

TEST(ContextLs, IgnoreFilePrecedenceAndOrder) {
  Scratch dir;
  const fs::path ctx = dir / "ctx";
  fs::create_directories(ctx / "build/keep");
  fs::create_directories(ctx / "docs");
  write_text(ctx / "build/keep/k", "");
  write_text(ctx / "build/drop", "");
  write_text(ctx / "docs/a.md", "");
  write_text(ctx / "b.txt", "");
  write_text(ctx / "Containerfile", "FROM scratch\n");
  write_text(ctx / ".dockerignore", "build\n!build/keep\n");
  // Paths come in walk order: each directory's entries by byte value, a
  // directory followed by what it holds; an excluded directory appears only
  // as the parent of something an exception keeps.
  EXPECT_EQ(ls(ctx),
            (std::vector<std::string>{".dockerignore", "Containerfile", "b.txt", "build/",
                                      "build/keep/", "build/keep/k", "docs/", "docs/a.md"}));
  // .containerignore wins over .dockerignore in the context root...
  write_text(ctx / ".containerignore", "docs\n.*\n");
  EXPECT_EQ(ls(ctx), (std::vector<std::string>{"Containerfile", "b.txt", "build/", "build/drop",
                                               "build/keep/", "build/keep/k"}));
  // ...and <Containerfile>.dockerignore beside the Containerfile wins over both.
  write_text(dir / "Other", "FROM scratch\n");
  write_text(dir / "Other.dockerignore", "*.txt\nContainerfile\n");
  EXPECT_EQ(ls(ctx, {"-f", (dir / "Other").string()}),
            (std::vector<std::string>{".containerignore", ".dockerignore", "build/", "build/drop",
                                      "build/keep/", "build/keep/k", "docs/", "docs/a.md"}));

  auto j = run({kiln::test::kiln_bin(), "context", "ls", "--format", "json", ctx.string()});
  ASSERT_EQ(j.status, 0) << j.err;
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["ignore_file"], (ctx / ".containerignore").string());
  EXPECT_EQ(doc["entries"][0]["path"], "Containerfile");
  EXPECT_EQ(doc["entries"][0]["type"], "file");

  write_text(ctx / ".containerignore", "!\n");
  auto bad = run({kiln::test::kiln_bin(), "context", "ls", ctx.string()});
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find(".containerignore:1: illegal exclusion pattern"), std::string::npos)
      << bad.err;
}

TEST(Printing, EscapeSequencesNeverReachTheTerminal) {
  // A file name (or a label, a tag, a registry's error text) holding ESC or a
  // C1 control is shown escaped; JSON output keeps the exact name.
  Scratch dir;
  const fs::path ctx = dir / "ctx";
  const std::string name =
      "a\x1b]52;c;aGk=\x07"
      "b\xc2\x9b"
      "2J";
  write_text(ctx / name, "");
  EXPECT_EQ(ls(ctx), (std::vector<std::string>{"a\\u001b]52;c;aGk=\\u0007b\\u009b2J"}));
  auto j = run({kiln::test::kiln_bin(), "context", "ls", "--format", "json", ctx.string()});
  ASSERT_EQ(j.status, 0) << j.err;
  EXPECT_EQ(j.out.find('\x1b'), std::string::npos);
  EXPECT_EQ(j.out.find("\xc2\x9b"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(j.out)["entries"][0]["path"], name);

  auto bad = run({kiln::test::kiln_bin(), "ref", "x\x1b[2J"});
  EXPECT_NE(bad.status, 0);
  EXPECT_EQ(bad.err.find('\x1b'), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("x\\u001b[2J"), std::string::npos) << bad.err;
}

}  // namespace
