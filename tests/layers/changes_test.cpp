// The three change-set kinds: overlay upper dir, two-tree diff, explicit list;
// and whiteout / opaque semantics when such layers are applied.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "layers/apply.hpp"
#include "layers/writer.hpp"
#include "tests/layers/helpers.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using Paths = std::vector<std::string>;

class Changes : public ::testing::Test {
 protected:
  void SetUp() override {
    auto st = oci::Store::open(s_ / "store");
    ASSERT_TRUE(st.has_value());
    store_.emplace(std::move(*st));
  }
  Paths paths(const layers::WrittenLayer& l) {
    return layer_paths(store_->blob_path(l.descriptor.digest));
  }
  void apply(const layers::WrittenLayer& l, const fs::path& root, layers::ApplyOptions o = {}) {
    fs::create_directories(root);
    auto r = layers::apply_layer(*store_, l.descriptor, l.diff_id, root, o);
    ASSERT_TRUE(r.has_value()) << r.error().what();
  }
  Scratch s_;
  std::optional<oci::Store> store_;
};

TEST_F(Changes, OverlayUpperDirBecomesOciWhiteouts) {
  KILN_NEED_ROOT();  // 0/0 devices and trusted.* xattrs
  fs::path up = s_ / "upper";
  write_text(up / "etc/new.conf", "x");
  fs::create_directories(up / "opaque/keep");
  ASSERT_EQ(::mknod((up / "etc/gone").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
  ASSERT_EQ(::setxattr((up / "opaque").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  ASSERT_EQ(::setxattr((up / "etc").c_str(), "trusted.overlay.origin", "zz", 2, 0), 0);
  auto l = layers::write_overlay_layer(*store_, up, {});
  ASSERT_TRUE(l.has_value()) << l.error().what();
  EXPECT_EQ(paths(*l), (Paths{"etc/", "etc/.wh.gone", "etc/new.conf", "opaque/",
                              "opaque/.wh..wh..opq", "opaque/keep/"}));

  // Applied onto a lower tree: the whiteout removes, the opaque dir hides
  // what lay below but keeps its own children.
  fs::path root = s_ / "root";
  write_text(root / "etc/gone", "old");
  write_text(root / "etc/stays", "old");
  write_text(root / "opaque/old-child", "old");
  apply(*l, root);
  EXPECT_FALSE(fs::exists(root / "etc/gone"));
  EXPECT_TRUE(fs::exists(root / "etc/stays"));
  EXPECT_TRUE(fs::exists(root / "etc/new.conf"));
  EXPECT_FALSE(fs::exists(root / "opaque/old-child"));
  EXPECT_TRUE(fs::exists(root / "opaque/keep"));
  char v[8];
  EXPECT_LT(::getxattr((root / "etc").c_str(), "trusted.overlay.origin", v, sizeof v), 0)
      << "overlay xattrs never leave the upper dir";

  // Applied in overlay form (a cache lower dir): whiteouts recorded, not done.
  fs::path ov = s_ / "ov";
  layers::ApplyOptions o;
  o.whiteouts = layers::WhiteoutMode::overlay;
  apply(*l, ov, o);
  struct stat st;
  ASSERT_EQ(::lstat((ov / "etc/gone").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
  EXPECT_EQ(::getxattr((ov / "opaque").c_str(), "trusted.overlay.opaque", v, sizeof v), 1);
}

TEST_F(Changes, OpaqueMarkerAfterSiblingsKeepsThem) {
  // Some writers put ".wh..wh..opq" after the directory's new entries.
  fs::path root = s_ / "root";
  write_text(root / "d/old", "old");
  fs::path src = s_ / "src";
  write_text(src / "d/a-new", "new");
  ASSERT_EQ(sh("cd " + src.string() +
               " && touch 'd/.wh..wh..opq' d/.wh.zzz && tar -cf ../l.tar d/a-new d/.wh..wh..opq "
               "d/.wh.zzz")
                .status,
            0);
  auto l = layers::write_tar_layer(*store_, s_ / "l.tar", {});
  ASSERT_TRUE(l.has_value()) << l.error().what();
  apply(*l, root);
  EXPECT_TRUE(fs::exists(root / "d/a-new"));
  EXPECT_FALSE(fs::exists(root / "d/old"));
}

TEST_F(Changes, TwoTreeDiff) {
  fs::path lo = s_ / "lower", up = s_ / "upper";
  for (auto& t : {lo, up}) {
    write_text(t / "same", "same");
    write_text(t / "dir/changed", "v1");
    write_text(t / "dir/deep/unchanged", "u");
    write_text(t / "gone", "bye");
    fs::create_directories(t / "gonedir/sub");
    write_text(t / "typechange", "file");
  }
  ASSERT_EQ(
      sh("find " + lo.string() + " " + up.string() + " -exec touch -d @1600000000 {} +").status, 0);
  write_text(up / "dir/changed", "v2");
  fs::remove(up / "gone");
  fs::remove_all(up / "gonedir");
  fs::remove(up / "typechange");
  fs::create_directories(up / "typechange/inside");
  write_text(up / "added/new", "n");
  ASSERT_EQ(sh("touch -d @1600000000 " + up.string() + "/dir").status, 0);
  auto l = layers::write_diff_layer(*store_, lo, up, {});
  ASSERT_TRUE(l.has_value()) << l.error().what();
  EXPECT_EQ(paths(*l), (Paths{"added/", "added/new", "dir/", "dir/changed", ".wh.gone",
                              ".wh.gonedir", "typechange/", "typechange/inside/"}));
  // lower + diff layer = upper.
  ASSERT_EQ(sh("cp -a " + lo.string() + " " + (s_ / "root").string()).status, 0);
  apply(*l, s_ / "root");
  EXPECT_EQ(describe_tree(s_ / "root"), describe_tree(up));
}

TEST_F(Changes, ExplicitListCarriesParents) {
  fs::path root = s_ / "ctx";
  write_text(root / "app/bin/tool", "t");
  write_text(root / "app/bin/other", "o");
  write_text(root / "app/share/doc/README", "r");
  write_text(root / "unrelated", "u");
  auto l = layers::write_list_layer(*store_, root, {"app/bin/tool", "/app/share"}, {});
  ASSERT_TRUE(l.has_value()) << l.error().what();
  EXPECT_EQ(paths(*l), (Paths{"app/", "app/bin/", "app/bin/tool", "app/share/", "app/share/doc/",
                              "app/share/doc/README"}));
  auto bad = layers::write_list_layer(*store_, root, {"missing"}, {});
  EXPECT_FALSE(bad.has_value());
  auto esc = layers::write_list_layer(*store_, root, {"../etc/passwd"}, {});
  EXPECT_FALSE(esc.has_value());
}

TEST_F(Changes, DigestOrDiffIdMismatchFails) {
  write_text(s_ / "src/f", "content");
  auto l = layers::write_dir_layer(*store_, s_ / "src", {});
  ASSERT_TRUE(l.has_value());
  auto wrong = oci::DiffId::parse("sha256:" + std::string(64, '0'));
  fs::create_directories(s_ / "a");
  EXPECT_FALSE(layers::apply_layer(*store_, l->descriptor, *wrong, s_ / "a", {}).has_value());
  // Corrupt the stored blob: the compressed digest check fails as it streams.
  fs::path blob = store_->blob_path(l->descriptor.digest);
  std::string bytes = read_text(blob);
  bytes[bytes.size() - 9] ^= 1;  // inside the gzip trailer: inflate itself may not notice
  fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
  write_text(blob, bytes);
  fs::create_directories(s_ / "b");
  auto r = layers::apply_layer(*store_, l->descriptor, l->diff_id, s_ / "b", {});
  ASSERT_FALSE(r.has_value());
}

TEST_F(Changes, IdMapShiftsOwnersAndBytesDecideCompression) {
  KILN_NEED_ROOT();
  write_text(s_ / "src/f", "x");
  ASSERT_EQ(::chown((s_ / "src/f").c_str(), 1000, 1001), 0);
  layers::LayerOptions none;
  none.compression = oci::media::Compression::none;
  auto l = layers::write_dir_layer(*store_, s_ / "src", none);
  ASSERT_TRUE(l.has_value());
  // Mislabelled on purpose: a plain tar under the gzip media type still applies.
  auto desc = l->descriptor;
  desc.media_type = std::string(oci::media::kOciLayerGzip);
  layers::ApplyOptions o;
  o.uid_map = {{0, 100000, 65536}};
  o.gid_map = {{0, 200000, 65536}};
  fs::create_directories(s_ / "root");
  auto r = layers::apply_layer(*store_, desc, l->diff_id, s_ / "root", o);
  ASSERT_TRUE(r.has_value()) << r.error().what();
  struct stat st;
  ASSERT_EQ(::stat((s_ / "root/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 101000u);
  EXPECT_EQ(st.st_gid, 201001u);
  // An id outside the map is refused rather than left as the host's id.
  o.uid_map = {{0, 100000, 10}};
  fs::create_directories(s_ / "root2");
  EXPECT_FALSE(layers::apply_layer(*store_, desc, l->diff_id, s_ / "root2", o).has_value());
}

}  // namespace
}  // namespace kiln::test
