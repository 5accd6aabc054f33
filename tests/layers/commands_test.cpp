// kiln export / unpack / append / diff, as the real binary; and the store's
// unpacked-layer cache.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <nlohmann/json.hpp>

#include "layers/unpack.hpp"
#include "tests/layers/helpers.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;

class Commands : public ::testing::Test {
 protected:
  void SetUp() override {
    make_busybox_rootfs(s_ / "rootfs");
    auto r = kiln(store(), {"import", (s_ / "rootfs").string(), "-t", "base"});
    ASSERT_EQ(r.status, 0) << r.err;
    // A second layer: one file changed, one removed (whiteout), one added.
    write_text(s_ / "l2/etc/motd", "changed\n");
    write_text(s_ / "l2/etc/.wh.passwd", "");
    write_text(s_ / "l2/usr/new", "new\n");
    ASSERT_EQ(sh("cd " + (s_ / "l2").string() + " && tar -czf ../l2.tgz etc usr").status, 0);
    r = kiln(store(),
             {"append", "base", (s_ / "l2.tgz").string(), "-t", "next", "--compression", "zstd"});
    ASSERT_EQ(r.status, 0) << r.err;
  }
  fs::path store() const { return s_ / "store"; }
  Scratch s_;
};

TEST_F(Commands, UnpackAndExportFlatten) {
  auto r = kiln(store(), {"unpack", "next", (s_ / "out").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_text(s_ / "out/etc/motd"), "changed\n");
  EXPECT_FALSE(fs::exists(s_ / "out/etc/passwd"));
  EXPECT_FALSE(fs::exists(s_ / "out/etc/.wh.passwd"));
  EXPECT_TRUE(fs::exists(s_ / "out/bin/busybox"));

  r = kiln(store(), {"export", "next", "-o", (s_ / "flat.tar").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  fs::create_directories(s_ / "x");
  ASSERT_EQ(sh("tar -xpf " + (s_ / "flat.tar").string() + " -C " + (s_ / "x").string()).status, 0);
  EXPECT_EQ(describe_tree(s_ / "x"), describe_tree(s_ / "out"));
  auto piped = sh(kiln_bin() + " --root " + store().string() + " export next -o - | tar -t");
  EXPECT_EQ(piped.status, 0);
  EXPECT_NE(piped.out.find("usr/new"), std::string::npos);
}

TEST_F(Commands, UnpackRefusesAndFailsCleanly) {
  write_text(s_ / "busy/file", "mine");
  auto r = kiln(store(), {"unpack", "next", (s_ / "busy").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(read_text(s_ / "busy/file"), "mine");
  // A corrupt layer: the unpack fails and leaves no directory behind.
  auto img = oci::Store::open(store())->load_image("next");
  ASSERT_TRUE(img.has_value());
  fs::path blob = store() / "blobs/sha256" / std::string(img->manifest.layers()[1].digest.hex());
  std::string bytes = read_text(blob);
  bytes[bytes.size() / 2] ^= 0x20;
  write_text(blob, bytes);
  r = kiln(store(), {"unpack", "next", (s_ / "never").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(fs::exists(s_ / "never"));
  for (auto& e : fs::directory_iterator(s_.path()))
    EXPECT_FALSE(e.path().filename().string().starts_with(".kiln-unpack")) << e.path();
}

TEST_F(Commands, DiffTextAndJson) {
  auto r = kiln(store(), {"diff", "base", "next"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("M /etc/motd (content)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("D /etc/passwd"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("A /usr"), std::string::npos) << r.out;
  r = kiln(store(), {"diff", "base", "next", "--format", "json"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["files"].size(), 3u);
  EXPECT_TRUE(j["config"].is_array());
}

TEST_F(Commands, AppendedImageIsReadByUmoci) {
  KILN_NEED_TOOL("umoci");
  // gzip: Debian's umoci does not read zstd layers.
  auto r = kiln(store(), {"append", "base", (s_ / "l2.tgz").string(), "-t", "gz"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto u = run({"umoci", "unpack", "--image", store().string() + ":docker.io/library/gz:latest",
                (s_ / "bundle").string()});
  ASSERT_EQ(u.status, 0) << u.err;
  ASSERT_EQ(kiln(store(), {"unpack", "gz", (s_ / "out").string()}).status, 0);
  EXPECT_EQ(describe_tree(s_ / "bundle/rootfs"), describe_tree(s_ / "out"));
}

TEST_F(Commands, LayerCacheKeepsOverlayWhiteouts) {
  KILN_NEED_ROOT();
  auto st = oci::Store::open(store());
  auto img = st->load_image("next");
  ASSERT_TRUE(img.has_value());
  auto dirs = layers::unpacked_layers(*st, *img);
  ASSERT_TRUE(dirs.has_value()) << dirs.error().what();
  ASSERT_EQ(dirs->size(), 2u);
  EXPECT_EQ((*dirs)[1].filename().string(), std::string(img->config.diff_ids()[1].digest().hex()));
  struct stat sb;
  ASSERT_EQ(::lstat(((*dirs)[1] / "etc/passwd").c_str(), &sb), 0);
  EXPECT_TRUE(S_ISCHR(sb.st_mode) && sb.st_rdev == makedev(0, 0));
  // A second call finds them in place.
  auto again = layers::unpacked_layers(*st, *img);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *dirs);
}

}  // namespace
}  // namespace kiln::test
