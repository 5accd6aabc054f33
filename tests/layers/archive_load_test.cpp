// kiln load on hostile image archives, hand-built: each is refused with one
// line, or loaded doing bounded work, and a refused load adds nothing.
#include <gtest/gtest.h>

#include <chrono>

#include "layers/image_archive.hpp"
#include "oci/config.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "tests/layers/raw_tar.hpp"
#include "tests/support/tmp.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using oci::Descriptor;

Descriptor describe(std::string_view media_type, const std::string& bytes) {
  Descriptor d;
  d.media_type = std::string(media_type);
  d.digest = oci::Digest::of_bytes(bytes);
  d.size = static_cast<int64_t>(bytes.size());
  return d;
}

RawEntry blob(const std::string& bytes) {
  return {.name = "blobs/sha256/" + std::string(oci::Digest::of_bytes(bytes).hex()), .data = bytes};
}

// An OCI layout archive: oci-layout, the blobs, and index.json naming `top`.
std::string oci_archive(std::vector<RawEntry> blobs, Descriptor top) {
  top.annotations[std::string(oci::kRefNameAnnotation)] = "localhost/hostile:1";
  std::vector<RawEntry> entries = {
      {.name = "oci-layout", .data = R"({"imageLayoutVersion":"1.0.0"})"}};
  for (auto& b : blobs)
    entries.push_back(std::move(b));
  entries.push_back(
      {.name = "index.json", .data = oci::Index::create(oci::media::kOciIndex, {top}).bytes()});
  return raw_tar(entries);
}

class ArchiveLoad : public ::testing::Test {
 protected:
  Result<std::vector<layers::LoadedImage>> load(const std::string& tar) {
    write_text(dir_ / "in.tar", tar);
    return layers::load_archive(*store_, dir_ / "in.tar");
  }
  size_t blob_count() {
    size_t n = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator(dir_ / "store/blobs/sha256"))
      ++n;
    return n;
  }
  Scratch dir_;
  Result<oci::Store> store_ = oci::Store::open(dir_ / "store");
  std::string layer_ = raw_tar({{.name = "hello", .data = "hello\n"}});
  std::string config_ = [this] {
    auto doc = oci::ImageConfig::create(oci::Platform::host(), "2026-01-01T00:00:00Z").json();
    doc["rootfs"]["diff_ids"].push_back(oci::Digest::of_bytes(layer_).str());
    return oci::ImageConfig::from_json(doc)->bytes();
  }();
  oci::Manifest manifest_ =
      oci::Manifest::create(oci::media::kOciManifest, describe(oci::media::kOciConfig, config_),
                            {describe(oci::media::kOciLayer, layer_)});
};

// Five levels of indexes, each naming the next 50 times: 50^5 paths to the one
// manifest, which must cost one visit per blob, not one per path.
TEST_F(ArchiveLoad, IndexFanOutCostsOneVisitPerBlob) {
  std::vector<RawEntry> blobs = {blob(layer_), blob(config_), blob(manifest_.bytes())};
  Descriptor next = manifest_.descriptor();
  next.platform = oci::Platform::host();
  for (int level = 0; level < 5; ++level) {
    auto ix = oci::Index::create(oci::media::kOciIndex, std::vector<Descriptor>(50, next));
    blobs.push_back(blob(ix.bytes()));
    next = ix.descriptor();
  }
  auto start = std::chrono::steady_clock::now();
  auto loaded = load(oci_archive(blobs, next));
  ASSERT_TRUE(loaded) << loaded.error().what();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_EQ(blob_count(), 8u);
}

// A blob named twice is read once, but every descriptor naming it is checked.
TEST_F(ArchiveLoad, SecondDescriptorOfABlobIsStillChecked) {
  Descriptor wrong = describe(oci::media::kOciLayer, layer_);
  wrong.size += 1;
  auto other = oci::Manifest::create(oci::media::kOciManifest,
                                     describe(oci::media::kOciConfig, config_), {wrong});
  auto ix = oci::Index::create(oci::media::kOciIndex, {manifest_.descriptor(), other.descriptor()});
  auto loaded = load(oci_archive(
      {blob(layer_), blob(config_), blob(manifest_.bytes()), blob(other.bytes()), blob(ix.bytes())},
      ix.descriptor()));
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().what().find("the descriptor says " + std::to_string(wrong.size)),
            std::string::npos)
      << loaded.error().what();
  EXPECT_EQ(blob_count(), 0u);
}

TEST_F(ArchiveLoad, RefusesAnIndexEntryThatIsNoImage) {
  auto loaded = load(oci_archive({blob(config_)}, describe(oci::media::kOciConfig, config_)));
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().what().find("index.json names a \"" +
                                       std::string(oci::media::kOciConfig) + "\", not an image"),
            std::string::npos)
      << loaded.error().what();
  EXPECT_EQ(blob_count(), 0u);
}

TEST_F(ArchiveLoad, RefusesOverlongNamesAndSparseFiles) {
  auto long_name = load(raw_tar({{.name = std::string(5000, 'n'), .data = "x"}}));
  ASSERT_FALSE(long_name);
  EXPECT_NE(long_name.error().what().find("entry name longer than"), std::string::npos)
      << long_name.error().what();

  // A GNU sparse file (PAX 0.0 form): 1 TB of holes around 5 bytes.
  auto sparse = load(raw_tar({{.name = "holes",
                               .data = "hello",
                               .pax = {{"GNU.sparse.size", "1000000000000"},
                                       {"GNU.sparse.numblocks", "1"},
                                       {"GNU.sparse.offset", "999999999995"},
                                       {"GNU.sparse.numbytes", "5"}}}}));
  ASSERT_FALSE(sparse);
  EXPECT_NE(sparse.error().what().find("sparse file"), std::string::npos) << sparse.error().what();
  EXPECT_EQ(blob_count(), 0u);
}

// docker-archive naming one layer file many times hashes it once.
TEST_F(ArchiveLoad, DockerLayerNamedManyTimesLoads) {
  auto doc = oci::ImageConfig::parse(config_)->json();
  for (int i = 0; i < 199; ++i)
    doc["rootfs"]["diff_ids"].push_back(oci::Digest::of_bytes(layer_).str());
  std::string config = oci::ImageConfig::from_json(doc)->bytes();
  nlohmann::json manifest =
      nlohmann::json::array({{{"Config", "config.json"},
                              {"RepoTags", {"localhost/many:1"}},
                              {"Layers", std::vector<std::string>(200, "layer.tar")}}});
  auto loaded = load(raw_tar({{.name = "config.json", .data = config},
                              {.name = "layer.tar", .data = layer_},
                              {.name = "manifest.json", .data = manifest.dump()}}));
  ASSERT_TRUE(loaded) << loaded.error().what();
  EXPECT_EQ(blob_count(), 3u);
}

}  // namespace
}  // namespace kiln::test
