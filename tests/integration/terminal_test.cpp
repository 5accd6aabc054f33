// What kiln prints cannot forge output: a name holding a newline stays on its
// line.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/tmp.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;

// A name that, printed raw, would add a line of its own to a listing
// ("∕" is U+2215, which looks like a slash), with a tab after it.
const std::string kForger = "x\nD \u2215usr\u2215bin\u2215sudo\tz";
const std::string kForgerShown = "x\\u000aD \u2215usr\u2215bin\u2215sudo\\u0009z";

RunResult kiln(const fs::path& root, std::vector<std::string> args) {
  args.insert(args.begin(), {kiln_bin(), "--root", root.string(), "--tls-verify=false"});
  return run(args);
}

TEST(Terminal, DiffShowsANewlineInANameEscaped) {
  Scratch dir;
  const fs::path root = dir / "store";
  write_text(dir / "base/etc/motd", "hello\n");
  auto r = kiln(root, {"import", (dir / "base").string(), "-t", "localhost/base:1"});
  ASSERT_EQ(r.status, 0) << r.err;
  write_text(dir / "layer" / kForger, "");
  r = kiln(root,
           {"append", "localhost/base:1", (dir / "layer").string(), "-t", "localhost/next:1"});
  ASSERT_EQ(r.status, 0) << r.err;

  r = kiln(root, {"diff", "localhost/base:1", "localhost/next:1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "A /" + kForgerShown + "\n");
  // JSON keeps the exact name.
  r = kiln(root, {"diff", "localhost/base:1", "localhost/next:1", "--format", "json"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto files = nlohmann::json::parse(r.out)["files"];
  ASSERT_EQ(files.size(), 1u) << r.out;
  EXPECT_EQ(files[0]["path"], "/" + kForger);

  // Every listing prints its names the same way.
  r = run({kiln_bin(), "context", "ls", (dir / "layer").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, kForgerShown + "\n");
}

}  // namespace
}  // namespace kiln::test
