// The three change-set kinds: overlay upper dir, two-tree diff, explicit list;
// and whiteout / opaque semantics when such layers are applied.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "base/files.hpp"
#include "layers/apply.hpp"
#include "layers/writer.hpp"
#include "tests/layers/helpers.hpp"
#include "tests/layers/raw_tar.hpp"

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

// A real file named like a whiteout would read back as a deletion: refused,
// with its path, and nothing is stored.
TEST_F(Changes, FileNamedLikeAWhiteoutIsRefused) {
  fs::path dir = s_ / "tree";
  write_text(dir / "etc/.wh.passwd", "not a whiteout");
  auto blobs_before = std::distance(fs::directory_iterator(store_->root() / "blobs/sha256"),
                                    fs::directory_iterator());
  for (auto* l : {&layers::write_dir_layer, &layers::write_overlay_layer}) {
    auto r = (*l)(*store_, dir, {});
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().what().find("etc/.wh.passwd"), std::string::npos) << r.error().what();
    EXPECT_NE(r.error().what().find("reserves it for whiteouts"), std::string::npos);
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(store_->root() / "blobs/sha256"),
                          fs::directory_iterator()),
            blobs_before);
}

TEST_F(Changes, OverlayUpperDirBecomesOciWhiteouts) {
  KILN_NEED_ROOT();  // 0/0 devices and trusted.* xattrs
  fs::path up = s_ / "upper";
  write_text(up / "etc/new.conf", "x");
  write_text(up / "etc/-first", "x");  // '-' sorts before '.'
  fs::create_directories(up / "opaque/keep");
  ASSERT_EQ(::mknod((up / "etc/gone").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
  ASSERT_EQ(::setxattr((up / "opaque").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  ASSERT_EQ(::setxattr((up / "etc").c_str(), "trusted.overlay.origin", "zz", 2, 0), 0);
  auto l = layers::write_overlay_layer(*store_, up, {});
  ASSERT_TRUE(l.has_value()) << l.error().what();
  // Whiteouts sort as their ".wh." names, before their siblings.
  EXPECT_EQ(paths(*l), (Paths{"etc/", "etc/.wh.gone", "etc/-first", "etc/new.conf", "opaque/",
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
  // Applied as given (kiln's own writer would have sorted the marker first).
  FdReader in(*open_file(s_ / "l.tar", O_RDONLY | O_CLOEXEC));
  auto r = layers::apply_tar(in, root, {}, "l.tar");
  ASSERT_TRUE(r.has_value()) << r.error().what();
  EXPECT_TRUE(fs::exists(root / "d/a-new"));
  EXPECT_FALSE(fs::exists(root / "d/old"));
}

// The same content in two orders (children before their directory, a
// hardlink group whose data sits on the name that sorts last, whiteouts
// anywhere) gives one layer, written in layer order.
TEST_F(Changes, TarInputIsSortedWhateverItsOrder) {
  std::vector<RawEntry> a = {
      {.name = "z/", .type = '5', .mode = 0755},
      {.name = "z/data", .data = "shared", .mode = 0600},
      {.name = "a/", .type = '5', .mode = 0700},
      {.name = "a/link", .type = '1', .link = "z/data"},
      {.name = "a/.wh.old"},
      {.name = "a/-dash", .data = "d"},
      {.name = "a/.wh..wh..opq"},
      {.name = "b/sym", .type = '2', .link = "../z/data"},
      {.name = "ext", .type = '1', .link = "lower/file"},
  };
  std::vector<RawEntry> b = {a[7], a[6], a[5], a[1], a[3], a[4], a[8], a[0], a[2]};
  write_text(s_ / "a.tar", raw_tar(a));
  write_text(s_ / "b.tar", raw_tar(b));
  auto la = layers::write_tar_layer(*store_, s_ / "a.tar", {});
  auto lb = layers::write_tar_layer(*store_, s_ / "b.tar", {});
  ASSERT_TRUE(la.has_value()) << la.error().what();
  ASSERT_TRUE(lb.has_value()) << lb.error().what();
  EXPECT_EQ(la->diff_id, lb->diff_id);
  EXPECT_EQ(la->descriptor.digest, lb->descriptor.digest);
  EXPECT_EQ(paths(*la), (Paths{"a/", "a/.wh..wh..opq", "a/.wh.old", "a/-dash", "a/link", "b/sym",
                               "ext", "z/", "z/data"}));
  // "a/link" now carries the data and "z/data" links to it.
  fs::path root = s_ / "root";
  write_text(root / "lower/file", "below");
  apply(*la, root);
  EXPECT_EQ(read_text(root / "z/data"), "shared");
  struct stat x, y;
  ASSERT_EQ(::stat((root / "a/link").c_str(), &x), 0);
  ASSERT_EQ(::stat((root / "z/data").c_str(), &y), 0);
  EXPECT_EQ(x.st_ino, y.st_ino);
  EXPECT_EQ(x.st_mode & 07777, 0600u);
  EXPECT_EQ(read_text(root / "ext"), "below");

  // A name given twice would make the order decide the content.
  write_text(s_ / "dup.tar", raw_tar({{.name = "f", .data = "1"}, {.name = "f", .data = "2"}}));
  auto dup = layers::write_tar_layer(*store_, s_ / "dup.tar", {});
  ASSERT_FALSE(dup.has_value());
  EXPECT_NE(dup.error().message.find("duplicate entry f"), std::string::npos);
}

// A tree and GNU tar's archive of it (readdir order) give the same layer.
TEST_F(Changes, TreeAndItsTarGiveTheSameLayer) {
  fs::path t = s_ / "tree";
  for (auto name : {"m", "a", "-x", "zz", "b.c", "b-c"})
    write_text(t / "d" / name, name);
  write_text(t / "e/deep/f", "f");
  fs::create_hard_link(t / "d/zz", t / "a-link");
  fs::create_directory_symlink("d", t / "sym");
  ASSERT_EQ(sh("cd " + t.string() + " && tar --format=posix --numeric-owner -cf ../t.tar .").status,
            0);
  auto from_tree = layers::write_dir_layer(*store_, t, {});
  auto from_tar = layers::write_tar_layer(*store_, s_ / "t.tar", {});
  ASSERT_TRUE(from_tree.has_value()) << from_tree.error().what();
  ASSERT_TRUE(from_tar.has_value()) << from_tar.error().what();
  EXPECT_EQ(paths(*from_tar), paths(*from_tree));
  EXPECT_EQ(from_tar->diff_id, from_tree->diff_id);
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
  EXPECT_EQ(paths(*l), (Paths{".wh.gone", ".wh.gonedir", "added/", "added/new", "dir/",
                              "dir/changed", "typechange/", "typechange/inside/"}));
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
