// The store's own paths never follow symlinks: a store that is shared, or
// restored from a CI cache, may hold symlinks planted where kiln keeps blobs,
// its lock or its state. Each test plants one and proves the place it points at
// untouched, with openat2 and with the O_NOFOLLOW walk older kernels get.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>

#include "base/files.hpp"
#include "oci/store.hpp"
#include "oci/store_check.hpp"
#include "tests/support/tmp.hpp"

using namespace kiln;
using namespace kiln::oci;
namespace fs = std::filesystem;

namespace {

class StorePaths : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { force_nofollow_walk(GetParam()); }
  void TearDown() override { force_nofollow_walk(false); }
  bool mentions(const std::vector<std::string>& lines, const std::string& what) {
    for (auto& l : lines)
      if (l.find(what) != std::string::npos) return true;
    return false;
  }
};

}  // namespace

TEST_P(StorePaths, ANewStoreIsPrivateToItsOwner) {
  test::Scratch dir;
  ASSERT_TRUE(Store::open(dir / "s"));
  struct stat st;
  ASSERT_EQ(::stat((dir / "s").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST_P(StorePaths, SymlinkedBlobsDirIsRefusedAndItsTargetUntouched) {
  test::Scratch dir;
  ASSERT_TRUE(Store::open(dir / "s"));
  fs::create_directories(dir / "elsewhere");
  fs::remove(dir / "s/blobs/sha256");
  fs::create_directory_symlink(dir / "elsewhere", dir / "s/blobs/sha256");
  auto store = Store::open(dir / "s");
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().what().find("blobs/sha256"), std::string::npos) << store.error().what();
  EXPECT_NE(store.error().what().find("symlink"), std::string::npos) << store.error().what();
  EXPECT_TRUE(fs::is_empty(dir / "elsewhere"));
}

TEST_P(StorePaths, DanglingSymlinkAtTheLockCreatesNothing) {
  test::Scratch dir;
  auto store = Store::open(dir / "s");
  ASSERT_TRUE(store);
  fs::remove(dir / "s/kiln/lock");
  fs::create_symlink(dir / "created-by-kiln", dir / "s/kiln/lock");
  auto lock = store->lock();
  ASSERT_FALSE(lock);
  EXPECT_NE(lock.error().what().find("kiln/lock"), std::string::npos) << lock.error().what();
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir / "created-by-kiln")));
  EXPECT_FALSE(store->set_name("localhost/x:1", Descriptor{}));
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir / "created-by-kiln")));
}

TEST_P(StorePaths, SymlinkedBlobIsNotReadAndFsckSaysSo) {
  test::Scratch dir;
  auto store = Store::open(dir / "s");
  ASSERT_TRUE(store);
  auto info = store->put_blob_bytes("public");
  ASSERT_TRUE(info);
  // A secret of the same size, and the blob swapped for a link to it.
  test::write_text(dir / "secret", "SECRET");
  fs::remove(store->blob_path(info->digest));
  fs::create_symlink(dir / "secret", store->blob_path(info->digest));
  EXPECT_FALSE(store->has_blob(info->digest));
  auto r = store->open_blob(info->digest, info->size);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("symlink"), std::string::npos) << r.error().what();
  EXPECT_FALSE(store->open_blob_raw(info->digest, 0));
  EXPECT_FALSE(store->blob_size(info->digest));
  auto report = fsck(*store);
  ASSERT_TRUE(report);
  EXPECT_TRUE(mentions(report->problems, "a symlink where a blob belongs"));
  // prune takes the link away, never what it points at.
  ASSERT_TRUE(prune(*store));
  EXPECT_FALSE(fs::exists(fs::symlink_status(store->blob_path(info->digest))));
  EXPECT_EQ(test::read_text(dir / "secret"), "SECRET");
}

TEST_P(StorePaths, FifoWhereABlobBelongsDoesNotHang) {
  test::Scratch dir;
  auto store = Store::open(dir / "s");
  ASSERT_TRUE(store);
  auto d = Digest::of_bytes("x");
  ASSERT_EQ(::mkfifo(store->blob_path(d).c_str(), 0644), 0);
  auto r = store->open_blob(d);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("not a regular file"), std::string::npos) << r.error().what();
  auto report = fsck(*store);
  ASSERT_TRUE(report);
  EXPECT_TRUE(mentions(report->problems, "not a regular file where a blob belongs"));
}

TEST_P(StorePaths, FsckReportsSymlinksInKilnState) {
  test::Scratch dir;
  auto store = Store::open(dir / "s");
  ASSERT_TRUE(store);
  fs::create_directories(dir / "elsewhere");
  ASSERT_TRUE(store->state_dir("layers"));
  fs::create_directory_symlink(dir / "elsewhere", dir / "s/kiln/layers" / std::string(64, 'a'));
  fs::create_directories(dir / "s/kiln/registry/sources");
  fs::create_symlink(dir / "elsewhere", dir / "s/kiln/registry/sources" / std::string(64, 'b'));
  auto report = fsck(*store);
  ASSERT_TRUE(report);
  EXPECT_TRUE(mentions(report->problems, "kiln/layers/" + std::string(64, 'a')));
  EXPECT_TRUE(mentions(report->problems, "kiln/registry/sources/" + std::string(64, 'b')));
  // A state dir that is a symlink is refused outright.
  fs::remove_all(dir / "s/kiln/registry");
  fs::create_directory_symlink(dir / "elsewhere", dir / "s/kiln/registry");
  EXPECT_FALSE(store->state_dir("registry"));
  ASSERT_TRUE(prune(*store));
  EXPECT_TRUE(fs::exists(dir / "elsewhere"));
}

TEST_P(StorePaths, SymlinkedIndexIsNotRead) {
  test::Scratch dir;
  auto store = Store::open(dir / "s");
  ASSERT_TRUE(store);
  test::write_text(dir / "other.json", R"({"schemaVersion":2,"manifests":[]})");
  fs::remove(dir / "s/index.json");
  fs::create_symlink(dir / "other.json", dir / "s/index.json");
  auto entries = store->entries();
  ASSERT_FALSE(entries);
  EXPECT_NE(entries.error().what().find("index.json"), std::string::npos);
}

TEST_P(StorePaths, OpenBeneathRefusesEveryKindOfEscape) {
  test::Scratch dir;
  fs::create_directories(dir / "root/sub");
  fs::create_directories(dir / "out");
  test::write_text(dir / "out/f", "x");
  fs::create_directory_symlink(dir / "out", dir / "root/link");
  fs::create_symlink(dir / "out/f", dir / "root/sub/f");
  Fd root(::open((dir / "root").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(root);
  EXPECT_FALSE(open_beneath(root.get(), "link/f", O_RDONLY));
  EXPECT_FALSE(open_beneath(root.get(), "sub/f", O_RDONLY));
  EXPECT_FALSE(open_beneath(root.get(), "../out/f", O_RDONLY));
  EXPECT_FALSE(open_beneath(root.get(), (dir / "out/f").string(), O_RDONLY));
  EXPECT_FALSE(open_beneath(root.get(), "sub/../../out/f", O_RDONLY));
  EXPECT_TRUE(open_beneath(root.get(), "sub", O_RDONLY | O_DIRECTORY));
  auto made = open_beneath(root.get(), "sub/new", O_WRONLY | O_CREAT | O_EXCL, 0600);
  EXPECT_TRUE(made);
  EXPECT_TRUE(fs::exists(dir / "root/sub/new"));
}

// Older container runtimes' seccomp profiles answer syscalls they do not know
// with EPERM instead of ENOSYS: openat2 hidden that way must not break the
// store (it falls back to the walk), and the walk must still refuse links.
TEST(StorePathsSeccomp, Openat2RefusedWithEpermFallsBackToTheWalk) {
  test::Scratch dir;
  ASSERT_TRUE(Store::open(dir / "s"));
  fs::create_directories(dir / "elsewhere");
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(std::size(code)), code};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
      ::_exit(3);
    auto store = Store::open(dir / "s");
    if (!store || !store->entries() || !store->put_blob_bytes("x")) ::_exit(1);
    fs::remove(dir / "s/kiln/lock");
    fs::create_symlink(dir / "elsewhere/lock", dir / "s/kiln/lock");
    if (store->lock() || fs::exists(fs::symlink_status(dir / "elsewhere/lock"))) ::_exit(2);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: the store failed to open or work, 2: a link was "
                                       "followed, 3: no seccomp here";
}

INSTANTIATE_TEST_SUITE_P(Walks, StorePaths, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "manual" : "openat2"; });
