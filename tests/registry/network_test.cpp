// Proxies from the environment, client certificates, and a token realm over TLS.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "registry/transfer.hpp"
#include "tests/registry/test_util.hpp"
#include "tests/support/net_proxy.hpp"
#include "tests/support/token_server.hpp"

namespace kiln::test {
namespace {

using registry::remote_for;

// Sets (or unsets, with nullopt) environment variables for one scope.
class EnvScope {
 public:
  void set(const std::string& k, std::optional<std::string> v) {
    if (const char* old = std::getenv(k.c_str()))
      saved_.push_back({k, std::string(old)});
    else
      saved_.push_back({k, std::nullopt});
    if (v)
      ::setenv(k.c_str(), v->c_str(), 1);
    else
      ::unsetenv(k.c_str());
  }
  ~EnvScope() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it)
      if (it->second)
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      else
        ::unsetenv(it->first.c_str());
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

void clear_proxies(EnvScope& env) {
  for (const char* k : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                        "ALL_PROXY", "no_proxy", "NO_PROXY"})
    env.set(k, std::nullopt);
}

struct Image {
  Scratch s;
  oci::Store store = *oci::Store::open(s / "store");
  MadeImage img = make_image(store, "example.com/n:1", {3000, 40000}, 5);
};

TEST(RegistryProxy, HttpProxyIsUsedAndNoProxyBypassesIt) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg;
  ForwardProxy proxy;
  Image p;
  EnvScope env;
  clear_proxies(env);
  env.set("HTTP_PROXY", proxy.url());
  auto remote = remote_for(reg.host(), "proxy/app", fast_options());
  auto pushed = registry::push_image(p.store, p.img.top, remote, "v1", {});
  ASSERT_TRUE(pushed) << pushed.error().what();
  auto seen = proxy.requests();
  ASSERT_FALSE(seen.empty());
  for (auto& r : seen)
    EXPECT_NE(r.find(" http://" + reg.host() + "/v2/"), std::string::npos) << r;

  env.set("no_proxy", "localhost,127.0.0.1");
  auto direct = remote_for(reg.host(), "proxy/app", fast_options());
  auto m = direct.get_manifest("v1");
  ASSERT_TRUE(m) << m.error().what();
  EXPECT_EQ(proxy.requests().size(), seen.size());
}

TEST(RegistryProxy, HttpsProxyTunnelsWithConnect) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg({.tls = true});
  ForwardProxy proxy;
  Scratch certs;
  std::filesystem::copy_file(test_pki().ca_crt, certs / "ca.crt");
  Image p;
  EnvScope env;
  clear_proxies(env);
  env.set("https_proxy", proxy.url());
  auto o = fast_options(/*tls_verify=*/true);
  o.cert_dir = certs.path().string();
  auto remote = remote_for(reg.host(), "proxy/tls", o);
  auto pushed = registry::push_image(p.store, p.img.top, remote, "v1", {});
  ASSERT_TRUE(pushed) << pushed.error().what();
  auto seen = proxy.requests();
  ASSERT_FALSE(seen.empty());
  for (auto& r : seen)
    EXPECT_EQ(r, "CONNECT " + reg.host());
}

// An https:// proxy is trusted through the system CAs only: the registry's own
// CA (certs.d, --cert-dir) must not vouch for the proxy. The system store is
// replaced for one kiln process by a bind mount in a private mount namespace.
TEST(RegistryProxy, HttpsProxyIsTrustedThroughTheSystemCasOnly) {
  KILN_REQUIRE_PEER("docker-registry");
  KILN_REQUIRE_PEER("unshare");
  const std::string bundle = "/etc/ssl/certs/ca-certificates.crt";
  if (!std::filesystem::exists(bundle)) GTEST_SKIP() << bundle << " is missing";
  RegistryServer reg({.tls = true});
  ForwardProxy proxy;
  TlsFront front(proxy.port());  // the proxy, over TLS with the registry CA's certificate
  Scratch dir;
  std::filesystem::create_directories(dir / "certs");
  std::filesystem::copy_file(test_pki().ca_crt, dir / "certs/ca.crt");
  {
    Image p;
    auto o = fast_options(true);
    o.cert_dir = (dir / "certs").string();
    EnvScope env;
    clear_proxies(env);
    auto remote = remote_for(reg.host(), "px/app", o);
    auto pushed = registry::push_image(p.store, p.img.top, remote, "v1", {});
    ASSERT_TRUE(pushed) << pushed.error().what();
  }
  auto kiln_via_proxy = [&](const std::string& prefix, const std::string& scheme = "https") {
    return sh(prefix + "env -u NO_PROXY -u no_proxy HTTPS_PROXY=" + scheme +
              "://127.0.0.1:" + std::to_string(front.port()) + " '" + kiln_bin() + "' --root '" +
              (dir / "root").string() + "' --cert-dir '" + (dir / "certs").string() + "' digest " +
              reg.host() + "/px/app:v1");
  };
  auto refused = kiln_via_proxy("");
  EXPECT_EQ(refused.status, 1) << refused.out;
  EXPECT_NE(refused.err.find(reg.host()), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("through the proxy https://127.0.0.1:" + std::to_string(front.port())),
            std::string::npos)
      << refused.err;
  EXPECT_TRUE(proxy.requests().empty()) << "a CONNECT went through an unverified proxy";
  EXPECT_EQ(kiln_via_proxy("", "HTTPS").status, 1);  // the scheme's case changes nothing
  EXPECT_TRUE(proxy.requests().empty()) << "a CONNECT went through an unverified proxy";
  // A proxy's password stays out of the message, even one libcurl cannot parse.
  for (std::string user : {"user:s3cr3t", "us:s3c@r3t/x"}) {
    auto secret = sh("env -u NO_PROXY -u no_proxy HTTPS_PROXY='https://" + user + "@127.0.0.1:" +
                     std::to_string(front.port()) + "' '" + kiln_bin() + "' --root '" +
                     (dir / "root").string() + "' digest " + reg.host() + "/px/app:v1");
    EXPECT_EQ(secret.status, 1);
    EXPECT_EQ(secret.err.find("s3c"), std::string::npos) << secret.err;
    EXPECT_EQ(secret.err.find("r3t"), std::string::npos) << secret.err;
    EXPECT_NE(
        secret.err.find(user == "user:s3cr3t" ? "through the proxy https://127.0.0.1:"
                                              : "proxy URL from the environment is malformed"),
        std::string::npos)
        << secret.err;
  }

  // With the test CA among the system CAs, the proxy is trusted and tunnels.
  write_text(dir / "bundle.crt", read_text(bundle) + "\n" + read_text(test_pki().ca_crt));
  auto ok = kiln_via_proxy("unshare --map-root-user --mount sh -c 'mount --bind \"$0\" " + bundle +
                           " && exec \"$@\"' '" + (dir / "bundle.crt").string() + "' ");
  ASSERT_EQ(ok.status, 0) << ok.err;
  EXPECT_EQ(ok.out.substr(0, 7), "sha256:") << ok.out;
  auto seen = proxy.requests();
  ASSERT_FALSE(seen.empty());
  for (auto& r : seen)
    EXPECT_EQ(r, "CONNECT " + reg.host());

  // An address range in NO_PROXY goes direct, and the error blames no proxy.
  auto direct = sh("NO_PROXY=127.0.0.0/8 HTTPS_PROXY=https://127.0.0.1:9 '" + kiln_bin() +
                   "' --root '" + (dir / "root").string() + "' digest 127.0.0.1:1/a/b:1");
  EXPECT_EQ(direct.status, 1);
  EXPECT_EQ(direct.err.find("proxy"), std::string::npos) << direct.err;
}

TEST(RegistryTls, ClientCertificateFromCertDirAndCertsD) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg({.tls = true, .client_ca = true});
  const TestPki& pki = test_pki();
  Image p;

  Scratch ca_only;
  std::filesystem::copy_file(pki.ca_crt, ca_only / "ca.crt");
  auto o = fast_options(true);
  o.cert_dir = ca_only.path().string();
  auto refused = remote_for(reg.host(), "mtls/app", o).get_manifest("v1");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().what().find(reg.host()), std::string::npos) << refused.error().what();

  // --cert-dir: the CA, and client.cert with the client.key of the same name.
  Scratch dir;
  std::filesystem::copy_file(pki.ca_crt, dir / "ca.crt");
  std::filesystem::copy_file(pki.client_crt, dir / "client.cert");
  std::filesystem::copy_file(pki.client_key, dir / "client.key");
  o.cert_dir = dir.path().string();
  auto with_cert = remote_for(reg.host(), "mtls/app", o);
  auto pushed = registry::push_image(p.store, p.img.top, with_cert, "v1", {});
  ASSERT_TRUE(pushed) << pushed.error().what();

  // certs.d/HOST:PORT/ holds the same material.
  Scratch tree;
  std::filesystem::create_directories(tree / reg.host());
  for (auto f : {"ca.crt", "client.cert", "client.key"})
    std::filesystem::copy_file(dir / f, tree / reg.host() / f);
  auto o2 = fast_options(true);
  o2.certs_d_roots = {tree.path()};
  auto from_tree = remote_for(reg.host(), "mtls/app", o2);
  Scratch s2;
  auto st2 = oci::Store::open(s2 / "st");
  auto pulled = registry::pull_image(from_tree, "v1", *st2, {});
  ASSERT_TRUE(pulled) << pulled.error().what();
  EXPECT_EQ(pulled->target.digest, p.img.top.digest);
}

TEST(RegistryBearer, RealmServedOverTls) {
  KILN_REQUIRE_PEER("docker-registry");
  TokenServer ts;
  ts.add_user("alice", "alice-pw", {{"repository:team/app", {"pull", "push"}}});
  TlsFront front(ts.port());
  RegistryOptions ro;
  ro.tls = true;
  ro.token_realm = "https://127.0.0.1:" + std::to_string(front.port()) + "/token";
  RegistryServer reg(ro);
  Scratch conf;
  ASSERT_TRUE(
      registry::store_credentials(conf / "auth.json", reg.host(), {"alice", "alice-pw", ""}));
  std::filesystem::copy_file(test_pki().ca_crt, conf / "ca.crt");
  auto o = fast_options(/*tls_verify=*/true);
  o.cert_dir = conf.path().string();
  registry::KeychainPaths kp;
  kp.authfile = (conf / "auth.json").string();
  o.keychain = std::make_shared<registry::FileKeychain>(kp);
  Image p;
  auto remote = remote_for(reg.host(), "team/app", o);
  auto pushed = registry::push_image(p.store, p.img.top, remote, "v1", {});
  ASSERT_TRUE(pushed) << pushed.error().what();
  EXPECT_GE(front.connections(), 1);
  EXPECT_EQ(ts.scope_log(), std::vector<std::string>{"repository:team/app:pull,push"});
  // kiln asks for AES-128-GCM first, as Go's crypto/tls and browsers do (OpenSSL's
  // own order starts with AES-256); a server that follows the client picks it.
  for (auto& c : front.ciphers())
    EXPECT_EQ(c, "TLS_AES_128_GCM_SHA256");
}

}  // namespace
}  // namespace kiln::test
