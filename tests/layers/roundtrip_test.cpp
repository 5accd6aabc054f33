// Round trips: a rich tree → kiln's layer → unpacked by kiln, GNU tar and
// umoci → the same tree (types, modes, owners, xattrs, links, nanosecond mtimes).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "layers/apply.hpp"
#include "layers/writer.hpp"
#include "tests/layers/helpers.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using oci::media::Compression;

// The source as a layer must reproduce it: everything but the socket.
std::string expected_tree(const fs::path& src) {
  std::string all = describe_tree(src), out;
  std::istringstream in(all);
  for (std::string line; std::getline(in, line);)
    if (!line.starts_with("sock ")) out += line + "\n";
  return out;
}

class RoundTrip : public ::testing::Test {
 protected:
  // The source tree is made once for the suite (it takes a few peer commands).
  static void SetUpTestSuite() {
    src_ = std::make_unique<Scratch>();
    make_rich_tree(*src_ / "src");
    want_ = expected_tree(*src_ / "src");
  }
  static void TearDownTestSuite() { src_.reset(); }
  void SetUp() override {
    auto st = oci::Store::open(s_ / "store");
    ASSERT_TRUE(st.has_value());
    store_.emplace(std::move(*st));
  }
  static fs::path src() { return *src_ / "src"; }
  layers::WrittenLayer write(Compression c) {
    layers::LayerOptions o;
    o.compression = c;
    auto l = layers::write_dir_layer(*store_, src(), o);
    EXPECT_TRUE(l.has_value()) << l.error().what();
    return *l;
  }
  static inline std::unique_ptr<Scratch> src_;
  static inline std::string want_;
  Scratch s_;
  std::optional<oci::Store> store_;
};

TEST_F(RoundTrip, KilnApplyInEveryCompression) {
  for (auto c : {Compression::gzip, Compression::zstd, Compression::none}) {
    auto l = write(c);
    fs::path out = s_ / ("out" + std::to_string(static_cast<int>(c)));
    fs::create_directories(out);
    auto st = layers::apply_layer(*store_, l.descriptor, l.diff_id, out, {});
    ASSERT_TRUE(st.has_value()) << st.error().what();
    EXPECT_EQ(describe_tree(out), want_);
    struct stat sb;
    ASSERT_EQ(::stat((out / "sparse").c_str(), &sb), 0);
    EXPECT_LT(sb.st_blocks * 512, 1 << 20) << "holes stay holes";
  }
}

TEST_F(RoundTrip, GnuTarExtractsTheSameTree) {
  KILN_NEED_TOOL("tar");
  auto l = write(Compression::none);
  fs::create_directories(s_ / "out");
  auto r = sh("tar --xattrs --xattrs-include='*' --numeric-owner -xpf " +
              store_->blob_path(l.descriptor.digest).string() + " -C " + (s_ / "out").string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(describe_tree(s_ / "out"), want_);
}

TEST_F(RoundTrip, UmociUnpacksTheSameTree) {
  KILN_NEED_TOOL("umoci");
  auto r = kiln(s_ / "store", {"import", src().string(), "-t", "rich"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto u =
      run({"umoci", "unpack", "--image", (s_ / "store").string() + ":docker.io/library/rich:latest",
           (s_ / "bundle").string()});
  ASSERT_EQ(u.status, 0) << u.err;
  EXPECT_EQ(describe_tree(s_ / "bundle/rootfs"), want_);
}

TEST_F(RoundTrip, SameTreeSameBytesAndClampedTimes) {
  auto a = write(Compression::gzip);
  // Reading every file (atime) and copying the tree elsewhere change nothing.
  ASSERT_EQ(sh("find " + src().string() + " -type f -exec cat {} + >/dev/null").status, 0);
  auto b = write(Compression::gzip);
  EXPECT_EQ(a.descriptor.digest, b.descriptor.digest);
  ASSERT_EQ(sh("cp -a " + src().string() + " " + (s_ / "copy").string()).status, 0);
  auto c = layers::write_dir_layer(*store_, s_ / "copy", {});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->diff_id, a.diff_id);

  layers::LayerOptions o;
  o.source_date_epoch = 1'500'000'000;
  auto d = layers::write_dir_layer(*store_, src(), o);
  ASSERT_TRUE(d.has_value());
  fs::create_directories(s_ / "clamped");
  ASSERT_TRUE(layers::apply_layer(*store_, d->descriptor, d->diff_id, s_ / "clamped", {}));
  struct stat sb;
  ASSERT_EQ(::stat((s_ / "clamped/a/file").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mtim.tv_sec, 1'500'000'000);
  EXPECT_EQ(sb.st_mtim.tv_nsec, 0);
}

}  // namespace
}  // namespace kiln::test
