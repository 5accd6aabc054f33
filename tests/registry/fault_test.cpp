// Retries, resume and timeouts through the fault proxy in front of a real
// docker-registry.
#include <gtest/gtest.h>

// Designated initializers name only the fields a case cares about.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

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
