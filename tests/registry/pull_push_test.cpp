// Pull and push against a real docker-registry over plain HTTP, including
// the interop checks with skopeo.
#include <gtest/gtest.h>

#include <algorithm>

#include "oci/media_types.hpp"
#include "oci/store_check.hpp"
#include "registry/transfer.hpp"
#include "tests/registry/test_util.hpp"
#include "tests/support/fault_proxy.hpp"

namespace kiln::test {
namespace {

using registry::remote_for;

// kiln rmi and prune while a push is sending the image: the push's lease keeps
// every blob it has still to send, and the prune after the push takes them.
TEST(RegistryPlain, RmiAndPruneDuringAPushTakeNothingItSends) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg;
  Scratch s;
  auto store = oci::Store::open(s / "a");
  ASSERT_TRUE(store);
  auto img = make_image(*store, "example.com/src:1", {1000, 300000, 5 << 20});
  auto remote = remote_for(reg.host(), "team/app", fast_options());
  registry::TransferOptions opts;
  opts.jobs = 1;  // one blob at a time: the rest are still to be read
  bool pruned = false;
  opts.progress = [&](const std::string& line) {
    if (pruned || !line.starts_with("Copied blob")) return;
    pruned = true;
    auto rmi = oci::remove_images(*store, {"example.com/src:1"});
    EXPECT_TRUE(rmi) << rmi.error().what();
    auto pr = oci::prune(*store);
    EXPECT_TRUE(pr) << pr.error().what();
  };
  auto pushed = registry::push_image(*store, img.top, remote, "v1", opts);
  ASSERT_TRUE(pushed) << pushed.error().what();
  EXPECT_TRUE(pruned);
  EXPECT_EQ(pushed->blobs_moved, 4);
  auto gone = oci::prune(*store);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->blobs_removed.size(), img.blobs.size() + 1);  // and the manifest
}

TEST(RegistryPlain, PushThenPullRoundTrip) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg;
  Scratch s;
  auto store = oci::Store::open(s / "a");
  ASSERT_TRUE(store);
  auto img = make_image(*store, "example.com/src:1", {1000, 300000, 5 << 20});
  auto remote = remote_for(reg.host(), "team/app", fast_options());
  registry::TransferOptions opts;
  auto pushed = registry::push_image(*store, img.top, remote, "v1", opts);
  ASSERT_TRUE(pushed) << pushed.error().what();
  EXPECT_EQ(pushed->blobs_moved, 4);

  // A second push finds every blob there already.
  auto again = registry::push_image(*store, img.top, remote, "v1", opts);
  ASSERT_TRUE(again) << again.error().what();
  EXPECT_EQ(again->blobs_moved, 0);
  EXPECT_EQ(again->blobs_skipped, 4);

  auto other = oci::Store::open(s / "b");
  ASSERT_TRUE(other);
  auto pulled = registry::pull_image(remote, "v1", *other, opts);
  ASSERT_TRUE(pulled) << pulled.error().what();
  EXPECT_EQ(pulled->target.digest, img.top.digest);
  for (auto& b : img.blobs) {
    auto r = other->read_blob(b.digest, 64 << 20);
    EXPECT_TRUE(r) << b.digest.str();
  }
  // Pulling again fetches nothing.
  auto again_pull = registry::pull_image(remote, "v1", *other, opts);
  ASSERT_TRUE(again_pull);
  EXPECT_EQ(again_pull->blobs_moved, 0);
}

// An image the registry already has costs one HEAD of its manifest, not one
// per blob: a push or copy of it again moves nothing and asks about no blob.
TEST(RegistryPlain, ImageAlreadyThereIsOneRequest) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg;
  FaultProxy counter(reg.port());
  Scratch s;
  auto store = oci::Store::open(s / "a");
  ASSERT_TRUE(store);
  auto img = make_image(*store, "example.com/src:1", {1000, 300000, 70000}, 7);
  auto remote = remote_for(counter.host(), "team/app", fast_options());
  ASSERT_TRUE(registry::push_image(*store, img.top, remote, "v1", {}));

  auto blob_requests = [&](size_t mark) {
    auto log = counter.requests();
    return std::count_if(log.begin() + static_cast<std::ptrdiff_t>(mark), log.end(),
                         [](const std::string& r) { return r.find("/blobs/") != r.npos; });
  };
  // The same push again: one HEAD of the tag.
  size_t mark = counter.requests().size();
  auto again = registry::push_image(*store, img.top, remote, "v1", {});
  ASSERT_TRUE(again) << again.error().what();
  EXPECT_EQ(again->blobs_moved, 0);
  EXPECT_EQ(again->blobs_skipped, 4);
  EXPECT_EQ(counter.requests().size() - mark, 1u) << ::testing::PrintToString(counter.requests());

  // Under a new tag: HEAD the tag, HEAD the digest, PUT the tag.
  mark = counter.requests().size();
  again = registry::push_image(*store, img.top, remote, "v2", {});
  ASSERT_TRUE(again) << again.error().what();
  EXPECT_EQ(again->blobs_moved, 0);
  EXPECT_EQ(blob_requests(mark), 0) << ::testing::PrintToString(counter.requests());
  EXPECT_EQ(counter.requests().size() - mark, 3u) << ::testing::PrintToString(counter.requests());
  auto tagged = remote.head_manifest("v2");
  ASSERT_TRUE(tagged && *tagged);
  EXPECT_EQ((*tagged)->digest, img.top.digest);

  // By digest only: nothing to write at all.
  mark = counter.requests().size();
  ASSERT_TRUE(registry::push_image(*store, img.top, remote, "", {}));
  EXPECT_EQ(counter.requests().size() - mark, 1u) << ::testing::PrintToString(counter.requests());

  // copy onto itself under another tag: the same single check.
  mark = counter.requests().size();
  auto copied = registry::copy_image(remote, "v1", remote, "v3", {});
  ASSERT_TRUE(copied) << copied.error().what();
  EXPECT_EQ(blob_requests(mark), 0) << ::testing::PrintToString(counter.requests());
  EXPECT_EQ(copied->blobs_moved, 0);

  // A registry that lost the manifest gets the blobs HEAD-checked again.
  auto gone = remote.head_manifest(img.top.digest.str());
  ASSERT_TRUE(gone && *gone);
  ASSERT_TRUE(remote.delete_manifest(img.top.digest));
  mark = counter.requests().size();
  auto refill = registry::push_image(*store, img.top, remote, "v1", {});
  ASSERT_TRUE(refill) << refill.error().what();
  EXPECT_EQ(refill->blobs_skipped, 4);
  EXPECT_EQ(blob_requests(mark), 4);
}

TEST(RegistryPlain, ChunkedUploadAndTagsPagination) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg;
  Scratch s;
  auto store = oci::Store::open(s / "a");
  ASSERT_TRUE(store);
  auto img = make_image(*store, "example.com/src:1", {3 << 20}, 7);
  auto remote = remote_for(reg.host(), "chunky", fast_options());
  registry::TransferOptions opts;
  opts.upload.monolithic_max = 1 << 20;
  opts.upload.chunk_size = 1 << 20;
  for (std::string tag : {"a", "b", "c", "d", "e"}) {
    auto pushed = registry::push_image(*store, img.top, remote, tag, opts);
    ASSERT_TRUE(pushed) << pushed.error().what();
  }
  auto tags = remote.tags(2);
  ASSERT_TRUE(tags) << tags.error().what();
  std::sort(tags->begin(), tags->end());  // docker-registry 2.8 does not sort them
  EXPECT_EQ(*tags, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  auto c = registry::catalog(remote.client(), 1);
  ASSERT_TRUE(c) << c.error().what();
  EXPECT_EQ(*c, std::vector<std::string>{"chunky"});
}

TEST(RegistryPlain, ErrorsNameRegistryRepositoryAndObject) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg;
  auto remote = remote_for(reg.host(), "nothing/here", fast_options());
  auto m = remote.get_manifest("latest");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().http_status, 404);
  EXPECT_EQ(m.error().code, "MANIFEST_UNKNOWN");
  EXPECT_NE(m.error().what().find(reg.host() + "/nothing/here: manifest latest"), std::string::npos)
      << m.error().what();
}

// A pull stores only what every other command reads back from the store: a
// config larger than oci::kMaxConfigSize is refused before a byte of it (or of
// a layer) is fetched, one that is not an image config before it is stored.
// Either way the store names nothing and fsck finds it clean.
TEST(RegistryPlain, PullRefusesConfigsOtherCommandsCannotRead) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg;
  FaultProxy proxy(reg.port());  // only to see what the pulls ask for
  Scratch s;
  auto src = oci::Store::open(s / "src");
  ASSERT_TRUE(src);
  auto direct = remote_for(reg.host(), "c/app", fast_options());
  auto via = remote_for(proxy.host(), "c/app", fast_options());
  struct Case {
    std::string tag, config, expect;
  };
  std::vector<Case> cases = {
      {"big",
       R"({"architecture":"amd64","os":"linux","pad":")" + std::string(oci::kMaxConfigSize, 'x') +
           R"("})",
       "larger than the limit of " + std::to_string(oci::kMaxConfigSize) + " bytes"},
      {"text", "not JSON at all", "not a JSON object"},
      {"array", "[1, 2, 3]", "not a JSON object"},
  };
  uint32_t seed = 70;
  for (auto& c : cases) {
    SCOPED_TRACE(c.tag);
    auto img = make_image_with_config(*src, c.config, 2000, ++seed);
    const oci::Descriptor &cfg = img.blobs[0], &layer = img.blobs[1];
    auto pushed = registry::push_image(*src, img.top, direct, c.tag, {});
    ASSERT_TRUE(pushed) << pushed.error().what();

    auto dst = oci::Store::open(s / ("dst-" + c.tag));
    ASSERT_TRUE(dst);
    auto pulled = registry::pull_image(via, c.tag, *dst, {});
    ASSERT_FALSE(pulled);
    std::string what = pulled.error().what();
    EXPECT_NE(what.find(proxy.host() + "/c/app: config " + cfg.digest.str()), std::string::npos)
        << what;
    EXPECT_NE(what.find(c.expect), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_FALSE(dst->has_blob(cfg.digest));
    EXPECT_FALSE(dst->has_blob(img.top.digest));
    auto names = dst->entries();
    ASSERT_TRUE(names) << names.error().what();
    EXPECT_TRUE(names->empty());
    auto report = oci::fsck(*dst);
    ASSERT_TRUE(report) << report.error().what();
    EXPECT_TRUE(report->problems.empty()) << ::testing::PrintToString(report->problems);
    if (c.tag == "big") {
      EXPECT_FALSE(dst->has_blob(layer.digest));
      for (auto& r : proxy.requests())
        EXPECT_EQ(r.find(cfg.digest.str()), std::string::npos) << "fetched: " << r;
    }
  }
}

}  // namespace
}  // namespace kiln::test

namespace kiln::test {
namespace {

TEST(RegistryPlain, IndexWithPlatformsPushPullAndCopy) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg;
  Scratch s;
  auto store = oci::Store::open(s / "a");
  ASSERT_TRUE(store);
  auto host = make_image(*store, "example.com/x:host", {1000}, 51);
  auto arm = make_image(*store, "example.com/x:arm", {2000}, 52);
  std::vector<oci::Descriptor> children = {arm.top, host.top};
  children[0].platform = *oci::Platform::parse("linux/arm/v7");
  children[1].platform = oci::Platform::host();
  if (oci::Platform::host().architecture == "arm")
    children[0].platform = *oci::Platform::parse("linux/s390x");
  auto index = oci::Index::create(oci::media::kOciIndex, children);
  ASSERT_TRUE(store->put_blob_bytes(index.bytes()));
  auto remote = registry::remote_for(reg.host(), "multi", fast_options());
  auto pushed = registry::push_image(*store, index.descriptor(), remote, "v1", {});
  ASSERT_TRUE(pushed) << pushed.error().what();

  // Default: the host's manifest only, named with its platform.
  auto b = oci::Store::open(s / "b");
  auto one = registry::pull_image(remote, "v1", *b, {});
  ASSERT_TRUE(one) << one.error().what();
  EXPECT_EQ(one->target.digest, host.top.digest);
  ASSERT_TRUE(one->target.platform);
  EXPECT_FALSE(b->has_blob(arm.blobs.back().digest));
  // A named platform, and the whole index.
  registry::TransferOptions arm_only;
  arm_only.platforms.platform = children[0].platform;
  auto other = registry::pull_image(remote, "v1", *b, arm_only);
  ASSERT_TRUE(other) << other.error().what();
  EXPECT_EQ(other->target.digest, arm.top.digest);
  registry::TransferOptions all;
  all.platforms.all = true;
  auto c = oci::Store::open(s / "c");
  auto whole = registry::pull_image(remote, "v1", *c, all);
  ASSERT_TRUE(whole) << whole.error().what();
  EXPECT_EQ(whole->target.digest, index.digest());
  EXPECT_TRUE(c->has_blob(arm.blobs.back().digest) && c->has_blob(host.blobs.back().digest));
  // Unknown platform: a clear error listing what there is.
  registry::TransferOptions none;
  none.platforms.platform = *oci::Platform::parse("windows/amd64");
  auto missing = registry::pull_image(remote, "v1", *c, none);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().what().find("no image for platform windows/amd64"), std::string::npos)
      << missing.error().what();
  // Registry to registry with every platform: the index digest is kept.
  auto dst = registry::Remote(remote.client_ptr(), "multi-copy");
  auto copied = registry::copy_image(remote, "v1", dst, "v1", all);
  ASSERT_TRUE(copied) << copied.error().what();
  auto head = dst.head_manifest("v1");
  ASSERT_TRUE(head && *head);
  EXPECT_EQ((*head)->digest, index.digest());
}

}  // namespace
}  // namespace kiln::test
