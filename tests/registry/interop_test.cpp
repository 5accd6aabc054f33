// Interop with skopeo both ways, and the kiln commands end to end.
#include <gtest/gtest.h>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <nlohmann/json.hpp>

#include "oci/manifest.hpp"
#include "registry/transfer.hpp"
#include "tests/registry/test_util.hpp"
#include "tests/support/net_proxy.hpp"
#include "tests/support/token_server.hpp"

namespace kiln::test {
namespace {

using registry::remote_for;

TEST(RegistryInterop, WhatKilnPushesSkopeoReadsBackByteIdentical) {
  KILN_REQUIRE_PEER("docker-registry");
  KILN_REQUIRE_PEER("skopeo");
  RegistryServer reg;
  Scratch s;
  auto store = oci::Store::open(s / "store");
  auto img = make_image(*store, "example.com/i:1", {4000, 600000}, 21);
  auto remote = remote_for(reg.host(), "interop/kiln", fast_options());
  ASSERT_TRUE(registry::push_image(*store, img.top, remote, "v1", {}));
  auto r =
      run({"skopeo", "copy", "--quiet", "--src-tls-verify=false", "--preserve-digests",
           "docker://" + reg.host() + "/interop/kiln:v1", "oci:" + (s / "out").string() + ":v1"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto index = nlohmann::json::parse(read_text(s / "out/index.json"));
  EXPECT_EQ(index["manifests"][0]["digest"], img.top.digest.str());
  auto blobs = img.blobs;
  blobs.push_back(img.top);
  for (auto& b : blobs)
    EXPECT_EQ(read_text(s / "out/blobs/sha256" / std::string(b.digest.hex())),
              read_text(store->blob_path(b.digest)))
        << b.digest.str();
}

TEST(RegistryInterop, WhatSkopeoPushesKilnPullsAndVerifies) {
  KILN_REQUIRE_PEER("docker-registry");
  KILN_REQUIRE_PEER("skopeo");
  RegistryServer reg;
  Scratch s;
  auto layout = oci::Store::open(s / "layout");
  auto img = make_image(*layout, "v1", {3000, 900000}, 22);
  auto r =
      run({"skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--preserve-digests",
           "oci:" + (s / "layout").string() + ":v1", "docker://" + reg.host() + "/interop/sk:v1"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto store = oci::Store::open(s / "store");
  auto remote = remote_for(reg.host(), "interop/sk", fast_options());
  auto pulled = registry::pull_image(remote, "v1", *store, {});
  ASSERT_TRUE(pulled) << pulled.error().what();
  EXPECT_EQ(pulled->target.digest, img.top.digest);
  ASSERT_TRUE(store->set_name(reg.host() + "/interop/sk:v1", pulled->target));
  auto loaded = store->load_image(reg.host() + "/interop/sk:v1");  // every blob re-verified
  ASSERT_TRUE(loaded) << loaded.error().what();
  for (auto& b : img.blobs)
    EXPECT_TRUE(store->read_blob(b.digest, 8 << 20)) << b.digest.str();
}

TEST_F(KilnCli, PushPullRemoteCommandsCopyAndDelete) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg;
  auto store = oci::Store::open(s / "root");
  auto img = make_image(*store, "example.com/cli/app:1", {2000, 50000}, 31);
  std::string ref = reg.host() + "/cli/app:v1";
  auto r = kiln({"push", "-q", "example.com/cli/app:1", ref});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, img.top.digest.str() + "\n");
  r = kiln({"ls", reg.host() + "/cli/app"});
  EXPECT_EQ(r.out, "v1\n") << r.err;
  r = kiln({"catalog", reg.host(), "--format", "json"});
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json::array({"cli/app"})) << r.err;
  r = kiln({"manifest", ref});
  EXPECT_EQ(r.out, store->read_blob(img.top.digest).value());
  r = kiln({"config", ref});
  EXPECT_EQ(r.out, store->read_blob(img.blobs[0].digest).value());
  r = kiln({"digest", ref});
  EXPECT_EQ(r.out, img.top.digest.str() + "\n");

  r = kiln_in(s / "other", {"pull", "-q", ref});
  ASSERT_EQ(r.status, 0) << r.err;
  auto other = oci::Store::open(s / "other");
  auto loaded = other->load_image(ref);
  ASSERT_TRUE(loaded) << loaded.error().what();
  EXPECT_EQ(loaded->top.digest, img.top.digest);

  r = kiln({"copy", "-q", ref, reg.host() + "/cli/copy:v2"});
  ASSERT_EQ(r.status, 0) << r.err;
  r = kiln({"copy", "-q", "docker://" + reg.host() + "/cli/copy:v2",
            "oci:" + (s / "dir").string() + ":t"});
  ASSERT_EQ(r.status, 0) << r.err;
  r = kiln({"copy", "-q", "oci:" + (s / "dir").string() + ":t", reg.host() + "/cli/back:v3"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(kiln({"digest", reg.host() + "/cli/back:v3"}).out, img.top.digest.str() + "\n");

  // Through an oci-archive and back: the same image.
  r = kiln({"copy", "-q", ref, "oci-archive:" + (s / "img.tar").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  r = kiln({"copy", "-q", "oci-archive:" + (s / "img.tar").string(), reg.host() + "/cli/arch:v4"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(kiln({"digest", reg.host() + "/cli/arch:v4"}).out, img.top.digest.str() + "\n");

  r = kiln({"delete", ref});
  ASSERT_EQ(r.status, 0) << r.err;
  r = kiln({"manifest", ref});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(reg.host() + "/cli/app: manifest v1: not found (HTTP 404)"),
            std::string::npos)
      << r.err;
}

// A reference with a tag and a digest is pulled by the digest, as docker
// pulls it, even when the tag names another image; `kiln ref` says so.
TEST_F(KilnCli, PullWithTagAndDigestFetchesTheDigest) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg;
  auto store = oci::Store::open(s / "root");
  auto tagged = make_image(*store, "example.com/pin/app:1", {1500}, 33);
  auto pinned = make_image(*store, "example.com/pin/app:2", {2500}, 34);
  auto remote = remote_for(reg.host(), "pin/app", fast_options());
  ASSERT_TRUE(registry::push_image(*store, tagged.top, remote, "v1", {}));
  ASSERT_TRUE(registry::push_image(*store, pinned.top, remote, "v2", {}));
  std::string ref = reg.host() + "/pin/app:v1@" + pinned.top.digest.str();

  auto r = kiln({"ref", "--format", "json", ref});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["pull"],
            reg.host() + "/pin/app@" + pinned.top.digest.str());

  r = kiln_in(s / "other", {"pull", "-q", ref});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, pinned.top.digest.str() + "\n");
  auto other = oci::Store::open(s / "other");
  auto loaded = other->load_image(ref);
  ASSERT_TRUE(loaded) << loaded.error().what();
  EXPECT_EQ(loaded->top.digest, pinned.top.digest);
}

TEST_F(KilnCli, LoginChecksCredentialsBeforeStoringThem) {
  KILN_REQUIRE_PEER("docker-registry");
  KILN_REQUIRE_PEER("htpasswd");
  RegistryServer reg({.tls = false, .user = "carol", .password = "carol-pw"});
  auto r = kiln({"login", reg.host(), "-u", "carol", "--password-stdin"}, "wrong\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("401"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("wrong"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(s / "auth.json"));
  r = kiln({"login", reg.host(), "-u", "carol", "--password-stdin"}, "carol-pw\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(read_text(s / "auth.json").find(reg.host()), std::string::npos);

  auto store = oci::Store::open(s / "root");
  make_image(*store, "example.com/l:1", {100}, 41);
  r = kiln({"push", "-q", "example.com/l:1", reg.host() + "/carol/app:v1", "--debug"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err.find("carol-pw"), std::string::npos);
  EXPECT_EQ(r.err.find("Y2Fyb2w6Y2Fyb2wtcHc"), std::string::npos);  // base64 of carol:carol-pw
  r = kiln({"logout", reg.host()});
  ASSERT_EQ(r.status, 0) << r.err;
  r = kiln({"ls", reg.host() + "/carol/app"});
  EXPECT_EQ(r.status, 1);
  r = kiln({"logout", reg.host()});
  EXPECT_EQ(r.status, 1);
}

TEST_F(KilnCli, LoginAgainstBearerRegistry) {
  KILN_REQUIRE_PEER("docker-registry");
  TokenServer ts;
  ts.add_user("dave", "dave-pw", {{"repository:dave/app", {"pull", "push"}}});
  // Over https: kiln sends no credentials to a plain-http realm on another server.
  TlsFront front(ts.port());
  RegistryOptions ro;
  ro.token_realm = "https://127.0.0.1:" + std::to_string(front.port()) + "/token";
  RegistryServer reg(ro);
  auto r = kiln({"login", reg.host(), "-u", "dave", "--password-stdin"}, "not-daves\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(reg.host()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("401"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("not-daves"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(s / "auth.json"));
  EXPECT_GE(ts.token_requests(), 1);  // the check reached the token service

  r = kiln({"login", reg.host(), "-u", "dave", "--password-stdin"}, "dave-pw\n");
  ASSERT_EQ(r.status, 0) << r.err;
  auto store = oci::Store::open(s / "root");
  auto img = make_image(*store, "example.com/d:1", {100}, 43);
  r = kiln({"push", "-q", "--debug", "example.com/d:1", reg.host() + "/dave/app:v1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, img.top.digest.str() + "\n");
  EXPECT_EQ(r.err.find("dave-pw"), std::string::npos);
  EXPECT_EQ(r.err.find("eyJ"), std::string::npos) << "a JWT in --debug output";
}

// `kiln pull` stores nothing that `images`, `inspect` or `config` would then
// refuse: a config that is not an image config fails the pull with one line
// naming it, no name is set, and fsck finds the store clean.
TEST_F(KilnCli, PullRefusesAConfigOtherCommandsCannotRead) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg;
  Scratch src_dir;
  auto src = oci::Store::open(src_dir / "src");
  ASSERT_TRUE(src);
  auto img = make_image_with_config(*src, "not JSON at all", 1000, 45);
  auto remote = remote_for(reg.host(), "c/app", fast_options());
  auto pushed = registry::push_image(*src, img.top, remote, "v1", {});
  ASSERT_TRUE(pushed) << pushed.error().what();
  auto r = kiln({"pull", "-q", reg.host() + "/c/app:v1"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("config " + img.blobs[0].digest.str()), std::string::npos) << r.err;
  r = kiln({"images"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("c/app"), std::string::npos) << r.out;
  r = kiln({"fsck"});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
}

TEST_F(KilnCli, InsecureRegistryFromRegistriesConf) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg;  // plain HTTP
  auto store = oci::Store::open(s / "root");
  make_image(*store, "example.com/ins:1", {100}, 44);
  auto push = [&](const std::string& env) {
    return sh(env + " '" + kiln_bin() + "' --root '" + (s / "root").string() +
              "' push -q example.com/ins:1 " + reg.host() + "/ins/app:v1");
  };
  // Verification on: https is demanded and plain HTTP refused.
  auto r = push("CONTAINERS_REGISTRIES_CONF=/nonexistent");
  EXPECT_EQ(r.status, 1) << r.out;
  write_text(s / "registries.conf",
             "[[registry]]\nlocation = \"" + reg.host() + "\"\ninsecure = true\n");
  r = push("CONTAINERS_REGISTRIES_CONF='" + (s / "registries.conf").string() + "'");
  EXPECT_EQ(r.status, 0) << r.err;
}

}  // namespace
}  // namespace kiln::test
