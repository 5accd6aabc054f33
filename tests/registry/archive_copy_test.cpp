// kiln copy between a registry and oci:DIR[:TAG], oci-archive:FILE and
// docker-archive:FILE, both ways, with skopeo reading what kiln wrote and kiln
// reading what skopeo wrote. Real layers (kiln import / append) so that
// docker-archive's uncompressed layers check out against the diff-ids.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "oci/manifest.hpp"
#include "tests/registry/test_util.hpp"

namespace kiln::test {
namespace {

class KilnArchive : public KilnCli {
 protected:
  // A two-layer image pushed to `ref`; returns its config digest.
  std::string make_pushed(const std::string& ref) {
    write_text(s / "l1/etc/hello", "hello\n");
    write_text(s / "l2/srv/data.bin", random_bytes(200000, 7));
    auto r = kiln({"import", (s / "l1").string(), "-t", "example.com/arch/app:1"});
    EXPECT_EQ(r.status, 0) << r.err;
    r = kiln(
        {"append", "example.com/arch/app:1", (s / "l2").string(), "-t", "example.com/arch/app:2"});
    EXPECT_EQ(r.status, 0) << r.err;
    r = kiln({"push", "-q", "example.com/arch/app:2", ref});
    EXPECT_EQ(r.status, 0) << r.err;
    return nlohmann::json::parse(kiln({"manifest", ref}).out)["config"]["digest"];
  }
  std::string config_digest(const std::string& ref) {
    auto r = kiln({"manifest", ref});
    EXPECT_EQ(r.status, 0) << r.err;
    return nlohmann::json::parse(r.out)["config"]["digest"];
  }
  RunResult skopeo(std::vector<std::string> args) {
    std::vector<std::string> argv = {"skopeo", "copy", "--quiet", "--src-tls-verify=false",
                                     "--dest-tls-verify=false"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }
};

TEST_F(KilnArchive, OciDirBothWaysLeavesAPlainLayout) {
  KILN_REQUIRE_PEER("docker-registry");
  KILN_REQUIRE_PEER("skopeo");
  RegistryServer reg;
  std::string src = reg.host() + "/arch/app:v1";
  std::string cfg = make_pushed(src);
  auto dir = (s / "layout").string();
  auto r = kiln({"copy", "-q", src, "oci:" + dir + ":v1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(s / "layout/kiln")) << "kiln's own state left in DIR";
  r = skopeo({"oci:" + dir + ":v1", "docker://" + reg.host() + "/arch/fromdir:v1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(config_digest(reg.host() + "/arch/fromdir:v1"), cfg);
  r = kiln({"copy", "-q", "oci:" + dir + ":v1", reg.host() + "/arch/back:v1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(s / "layout/kiln"));
  EXPECT_EQ(kiln({"digest", reg.host() + "/arch/back:v1"}).out, kiln({"digest", src}).out);
}

TEST_F(KilnArchive, OciArchiveBothWaysWithSkopeo) {
  KILN_REQUIRE_PEER("docker-registry");
  KILN_REQUIRE_PEER("skopeo");
  RegistryServer reg;
  std::string src = reg.host() + "/arch/app:v1";
  std::string cfg = make_pushed(src);
  auto file = (s / "img.oci.tar").string();
  auto r = kiln({"copy", "-q", src, "oci-archive:" + file});
  ASSERT_EQ(r.status, 0) << r.err;
  r = skopeo({"oci-archive:" + file, "docker://" + reg.host() + "/arch/skopeo-oci:v1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(config_digest(reg.host() + "/arch/skopeo-oci:v1"), cfg);

  auto theirs = (s / "theirs.oci.tar").string();
  r = skopeo({"docker://" + src, "oci-archive:" + theirs});
  ASSERT_EQ(r.status, 0) << r.err;
  r = kiln({"copy", "-q", "oci-archive:" + theirs, reg.host() + "/arch/kiln-oci:v1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(config_digest(reg.host() + "/arch/kiln-oci:v1"), cfg);
  r = kiln_in(s / "fresh", {"pull", "-q", reg.host() + "/arch/kiln-oci:v1"});
  ASSERT_EQ(r.status, 0) << r.err;
}

TEST_F(KilnArchive, DockerArchiveBothWaysWithSkopeo) {
  KILN_REQUIRE_PEER("docker-registry");
  KILN_REQUIRE_PEER("skopeo");
  RegistryServer reg;
  std::string src = reg.host() + "/arch/app:v1";
  std::string cfg = make_pushed(src);
  auto file = (s / "img.docker.tar").string();
  auto r = kiln({"copy", "-q", src, "docker-archive:" + file});
  ASSERT_EQ(r.status, 0) << r.err;
  // skopeo reads it (checking every layer against the config) and pushes it on.
  r = skopeo({"docker-archive:" + file, "docker://" + reg.host() + "/arch/skopeo-docker:v1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(config_digest(reg.host() + "/arch/skopeo-docker:v1"), cfg);

  auto theirs = (s / "theirs.docker.tar").string();
  r = skopeo({"docker://" + src, "docker-archive:" + theirs + ":arch/app:v1"});
  ASSERT_EQ(r.status, 0) << r.err;
  r = kiln({"copy", "-q", "docker-archive:" + theirs, reg.host() + "/arch/kiln-docker:v1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(config_digest(reg.host() + "/arch/kiln-docker:v1"), cfg);
  r = kiln_in(s / "fresh", {"pull", "-q", reg.host() + "/arch/kiln-docker:v1"});
  ASSERT_EQ(r.status, 0) << r.err;
  r = kiln_in(s / "fresh", {"fsck"});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
}

// A layer the registry no longer serves: kiln copy into either archive fails
// with one line and leaves neither the archive nor a temporary beside it (it
// died of SIGSEGV, leaving a .tmp- file).
TEST_F(KilnArchive, LayerMissingFromTheRegistryLeavesNothing) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg;
  std::string src = reg.host() + "/arch/app:v1";
  make_pushed(src);
  auto manifest = nlohmann::json::parse(kiln({"manifest", src}).out);
  std::string hex = manifest["layers"][1]["digest"].get<std::string>().substr(7);
  std::filesystem::remove_all(reg.storage() / "docker/registry/v2/blobs/sha256" / hex.substr(0, 2) /
                              hex);
  std::filesystem::create_directories(s / "out");
  for (std::string transport : {"docker-archive:", "oci-archive:"}) {
    auto r = kiln({"copy", "-q", src, transport + (s / "out/img.tar").string()});
    EXPECT_EQ(r.status, 1) << transport << " " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(std::filesystem::is_empty(s / "out")) << transport;
  }
}

}  // namespace
}  // namespace kiln::test
