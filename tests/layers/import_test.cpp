// `kiln import`, run as the real binary, read back by skopeo and umoci.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/layers/helpers.hpp"
#include "tests/layers/raw_tar.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  return s;
}

TEST(Import, DirectoryReadBySkopeoAndUmoci) {
  Scratch s;
  make_busybox_rootfs(s / "rootfs");
  auto r = kiln(s / "store", {"import", (s / "rootfs").string(), "-t", "busybox"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string digest = trim(r.out);
  EXPECT_TRUE(digest.starts_with("sha256:")) << digest;

  KILN_NEED_TOOL("skopeo");
  auto insp = run(
      {"skopeo", "inspect", "oci:" + (s / "store").string() + ":docker.io/library/busybox:latest"});
  ASSERT_EQ(insp.status, 0) << insp.err;
  auto j = nlohmann::json::parse(insp.out);
  EXPECT_EQ(j["Digest"], digest);
  EXPECT_EQ(j["Os"], "linux");
  EXPECT_EQ(j["Layers"].size(), 1u);

  KILN_NEED_TOOL("umoci");
  auto un =
      run({"umoci", "unpack", "--image",
           (s / "store").string() + ":docker.io/library/busybox:latest", (s / "bundle").string()});
  ASSERT_EQ(un.status, 0) << un.err;
  EXPECT_EQ(describe_tree(s / "bundle/rootfs"), describe_tree(s / "rootfs"));
}

TEST(Import, TarInEveryCompressionGivesTheSameLayer) {
  Scratch s;
  make_busybox_rootfs(s / "rootfs");
  ASSERT_EQ(
      sh("cd " + (s / "rootfs").string() + " && tar -cf ../plain.tar . && gzip -k ../plain.tar" +
         " && zstd -q ../plain.tar -o ../plain.tar.zst")
          .status,
      0);
  std::vector<std::string> configs;
  int i = 0;
  for (const char* f : {"plain.tar", "plain.tar.gz", "plain.tar.zst"}) {
    auto r = kiln(s / "store", {"import", (s / f).string(), "-t", "t:" + std::to_string(i++)});
    ASSERT_EQ(r.status, 0) << f << ": " << r.err;
    auto m = nlohmann::json::parse(read_text(s / "store/blobs/sha256" / trim(r.out).substr(7)));
    configs.push_back(m["layers"][0]["digest"]);
  }
  // Same entries in, same gzip layer out, whatever the input's compression.
  EXPECT_EQ(configs[0], configs[1]);
  EXPECT_EQ(configs[0], configs[2]);
}

TEST(Import, SameTreeSameDigests) {
  Scratch s;
  make_busybox_rootfs(s / "rootfs");
  setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
  auto a = kiln(s / "store", {"import", (s / "rootfs").string(), "-t", "a"});
  auto b = kiln(s / "store2", {"import", (s / "rootfs").string(), "-t", "a"});
  auto c =
      kiln(s / "store", {"import", (s / "rootfs").string(), "-t", "c", "--compression", "zstd"});
  auto d =
      kiln(s / "store2", {"import", (s / "rootfs").string(), "-t", "c", "--compression", "zstd"});
  unsetenv("SOURCE_DATE_EPOCH");
  ASSERT_EQ(a.status, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_EQ(c.out, d.out);
  EXPECT_NE(a.out, c.out);
}

TEST(Import, BadInputIsOneLineAndLeavesTheStoreAlone) {
  Scratch s;
  make_busybox_rootfs(s / "rootfs");
  ASSERT_EQ(kiln(s / "store", {"import", (s / "rootfs").string(), "-t", "base"}).status, 0);
  std::string before = snapshot(s / "store");
  write_text(s / "notatar.txt", std::string(4000, 'x'));
  write_text(s / "empty.tar", "");
  write_text(s / "escape.tar",
             raw_tar({{.name = "ok", .data = "x"}, {.name = "../evil", .data = "x"}}));
  ASSERT_EQ(sh("head -c 3000 /dev/urandom | gzip > " + (s / "junk.gz").string()).status, 0);
  struct Case {
    std::vector<std::string> args;
    std::string mention;
  } cases[] = {
      {{"import", (s / "missing.tar").string(), "-t", "x"}, "missing.tar"},
      {{"import", (s / "notatar.txt").string(), "-t", "x"}, "notatar.txt"},
      {{"import", (s / "empty.tar").string(), "-t", "x"}, "empty.tar"},
      {{"import", (s / "junk.gz").string(), "-t", "x"}, "junk.gz"},
      {{"import", (s / "escape.tar").string(), "-t", "x"}, "../evil"},
      {{"import", (s / "rootfs").string(), "-t", "Bad/UPPER"}, "UPPER"},
  };
  for (auto& c : cases) {
    auto r = kiln(s / "store", c.args);
    EXPECT_EQ(r.status, 1) << c.mention << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(c.mention), std::string::npos) << r.err;
    EXPECT_EQ(snapshot(s / "store"), before) << c.mention;
  }
}

}  // namespace
}  // namespace kiln::test
