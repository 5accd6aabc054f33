// The race a new user hits: `kiln prune` in a loop while `kiln pull` of a
// 64 MiB image is in flight (and an unpack runs). Without leases a prune
// deleted the big layer the pull had stored but not yet named: the pull still
// exited 0 and fsck then found the blob missing. The small layer is trickled
// through a fault proxy, so the big one sits stored and unnamed for seconds
// while prunes run: the window is there on every run, not by luck.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "oci/store.hpp"
#include "tests/registry/test_util.hpp"
#include "tests/support/fault_proxy.hpp"
#include "tests/support/registry_server.hpp"

namespace fs = std::filesystem;
using namespace kiln;
using namespace kiln::test;

class LeaseRace : public KilnCli {};

TEST_F(LeaseRace, PruneLoopDuringPullAndUnpackLosesNothing) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg;
  FaultProxy proxy(reg.port());
  const fs::path src_root = s / "src";
  MadeImage big;
  {
    auto src = oci::Store::open(src_root);
    ASSERT_TRUE(src.has_value());
    big = make_image(*src, "localhost/race/big:1", {64 << 20, 256 << 10});
  }
  auto pushed =
      kiln_in(src_root, {"push", "-q", "localhost/race/big:1", reg.host() + "/race/big:v1"});
  ASSERT_EQ(pushed.status, 0) << pushed.err;
  // The small layer takes over three seconds; the big one arrives at once.
  FaultRule slow;
  slow.kind = FaultRule::trickle;
  slow.method = "GET";
  slow.target_contains = std::string(big.blobs[2].digest.hex());
  slow.trickle_bytes = 8 << 10;
  slow.trickle_every = std::chrono::milliseconds(100);
  proxy.add(slow);

  // An image to unpack while the prunes run: a real rootfs.
  fs::create_directories(s / "rootfs/etc");
  write_text(s / "rootfs/etc/hello", random_bytes(4 << 20, 7));
  auto imported = kiln({"import", (s / "rootfs").string(), "-t", "localhost/race/small:1"});
  ASSERT_EQ(imported.status, 0) << imported.err;

  std::atomic<bool> done{false};
  std::atomic<int> prunes{0}, prune_failures{0};
  std::string prune_error;
  std::thread pruner([&] {
    while (!done) {
      auto r = kiln({"prune"});
      ++prunes;
      if (r.status != 0 && prune_failures++ == 0) prune_error = r.err;
    }
  });
  std::thread unpacker([&] {
    for (int i = 0; i < 3; ++i) {
      auto r =
          kiln({"unpack", "localhost/race/small:1", (s / ("out" + std::to_string(i))).string()});
      EXPECT_EQ(r.status, 0) << r.err;
    }
  });
  auto pulled = kiln({"pull", "-q", proxy.host() + "/race/big:v1"});
  unpacker.join();
  done = true;
  pruner.join();

  EXPECT_EQ(pulled.status, 0) << pulled.err;
  EXPECT_GE(proxy.faults_fired(), 1) << "the small layer was never trickled";
  EXPECT_GE(prunes.load(), 3) << "too few prunes ran during the pull";
  EXPECT_EQ(prune_failures.load(), 0) << prune_error;
  auto fsck = kiln({"fsck"});
  EXPECT_EQ(fsck.status, 0) << fsck.out << fsck.err;
  EXPECT_EQ(fsck.out.find("missing"), std::string::npos) << fsck.out;
  // Nothing is left leased once every command has exited.
  EXPECT_TRUE(fs::is_empty(s / "root/kiln/leases"));
}
