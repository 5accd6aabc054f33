// The Foundation end to end: kiln writes a store and archives that skopeo and
// umoci read, reads what skopeo writes, and refuses bad input with one line,
// exit 1 and the store untouched.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "oci/media_types.hpp"
#include "oci/store.hpp"
#include "tests/support/registry_server.hpp"
#include "tests/support/tmp.hpp"

namespace fs = std::filesystem;
using kiln::test::run;
using kiln::test::RunResult;
using kiln::test::Scratch;
using kiln::test::sh;

namespace {

void require(const std::string& tool) {
  if (!kiln::test::have_tool(tool)) {
    if (std::getenv("KILN_REQUIRE_PEERS")) FAIL() << tool << " is not installed";
    GTEST_SKIP() << tool << " is not installed";
  }
}

class StoreInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_ / "store";
    rootfs_ = dir_ / "rootfs";
    fs::create_directories(rootfs_ / "bin");
    fs::create_directories(rootfs_ / "etc");
    kiln::test::write_text(rootfs_ / "etc/hello", "hello from kiln\n");
    fs::copy_file("/bin/busybox", rootfs_ / "bin/busybox");
    fs::create_symlink("busybox", rootfs_ / "bin/sh");
  }

  RunResult kiln(std::vector<std::string> args) {
    args.insert(args.begin(), {kiln::test::kiln_bin(), "--root", root_.string()});
    return run(args);
  }

  // A digest of the whole store tree (names, sizes, contents), to prove a
  // failed command changed nothing.
  std::string store_state() {
    return sh("cd '" + root_.string() +
              "' && find . -path ./kiln/lock -prune -o -type f -print | LC_ALL=C sort | "
              "xargs -r sha256sum | sha256sum")
        .out;
  }

  void import_busybox(const std::string& ref) {
    auto r = kiln({"import", rootfs_.string(), "-t", ref});
    ASSERT_EQ(r.status, 0) << r.err;
  }

  void expect_fsck_clean() {
    auto r = kiln({"fsck"});
    EXPECT_EQ(r.status, 0) << r.out << r.err;
  }

  Scratch dir_;
  fs::path root_, rootfs_;
};

TEST_F(StoreInterop, ImportedImageIsListedAndInspected) {
  import_busybox("localhost/busybox:1");
  auto images = kiln({"images", "--format", "json"});
  ASSERT_EQ(images.status, 0) << images.err;
  auto list = nlohmann::json::parse(images.out);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "localhost/busybox:1");

  auto inspect = kiln({"inspect", "localhost/busybox:1", "--format", "json"});
  ASSERT_EQ(inspect.status, 0) << inspect.err;
  auto view = nlohmann::json::parse(inspect.out);
  EXPECT_EQ(view["Name"], "localhost/busybox");
  EXPECT_EQ(view["Os"], "linux");
  EXPECT_EQ(view["Layers"].size(), 1u);
  EXPECT_FALSE(view["Created"].get<std::string>().empty());

  auto history = kiln({"history", "localhost/busybox:1", "--format", "json"});
  ASSERT_EQ(history.status, 0) << history.err;
  EXPECT_EQ(nlohmann::json::parse(history.out).size(), 1u);
  expect_fsck_clean();
}

TEST_F(StoreInterop, SkopeoAndUmociReadTheStore) {
  require("skopeo");
  require("umoci");
  import_busybox("localhost/busybox:1");
  auto inspect = run({"skopeo", "inspect", "oci:" + root_.string() + ":localhost/busybox:1"});
  ASSERT_EQ(inspect.status, 0) << inspect.err;
  auto view = nlohmann::json::parse(inspect.out);
  auto ours =
      nlohmann::json::parse(kiln({"inspect", "localhost/busybox:1", "--format", "json"}).out);
  EXPECT_EQ(view["Layers"], ours["Layers"]);
  EXPECT_EQ(view["Architecture"], ours["Architecture"]);

  auto bundle = dir_ / "bundle";
  auto unpack = run({"umoci", "unpack", "--rootless", "--image",
                     root_.string() + ":localhost/busybox:1", bundle.string()});
  ASSERT_EQ(unpack.status, 0) << unpack.err;
  EXPECT_EQ(kiln::test::read_text(bundle / "rootfs/etc/hello"), "hello from kiln\n");
  EXPECT_TRUE(fs::is_symlink(bundle / "rootfs/bin/sh"));
  expect_fsck_clean();
}

TEST_F(StoreInterop, TagAndRmiKeepSharedContent) {
  import_busybox("localhost/busybox:1");
  ASSERT_EQ(kiln({"tag", "localhost/busybox:1", "localhost/other:2", "example.com/x/y"}).status, 0);
  auto list = nlohmann::json::parse(kiln({"images", "--format", "json"}).out);
  EXPECT_EQ(list.size(), 3u);
  ASSERT_EQ(kiln({"rmi", "localhost/busybox:1"}).status, 0);
  EXPECT_EQ(kiln({"inspect", "localhost/other:2"}).status, 0);
  expect_fsck_clean();
  ASSERT_EQ(kiln({"rmi", "localhost/other:2", "example.com/x/y:latest"}).status, 0);
  EXPECT_EQ(nlohmann::json::parse(kiln({"images", "--format", "json"}).out).size(), 0u);
  EXPECT_TRUE(fs::is_empty(root_ / "blobs/sha256"));
}

TEST_F(StoreInterop, SavedArchivesReadBySkopeoAndLoadedBack) {
  require("skopeo");
  import_busybox("localhost/busybox:1");
  auto docker_tar = dir_ / "docker.tar", oci_tar = dir_ / "oci.tar";
  ASSERT_EQ(kiln({"save", "localhost/busybox:1", "-o", docker_tar.string()}).status, 0);
  ASSERT_EQ(kiln({"save", "localhost/busybox:1", "-o", oci_tar.string(), "--format", "oci-archive"})
                .status,
            0);
  // skopeo (containers/image, what podman load uses) reads both.
  auto d = run({"skopeo", "copy", "docker-archive:" + docker_tar.string(),
                "oci:" + (dir_ / "from-docker").string() + ":x"});
  EXPECT_EQ(d.status, 0) << d.err;
  auto o = run({"skopeo", "inspect", "oci-archive:" + oci_tar.string() + ":localhost/busybox:1"});
  EXPECT_EQ(o.status, 0) << o.err;

  ASSERT_EQ(kiln({"rmi", "localhost/busybox:1"}).status, 0);
  auto load = kiln({"load", "-i", docker_tar.string()});
  ASSERT_EQ(load.status, 0) << load.err;
  EXPECT_NE(load.out.find("localhost/busybox:1"), std::string::npos);
  auto load2 = kiln({"load", "-i", oci_tar.string(), "--format", "json"});
  ASSERT_EQ(load2.status, 0) << load2.err;
  EXPECT_EQ(nlohmann::json::parse(load2.out)[0]["name"], "localhost/busybox:1");
  expect_fsck_clean();
}

// --platform picks from a local index (as from a registry's), and a local
// image of another platform is refused by name.
TEST_F(StoreInterop, PlatformPicksFromALocalIndex) {
  import_busybox("localhost/busybox:1");
  auto store = kiln::oci::Store::open(root_);
  ASSERT_TRUE(store);
  auto host = store->load_image("localhost/busybox:1");
  ASSERT_TRUE(host);
  // A second platform's image: the same layers under an arm64 config.
  auto doc = host->config.json();
  doc["architecture"] = "arm64";
  auto cfg = kiln::oci::ImageConfig::from_json(doc);
  auto cfg_info = store->put_blob_bytes(cfg->bytes());
  auto cfg_desc = host->manifest.config();
  cfg_desc.digest = cfg_info->digest;
  cfg_desc.size = cfg_info->size;
  auto arm =
      kiln::oci::Manifest::create(host->manifest.media_type(), cfg_desc, host->manifest.layers());
  ASSERT_TRUE(store->put_blob_bytes(arm.bytes()));
  auto a = arm.descriptor(), h = host->manifest.descriptor();
  a.platform = *kiln::oci::Platform::parse("linux/arm64");
  h.platform = kiln::oci::Platform::host();
  auto index = kiln::oci::Index::create(kiln::oci::media::kOciIndex, {a, h});
  ASSERT_TRUE(store->put_blob_bytes(index.bytes()));
  ASSERT_TRUE(store->set_name("localhost/multi:1", index.descriptor()));

  auto arch = [&](std::vector<std::string> args) {
    auto r = kiln(args);
    EXPECT_EQ(r.status, 0) << r.err;
    return r.status == 0 ? nlohmann::json::parse(r.out)["Architecture"].get<std::string>() : "";
  };
  EXPECT_EQ(arch({"inspect", "--format", "json", "localhost/multi:1"}),
            kiln::oci::Platform::host().architecture);
  if (kiln::oci::Platform::host().architecture != "arm64") {
    EXPECT_EQ(
        arch({"inspect", "--format", "json", "--platform", "linux/arm64", "localhost/multi:1"}),
        "arm64");
    auto wrong = kiln({"inspect", "--platform", "linux/arm64", "localhost/busybox:1"});
    EXPECT_EQ(wrong.status, 1);
    EXPECT_NE(wrong.err.find("localhost/busybox:1 is " + kiln::oci::Platform::host().str() +
                             ", not linux/arm64"),
              std::string::npos)
        << wrong.err;
  }
  // An index without this host's platform is still listed, with a warning.
  if (kiln::oci::Platform::host().architecture != "arm64") {
    auto arm_only = kiln::oci::Index::create(kiln::oci::media::kOciIndex, {a});
    ASSERT_TRUE(store->put_blob_bytes(arm_only.bytes()));
    ASSERT_TRUE(store->set_name("localhost/armonly:1", arm_only.descriptor()));
    auto listed = kiln({"images", "--format", "json"});
    ASSERT_EQ(listed.status, 0) << listed.err;
    EXPECT_EQ(nlohmann::json::parse(listed.out).size(), 3u) << listed.out;
    EXPECT_NE(listed.err.find("image localhost/armonly:1: "), std::string::npos) << listed.err;
    EXPECT_EQ(kiln({"images"}).status, 0);
    EXPECT_EQ(kiln({"rmi", "localhost/armonly:1"}).status, 0);
  }
  auto none =
      kiln({"unpack", "--platform", "linux/riscv64", "localhost/multi:1", (dir_ / "out").string()});
  EXPECT_EQ(none.status, 1);
  EXPECT_NE(none.err.find("has no manifest for linux/riscv64 (it has linux/arm64, "),
            std::string::npos)
      << none.err;
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

// Compressed archives load the way `docker load` takes them (gzip, zstd here);
// a format libarchive would hand to an outside program (lrzip) is refused
// without running anything.
TEST_F(StoreInterop, LoadsCompressedArchivesAndRunsNoFilterProgram) {
  import_busybox("localhost/busybox:1");
  auto tar = dir_ / "docker.tar";
  ASSERT_EQ(kiln({"save", "localhost/busybox:1", "-o", tar.string()}).status, 0);
  ASSERT_EQ(kiln({"rmi", "localhost/busybox:1"}).status, 0);
  for (std::string c : {"gzip", "zstd -q"}) {
    auto r = sh(c + " -c '" + tar.string() + "' > '" + tar.string() + ".c'");
    ASSERT_EQ(r.status, 0) << r.err;
    auto load = kiln({"load", "-i", tar.string() + ".c"});
    ASSERT_EQ(load.status, 0) << c << ": " << load.err;
    ASSERT_EQ(kiln({"rmi", "localhost/busybox:1"}).status, 0);
  }
  auto bin = dir_ / "bin", marker = dir_ / "lrzip-ran";
  fs::create_directories(bin);
  kiln::test::write_text(bin / "lrzip", "#!/bin/sh\ntouch '" + marker.string() + "'\ncat\n");
  fs::permissions(bin / "lrzip", fs::perms::owner_all);
  kiln::test::write_text(dir_ / "evil.tar", std::string("LRZI\0\6", 6) + std::string(64, '\0'));
  std::string before = store_state();
  auto r = sh("PATH='" + bin.string() + "':$PATH '" + kiln::test::kiln_bin() + "' --root '" +
              root_.string() + "' load -i '" + (dir_ / "evil.tar").string() + "'");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("evil.tar"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(marker)) << "kiln load ran an outside decompressor";
  EXPECT_EQ(store_state(), before);
}

// 40 KB of zstd that would expand to 1.2 GiB of zeros: refused once past
// 1 GiB + 20x what was read, with nothing added and no scratch left.
TEST_F(StoreInterop, DecompressionBombIsRefused) {
  auto bomb = dir_ / "bomb.tar.zst";
  auto r = sh("cd '" + dir_.path().string() +
              "' && truncate -s 1200M zeros && tar -cf - zeros | zstd -q -1 > '" + bomb.string() +
              "' && rm zeros");
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_LT(fs::file_size(bomb), 1u << 20);
  import_busybox("localhost/busybox:1");
  std::string before = store_state();
  auto load = kiln({"load", "-i", bomb.string()});
  EXPECT_EQ(load.status, 1);
  EXPECT_NE(load.err.find("decompression bomb"), std::string::npos) << load.err;
  EXPECT_EQ(store_state(), before);
  EXPECT_TRUE(fs::is_empty(root_ / "kiln/tmp"));
}

TEST_F(StoreInterop, LoadsWhatSkopeoWrote) {
  require("skopeo");
  import_busybox("localhost/busybox:1");
  std::string src = "oci:" + root_.string() + ":localhost/busybox:1";
  auto docker_tar = dir_ / "skopeo-docker.tar", oci_tar = dir_ / "skopeo-oci.tar";
  ASSERT_EQ(
      run({"skopeo", "copy", src, "docker-archive:" + docker_tar.string() + ":app/one:v1"}).status,
      0);
  ASSERT_EQ(run({"skopeo", "copy", src, "oci-archive:" + oci_tar.string() + ":two"}).status, 0);
  auto a = kiln({"load", "-i", docker_tar.string()});
  ASSERT_EQ(a.status, 0) << a.err;
  EXPECT_NE(a.out.find("docker.io/app/one:v1"), std::string::npos) << a.out;
  auto b = kiln({"load", "-i", oci_tar.string()});
  ASSERT_EQ(b.status, 0) << b.err;
  EXPECT_NE(b.out.find("localhost/two:latest"), std::string::npos) << b.out;
  EXPECT_EQ(kiln({"inspect", "app/one:v1"}).status, 0);
  expect_fsck_clean();
}

// Each case: one line on stderr naming the thing, exit 1, store unchanged.
TEST_F(StoreInterop, BadInputFailsCleanly) {
  import_busybox("localhost/busybox:1");
  auto check = [&](std::vector<std::string> args, const std::string& names) {
    std::string before = store_state();
    auto r = kiln(args);
    EXPECT_EQ(r.status, 1) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find(names), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(store_state(), before) << args[0];
  };
  check({"inspect", "Bad/Name"}, "must be lowercase");
  check({"import", rootfs_.string(), "-t", "UPPER"}, "UPPER");
  kiln::test::write_text(dir_ / "not-a-tar", "just text\n");
  check({"import", (dir_ / "not-a-tar").string(), "-t", "localhost/x"}, "not-a-tar");
  check({"load", "-i", (dir_ / "not-a-tar").string()}, "not-a-tar");
  check({"import", (dir_ / "missing.tar").string(), "-t", "localhost/x"}, "missing.tar");
  check({"inspect", "localhost/nothere"}, "localhost/nothere:latest not found");

  // A blob whose content does not match its digest: fsck names it.
  auto manifest =
      nlohmann::json::parse(kiln({"inspect", "localhost/busybox:1", "--format", "json"}).out);
  std::string config_hex = manifest["ConfigDigest"].get<std::string>().substr(7);
  auto config_path = root_ / "blobs/sha256" / config_hex;
  std::string good = kiln::test::read_text(config_path);
  kiln::test::write_text(config_path, good + " ");
  check({"inspect", "localhost/busybox:1"}, config_hex);
  check({"fsck"}, "problem");
  fs::remove(config_path);  // a missing blob
  check({"inspect", "localhost/busybox:1"}, config_hex);
  kiln::test::write_text(config_path, good);
  expect_fsck_clean();

  // A corrupt index.json.
  std::string index = kiln::test::read_text(root_ / "index.json");
  kiln::test::write_text(root_ / "index.json", "{\"manifests\": [");
  check({"images"}, "index.json");
  check({"tag", "localhost/busybox:1", "localhost/y"}, "index.json");
  kiln::test::write_text(root_ / "index.json", index);

  // An unknown media type in the index.
  auto j = nlohmann::json::parse(index);
  j["manifests"][0]["mediaType"] = "application/x-unknown";
  kiln::test::write_text(root_ / "index.json", j.dump());
  check({"inspect", "localhost/busybox:1"}, "application/x-unknown");
  kiln::test::write_text(root_ / "index.json", index);
  expect_fsck_clean();
}

TEST_F(StoreInterop, RefPrintsTheNormalizedParts) {
  auto r = run({kiln::test::kiln_bin(), "ref", "--format", "json", "ubuntu"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["reference"], "docker.io/library/ubuntu:latest");
  EXPECT_EQ(j["familiar"], "ubuntu:latest");
  EXPECT_EQ(j["pull"], "docker.io/library/ubuntu:latest");
  // A digest wins over the tag: that is what a pull fetches.
  const std::string digest = "sha256:" + std::string(64, 'a');
  r = run({kiln::test::kiln_bin(), "ref", "busybox:latest@" + digest});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("\ntag: latest\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\npull: docker.io/library/busybox@" + digest + "\n"), std::string::npos)
      << r.out;
  auto bad = run({kiln::test::kiln_bin(), "ref", "docker.io/UPPER/case"});
  EXPECT_EQ(bad.status, 1);
  auto usage = run({kiln::test::kiln_bin(), "ref"});
  EXPECT_EQ(usage.status, 2);
}

// inspect of an image the store lacks asks its registry for the manifest and
// config only: the same answer as the local inspect, and no blob lands here.
TEST_F(StoreInterop, InspectsARegistryImageWithoutPullingIt) {
  require("docker-registry");
  kiln::test::RegistryServer reg;
  import_busybox("localhost/busybox:1");
  std::string ref = reg.host() + "/kiln/busybox:1";
  auto pushed = kiln({"--tls-verify=false", "push", "-q", "localhost/busybox:1", ref});
  ASSERT_EQ(pushed.status, 0) << pushed.err;
  auto local = kiln({"inspect", "--format", "json", "localhost/busybox:1"});
  ASSERT_EQ(local.status, 0) << local.err;
  auto want = nlohmann::json::parse(local.out);

  root_ = dir_ / "empty-store";
  for (std::string name : {ref, "docker://" + ref}) {
    auto r = kiln({"--tls-verify=false", "inspect", "--format", "json", name});
    ASSERT_EQ(r.status, 0) << name << ": " << r.err;
    auto got = nlohmann::json::parse(r.out);
    EXPECT_EQ(got["Digest"], want["Digest"]) << name;
    EXPECT_EQ(got["Layers"], want["Layers"]) << name;
    EXPECT_EQ(got["ConfigDigest"], want["ConfigDigest"]) << name;
  }
  if (fs::exists(root_ / "blobs/sha256")) {
    EXPECT_TRUE(fs::is_empty(root_ / "blobs/sha256")) << "inspect fetched blobs into the store";
  }
  // Not in the store and not on the registry: one line saying both.
  auto missing = kiln({"--tls-verify=false", "inspect", reg.host() + "/kiln/none:1"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.err.find("not found"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find(reg.host()), std::string::npos) << missing.err;
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1) << missing.err;
}

// prune keeps every unpacked layer a named image can use, whether the layer
// cache keyed it by diff-id or by chain id, and drops the rest once the image
// that used them is gone.
TEST_F(StoreInterop, PruneKeepsTheLayerCacheOfNamedImages) {
  import_busybox("localhost/busybox:1");
  fs::create_directories(dir_ / "extra/opt");
  kiln::test::write_text(dir_ / "extra/opt/x", "x\n");
  auto r =
      kiln({"append", "localhost/busybox:1", (dir_ / "extra").string(), "-t", "localhost/two"});
  ASSERT_EQ(r.status, 0) << r.err;
  r = kiln({"unpack", "localhost/two", (dir_ / "out").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(kiln({"inspect", "--format", "json", "localhost/two"}).out);
  auto diff_ids = nlohmann::json::parse(
      kiln::test::read_text(root_ / "blobs/sha256" /
                            j["ConfigDigest"].get<std::string>().substr(7)))["rootfs"]["diff_ids"];
  ASSERT_EQ(diff_ids.size(), 2u);
  std::string d0 = diff_ids[0].get<std::string>().substr(7);
  std::string d1 = diff_ids[1].get<std::string>().substr(7);
  fs::path layers = root_ / "kiln/layers";
  ASSERT_TRUE(fs::is_directory(layers / d0));
  ASSERT_TRUE(fs::is_directory(layers / d1));
  // Stand in for an entry with files copied up from below: keyed by chain id.
  std::string chain1 =
      sh("printf '%s' 'sha256:" + d0 + " sha256:" + d1 + "' | sha256sum | cut -c1-64").out;
  chain1.resize(64);
  fs::rename(layers / d1, layers / chain1);
  fs::create_directories(layers / std::string(64, 'f'));  // nothing uses it
  // Fills of the layer cache cut off by a crash: an old one goes, with its
  // read-only dirs; a fresh one may be a running kiln's and stays.
  fs::create_directories(layers / ".tmp-crashed/usr/ro");
  fs::permissions(layers / ".tmp-crashed/usr", fs::perms::owner_read | fs::perms::owner_exec);
  fs::last_write_time(layers / ".tmp-crashed",
                      fs::file_time_type::clock::now() - std::chrono::hours(2));
  fs::create_directories(layers / ".tmp-running");

  r = kiln({"prune"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::is_directory(layers / d0));
  EXPECT_TRUE(fs::is_directory(layers / chain1)) << "a reachable chain-keyed layer was pruned";
  EXPECT_FALSE(fs::exists(layers / std::string(64, 'f')));
  EXPECT_FALSE(fs::exists(layers / ".tmp-crashed"));
  EXPECT_TRUE(fs::exists(layers / ".tmp-running"));
  // The chain-keyed entry is the one unpack uses.
  r = kiln({"unpack", "localhost/two", (dir_ / "out2").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(kiln::test::read_text(dir_ / "out2/opt/x"), "x\n");

  ASSERT_EQ(kiln({"rmi", "localhost/two"}).status, 0);
  ASSERT_EQ(kiln({"prune"}).status, 0);
  EXPECT_FALSE(fs::exists(layers / chain1));
  EXPECT_TRUE(fs::is_directory(layers / d0)) << "busybox:1 still uses its layer";

  // An old-looking fill while some fill holds its lock may be that running fill.
  fs::create_directories(layers / ".tmp-long-fill");
  fs::last_write_time(layers / ".tmp-long-fill",
                      fs::file_time_type::clock::now() - std::chrono::hours(2));
  {
    int fd = ::open((layers / ".abc.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX), 0);
    ASSERT_EQ(kiln({"prune"}).status, 0);
    EXPECT_TRUE(fs::exists(layers / ".tmp-long-fill"));
    ::close(fd);
  }
  ASSERT_EQ(kiln({"prune"}).status, 0);
  EXPECT_FALSE(fs::exists(layers / ".tmp-long-fill"));
  expect_fsck_clean();
}

// -o writes what the user named: a device or FIFO is written in place (a
// rename would put a regular file where it was), a symlink stays and the file
// it names gets the output, an existing file keeps its mode.
TEST_F(StoreInterop, OutputGoesWhereItIsNamed) {
  import_busybox("localhost/busybox:1");
  auto mode_of = [](const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st.st_mode;
  };
  for (std::string cmd : {"save", "export"}) {
    SCOPED_TRACE(cmd);
    auto out = [&](const fs::path& to) {
      auto r = kiln({cmd, "localhost/busybox:1", "-o", to.string()});
      EXPECT_EQ(r.status, 0) << r.err;
    };
    fs::path dir = dir_ / cmd;
    fs::create_directories(dir);
    out(dir / "plain.tar");
    std::string want = kiln::test::read_text(dir / "plain.tar");
    ASSERT_GT(want.size(), 1024u);

    // An existing 0600 file stays 0600, also when named through a symlink,
    // which stays a symlink.
    kiln::test::write_text(dir / "private.tar", "old");
    ASSERT_EQ(::chmod((dir / "private.tar").c_str(), 0600), 0);
    out(dir / "private.tar");
    EXPECT_EQ(mode_of(dir / "private.tar"), S_IFREG | 0600);
    EXPECT_EQ(kiln::test::read_text(dir / "private.tar"), want);
    kiln::test::write_text(dir / "private.tar", "old");
    fs::create_symlink("private.tar", dir / "link.tar");
    out(dir / "link.tar");
    EXPECT_TRUE(fs::is_symlink(dir / "link.tar"));
    EXPECT_EQ(mode_of(dir / "private.tar"), S_IFREG | 0600);
    EXPECT_EQ(kiln::test::read_text(dir / "private.tar"), want);

    // A FIFO: its reader gets the bytes, and it is still a FIFO.
    ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0644), 0);
    auto r =
        sh("timeout 20 cat '" + (dir / "fifo").string() + "' > '" + (dir / "from-fifo").string() +
           "' & '" + kiln::test::kiln_bin() + "' --root '" + root_.string() + "' " + cmd +
           " localhost/busybox:1 -o '" + (dir / "fifo").string() + "'; s=$?; wait; exit $s");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(S_ISFIFO(mode_of(dir / "fifo")));
    EXPECT_EQ(kiln::test::read_text(dir / "from-fifo"), want);

    // A character device, written in place: first one of our own, so that a
    // kiln that renames over devices fails here, before /dev/null is tried.
    if (::geteuid() != 0) continue;
    ASSERT_EQ(::mknod((dir / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    out(dir / "null");
    ASSERT_TRUE(S_ISCHR(mode_of(dir / "null"))) << "kiln replaced a device with a file";
    out("/dev/null");
    struct stat st {};
    ASSERT_EQ(::stat("/dev/null", &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, makedev(1, 3));
    std::vector<std::string> left;
    for (auto& e : fs::directory_iterator(dir))
      left.push_back(e.path().filename().string());
    std::sort(left.begin(), left.end());
    EXPECT_EQ(left, (std::vector<std::string>{"fifo", "from-fifo", "link.tar", "null", "plain.tar",
                                              "private.tar"}));
  }
}

// A failed save leaves no archive and no temporary: here an image whose config
// lists fewer diff-ids than it has layers (this crashed kiln, leaving .tmp-*).
TEST_F(StoreInterop, FailedSaveLeavesNothing) {
  import_busybox("localhost/busybox:1");
  auto store = kiln::oci::Store::open(root_);
  ASSERT_TRUE(store);
  auto img = store->load_image("localhost/busybox:1");
  ASSERT_TRUE(img);
  auto doc = img->config.json();
  doc["rootfs"]["diff_ids"] = nlohmann::json::array();
  auto cfg = kiln::oci::ImageConfig::from_json(doc);
  ASSERT_TRUE(cfg);
  auto cfg_info = store->put_blob_bytes(cfg->bytes());
  ASSERT_TRUE(cfg_info);
  auto cfg_desc = img->manifest.config();
  cfg_desc.digest = cfg_info->digest;
  cfg_desc.size = cfg_info->size;
  auto m =
      kiln::oci::Manifest::create(img->manifest.media_type(), cfg_desc, img->manifest.layers());
  ASSERT_TRUE(store->put_blob_bytes(m.bytes()));
  ASSERT_TRUE(store->set_name("localhost/broken:1", m.descriptor()));
  fs::create_directories(dir_ / "out");
  auto r = kiln({"save", "localhost/broken:1", "-o", (dir_ / "out/broken.tar").string()});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("1 layers but 0 diff-ids"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::is_empty(dir_ / "out"));
}

// Names on Linux are bytes: a directory or a label that is not UTF-8 is
// stored (as U+FFFD in the JSON, as Go's encoding/json writes it) and kiln
// does not abort.
TEST_F(StoreInterop, NamesThatAreNotUtf8) {
  fs::path odd = dir_ /
                 "odd\xff"
                 "dir";
  fs::create_directories(odd / "etc");
  kiln::test::write_text(odd / "etc/hello", "hello\n");
  auto r = kiln({"import", odd.string(), "-t", "localhost/x:1"});
  ASSERT_EQ(r.status, 0) << r.err;
  r = kiln({"mutate", "localhost/x:1", "-t", "localhost/y:1", "--label", "k=\xff"});
  ASSERT_EQ(r.status, 0) << r.err;
  r = kiln({"inspect", "--format", "json", "localhost/y:1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["Labels"]["k"], "\xEF\xBF\xBD");
  expect_fsck_clean();
}

}  // namespace

// libarchive and the libraries it drags in (ICU, libxml2, …) are opened when a
// tar is first read or written, not at every start: a command that touches no
// tar never maps them, one that does works as before.
TEST_F(StoreInterop, LibarchiveIsOpenedOnlyForTarWork) {
  std::string kiln = kiln::test::kiln_bin() + " --root '" + root_.string() + "'";
  auto idle = sh("LD_DEBUG=libs " + kiln + " images 2>&1");
  ASSERT_EQ(idle.status, 0) << idle.out;
  EXPECT_EQ(idle.out.find("libarchive"), std::string::npos) << idle.out;
  auto work = sh("LD_DEBUG=libs " + kiln + " import '" + rootfs_.string() + "' -t lazy:1 2>&1");
  ASSERT_EQ(work.status, 0) << work.out;
  EXPECT_NE(work.out.find("libarchive.so.13"), std::string::npos);
  expect_fsck_clean();
}
