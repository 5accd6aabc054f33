// Saving an image as docker-archive or oci-archive when something fails on
// the way, at every stage: a blob that cannot be opened (a registry's 404), one
// that breaks while read, a store blob missing or corrupt, a config whose
// diff-ids do not match the layers, a sink that refuses bytes. Each is one
// error; the sink never gets the end blocks that would make a cut-off archive
// look complete; nothing is left behind (no temporary, no output file, an
// existing one untouched).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "base/output_target.hpp"
#include "layers/image_archive.hpp"
#include "oci/config.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "tests/layers/raw_tar.hpp"
#include "tests/support/tmp.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using layers::ArchiveFormat;
using oci::Descriptor;

// libarchive hands its sink whole blocks of this size; only closing the
// archive writes the short last block with the end marker.
constexpr size_t kBlock = 10240;

// Takes `limit` bytes, then refuses every write.
class FailingWriter : public Writer {
 public:
  explicit FailingWriter(size_t limit) : limit_(limit) {}
  using Writer::write;
  Status write(std::span<const std::byte> data) override {
    if (got_ + data.size() > limit_) return fail("sink refused the write");
    got_ += data.size();
    return {};
  }
  size_t got() const { return got_; }

 private:
  size_t limit_, got_ = 0;
};

// `inner`'s first `limit` bytes, then an error.
class BreakingReader : public Reader {
 public:
  BreakingReader(std::unique_ptr<Reader> inner, size_t limit)
      : inner_(std::move(inner)), left_(limit) {}
  Result<size_t> read(std::span<std::byte> buf) override {
    if (left_ == 0) return fail("connection reset by peer");
    TRY_ASSIGN(size_t n, inner_->read(buf.first(std::min(buf.size(), left_))));
    left_ -= n;
    return n;
  }

 private:
  std::unique_ptr<Reader> inner_;
  size_t left_;
};

Descriptor describe(std::string_view media_type, const std::string& bytes) {
  Descriptor d;
  d.media_type = std::string(media_type);
  d.digest = oci::Digest::of_bytes(bytes);
  d.size = static_cast<int64_t>(bytes.size());
  return d;
}

class ArchiveSave : public ::testing::TestWithParam<ArchiveFormat> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_) << store_.error().what();
    fs::create_directories(out_dir_);
    write_text(old_file_, "an older archive\n");
    fs::permissions(old_file_, fs::perms::owner_read | fs::perms::owner_write);
    image_ = make_image(layers_.size(), "localhost/save:ok");
  }

  // An image of layers_ whose config lists the first `diff_ids` of their
  // diff-ids (and `wrong`'s instead, when given).
  oci::LocalImage make_image(size_t diff_ids, const std::string& name,
                             const std::string* wrong = nullptr) {
    auto doc = oci::ImageConfig::create(oci::Platform::host(), "2026-01-01T00:00:00Z").json();
    std::vector<Descriptor> descs;
    for (size_t i = 0; i < layers_.size(); ++i) {
      if (i < diff_ids)
        doc["rootfs"]["diff_ids"].push_back(
            oci::Digest::of_bytes(wrong ? *wrong : layers_[i]).str());
      EXPECT_TRUE(store_->put_blob_bytes(layers_[i]));
      descs.push_back(describe(oci::media::kOciLayer, layers_[i]));
    }
    std::string config = oci::ImageConfig::from_json(doc)->bytes();
    EXPECT_TRUE(store_->put_blob_bytes(config));
    auto m = oci::Manifest::create(oci::media::kOciManifest,
                                   describe(oci::media::kOciConfig, config), descs);
    EXPECT_TRUE(store_->put_blob_bytes(m.bytes()));
    EXPECT_TRUE(store_->set_name(name, m.descriptor()));
    auto img = store_->load_image(name);
    EXPECT_TRUE(img) << img.error().what();
    return *img;
  }

  // As `kiln save`: from the store, into -o FILE.
  Status save(const oci::LocalImage& img, const fs::path& file) {
    TRY_ASSIGN(auto out, OutputTarget::open(file));
    TRY(layers::save_archive(*store_, {img}, GetParam(), out));
    return out.commit();
  }

  // As `kiln copy REF docker-archive:FILE`: layers from `open` (a registry),
  // docker-archive's uncompressed layers through temporaries beside FILE.
  Status copy(const oci::BlobOpen& open, const fs::path& file) {
    TRY_ASSIGN(auto out, OutputTarget::open(file));
    TRY(layers::save_archive_from(open, {image_}, GetParam(), out, out.scratch_dir()));
    return out.commit();
  }

  oci::BlobOpen store_open() {
    return [this](const Descriptor& d) { return store_->open_blob(d.digest, d.size); };
  }

  // A failed save: one error naming `what`, and nothing left behind — the
  // earlier archive as it was, and nothing else beside it or in the store's
  // scratch dir.
  void expect_clean_failure(const Status& st, const std::string& what) {
    ASSERT_FALSE(st) << "the save did not fail";
    EXPECT_NE(st.error().what().find(what), std::string::npos) << st.error().what();
    std::vector<std::string> left;
    for (auto& e : fs::directory_iterator(out_dir_))
      left.push_back(e.path().filename().string());
    EXPECT_EQ(left, std::vector<std::string>{"image.tar"});
    EXPECT_EQ(read_text(old_file_), "an older archive\n");
    EXPECT_EQ(fs::status(old_file_).permissions(), fs::perms::owner_read | fs::perms::owner_write);
    EXPECT_TRUE(!fs::exists(store_->tmp_dir()) || fs::is_empty(store_->tmp_dir()));
  }

  // Runs `fill` into a sink that keeps everything: a failure must stop at a
  // block boundary, without the end blocks of a complete archive.
  template <class Fill>
  void expect_no_end_blocks(Fill fill, const std::string& what) {
    StringWriter sink;
    auto st = fill(sink);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().what().find(what), std::string::npos) << st.error().what();
    EXPECT_EQ(sink.str().size() % kBlock, 0u) << "a failed archive was finished";
  }

  Scratch dir_;
  fs::path out_dir_ = dir_ / "out", old_file_ = out_dir_ / "image.tar";
  Result<oci::Store> store_ = oci::Store::open(dir_ / "store");
  // The second layer spans several archive blocks, so failures land mid-entry.
  std::vector<std::string> layers_ = {
      raw_tar({{.name = "hello", .data = "hello\n"}}),
      raw_tar({{.name = "big", .data = std::string(100000, 'b')}}),
  };
  oci::LocalImage image_;
};

TEST_P(ArchiveSave, WritesAndLoadsBackWhenNothingFails) {
  ASSERT_TRUE(save(image_, old_file_));
  auto fresh = oci::Store::open(dir_ / "fresh");
  ASSERT_TRUE(fresh);
  auto loaded = layers::load_archive(*fresh, old_file_);
  ASSERT_TRUE(loaded) << loaded.error().what();
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].name, "localhost/save:ok");
  EXPECT_EQ(fs::status(old_file_).permissions(), fs::perms::owner_read | fs::perms::owner_write);
  ASSERT_TRUE(copy(store_open(), out_dir_ / "copied.tar"));
  EXPECT_TRUE(fs::exists(out_dir_ / "copied.tar"));
}

TEST_P(ArchiveSave, LayerThatCannotBeOpened) {
  auto open = [this](const Descriptor& d) -> Result<std::unique_ptr<Reader>> {
    if (d.digest == image_.manifest.layers()[1].digest)
      return fail("blob ", d.digest.str(), ": 404 BLOB_UNKNOWN");
    return store_->open_blob(d.digest, d.size);
  };
  expect_clean_failure(copy(open, old_file_), "404 BLOB_UNKNOWN");
  expect_no_end_blocks(
      [&](Writer& w) { return layers::save_archive_from(open, {image_}, GetParam(), w, out_dir_); },
      "404 BLOB_UNKNOWN");
}

TEST_P(ArchiveSave, LayerThatBreaksMidStream) {
  for (size_t limit : {size_t(0), size_t(1), size_t(5000), layers_[1].size() - 1}) {
    SCOPED_TRACE(limit);
    auto open = [&](const Descriptor& d) -> Result<std::unique_ptr<Reader>> {
      TRY_ASSIGN(auto r, store_->open_blob(d.digest, d.size));
      if (d.digest != image_.manifest.layers()[1].digest) return r;
      return std::unique_ptr<Reader>(new BreakingReader(std::move(r), limit));
    };
    expect_clean_failure(copy(open, old_file_), "connection reset by peer");
    expect_no_end_blocks(
        [&](Writer& w) {
          return layers::save_archive_from(open, {image_}, GetParam(), w, out_dir_);
        },
        "connection reset by peer");
  }
}

TEST_P(ArchiveSave, StoreBlobMissingOrCorrupt) {
  auto blob = store_->blob_path(image_.manifest.layers()[1].digest);
  std::string good = read_text(blob);
  std::string bad = good;
  bad[bad.size() / 2] ^= 1;
  fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
  write_text(blob, bad);
  expect_clean_failure(save(image_, old_file_),
                       std::string(image_.manifest.layers()[1].digest.hex()));
  fs::remove(blob);
  expect_clean_failure(save(image_, old_file_),
                       std::string(image_.manifest.layers()[1].digest.hex()));
}

// docker-archive carries uncompressed layers named by diff-id, so the config
// must name one per layer, each matching; oci-archive carries blobs as they are.
TEST_P(ArchiveSave, ConfigWhoseDiffIdsDoNotMatch) {
  if (GetParam() != ArchiveFormat::docker) GTEST_SKIP() << "oci-archive does not read diff-ids";
  auto fewer = make_image(1, "localhost/save:fewer");
  expect_clean_failure(save(fewer, old_file_), "2 layers but 1 diff-ids");
  expect_no_end_blocks(
      [&](Writer& w) { return layers::save_archive(*store_, {fewer}, GetParam(), w); },
      "2 layers but 1 diff-ids");
  std::string other = raw_tar({{.name = "other", .data = "x"}});
  auto wrong = make_image(layers_.size(), "localhost/save:wrong", &other);
  expect_clean_failure(save(wrong, old_file_), "does not match its diff-id");
}

// The sink refuses bytes at every point of the archive: each header, inside
// each entry, and at the end blocks.
TEST_P(ArchiveSave, SinkThatFailsAnywhere) {
  StringWriter whole;
  ASSERT_TRUE(layers::save_archive(*store_, {image_}, GetParam(), whole));
  size_t total = whole.str().size();
  ASSERT_GT(total, 4 * kBlock);
  std::vector<size_t> limits = {0, 1, kBlock - 1, total - 1};
  for (size_t at = kBlock; at < total; at += kBlock)
    limits.push_back(at);
  for (size_t limit : limits) {
    SCOPED_TRACE(limit);
    FailingWriter from_store(limit), from_registry(limit);
    auto st = layers::save_archive(*store_, {image_}, GetParam(), from_store);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().what(), "sink refused the write");
    EXPECT_EQ(from_store.got() % kBlock, 0u);
    st = layers::save_archive_from(store_open(), {image_}, GetParam(), from_registry, out_dir_);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().what(), "sink refused the write");
    expect_clean_failure(st, "sink refused the write");
  }
  FailingWriter enough(total);
  EXPECT_TRUE(layers::save_archive(*store_, {image_}, GetParam(), enough));
}

INSTANTIATE_TEST_SUITE_P(Formats, ArchiveSave,
                         ::testing::Values(ArchiveFormat::docker, ArchiveFormat::oci),
                         [](const auto& info) {
                           return info.param == ArchiveFormat::docker ? "docker" : "oci";
                         });

}  // namespace
}  // namespace kiln::test
