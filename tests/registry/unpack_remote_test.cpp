// kiln unpack of an image only its registry has: registry → rootfs, each layer
// streamed into the directory, nothing stored; a registry that serves wrong
// bytes leaves no directory behind.
#include <gtest/gtest.h>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <nlohmann/json.hpp>

#include "tests/registry/test_util.hpp"
#include "tests/support/fault_proxy.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;

// Every path with its type, mode, size and content digest, sorted.
std::string listing(const fs::path& dir) {
  return sh("cd '" + dir.string() +
            "' && find . -printf '%p %y %m %s %l\\n' | LC_ALL=C sort && find . -type f -print0 | "
            "LC_ALL=C sort -z | xargs -0 -r sha256sum")
      .out;
}

class RemoteUnpack : public KilnCli {
 protected:
  // A two-layer image in the local store: a tree, then a layer that changes a
  // file and deletes another through a whiteout.
  void make_local(const std::string& name) {
    write_text(s / "base/etc/motd", "hello\n");
    write_text(s / "base/etc/gone", "old\n");
    write_text(s / "base/usr/bin/tool", std::string(300000, 'x'));
    ASSERT_EQ(sh("ln -s ../usr/bin/tool " + (s / "base/etc/link").string()).status, 0);
    auto r = kiln({"import", (s / "base").string(), "-t", name + "-base"});
    ASSERT_EQ(r.status, 0) << r.err;
    write_text(s / "top/etc/motd", "changed\n");
    write_text(s / "top/etc/.wh.gone", "");
    ASSERT_EQ(
        sh("tar -C " + (s / "top").string() + " -cf " + (s / "top.tar").string() + " etc").status,
        0);
    r = kiln({"append", name + "-base", (s / "top.tar").string(), "-t", name});
    ASSERT_EQ(r.status, 0) << r.err;
  }
};

TEST_F(RemoteUnpack, StreamsLayersIntoTheDirectoryAndStoresNothing) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg;
  make_local("example.com/u/app:1");
  std::string ref = reg.host() + "/u/app:1";
  auto r = kiln({"push", "-q", "example.com/u/app:1", ref});
  ASSERT_EQ(r.status, 0) << r.err;
  r = kiln({"unpack", "example.com/u/app:1", (s / "local").string() + "/"});  // "DIR/" is DIR
  ASSERT_EQ(r.status, 0) << r.err;

  for (std::string name : {ref, "docker://" + ref}) {
    fs::path root = s / ("empty-" + std::to_string(name.size()));
    fs::path out = s / ("remote-" + std::to_string(name.size()));
    r = kiln_in(root, {"unpack", name, out.string()});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(listing(out), listing(s / "local"));
    EXPECT_EQ(read_text(out / "etc/motd"), "changed\n");
    EXPECT_FALSE(fs::exists(out / "etc/gone"));
    EXPECT_FALSE(fs::exists(root / "blobs/sha256") && !fs::is_empty(root / "blobs/sha256"))
        << "registry → rootfs stores no blob";
  }
}

TEST_F(RemoteUnpack, WrongBytesLeaveNoDirectory) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg;
  FaultProxy proxy(reg.port());
  make_local("example.com/u/app:1");
  ASSERT_EQ(kiln({"push", "-q", "example.com/u/app:1", reg.host() + "/u/app:1"}).status, 0);
  auto man = nlohmann::json::parse(kiln({"manifest", reg.host() + "/u/app:1"}).out);
  std::string config = man["config"]["digest"], top = man["layers"][1]["digest"];
  // The top layer's request answered with the config's bytes.
  proxy.add({.kind = FaultRule::redirect,
             .method = "GET",
             .target_contains = top,
             .redirect_to = "http://" + reg.host() + "/v2/u/app/blobs/" + config + "?"});
  auto r = kiln_in(s / "other", {"unpack", proxy.host() + "/u/app:1", (s / "out").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(top), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(s / "out"));
  for (auto& e : fs::directory_iterator(s.path()))
    EXPECT_FALSE(e.path().filename().string().starts_with(".kiln-unpack-")) << e.path();
}

}  // namespace
}  // namespace kiln::test
