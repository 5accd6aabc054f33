// Retries, resume and timeouts through the fault proxy in front of a real
// docker-registry.
#include <gtest/gtest.h>

// Designated initializers name only the fields a case cares about.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <cerrno>
#include <chrono>

#include "registry/transfer.hpp"
#include "tests/registry/test_util.hpp"
#include "tests/support/fault_proxy.hpp"

namespace kiln::test {
namespace {

using registry::remote_for;
using Clock = std::chrono::steady_clock;

struct FaultSetup {
  RegistryServer reg;
  FaultProxy proxy{reg.port()};
  Scratch s;
  oci::Store store = *oci::Store::open(s / "src");
  MadeImage img = make_image(store, "example.com/f:1", {1500, 1 << 20}, 11);
  registry::Remote direct = remote_for(reg.host(), "f/app", fast_options());
  registry::Remote via = remote_for(proxy.host(), "f/app", fast_options());
  FaultSetup() { EXPECT_TRUE(registry::push_image(store, img.top, direct, "v1", {})); }
  std::string layer() const { return img.blobs.back().digest.str(); }
};

bool any_contains(const std::vector<std::string>& v, const std::string& needle) {
  for (auto& s : v)
    if (s.find(needle) != std::string::npos) return true;
  return false;
}

TEST(RegistryFaults, DroppedBlobDownloadIsResumedWithRange) {
  KILN_REQUIRE_PEER("docker-registry");
  FaultSetup t;
  t.proxy.add({.kind = FaultRule::drop,
               .method = "GET",
               .target_contains = t.layer(),
               .after_bytes = 300000});
  Scratch s;
  auto dst = oci::Store::open(s / "dst");
  auto pulled = registry::pull_image(t.via, "v1", *dst, {});
  ASSERT_TRUE(pulled) << pulled.error().what();
  EXPECT_EQ(t.proxy.faults_fired(), 1);
  EXPECT_TRUE(any_contains(t.proxy.requests(), "bytes=300000-"))
      << ::testing::PrintToString(t.proxy.requests());
  EXPECT_TRUE(dst->read_blob(t.img.blobs.back().digest, 8 << 20));
}

TEST(RegistryFaults, ServerErrorsAndTooManyRequestsAreRetried) {
  KILN_REQUIRE_PEER("docker-registry");
  FaultSetup t;
  t.proxy.add({.kind = FaultRule::status,
               .method = "GET",
               .target_contains = "/manifests/",
               .times = 2,
               .code = 500});
  t.proxy.add({.kind = FaultRule::status,
               .method = "GET",
               .target_contains = t.layer(),
               .code = 429,
               .retry_after = 1});
  Scratch s;
  auto dst = oci::Store::open(s / "dst");
  auto start = Clock::now();
  auto pulled = registry::pull_image(t.via, "v1", *dst, {});
  ASSERT_TRUE(pulled) << pulled.error().what();
  EXPECT_EQ(t.proxy.faults_fired(), 3);
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(950));  // Retry-After honoured
}

TEST(RegistryFaults, PersistentErrorsGiveUpWithStatusAndCode) {
  KILN_REQUIRE_PEER("docker-registry");
  FaultSetup t;
  t.proxy.add(
      {.kind = FaultRule::status, .target_contains = "/manifests/", .times = -1, .code = 503});
  auto m = t.via.get_manifest("v1");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().http_status, 503);
  EXPECT_EQ(m.error().code, "UNKNOWN");
  EXPECT_EQ(t.proxy.faults_fired(), fast_options().retry.max_attempts);
}

TEST(RegistryFaults, StalledTransferTimesOut) {
  KILN_REQUIRE_PEER("docker-registry");
  FaultSetup t;
  t.proxy.add({.kind = FaultRule::stall,
               .method = "GET",
               .target_contains = t.layer(),
               .times = -1,
               .stall_for = std::chrono::milliseconds(8000)});
  auto o = fast_options();
  o.retry.max_attempts = 2;
  o.stall_timeout = std::chrono::milliseconds(1000);
  auto via = remote_for(t.proxy.host(), "f/app", o);
  Scratch s;
  auto dst = oci::Store::open(s / "dst");
  auto start = Clock::now();
  auto pulled = registry::pull_image(via, "v1", *dst, {});
  ASSERT_FALSE(pulled);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(7));
  EXPECT_NE(pulled.error().what().find("stalled"), std::string::npos) << pulled.error().what();
  EXPECT_NE(pulled.error().what().find(t.layer()), std::string::npos) << pulled.error().what();
  EXPECT_FALSE(dst->has_blob(t.img.blobs.back().digest));
}

// A document (here a manifest) trickled at 20 bytes/s, well above the stall
// timeout's 1 byte/s, ends at its deadline with one line naming the URL and
// the deadline. Before the deadline existed it took half a minute, and a
// slower trickle could hold kiln for as long as the registry liked.
TEST(RegistryFaults, ManifestTrickledPastItsDeadlineFails) {
  KILN_REQUIRE_PEER("docker-registry");
  FaultSetup t;
  t.proxy.add({.kind = FaultRule::trickle,
               .method = "GET",
               .target_contains = "/manifests/",
               .times = -1,
               .trickle_bytes = 2,
               .trickle_every = std::chrono::milliseconds(100)});
  auto o = fast_options();
  o.document_deadline = std::chrono::milliseconds(1500);
  auto via = remote_for(t.proxy.host(), "f/app", o);
  auto start = Clock::now();
  auto m = via.get_manifest("v1");
  ASSERT_FALSE(m);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  std::string what = m.error().what();
  EXPECT_NE(what.find(t.proxy.host() + "/v2/f/app/manifests/v1"), std::string::npos) << what;
  EXPECT_NE(what.find("1.5s, the deadline for a document"), std::string::npos) << what;
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  EXPECT_EQ(m.error().sys_errno, ETIMEDOUT);
}

// A blob trickled below the minimum rate fails (each resumed attempt too),
// and nothing of it is stored. Trickled at 200 bytes/s this 1500-byte layer
// took 7.5 s, and a larger one at that rate would take days.
TEST(RegistryFaults, BlobTrickledBelowTheMinimumRateFails) {
  KILN_REQUIRE_PEER("docker-registry");
  FaultSetup t;
  const oci::Descriptor& small = t.img.blobs[1];
  ASSERT_EQ(small.size, 1500);
  t.proxy.add({.kind = FaultRule::trickle,
               .method = "GET",
               .target_contains = small.digest.str(),
               .times = -1,
               .trickle_bytes = 20,
               .trickle_every = std::chrono::milliseconds(100)});
  auto o = fast_options();
  o.retry.max_attempts = 2;
  o.blob_min_rate = 1024;
  o.blob_rate_window = std::chrono::milliseconds(1000);
  auto via = remote_for(t.proxy.host(), "f/app", o);
  Scratch s;
  auto dst = oci::Store::open(s / "dst");
  auto start = Clock::now();
  auto pulled = registry::pull_image(via, "v1", *dst, {});
  ASSERT_FALSE(pulled);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  std::string what = pulled.error().what();
  EXPECT_NE(what.find(small.digest.str()), std::string::npos) << what;
  EXPECT_NE(what.find("below the minimum of 1024 bytes/s for a blob"), std::string::npos) << what;
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  EXPECT_EQ(pulled.error().sys_errno, ETIMEDOUT);
  EXPECT_FALSE(dst->has_blob(small.digest));
}

// The limits leave a working registry alone: a blob slower than a document's
// deadline but above the minimum rate arrives, and so does everything else.
TEST(RegistryFaults, SteadyTransfersOutliveTheDocumentDeadline) {
  KILN_REQUIRE_PEER("docker-registry");
  FaultSetup t;
  const oci::Descriptor& small = t.img.blobs[1];
  t.proxy.add({.kind = FaultRule::trickle,
               .method = "GET",
               .target_contains = small.digest.str(),
               .trickle_bytes = 60,
               .trickle_every = std::chrono::milliseconds(100)});
  auto o = fast_options();
  o.retry.max_attempts = 1;
  o.document_deadline = std::chrono::milliseconds(1000);
  o.blob_min_rate = 256;
  o.blob_rate_window = std::chrono::milliseconds(1000);
  auto via = remote_for(t.proxy.host(), "f/app", o);
  Scratch s;
  auto dst = oci::Store::open(s / "dst");
  auto start = Clock::now();
  auto pulled = registry::pull_image(via, "v1", *dst, {});
  ASSERT_TRUE(pulled) << pulled.error().what();
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(2000));  // the trickle was slow
  EXPECT_EQ(t.proxy.faults_fired(), 1);
  for (auto& b : t.img.blobs)
    EXPECT_TRUE(dst->read_blob(b.digest, 8 << 20)) << b.digest.str();
}

TEST(RegistryFaults, ChunkedUploadResumesAfterAFailedChunk) {
  KILN_REQUIRE_PEER("docker-registry");
  FaultSetup t;
  auto big = make_image(t.store, "example.com/f:2", {3 << 20}, 12);
  t.proxy.add({.kind = FaultRule::status, .method = "PATCH", .skip = 1, .code = 500});
  registry::TransferOptions opts;
  opts.upload.monolithic_max = 1 << 20;
  opts.upload.chunk_size = 1 << 20;
  auto pushed = registry::push_image(t.store, big.top, t.via, "v2", opts);
  ASSERT_TRUE(pushed) << pushed.error().what();
  EXPECT_EQ(t.proxy.faults_fired(), 1);
  // The upload status was asked for and the upload went on from there.
  EXPECT_TRUE(any_contains(t.proxy.requests(), "GET /v2/f/app/blobs/uploads/"))
      << ::testing::PrintToString(t.proxy.requests());
  Scratch s;
  auto dst = oci::Store::open(s / "dst");
  ASSERT_TRUE(registry::pull_image(t.direct, "v2", *dst, {}));
  EXPECT_TRUE(dst->read_blob(big.blobs.back().digest, 8 << 20));
}

TEST(RegistryFaults, WrongBytesAreCaughtAndNothingIsStored) {
  KILN_REQUIRE_PEER("docker-registry");
  FaultSetup t;
  // Serve the config's bytes under the layer's digest, through a redirect.
  FaultProxy other(t.reg.port());
  std::string config_path = "/v2/f/app/blobs/" + t.img.blobs.front().digest.str();
  t.proxy.add({.kind = FaultRule::redirect,
               .method = "GET",
               .target_contains = t.layer(),
               .redirect_to = "http://" + other.host() + config_path + "?"});
  Scratch s;
  auto dst = oci::Store::open(s / "dst");
  auto pulled = registry::pull_image(t.via, "v1", *dst, {});
  ASSERT_FALSE(pulled);
  EXPECT_NE(pulled.error().what().find(t.layer()), std::string::npos) << pulled.error().what();
  EXPECT_FALSE(dst->has_blob(t.img.blobs.back().digest));
}

TEST(RegistryFaults, RedirectsDropCredentialsOffOrigin) {
  KILN_REQUIRE_PEER("docker-registry");
  KILN_REQUIRE_PEER("htpasswd");
  RegistryServer reg({.user = "u", .password = "pw-secret"});
  FaultProxy front(reg.port()), storage(reg.port());
  storage.inject_header(
      "Authorization: Basic dTpwdy1zZWNyZXQ=");  // u:pw-secret, added by "storage"
  Scratch s;
  auto store = oci::Store::open(s / "src");
  auto img = make_image(*store, "example.com/r:1", {5000}, 13);
  Scratch conf;
  ASSERT_TRUE(
      registry::store_credentials(conf / "auth.json", front.host(), {"u", "pw-secret", ""}));
  registry::KeychainPaths kp;
  kp.authfile = (conf / "auth.json").string();
  auto o = fast_options();
  o.keychain = std::make_shared<registry::FileKeychain>(kp);
  auto remote = remote_for(front.host(), "r/app", o);
  ASSERT_TRUE(registry::push_image(*store, img.top, remote, "v1", {}));
  front.add({.kind = FaultRule::redirect,
             .method = "GET",
             .target_contains = "/blobs/sha256:",
             .times = -1,
             .redirect_to = "http://" + storage.host()});
  auto dst = oci::Store::open(s / "dst");
  auto pulled = registry::pull_image(remote, "v1", *dst, {});
  ASSERT_TRUE(pulled) << pulled.error().what();
  auto seen = storage.requests();
  ASSERT_FALSE(seen.empty());
  for (auto& r : seen)
    EXPECT_EQ(r.find(" auth"), std::string::npos) << "credentials leaked: " << r;
  EXPECT_TRUE(any_contains(front.requests(), " auth"));
}

}  // namespace
}  // namespace kiln::test
