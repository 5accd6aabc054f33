// Leases: what a live lease names survives prune and rmi; a dead lease (its
// lock released, as when its holder died) is cleared by the next prune.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "oci/lease.hpp"
#include "oci/store.hpp"
#include "oci/store_check.hpp"
#include "tests/support/tmp.hpp"

using namespace kiln;
using namespace kiln::oci;
namespace fs = std::filesystem;

namespace {

bool removed(const PruneReport& r, const Digest& d) {
  return std::find(r.blobs_removed.begin(), r.blobs_removed.end(), d) != r.blobs_removed.end();
}

size_t lease_files(const Store& store) {
  size_t n = 0;
  for (auto& e : fs::directory_iterator(store.kiln_dir() / "leases"))
    n += e.is_regular_file() ? 1 : 0;
  return n;
}

}  // namespace

TEST(Lease, KeepsItsBlobsFromPruneUntilReleased) {
  test::Scratch dir;
  auto store = Store::open(dir / "store");
  ASSERT_TRUE(store.has_value());
  auto lease = Lease::create(*store, "test");
  ASSERT_TRUE(lease.has_value()) << lease.error().what();
  Digest d = Digest::of_bytes("in flight");
  // Named before it is stored, as a pull does.
  ASSERT_TRUE(lease->add(d));
  ASSERT_TRUE(store->put_blob_bytes("in flight"));
  auto kept = prune(*store);
  ASSERT_TRUE(kept.has_value()) << kept.error().what();
  EXPECT_FALSE(removed(*kept, d));
  EXPECT_TRUE(store->has_blob(d));
  EXPECT_TRUE(kept->leases_cleared.empty());

  lease->release();
  EXPECT_EQ(lease_files(*store), 0u);
  auto gone = prune(*store);
  ASSERT_TRUE(gone.has_value());
  EXPECT_TRUE(removed(*gone, d));
  EXPECT_FALSE(store->has_blob(d));
}

TEST(Lease, KeepsLayerCacheEntriesItNames) {
  test::Scratch dir;
  auto store = Store::open(dir / "store");
  ASSERT_TRUE(store.has_value());
  std::string hex(64, 'a');
  fs::create_directories(store->layers_dir() / hex);
  {
    auto lease = Lease::create(*store, "unpack");
    ASSERT_TRUE(lease.has_value());
    ASSERT_TRUE(lease->add_layer(hex));
    auto kept = prune(*store);
    ASSERT_TRUE(kept.has_value());
    EXPECT_TRUE(kept->layers_removed.empty());
    EXPECT_TRUE(fs::is_directory(store->layers_dir() / hex));
  }  // destroyed: released
  auto gone = prune(*store);
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(gone->layers_removed, std::vector<std::string>{hex});
}

TEST(Lease, RmiKeepsWhatALiveLeaseNames) {
  test::Scratch dir;
  auto store = Store::open(dir / "store");
  ASSERT_TRUE(store.has_value());
  auto blob = store->put_blob_bytes("shared with a push");
  ASSERT_TRUE(blob.has_value());
  Descriptor d;
  d.media_type = "application/vnd.oci.image.layer.v1.tar";
  d.digest = blob->digest;
  d.size = blob->size;
  ASSERT_TRUE(store->set_name("example.com/a:1", d));
  auto lease = Lease::create(*store, "push");
  ASSERT_TRUE(lease.has_value());
  ASSERT_TRUE(lease->add(blob->digest));
  auto r = remove_images(*store, {"example.com/a:1"});
  ASSERT_TRUE(r.has_value()) << r.error().what();
  EXPECT_FALSE(removed(*r, blob->digest));
  EXPECT_TRUE(store->has_blob(blob->digest));
}

// A lease file nobody holds a lock on is what a killed holder leaves.
TEST(Lease, PruneClearsALeaseNobodyHolds) {
  test::Scratch dir;
  auto store = Store::open(dir / "store");
  ASSERT_TRUE(store.has_value());
  auto blob = store->put_blob_bytes("left by a crash");
  ASSERT_TRUE(blob.has_value());
  ASSERT_TRUE(store->state_dir("leases"));
  std::ofstream(store->kiln_dir() / "leases" / "0123456789abcdef")
      << "# pull\nblob " << blob->digest.str() << "\n";
  auto r = prune(*store);
  ASSERT_TRUE(r.has_value()) << r.error().what();
  EXPECT_EQ(r->leases_cleared, std::vector<std::string>{"0123456789abcdef"});
  EXPECT_TRUE(removed(*r, blob->digest));
  EXPECT_EQ(lease_files(*store), 0u);
}

TEST(Lease, PruneClearsTheLeaseOfAProcessThatDied) {
  test::Scratch dir;
  auto store = Store::open(dir / "store");
  ASSERT_TRUE(store.has_value());
  auto blob = store->put_blob_bytes("stored by a child");
  ASSERT_TRUE(blob.has_value());
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Exits without releasing: only the kernel drops the lock.
    auto lease = Lease::create(*store, "child");
    bool ok = lease && lease->add(blob->digest);
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(lease_files(*store), 1u);
  auto r = prune(*store);
  ASSERT_TRUE(r.has_value()) << r.error().what();
  EXPECT_EQ(r->leases_cleared.size(), 1u);
  EXPECT_TRUE(removed(*r, blob->digest));
  EXPECT_EQ(lease_files(*store), 0u);
}

// kiln's state holds no symlinks: fsck reports one in leases/, prune removes
// the link and never reads or touches what it points at.
TEST(Lease, SymlinkInLeasesIsReportedAndRemovedNotFollowed) {
  test::Scratch dir;
  auto store = Store::open(dir / "store");
  ASSERT_TRUE(store.has_value());
  ASSERT_TRUE(store->state_dir("leases"));
  std::ofstream(dir / "outside") << "blob sha256:" << std::string(64, 'b') << "\n";
  fs::create_symlink(dir / "outside", store->kiln_dir() / "leases" / "planted");
  auto report = fsck(*store);
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_NE(report->problems[0].find("leases/planted: a symlink"), std::string::npos)
      << report->problems[0];
  auto r = prune(*store);
  ASSERT_TRUE(r.has_value()) << r.error().what();
  EXPECT_EQ(r->leases_cleared, std::vector<std::string>{"planted"});
  EXPECT_FALSE(fs::exists(fs::symlink_status(store->kiln_dir() / "leases" / "planted")));
  EXPECT_TRUE(fs::exists(dir / "outside"));
}
