// TLS, Basic and Bearer against a real docker-registry (and the token fixture).
#include <gtest/gtest.h>

// Designated initializers name only the fields a case cares about.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "registry/transfer.hpp"
#include "tests/registry/test_util.hpp"
#include "tests/support/fault_proxy.hpp"
#include "tests/support/net_proxy.hpp"
#include "tests/support/token_server.hpp"

namespace kiln::test {
namespace {

using registry::remote_for;

registry::ClientOptions with_authfile(registry::ClientOptions o, const std::filesystem::path& f) {
  registry::KeychainPaths p;
  p.authfile = f.string();
  o.keychain = std::make_shared<registry::FileKeychain>(p);
  return o;
}

void write_auth(const std::filesystem::path& f, const std::string& host, const std::string& user,
                const std::string& password) {
  ASSERT_TRUE(registry::store_credentials(f, host, {user, password, ""}));
}

struct Pushed {
  Scratch s;
  oci::Store store = *oci::Store::open(s / "store");
  MadeImage img = make_image(store, "example.com/a:1", {2000, 70000}, 3);
};

TEST(RegistryTls, VerifiesWithCertDirCa) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg({.tls = true});
  Pushed p;
  Scratch certs;
  std::filesystem::copy_file(test_pki().ca_crt, certs / "ca.crt");
  auto o = fast_options(/*tls_verify=*/true);
  o.cert_dir = certs.path().string();
  auto remote = remote_for(reg.host(), "tls/app", o);
  auto pushed = registry::push_image(p.store, p.img.top, remote, "v1", {});
  ASSERT_TRUE(pushed) << pushed.error().what();
  auto pulled = registry::pull_image(remote, "v1", p.store, {});
  ASSERT_TRUE(pulled) << pulled.error().what();
}

// Bodies over TLS arrive whole: OpenSSL reads ahead several records at once,
// and a record it holds must not wait for the socket (which has nothing more
// to say) until the stall timeout. No retries, so a stall fails the pull.
TEST(RegistryTls, PullsLargeBlobsWithoutStalling) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg({.tls = true});
  Scratch s;
  auto store = oci::Store::open(s / "a");
  ASSERT_TRUE(store);
  auto img = make_image(*store, "example.com/big:1", {5 << 20, 300000, 1000}, 4);
  Scratch certs;
  std::filesystem::copy_file(test_pki().ca_crt, certs / "ca.crt");
  auto o = fast_options(/*tls_verify=*/true);
  o.cert_dir = certs.path().string();
  o.retry.max_attempts = 1;
  o.stall_timeout = std::chrono::seconds(5);
  auto remote = remote_for(reg.host(), "tls/big", o);
  ASSERT_TRUE(registry::push_image(*store, img.top, remote, "v1", {}));
  auto other = oci::Store::open(s / "b");
  ASSERT_TRUE(other);
  auto pulled = registry::pull_image(remote, "v1", *other, {});
  ASSERT_TRUE(pulled) << pulled.error().what();
  EXPECT_EQ(pulled->blobs_moved, 4);
  for (auto& b : img.blobs)
    EXPECT_TRUE(other->read_blob(b.digest, 8 << 20)) << b.digest.str();
}

TEST(RegistryTls, CertsDTreePerHostPort) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg({.tls = true});
  Pushed p;
  Scratch tree;
  std::filesystem::create_directories(tree / reg.host());
  std::filesystem::copy_file(test_pki().ca_crt, tree / reg.host() / "ca.crt");
  auto o = fast_options(true);
  o.certs_d_roots = {tree.path()};
  auto remote = remote_for(reg.host(), "tls/app", o);
  auto pushed = registry::push_image(p.store, p.img.top, remote, "v1", {});
  ASSERT_TRUE(pushed) << pushed.error().what();
}

TEST(RegistryTls, UnknownCaIsRefusedUnlessVerificationIsOff) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg({.tls = true});
  auto strict = remote_for(reg.host(), "tls/app", fast_options(true));
  auto m = strict.get_manifest("latest");
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().what().find(reg.host()), std::string::npos) << m.error().what();
  EXPECT_NE(m.error().what().find("certificate"), std::string::npos) << m.error().what();
  auto lax = remote_for(reg.host(), "tls/app", fast_options(false));
  auto m2 = lax.get_manifest("latest");
  ASSERT_FALSE(m2);
  EXPECT_EQ(m2.error().http_status, 404) << m2.error().what();  // reached the registry
}

TEST(RegistryBasic, HtpasswdCredentialsFromAuthFile) {
  KILN_REQUIRE_PEER("docker-registry");
  KILN_REQUIRE_PEER("htpasswd");
  RegistryServer reg({.user = "alice", .password = "s3cret-pw"});
  Pushed p;
  Scratch conf;
  write_auth(conf / "auth.json", reg.host(), "alice", "s3cret-pw");
  auto remote =
      remote_for(reg.host(), "basic/app", with_authfile(fast_options(), conf / "auth.json"));
  auto pushed = registry::push_image(p.store, p.img.top, remote, "v1", {});
  ASSERT_TRUE(pushed) << pushed.error().what();

  // Wrong password: one clear line, status kept, and the secret nowhere in it.
  write_auth(conf / "bad.json", reg.host(), "alice", "wrong-pw");
  auto bad = remote_for(reg.host(), "basic/app", with_authfile(fast_options(), conf / "bad.json"));
  auto m = bad.get_manifest("v1");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().http_status, 401);
  EXPECT_EQ(m.error().what().find("wrong-pw"), std::string::npos);
  EXPECT_NE(m.error().what().find("unauthorized"), std::string::npos) << m.error().what();

  auto anon = remote_for(reg.host(), "basic/app", fast_options());
  auto m2 = anon.get_manifest("v1");
  ASSERT_FALSE(m2);
  EXPECT_EQ(m2.error().http_status, 401);
}

// The token service over https (a TlsFront before the plain-http fixture):
// kiln sends no credentials to a plain-http realm on another server.
std::string https_realm(const TlsFront& front) {
  return "https://127.0.0.1:" + std::to_string(front.port()) + "/token";
}

struct BearerSetup {
  TokenServer ts;
  TlsFront front{ts.port()};
  RegistryServer reg;
  BearerSetup() : reg(make_opts(front)) {
    ts.add_user("alice", "alice-pw",
                {{"repository:team/app", {"pull", "push", "delete"}},
                 {"repository:team/other", {"pull", "push"}},
                 {"registry:catalog", {"*"}}});
    ts.add_user("bob", "bob-pw", {{"repository:team/app", {"pull"}}});
  }
  static RegistryOptions make_opts(const TlsFront& front) {
    RegistryOptions o;
    o.token_realm = https_realm(front);
    return o;
  }
};

TEST(RegistryBearer, ScopesPerUserAndTokenCache) {
  KILN_REQUIRE_PEER("docker-registry");
  BearerSetup b;
  Pushed p;
  Scratch conf;
  write_auth(conf / "alice.json", b.reg.host(), "alice", "alice-pw");
  write_auth(conf / "bob.json", b.reg.host(), "bob", "bob-pw");
  auto alice =
      remote_for(b.reg.host(), "team/app", with_authfile(fast_options(), conf / "alice.json"));
  auto pushed = registry::push_image(p.store, p.img.top, alice, "v1", {});
  ASSERT_TRUE(pushed) << pushed.error().what();
  // One token for the whole push: the least scope, fetched once and cached.
  auto log = b.ts.scope_log();
  ASSERT_EQ(log.size(), 1u) << ::testing::PrintToString(log);
  EXPECT_EQ(log[0], "repository:team/app:pull,push");
  EXPECT_FALSE(b.ts.saw_in_requests("bob-pw"));

  // Cross-repository mount asks for pull on the source too.
  auto other = registry::Remote(alice.client_ptr(), "team/other");
  registry::TransferOptions opts;
  auto copied = registry::copy_image(alice, "v1", other, "v1", opts);
  ASSERT_TRUE(copied) << copied.error().what();
  EXPECT_EQ(copied->blobs_mounted, 3);
  bool saw_mount_scope = false;
  for (auto& s : b.ts.scope_log())
    saw_mount_scope |= s == "repository:team/app:pull repository:team/other:pull,push";
  EXPECT_TRUE(saw_mount_scope) << ::testing::PrintToString(b.ts.scope_log());

  // bob may pull but not push.
  auto bob = remote_for(b.reg.host(), "team/app", with_authfile(fast_options(), conf / "bob.json"));
  Scratch s2;
  auto st2 = oci::Store::open(s2 / "st");
  auto pulled = registry::pull_image(bob, "v1", *st2, {});
  ASSERT_TRUE(pulled) << pulled.error().what();
  auto img2 = make_image(*st2, "example.com/b:1", {100}, 9);
  auto denied = registry::push_image(*st2, img2.top, bob, "v2", {});
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().http_status, 401) << denied.error().what();
  EXPECT_NE(denied.error().what().find(b.reg.host() + "/team/app"), std::string::npos);

  // Unknown users are refused by the token service.
  write_auth(conf / "eve.json", b.reg.host(), "eve", "x");
  auto eve = remote_for(b.reg.host(), "team/app", with_authfile(fast_options(), conf / "eve.json"));
  auto m = eve.get_manifest("v1");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().http_status, 401);
  EXPECT_NE(m.error().what().find("token service"), std::string::npos) << m.error().what();
  EXPECT_NE(m.error().what().find(b.reg.host() + "/team/app: manifest v1"), std::string::npos)
      << m.error().what();
}

TEST(RegistryBearer, IdentityTokenUsesOAuth2RefreshGrant) {
  KILN_REQUIRE_PEER("docker-registry");
  BearerSetup b;
  b.ts.add_refresh_token("refresh-abc", "alice");
  Scratch conf;
  ASSERT_TRUE(
      registry::store_credentials(conf / "auth.json", b.reg.host(), {"", "", "refresh-abc"}));
  auto alice =
      remote_for(b.reg.host(), "team/app", with_authfile(fast_options(), conf / "auth.json"));
  Pushed p;
  auto pushed = registry::push_image(p.store, p.img.top, alice, "v1", {});
  ASSERT_TRUE(pushed) << pushed.error().what();
  EXPECT_TRUE(b.ts.saw_in_requests("grant_type=refresh_token"));
  EXPECT_FALSE(b.ts.saw_in_requests("GET /token"));
}

// --tls-verify=false relaxes certificate checks only: a token realm on plain
// http at another server than the registry is sent no credentials, neither a
// password nor a refresh token, and the failure says why.
TEST(RegistryBearer, NoCredentialsToAPlainHttpRealmElsewhere) {
  KILN_REQUIRE_PEER("docker-registry");
  TokenServer ts;
  ts.add_user("alice", "alice-pw", {{"repository:team/app", {"pull", "push"}}});
  ts.add_refresh_token("refresh-abc", "alice");
  RegistryServer reg({.token_realm = ts.realm()});
  Scratch conf;
  write_auth(conf / "password.json", reg.host(), "alice", "alice-pw");
  ASSERT_TRUE(
      registry::store_credentials(conf / "identity.json", reg.host(), {"", "", "refresh-abc"}));
  for (const char* file : {"password.json", "identity.json"}) {
    auto remote = remote_for(reg.host(), "team/app",
                             with_authfile(fast_options(/*tls_verify=*/false), conf / file));
    auto m = remote.get_manifest("v1");
    ASSERT_FALSE(m) << file;
    std::string what = m.error().what();
    EXPECT_NE(what.find(ts.realm()), std::string::npos) << what;
    EXPECT_NE(what.find("refusing to send credentials"), std::string::npos) << what;
    EXPECT_NE(what.find(reg.host() + "/team/app"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
  EXPECT_FALSE(ts.saw_in_requests("Authorization")) << "credentials sent over plain http";
  EXPECT_FALSE(ts.saw_in_requests("refresh-abc")) << "credentials sent over plain http";
}

TEST(RegistryBearer, ExpiredTokenIsRefreshedOn401) {
  KILN_REQUIRE_PEER("docker-registry");
  BearerSetup b;
  FaultProxy proxy(b.reg.port());
  Scratch conf;
  write_auth(conf / "auth.json", proxy.host(), "alice", "alice-pw");
  auto alice =
      remote_for(proxy.host(), "team/app", with_authfile(fast_options(), conf / "auth.json"));
  Pushed p;
  ASSERT_TRUE(registry::push_image(p.store, p.img.top, alice, "v1", {}));
  ASSERT_TRUE(alice.get_manifest("v1"));  // a pull token, now cached
  int before = b.ts.token_requests();
  // The registry rejects the cached token once: kiln fetches a fresh one and retries.
  proxy.add(
      {.kind = FaultRule::status, .method = "GET", .target_contains = "/manifests/", .code = 401});
  auto m = alice.get_manifest("v1");
  ASSERT_TRUE(m) << m.error().what();
  EXPECT_EQ(b.ts.token_requests(), before + 1);
}

}  // namespace
}  // namespace kiln::test
