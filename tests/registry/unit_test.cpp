// Unit tests without a registry: WWW-Authenticate parsing, scopes, URLs and
// Location validation, retry policy, keychain lookup, token requests, proxy
// credentials in messages and NO_PROXY.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <optional>

#include <unistd.h>

#include "registry/auth.hpp"
#include "registry/keychain.hpp"
#include "registry/proxy.hpp"
#include "registry/remote.hpp"
#include "registry/retry.hpp"
#include "registry/scope.hpp"
#include "registry/tls.hpp"
#include "registry/url.hpp"
#include "registry/www_authenticate.hpp"
#include "tests/support/tmp.hpp"

namespace kiln::registry {
namespace {

using namespace std::chrono_literals;

TEST(WwwAuthenticate, BearerWithQuotedParams) {
  auto c = parse_www_authenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull,push")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].param("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(c[0].param("service"), "registry.docker.io");
  EXPECT_EQ(c[0].param("scope"), "repository:library/ubuntu:pull,push");
}

TEST(WwwAuthenticate, SeveralChallengesSpacingCaseAndEscapes) {
  auto c = parse_www_authenticate(
      R"(Basic realm="a \"quoted\" realm" , BEARER Realm = "https://h/t" ,error=insufficient_scope,  Negotiate abc==)");
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].param("realm"), "a \"quoted\" realm");
  EXPECT_EQ(c[1].scheme, "bearer");
  EXPECT_EQ(c[1].param("realm"), "https://h/t");
  EXPECT_EQ(c[1].param("error"), "insufficient_scope");
  EXPECT_EQ(c[2].scheme, "negotiate");
  EXPECT_EQ(c[2].token68, "abc==");
}

TEST(WwwAuthenticate, GarbageNeverCrashes) {
  for (std::string s : {"", ",,,", "=", "Bearer", "Bearer realm=", "Bearer realm=\"unterminated",
                        "\"quoted\" Basic", "Basic ,realm=x", "a=b=c, Basic realm=r"}) {
    auto c = parse_www_authenticate(s);
    for (auto& x : c)
      EXPECT_FALSE(x.scheme.empty()) << s;
  }
  auto c = parse_www_authenticate("a=b=c, Basic realm=r");
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c.back().scheme, "basic");
  EXPECT_EQ(c.back().param("realm"), "r");
}

TEST(Scope, StringsMergeAndCover) {
  EXPECT_EQ(Scope::pull("team/app").str(), "repository:team/app:pull");
  EXPECT_EQ(Scope::push("team/app").str(), "repository:team/app:pull,push");
  EXPECT_EQ(Scope::catalog().str(), "registry:catalog:*");
  Scopes s{Scope::pull("b"), Scope::push("a")};
  s.add(Scope::pull("a"));
  EXPECT_EQ(s.key(), "repository:a:pull,push repository:b:pull");
  EXPECT_TRUE(s.covers(Scopes{Scope::pull("a")}));
  EXPECT_FALSE(s.covers(Scopes{Scope::push("b")}));
  Scope parsed;
  ASSERT_TRUE(Scope::parse("repository:localhost:5000/x:pull,push", parsed));
  EXPECT_EQ(parsed.name, "localhost:5000/x");
  EXPECT_EQ(parsed.actions, (std::set<std::string>{"pull", "push"}));
  EXPECT_FALSE(Scope::parse("nonsense", parsed));
}

TEST(Url, ParseResolveAndOrigin) {
  auto u = Url::parse("HTTPS://Reg.Example:443/v2/a/blobs/uploads/x?_state=s");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "reg.example");
  EXPECT_EQ(u->origin(), "https://reg.example:443");
  EXPECT_EQ(u->str(), "https://reg.example/v2/a/blobs/uploads/x?_state=s");
  EXPECT_FALSE(Url::parse("https://user:pw@reg.example/"));
  EXPECT_FALSE(Url::parse("ftp://reg.example/"));
  EXPECT_FALSE(Url::parse("/relative"));
  auto r = resolve_url(*u, "/v2/a/blobs/uploads/y?_state=t");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->str(), "https://reg.example/v2/a/blobs/uploads/y?_state=t");
  auto rel = resolve_url(*u, "../../b/c");
  ASSERT_TRUE(rel);
  EXPECT_EQ(rel->path_query, "/v2/a/b/c");
  auto v6 = Url::parse("http://[::1]:5000/v2/");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "[::1]");
  EXPECT_EQ(v6->port, 5000);
  EXPECT_EQ(u->with_query("digest", "sha256:ab").path_query,
            "/v2/a/blobs/uploads/x?_state=s&digest=sha256:ab");
}

TEST(Url, AHostHoldsNoColon) {
  // "127.0.0.1:80p:" was read as host "127.0.0.1:80p" on the default port: a
  // URL whose str() did not parse again (found by fuzz_www_authenticate).
  EXPECT_FALSE(Url::parse("http://127.0.0.1:80p:/token"));
  EXPECT_FALSE(Url::parse("https://a:b:443/"));
  EXPECT_FALSE(Url::parse("https://[::1]:5000:1/"));
  auto empty_port = Url::parse("https://reg.example:/v2/");
  ASSERT_TRUE(empty_port);
  EXPECT_EQ(empty_port->str(), "https://reg.example/v2/");
}

TEST(Url, LocationValidation) {
  auto base = *Url::parse("https://reg.example/v2/a/blobs/uploads/");
  auto same = validate_location(base, "/v2/a/blobs/uploads/1?_state=x", false);
  ASSERT_TRUE(same);
  EXPECT_TRUE(same->credentials_ok);
  auto other = validate_location(base, "https://storage.example/bucket/1", false);
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->credentials_ok);
  auto port = validate_location(base, "https://reg.example:8443/v2/", false);
  ASSERT_TRUE(port);
  EXPECT_FALSE(port->credentials_ok);
  EXPECT_FALSE(validate_location(base, "http://reg.example/v2/", false));  // downgrade
  auto insecure = validate_location(base, "http://reg.example/v2/", true);
  ASSERT_TRUE(insecure);
  EXPECT_FALSE(insecure->credentials_ok);  // another scheme is another origin
  EXPECT_FALSE(validate_location(base, "", false));
  EXPECT_FALSE(validate_location(base, "https://u:p@reg.example/", false));
  EXPECT_FALSE(validate_location(base, "javascript:alert(1)", false));
}

TEST(Url, MessagesShowNoQuery) {
  EXPECT_EQ(url_for_messages("https://cdn.example/b?X-Amz-Signature=s&X-Amz-Security-Token=t"),
            "https://cdn.example/b?…");
  EXPECT_EQ(url_for_messages("https://reg.example/v2/a/blobs/uploads/u"),
            "https://reg.example/v2/a/blobs/uploads/u");
}

TEST(Retry, BackoffGrowsIsCappedAndHonoursRetryAfter) {
  RetryPolicy p;
  p.base_delay = 100ms;
  p.max_delay = 1000ms;
  p.random = [] { return 0.0; };
  EXPECT_EQ(p.delay(1, std::nullopt), 50ms);
  EXPECT_EQ(p.delay(2, std::nullopt), 100ms);
  EXPECT_EQ(p.delay(3, std::nullopt), 200ms);
  EXPECT_EQ(p.delay(20, std::nullopt), 500ms);
  p.random = [] { return 0.999; };
  EXPECT_LT(p.delay(20, std::nullopt), 1000ms);
  EXPECT_GE(p.delay(20, std::nullopt), 990ms);
  EXPECT_EQ(p.delay(1, 3000ms), 3000ms);
  EXPECT_EQ(p.delay(1, std::chrono::hours(1)), p.max_retry_after);
  EXPECT_TRUE(p.allows(4));
  EXPECT_FALSE(p.allows(5));
}

TEST(Retry, WhatIsRetried) {
  for (int s : {429, 500, 502, 503, 504, 408})
    EXPECT_TRUE(retryable_status(s)) << s;
  for (int s : {200, 400, 401, 403, 404, 416, 501, 505})
    EXPECT_FALSE(retryable_status(s)) << s;
  Error e;
  e.sys_errno = ECONNRESET;
  EXPECT_TRUE(retryable_error(e));
  e.sys_errno = ETIMEDOUT;
  EXPECT_TRUE(retryable_error(e));
  e.sys_errno = EPROTO;  // TLS: retrying will not help
  EXPECT_FALSE(retryable_error(e));
  e.sys_errno = 0;
  e.http_status = 503;
  EXPECT_TRUE(retryable_error(e));
}

TEST(Retry, RetryAfterForms) {
  EXPECT_EQ(parse_retry_after("7"), 7000ms);
  EXPECT_EQ(parse_retry_after(" 0 "), 0ms);
  EXPECT_FALSE(parse_retry_after(""));
  EXPECT_FALSE(parse_retry_after("soon"));
  auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now), 10000ms);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now), 0ms);
}

TEST(Links, NextLinkParsing) {
  EXPECT_EQ(next_link(R"(</v2/a/tags/list?last=b&n=2>; rel="next")"), "/v2/a/tags/list?last=b&n=2");
  EXPECT_EQ(next_link(R"(<https://x/prev>; rel="prev", <https://x/next>; rel=next)"),
            "https://x/next");
  EXPECT_EQ(next_link(""), "");
  EXPECT_EQ(next_link("<https://x/p>; rel=\"prev\""), "");
}

class KeychainTest : public ::testing::Test {
 protected:
  test::Scratch s;
  std::optional<std::string> old_path_;
  KeychainPaths paths() {
    KeychainPaths p;
    p.home = (s / "home").string();
    p.xdg_runtime_dir = (s / "run").string();
    return p;
  }
  // docker-credential-NAME on PATH (put back at the end of the test).
  void install_helper(const std::string& name, const std::string& script) {
    auto f = s / "bin" / ("docker-credential-" + name);
    test::write_text(f, script);
    std::filesystem::permissions(f, std::filesystem::perms::owner_all);
    if (!old_path_) {
      old_path_ = std::getenv("PATH") ? std::getenv("PATH") : "";
      ::setenv("PATH", ((s / "bin").string() + ":" + *old_path_).c_str(), 1);
    }
  }
  void TearDown() override {
    if (old_path_) ::setenv("PATH", old_path_->c_str(), 1);
  }
};

TEST_F(KeychainTest, OrderAndMostSpecificKey) {
  test::write_text(s / "run/containers/auth.json", R"({"auths":{
      "reg.example": {"auth": ")" + base64_encode("runtime:pw1") +
                                                       R"("},
      "reg.example/team": {"auth": ")" + base64_encode("team:pw2") +
                                                       R"("}}})");
  test::write_text(s / "home/.docker/config.json", R"({"auths":{
      "https://index.docker.io/v1/": {"auth": ")" + base64_encode("hub:pw3") +
                                                       R"("},
      "reg.example": {"auth": ")" + base64_encode("docker:pw4") +
                                                       R"("},
      "other.example:5000": {"identitytoken": "tok"}}})");
  FileKeychain k(paths());
  auto c = k.get("reg.example", "team/app");
  ASSERT_TRUE(c && *c);
  EXPECT_EQ((*c)->username, "team");
  c = k.get("reg.example", "solo/app");
  ASSERT_TRUE(c && *c);
  EXPECT_EQ((*c)->username, "runtime");
  c = k.get("docker.io", "library/busybox");
  ASSERT_TRUE(c && *c);
  EXPECT_EQ((*c)->username, "hub");
  EXPECT_EQ((*c)->password, "pw3");
  c = k.get("other.example:5000", "x");
  ASSERT_TRUE(c && *c);
  EXPECT_EQ((*c)->identity_token, "tok");
  c = k.get("unknown.example", "x");
  ASSERT_TRUE(c);
  EXPECT_FALSE(*c);

  // --authfile comes first of all.
  auto p = paths();
  p.authfile = (s / "flag.json").string();
  test::write_text(s / "flag.json",
                   R"({"auths":{"reg.example":{"auth":")" + base64_encode("flag:pw") + R"("}}})");
  auto c2 = FileKeychain(p).get("reg.example", "team/app");
  ASSERT_TRUE(c2 && *c2);
  EXPECT_EQ((*c2)->username, "flag");
}

TEST_F(KeychainTest, CredentialHelpers) {
  // A fake helper on PATH answering the docker-credential protocol.
  install_helper(
      "fake",
      "#!/bin/sh\nread server\n"
      "if [ \"$server\" = helped.example ]; then\n"
      "  echo '{\"ServerURL\":\"helped.example\",\"Username\":\"hu\",\"Secret\":\"hs\"}'\n"
      "elif [ \"$server\" = tok.example ]; then\n"
      "  echo '{\"Username\":\"<token>\",\"Secret\":\"refresh\"}'\n"
      "else echo 'credentials not found in native keychain'; exit 1; fi\n");
  test::write_text(s / "home/.docker/config.json",
                   R"({"credHelpers":{"helped.example":"fake"},"credsStore":"fake"})");
  FileKeychain k(paths());
  auto c = k.get("helped.example", "a");
  ASSERT_TRUE(c && *c) << (c ? "none" : c.error().what());
  EXPECT_EQ((*c)->username, "hu");
  EXPECT_EQ((*c)->password, "hs");
  c = k.get("tok.example", "a");
  ASSERT_TRUE(c && *c);
  EXPECT_EQ((*c)->identity_token, "refresh");
  c = k.get("nothing.example", "a");
  ASSERT_TRUE(c) << c.error().what();
  EXPECT_FALSE(*c);
}

TEST_F(KeychainTest, HelperThatIgnoresStdinOrLeavesAChildBehind) {
  // It answers without reading the server name and exits, leaving a child that
  // holds its stdout for 20 s: kiln takes the answer when the helper exits
  // (not when the child lets go). The name is larger than a pipe's buffer, so
  // kiln's write meets the closed stdin: EPIPE, not a SIGPIPE that ends kiln.
  install_helper("odd",
                 "#!/bin/sh\nexec 0<&-\n"
                 "echo '{\"Username\":\"ou\",\"Secret\":\"os\"}'\n"
                 "sleep 20 &\nexit 0\n");
  auto t0 = std::chrono::steady_clock::now();
  auto c = run_credential_helper("odd", std::string(256 * 1024, 'a') + ".example");
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(c && *c) << (c ? "none" : c.error().what());
  EXPECT_EQ((*c)->username, "ou");
  EXPECT_LT(took, std::chrono::seconds(10));
}

TEST_F(KeychainTest, HelperThatClosesItsPipesAndHangsIsKilledAtTheDeadline) {
  // Its pipes end at once, but it has not exited: kiln waits for the exit (an
  // answer may still be coming through a child), up to the deadline.
  install_helper("mute", "#!/bin/sh\nexec 0<&- 1>&- 2>&-\nexec sleep 30\n");
  auto t0 = std::chrono::steady_clock::now();
  auto c = run_credential_helper("mute", "reg.example", std::chrono::milliseconds(500));
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message,
            "credential helper docker-credential-mute did not answer within 0.5s");
  EXPECT_GE(took, std::chrono::milliseconds(500));
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST_F(KeychainTest, StoreAndRemoveKeepOtherEntries) {
  auto f = s / "auth.json";
  test::write_text(f, R"({"auths":{"https://index.docker.io/v1/":{"auth":"eDp5"}},"other":1})");
  ASSERT_TRUE(store_credentials(f, "docker.io", {"u", "p", ""}));
  ASSERT_TRUE(store_credentials(f, "reg.example:5000", {"a", "b", ""}));
  auto j = nlohmann::json::parse(test::read_text(f));
  EXPECT_EQ(j["other"], 1);
  EXPECT_EQ(j["auths"].size(), 2u);  // the legacy Docker Hub key was replaced
  EXPECT_EQ(j["auths"]["docker.io"]["auth"], base64_encode("u:p"));
  EXPECT_EQ(std::filesystem::status(f).permissions() & std::filesystem::perms::group_read,
            std::filesystem::perms::none);
  auto r = remove_credentials(f, "reg.example:5000");
  ASSERT_TRUE(r);
  EXPECT_TRUE(*r);
  r = remove_credentials(f, "reg.example:5000");
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
}

TEST(TokenRequest, GetWithBasicOrOAuth2Post) {
  TokenRequest t;
  t.realm = "https://auth.example/token";
  t.service = "reg";
  t.scopes = Scopes{Scope::push("team/app")};
  t.credentials = Credentials{"u", "p", ""};
  auto r = token_request(t);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->url,
            "https://auth.example/token?service=reg&scope=repository:team%2Fapp:pull%2Cpush");
  t.credentials = Credentials{"", "", "refresh-tok"};
  r = token_request(t);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->url.find("refresh"), std::string::npos);  // secrets stay out of URLs
  EXPECT_NE(r->body.find("grant_type=refresh_token"), std::string::npos);
  // The realm must be https unless the registry is insecure.
  t.realm = "http://auth.example/token";
  EXPECT_FALSE(token_request(t));
  t.insecure = true;
  // Even then credentials (a refresh token here, a password below) go over
  // plain http only to the registry's own origin; anonymous requests go anywhere.
  t.registry_base = "http://reg.example:5000";
  auto refused = token_request(t);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("http://auth.example/token"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(refused.error().message.find("refresh-tok"), std::string::npos);
  t.credentials = Credentials{"u", "p", ""};
  EXPECT_FALSE(token_request(t));
  t.realm = "http://reg.example:5001/token";
  EXPECT_FALSE(token_request(t));
  t.realm = "http://reg.example:5000/token";
  EXPECT_TRUE(token_request(t));
  t.registry_base = "https://reg.example:5000";
  EXPECT_FALSE(token_request(t));
  t.realm = "http://auth.example/token";
  t.credentials.reset();
  r = token_request(t);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->headers.empty());
  auto reply = parse_token_reply(R"({"access_token":"abc","expires_in":300})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->token, "abc");
  EXPECT_EQ(reply->expires_in, std::chrono::seconds(300));
  EXPECT_FALSE(parse_token_reply("{}"));
  // A token goes into a header: CR/LF would let the token service add headers.
  EXPECT_FALSE(parse_token_reply(R"({"token":"abc\r\nX-Injected: 1"})"));
  EXPECT_FALSE(parse_token_reply(R"({"token":"a b"})"));
  // A lifetime past a day is a day: larger ones overflowed the renewal clock
  // and made every request fetch a new token.
  reply = parse_token_reply(R"({"token":"t","expires_in":9223372036854775807})");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->expires_in, std::chrono::hours(24));
}

TEST(Tls, CertsDirAndRegistriesConf) {
  test::Scratch s;
  test::write_text(s / "d/reg.example:5000/ca.crt", "CA PEM");
  test::write_text(s / "d/reg.example:5000/client.cert", "CERT");
  test::write_text(s / "d/reg.example:5000/client.key", "KEY");
  auto t = load_tls_settings("reg.example:5000", "", {s / "d"}, true);
  EXPECT_NE(t.extra_ca_pem.find("CA PEM"), std::string::npos);
  EXPECT_EQ(t.client_cert, (s / "d/reg.example:5000/client.cert").string());
  EXPECT_EQ(t.client_key, (s / "d/reg.example:5000/client.key").string());
  EXPECT_TRUE(load_tls_settings("other", "", {s / "d"}, true).extra_ca_pem.empty());
  test::write_text(
      s / "registries.conf",
      "unqualified-search-registries = [\"docker.io\"]\n[[registry]]\n"
      "location = \"insecure.example:5000\"\ninsecure = true\n[[registry]]\n"
      "location = \"secure.example\"\n[registries.insecure]\nregistries = ['old.example']\n");
  auto ins = insecure_registries(s / "registries.conf");
  EXPECT_EQ(ins, (std::set<std::string>{"insecure.example:5000", "old.example"}));
}

TEST(Proxy, CredentialsNeverReachAMessage) {
  std::string proxy = "http://builder:p@ss:w0rd@proxy.corp:3128";
  EXPECT_EQ(proxy_userinfo(proxy), "builder:p@ss:w0rd");  // split at the last '@'
  EXPECT_EQ(proxy_for_messages(proxy), "http://proxy.corp:3128");
  EXPECT_EQ(proxy_for_messages("http://proxy.corp:3128"), "http://proxy.corp:3128");
  EXPECT_EQ(proxy_userinfo("proxy.corp:3128"), "");
  std::string said = redact_proxy(
      "Unsupported proxy syntax in '" + proxy + "'; user builder:p@ss:w0rd; pass p@ss:w0rd", proxy);
  EXPECT_EQ(said.find("p@ss"), std::string::npos) << said;
  EXPECT_NE(said.find("http://proxy.corp:3128"), std::string::npos) << said;
  EXPECT_EQ(redact_proxy("no credentials here", "http://proxy:1"), "no credentials here");
}

TEST(Proxy, NoProxyFollowsLibcurlsRules) {
  EXPECT_TRUE(bypasses_proxy("*", "anything.example"));
  EXPECT_TRUE(bypasses_proxy("example.com", "registry.example.com"));
  EXPECT_TRUE(bypasses_proxy(".example.com", "example.com"));
  EXPECT_FALSE(bypasses_proxy("example.com", "badexample.com"));
  EXPECT_TRUE(bypasses_proxy("Registry.LOCAL", "registry.local"));
  EXPECT_TRUE(bypasses_proxy("a.test b.test", "b.test"));  // spaces split too
  EXPECT_TRUE(bypasses_proxy("a.test, 10.0.0.0/8", "10.1.2.3"));
  EXPECT_FALSE(bypasses_proxy("10.0.0.0/8", "11.0.0.1"));
  EXPECT_FALSE(bypasses_proxy("10.0.0.0/99", "10.0.0.1"));  // a bad prefix matches nothing
  EXPECT_TRUE(bypasses_proxy("fd00::/8", "[fd12::1]"));
  EXPECT_TRUE(bypasses_proxy("[::1]", "::1"));
  EXPECT_FALSE(bypasses_proxy("", "registry.local"));
  EXPECT_FALSE(bypasses_proxy(" , ", "registry.local"));
}

}  // namespace
}  // namespace kiln::registry
