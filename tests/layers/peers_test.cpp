// Layers written by peers (buildah, skopeo, umoci repack) applied by kiln give
// the same tree as umoci's own unpack of them.
#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/layers/helpers.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;

// kiln unpack and umoci unpack of LAYOUT:REF, compared (mtimes included).
void expect_same_unpack(const Scratch& s, const fs::path& layout, const std::string& ref,
                        const std::string& tag, bool mtimes = true) {
  auto k = kiln(layout, {"unpack", ref, (s / ("kiln-" + tag)).string()});
  ASSERT_EQ(k.status, 0) << k.err;
  auto u = run(
      {"umoci", "unpack", "--image", layout.string() + ":" + ref, (s / ("umoci-" + tag)).string()});
  ASSERT_EQ(u.status, 0) << u.err;
  EXPECT_EQ(describe_tree(s / ("kiln-" + tag), mtimes),
            describe_tree(s / ("umoci-" + tag) / "rootfs", mtimes))
      << tag;
}

TEST(Peers, BuildahLayersWithWhiteouts) {
  KILN_NEED_TOOL("buildah");
  KILN_NEED_TOOL("umoci");
  KILN_NEED_ROOT();  // buildah's vfs driver and mount, as root
  Scratch s;
  make_busybox_rootfs(s / "rootfs");
  write_text(s / "rootfs/etc/dir/inner", "i");
  std::string b = "buildah --storage-driver vfs --root " + (s / "bs").string() + " --runroot " +
                  (s / "br").string();
  // buildah parses the layout path as an image name too: keep it lower case.
  fs::path layout = fs::temp_directory_path() / ("kiln-peers-" + std::to_string(::getpid()));
  struct Cleanup {
    fs::path p;
    ~Cleanup() { fs::remove_all(p); }
  } cleanup{layout};
  std::string out = "oci:" + layout.string();
  auto r =
      sh("set -e; c=$(" + b + " from --name kc1 scratch); " + b + " copy $c " +
         (s / "rootfs").string() + "/ /; " + b + " commit -q $c " + out +
         ":docker.io/library/b:1 >/dev/null; c2=$(" + b + " from --name kc2 " + out +
         ":docker.io/library/b:1); m=$(" + b +
         " mount $c2); rm $m/etc/motd; rm -r $m/etc/dir; mkdir -p $m/new; echo x > $m/new/f; " + b +
         " commit -q $c2 " + out + ":docker.io/library/b:2 >/dev/null; " + b + " rm -a >/dev/null");
  ASSERT_EQ(r.status, 0) << r.err;
  expect_same_unpack(s, layout, "docker.io/library/b:2", "b2");
  EXPECT_FALSE(fs::exists(s / "kiln-b2/etc/motd"));
  EXPECT_TRUE(fs::exists(s / "kiln-b2/new/f"));
}

TEST(Peers, SkopeoRecompressedLayers) {
  KILN_NEED_TOOL("skopeo");
  KILN_NEED_TOOL("umoci");
  Scratch s;
  make_busybox_rootfs(s / "rootfs");
  ASSERT_EQ(kiln(s / "store", {"import", (s / "rootfs").string(), "-t", "bb"}).status, 0);
  // skopeo re-encodes the layers with Go's gzip and zstd. (Debian's umoci
  // cannot read zstd layers, so those are checked against the source tree.)
  for (const char* format : {"gzip", "zstd"}) {
    auto c = run({"skopeo", "copy", "-q", "--dest-compress", "--dest-compress-format", format,
                  "oci:" + (s / "store").string() + ":docker.io/library/bb:latest",
                  "oci:" + (s / "layout").string() + ":docker.io/library/bb:" + format});
    ASSERT_EQ(c.status, 0) << c.err;
  }
  expect_same_unpack(s, s / "layout", "docker.io/library/bb:gzip", "gzip");
  auto k = kiln(s / "layout", {"unpack", "docker.io/library/bb:zstd", (s / "kiln-zstd").string()});
  ASSERT_EQ(k.status, 0) << k.err;
  EXPECT_EQ(describe_tree(s / "kiln-zstd"), describe_tree(s / "rootfs"));
}

TEST(Peers, UmociRepackWhiteouts) {
  KILN_NEED_TOOL("umoci");
  Scratch s;
  make_busybox_rootfs(s / "rootfs");
  fs::create_directories(s / "rootfs/opq/old");
  ASSERT_EQ(kiln(s / "store", {"import", (s / "rootfs").string(), "-t", "bb"}).status, 0);
  std::string img = (s / "store").string() + ":docker.io/library/bb:latest";
  ASSERT_EQ(run({"umoci", "unpack", "--image", img, (s / "bundle").string()}).status, 0);
  fs::path r = s / "bundle/rootfs";
  fs::remove(r / "etc/motd");
  fs::remove_all(r / "opq");
  fs::create_directories(r / "opq/new");
  write_text(r / "added", "a");
  auto rp = run({"umoci", "repack", "--image", (s / "store").string() + ":docker.io/library/bb:2",
                 (s / "bundle").string()});
  ASSERT_EQ(rp.status, 0) << rp.err;
  // Mtimes aside: umoci's unpack leaves a directory with the mtime it had
  // before the layer when a whiteout inside it removed something, although
  // the layer carries that directory's new mtime; kiln (like GNU tar) applies
  // the layer's value.
  expect_same_unpack(s, s / "store", "docker.io/library/bb:2", "repack", false);
  EXPECT_FALSE(fs::exists(s / "kiln-repack/opq/old"));
}

}  // namespace
}  // namespace kiln::test
