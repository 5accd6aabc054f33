// kiln export / unpack / append / diff, as the real binary; and the store's
// unpacked-layer cache.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <nlohmann/json.hpp>

#include "layers/unpack.hpp"
#include "oci/store_check.hpp"
#include "tests/layers/helpers.hpp"
#include "tests/layers/raw_tar.hpp"

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

// Every command that needs a flattened image reads it from the layer cache:
// applied once, then merged. Shown by removing the blobs after the first use.
TEST_F(Commands, UnpackExportAndDiffReuseTheLayerCache) {
  auto r = kiln(store(), {"--debug", "unpack", "next", (s_ / "first").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  auto applied = [](const std::string& log) {
    size_t n = 0;
    for (size_t at = 0; (at = log.find("applied into the layer cache", at)) != std::string::npos;
         ++at)
      ++n;
    return n;
  };
  EXPECT_EQ(applied(r.err), 2u) << r.err;
  auto img = oci::Store::open(store())->load_image("next");
  ASSERT_TRUE(img.has_value());
  std::vector<ino_t> inodes;
  for (auto& id : img->config.diff_ids()) {
    struct stat st;
    ASSERT_EQ(::stat((store() / "kiln/layers" / std::string(id.digest().hex())).c_str(), &st), 0);
    inodes.push_back(st.st_ino);
  }
  for (auto& l : img->manifest.layers())
    fs::remove(store() / "blobs/sha256" / std::string(l.digest.hex()));

  r = kiln(store(), {"--debug", "unpack", "next", (s_ / "second").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(applied(r.err), 0u) << r.err;
  EXPECT_EQ(describe_tree(s_ / "second"), describe_tree(s_ / "first"));
  for (size_t i = 0; i < inodes.size(); ++i) {
    struct stat st;
    ASSERT_EQ(
        ::stat((store() / "kiln/layers" / std::string(img->config.diff_ids()[i].digest().hex()))
                   .c_str(),
               &st),
        0);
    EXPECT_EQ(st.st_ino, inodes[i]);
  }
  r = kiln(store(), {"export", "next", "-o", (s_ / "flat.tar").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  fs::create_directories(s_ / "x");
  ASSERT_EQ(sh("tar -xpf " + (s_ / "flat.tar").string() + " -C " + (s_ / "x").string()).status, 0);
  EXPECT_EQ(describe_tree(s_ / "x"), describe_tree(s_ / "first"));
  r = kiln(store(), {"diff", "base", "next"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("M /etc/motd (content)"), std::string::npos) << r.out;
}

TEST_F(Commands, ConcurrentUnpacksShareOneCacheFill) {
  auto r = sh("k='" + kiln_bin() + " --root " + store().string() + " --debug unpack next'; $k " +
              (s_ / "a").string() + " 2>" + (s_ / "a.log").string() + " & p=$!; $k " +
              (s_ / "b").string() + " 2>" + (s_ / "b.log").string() +
              "; s=$?; wait $p; exit $((s | $?))");
  ASSERT_EQ(r.status, 0) << read_text(s_ / "a.log") << read_text(s_ / "b.log");
  EXPECT_EQ(describe_tree(s_ / "a"), describe_tree(s_ / "b"));
  std::string logs = read_text(s_ / "a.log") + read_text(s_ / "b.log");
  size_t fills = 0;
  for (size_t at = 0; (at = logs.find("applied into the layer cache", at)) != std::string::npos;
       ++at)
    ++fills;
  EXPECT_EQ(fills, 2u) << "each layer applied once: " << logs;
  for (auto& e : fs::directory_iterator(store() / "kiln/layers"))
    EXPECT_FALSE(e.path().filename().string().starts_with(".tmp-")) << e.path();
}

// A layer linking to a file of a layer below: its cache entry (an overlay
// lower dir on its own) gets a copy, keyed by chain id since it depends on
// the base; unpack and export show the file with its content.
TEST_F(Commands, HardlinkIntoALowerLayer) {
  write_text(s_ / "l3.tar", raw_tar({{.name = "usr/", .type = '5', .mode = 0755},
                                     {.name = "usr/bb", .type = '1', .link = "bin/busybox"},
                                     {.name = "usr/bb2", .type = '1', .link = "bin/busybox"}}));
  auto r = kiln(store(), {"append", "next", (s_ / "l3.tar").string(), "-t", "third"});
  ASSERT_EQ(r.status, 0) << r.err;
  r = kiln(store(), {"unpack", "third", (s_ / "out").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string bb = read_text(s_ / "out/bin/busybox");
  EXPECT_EQ(read_text(s_ / "out/usr/bb"), bb);
  struct stat a, b, c;
  ASSERT_EQ(::stat((s_ / "out/usr/bb").c_str(), &a), 0);
  ASSERT_EQ(::stat((s_ / "out/usr/bb2").c_str(), &b), 0);
  ASSERT_EQ(::stat((s_ / "out/bin/busybox").c_str(), &c), 0);
  EXPECT_EQ(a.st_ino, b.st_ino) << "links within the layer stay links";
  EXPECT_EQ(a.st_mode, c.st_mode);
  auto img = oci::Store::open(store())->load_image("third");
  ASSERT_TRUE(img.has_value());
  EXPECT_FALSE(
      fs::exists(store() / "kiln/layers" / std::string(img->config.diff_ids()[2].digest().hex())));
  r = kiln(store(), {"export", "third", "-o", (s_ / "flat.tar").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  fs::create_directories(s_ / "x");
  ASSERT_EQ(sh("tar -xpf " + (s_ / "flat.tar").string() + " -C " + (s_ / "x").string()).status, 0);
  EXPECT_EQ(read_text(s_ / "x/usr/bb2"), bb);
  EXPECT_EQ(describe_tree(s_ / "x"), describe_tree(s_ / "out"));
}

TEST_F(Commands, LayerCacheKeepsOverlayWhiteouts) {
  KILN_NEED_ROOT();
  auto st = oci::Store::open(store());
  auto img = st->load_image("next");
  ASSERT_TRUE(img.has_value());
  auto lease = oci::Lease::create(*st, "test");
  ASSERT_TRUE(lease.has_value());
  auto dirs = layers::unpacked_layers(*st, *img, *lease);
  ASSERT_TRUE(dirs.has_value()) << dirs.error().what();
  ASSERT_EQ(dirs->size(), 2u);
  EXPECT_EQ((*dirs)[1].filename().string(), std::string(img->config.diff_ids()[1].digest().hex()));
  struct stat sb;
  ASSERT_EQ(::lstat(((*dirs)[1] / "etc/passwd").c_str(), &sb), 0);
  EXPECT_TRUE(S_ISCHR(sb.st_mode) && sb.st_rdev == makedev(0, 0));
  // A second call finds them in place.
  auto again = layers::unpacked_layers(*st, *img, *lease);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *dirs);
}

// An unpack in flight names its cache entries and layer blobs in a lease: an
// rmi and prune meanwhile take neither, and the next prune after it ends does.
TEST_F(Commands, LeasedLayerCacheEntriesSurviveRmiAndPrune) {
  KILN_NEED_ROOT();
  auto st = oci::Store::open(store());
  auto img = st->load_image("next");
  ASSERT_TRUE(img.has_value());
  std::optional<oci::Lease> lease = oci::Lease::create(*st, "unpack").value();
  auto dirs = layers::unpacked_layers(*st, *img, *lease);
  ASSERT_TRUE(dirs.has_value()) << dirs.error().what();
  const oci::Digest top_layer = img->manifest.layers()[1].digest;
  auto rmi = oci::remove_images(*st, {img->name});
  ASSERT_TRUE(rmi.has_value()) << rmi.error().what();
  auto kept = oci::prune(*st);
  ASSERT_TRUE(kept.has_value()) << kept.error().what();
  EXPECT_TRUE(fs::is_directory((*dirs)[1]));
  EXPECT_TRUE(st->has_blob(top_layer));
  lease.reset();
  auto gone = oci::prune(*st);
  ASSERT_TRUE(gone.has_value());
  EXPECT_FALSE(fs::exists((*dirs)[1]));
  EXPECT_FALSE(st->has_blob(top_layer));
}

// A symlink planted where a layer-cache entry belongs (a store restored from a
// CI cache, say) is never read: the entry is filled from the layer, the link
// replaced, and what it pointed at is left alone.
TEST_F(Commands, PlantedLayerCacheSymlinkIsNeverFollowed) {
  KILN_NEED_ROOT();
  auto st = oci::Store::open(store());
  auto img = st->load_image("next");
  ASSERT_TRUE(img.has_value());
  fs::create_directories(s_ / "planted/etc");
  write_text(s_ / "planted/etc/planted", "not from the image");
  ASSERT_TRUE(st->state_dir("layers"));
  fs::path entry = store() / "kiln/layers" / std::string(img->config.diff_ids()[0].digest().hex());
  fs::remove_all(entry);
  fs::create_directory_symlink(s_ / "planted", entry);
  auto report = oci::fsck(*st);
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_NE(report->problems[0].find("a symlink inside the store"), std::string::npos);
  auto r = kiln(store(), {"export", "next", "-o", (s_ / "flat.tar").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  auto listing = sh("tar -tf " + (s_ / "flat.tar").string());
  EXPECT_EQ(listing.out.find("planted"), std::string::npos) << listing.out;
  struct stat sb;
  ASSERT_EQ(::lstat(entry.c_str(), &sb), 0);
  EXPECT_TRUE(S_ISDIR(sb.st_mode)) << "the link was replaced by the real entry";
  EXPECT_EQ(read_text(s_ / "planted/etc/planted"), "not from the image");
  EXPECT_EQ(std::distance(fs::directory_iterator(s_ / "planted"), fs::directory_iterator()), 1);
}

}  // namespace
}  // namespace kiln::test
