// The store: verified blob writes, named entries, locking under concurrency.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci/media_types.hpp"
#include "oci/store.hpp"
#include "oci/store_check.hpp"
#include "tests/support/tmp.hpp"

using namespace kiln;
using namespace kiln::oci;

namespace {

Descriptor put_image(Store& store, const std::string& layer_bytes,
                     const Platform& platform = Platform::host()) {
  auto layer = store.put_blob_bytes(layer_bytes);
  auto cfg = ImageConfig::create(platform, "2026-01-01T00:00:00Z");
  auto doc = cfg.json();
  doc["rootfs"]["diff_ids"].push_back(layer->digest.str());
  auto cfg2 = ImageConfig::from_json(doc);
  auto cfg_info = store.put_blob_bytes(cfg2->bytes());
  Descriptor c, l;
  c.media_type = media::kOciConfig;
  c.digest = cfg_info->digest;
  c.size = cfg_info->size;
  l.media_type = media::kOciLayer;
  l.digest = layer->digest;
  l.size = layer->size;
  auto m = Manifest::create(media::kOciManifest, c, {l});
  EXPECT_TRUE(store.put_blob_bytes(m.bytes()));
  return m.descriptor();
}

}  // namespace

TEST(Store, RefusesBlobWhoseContentDoesNotMatch) {
  test::Scratch dir;
  auto store = Store::open(dir / "s");
  ASSERT_TRUE(store);
  StringReader r("hello");
  auto wrong = Digest::of_bytes("other");
  auto res = store->put_blob(r, wrong);
  ASSERT_FALSE(res);
  EXPECT_NE(res.error().what().find(wrong.str()), std::string::npos);
  EXPECT_FALSE(store->has_blob(wrong));
  EXPECT_TRUE(std::filesystem::is_empty(dir / "s/blobs/sha256"));
  EXPECT_TRUE(std::filesystem::is_empty(dir / "s/kiln/tmp"));
}

TEST(Store, ReadingACorruptedBlobFails) {
  test::Scratch dir;
  auto store = Store::open(dir.path());
  auto info = store->put_blob_bytes("content");
  ASSERT_TRUE(info);
  test::write_text(store->blob_path(info->digest), "contenT");
  auto read = store->read_blob(info->digest);
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().what().find(info->digest.str()), std::string::npos);
  auto report = fsck(*store);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->problems.size(), 1u);
}

TEST(Store, RefusesADirectoryThatIsNotAStore) {
  test::Scratch dir;
  test::write_text(dir / "notes.txt", "x");
  EXPECT_FALSE(Store::open(dir.path()));
}

TEST(Store, NamesResolveByReferenceDigestAndPrefix) {
  test::Scratch dir;
  auto store = Store::open(dir.path());
  auto d = put_image(*store, "layer-1");
  ASSERT_TRUE(store->set_name("docker.io/library/app:1", d));
  EXPECT_EQ(store->resolve("app:1")->digest, d.digest);
  EXPECT_EQ(store->resolve(d.digest.str())->digest, d.digest);
  EXPECT_EQ(store->resolve(std::string(d.digest.hex().substr(0, 8)))->digest, d.digest);
  auto missing = store->resolve("app:2");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().what().find("docker.io/library/app:2 not found"), std::string::npos);
  auto img = store->load_image("app:1");
  ASSERT_TRUE(img) << img.error().what();
  EXPECT_EQ(img->config.diff_ids().size(), 1u);
}

// A layout written by another tool names its image "1" (skopeo's oci:DIR:1):
// found as "1" and as the normalized name `kiln images` shows.
TEST(Store, LooseNamesFromOtherToolsResolve) {
  test::Scratch dir;
  auto store = Store::open(dir.path());
  auto d = put_image(*store, "layer-2");
  ASSERT_TRUE(store->update_index([&](std::vector<Descriptor>& list) -> Status {
    Descriptor named = d;
    named.annotations[std::string(kRefNameAnnotation)] = "1";
    list.push_back(named);
    return {};
  }));
  for (std::string name : {"1", "1:latest", "docker.io/library/1:latest"}) {
    auto r = store->resolve(name);
    ASSERT_TRUE(r) << name << ": " << r.error().what();
    EXPECT_EQ(r->digest, d.digest);
  }
  EXPECT_FALSE(store->resolve("2"));
}

// An index picks the host's manifest unless a platform is named; a single
// image named with another platform is refused rather than passed off.
TEST(Store, PlatformPicksFromALocalIndex) {
  test::Scratch dir;
  auto store = Store::open(dir.path());
  auto arm = *Platform::parse("linux/arm/v7");
  auto other = Platform::host().architecture == "s390x" ? *Platform::parse("linux/ppc64le")
                                                        : *Platform::parse("linux/s390x");
  Descriptor a = put_image(*store, "arm layer", arm);
  Descriptor h = put_image(*store, "host layer");
  a.platform = arm;
  h.platform = Platform::host();
  auto index = Index::create(media::kOciIndex, {a, h});
  ASSERT_TRUE(store->put_blob_bytes(index.bytes()));
  ASSERT_TRUE(store->set_name("localhost/multi:1", index.descriptor()));
  ASSERT_TRUE(store->set_name("localhost/single:1", h));

  auto host = store->load_image("localhost/multi:1");
  ASSERT_TRUE(host) << host.error().what();
  EXPECT_EQ(host->manifest.descriptor().digest, h.digest);
  auto picked = store->load_image("localhost/multi:1", arm);
  ASSERT_TRUE(picked) << picked.error().what();
  EXPECT_EQ(picked->manifest.descriptor().digest, a.digest);
  EXPECT_EQ(picked->config.platform().str(), "linux/arm/v7");

  auto none = store->load_image("localhost/multi:1", other);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().what().find("has no manifest for " + other.str() +
                                     " (it has linux/arm/v7, " + Platform::host().str() + ")"),
            std::string::npos)
      << none.error().what();
  EXPECT_TRUE(store->load_image("localhost/single:1", Platform::host()));
  auto wrong = store->load_image("localhost/single:1", arm);
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().what().find("is " + Platform::host().str() + ", not linux/arm/v7"),
            std::string::npos)
      << wrong.error().what();
}

TEST(Store, RemovingAnImageKeepsSharedBlobs) {
  test::Scratch dir;
  auto store = Store::open(dir.path());
  auto a = put_image(*store, "shared");
  ASSERT_TRUE(store->set_name("localhost/a:1", a));
  ASSERT_TRUE(store->set_name("localhost/b:1", a));
  auto report = remove_images(*store, {"localhost/a:1"});
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->blobs_removed.empty());
  EXPECT_TRUE(store->load_image("localhost/b:1"));
  EXPECT_FALSE(remove_images(*store, {"localhost/nope:1"}));
  report = remove_images(*store, {"localhost/b:1"});
  EXPECT_EQ(report->blobs_removed.size(), 3u);
  EXPECT_TRUE(fsck(*store)->problems.empty());
}

TEST(Store, ConcurrentNamingLosesNothing) {
  test::Scratch dir;
  ASSERT_TRUE(Store::open(dir.path()));
  constexpr int kProcs = 4, kEach = 25;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = ::fork();
    if (pid == 0) {
      auto store = Store::open(dir.path());
      auto d = put_image(*store, "layer-" + std::to_string(p));
      for (int i = 0; i < kEach; ++i)
        if (!store->set_name("localhost/p" + std::to_string(p) + ":" + std::to_string(i), d))
          ::_exit(1);
      ::_exit(0);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto store = Store::open(dir.path());
  EXPECT_EQ(store->entries()->size(), static_cast<size_t>(kProcs * kEach));
  EXPECT_TRUE(fsck(*store)->problems.empty());
}
