// Client logic over a scripted Transport: no registry, no sockets. Shows the
// seam works and pins down auth, retry and redirect behaviour exactly.
#include <gtest/gtest.h>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>

#include "registry/client.hpp"
#include "registry/remote.hpp"
#include "registry/transfer.hpp"

namespace kiln::registry {
namespace {

struct Scripted {
  int status = 200;
  Headers headers;
  std::string body;
};

class FakeExchange final : public Exchange {
 public:
  FakeExchange(Response r, std::string body) : r_(std::move(r)), body_(std::move(body)) {}
  const Response& response() const override { return r_; }
  Result<size_t> read(std::span<std::byte> buf) override {
    size_t n = std::min(buf.size(), body_.size() - pos_);
    std::memcpy(buf.data(), body_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  Response r_;
  std::string body_;
  size_t pos_ = 0;
};

// Answers requests in order from a script; records what was sent.
class FakeTransport final : public Transport {
 public:
  std::deque<Scripted> script;
  std::vector<Request> sent;
  Result<std::unique_ptr<Exchange>> start(const Request& req) override {
    std::lock_guard lock(mu_);
    sent.push_back(req);
    if (script.empty()) return fail("unexpected request ", req.method, " ", req.url);
    Scripted s = script.front();
    script.pop_front();
    if (s.status == 0) return tl::unexpected(Error{"connection reset", {}, 0, {}, ECONNRESET});
    Response r;
    r.status = s.status;
    r.headers = s.headers;
    r.url = req.url;
    return std::unique_ptr<Exchange>(new FakeExchange(r, s.body));
  }
  std::string auth_of(size_t i) const {
    for (auto& [k, v] : sent.at(i).headers)
      if (k == "Authorization") return v;
    return "";
  }

 private:
  std::mutex mu_;
};

class StaticKeychain final : public Keychain {
 public:
  explicit StaticKeychain(std::optional<Credentials> c) : c_(std::move(c)) {}
  Result<std::optional<Credentials>> get(const std::string&, const std::string&) override {
    return c_;
  }

 private:
  std::optional<Credentials> c_;
};

struct Fixture {
  std::shared_ptr<FakeTransport> t = std::make_shared<FakeTransport>();
  std::vector<std::chrono::milliseconds> slept;
  std::shared_ptr<Client> make(std::optional<Credentials> creds = {}, bool tls_verify = true) {
    ClientOptions o;
    o.tls_verify = tls_verify;
    o.transport = t;
    o.keychain = std::make_shared<StaticKeychain>(creds);
    o.sleep = [this](std::chrono::milliseconds d) { slept.push_back(d); };
    o.retry.random = [] { return 0.0; };
    return Client::create("reg.example", o);
  }
};

Request get(const std::string& url) {
  Request r;
  r.url = url;
  return r;
}

// What the chunked-upload tests push: 300 bytes, more than the 100 that go up
// in one request, sent in chunks of `chunk` bytes against the fixture's script.
const std::string kChunkedBlob(300, 'x');

oci::Descriptor chunked_blob() {
  oci::Descriptor d;
  d.media_type = "application/octet-stream";
  d.digest = oci::Digest::of_bytes(kChunkedBlob);
  d.size = static_cast<int64_t>(kChunkedBlob.size());
  return d;
}

Result<UploadOutcome> upload_chunked(Fixture& f, int64_t chunk) {
  Remote remote(f.make(), "team/a");
  UploadOptions opts;
  opts.monolithic_max = 100;
  opts.chunk_size = chunk;
  return remote.upload_blob(
      chunked_blob(),
      [](int64_t off) -> Result<std::unique_ptr<Reader>> {
        return std::unique_ptr<Reader>(
            new StringReader(kChunkedBlob.substr(static_cast<size_t>(off))));
      },
      opts);
}

// The Content-Range of every PATCH sent.
std::vector<std::string> patch_ranges(const FakeTransport& t) {
  std::vector<std::string> out;
  for (auto& r : t.sent)
    if (r.method == "PATCH")
      for (auto& [k, v] : r.headers)
        if (k == "Content-Range") out.push_back(v);
  return out;
}

TEST(ClientFake, BearerChallengeTokenCacheAndRetryOn503) {
  Fixture f;
  f.t->script = {
      {401, {{"www-authenticate", R"(Bearer realm="https://auth.example/token",service="reg")"}}},
      {200, {}, R"({"token":"T1","expires_in":300})"},
      {503, {{"retry-after", "2"}}},
      {200, {}, "manifest"},
      {200, {}, "again"},
  };
  auto c = f.make(Credentials{"u", "p", ""});
  auto u = c->url("/v2/a/manifests/x");
  ASSERT_TRUE(u);
  EXPECT_EQ(*u, "https://reg.example/v2/a/manifests/x");
  auto ex = c->send(get(*u), {Scope::pull("a")});
  ASSERT_TRUE(ex) << ex.error().what();
  EXPECT_EQ((*ex)->response().status, 200);
  EXPECT_EQ(f.t->sent[1].url, "https://auth.example/token?service=reg&scope=repository:a:pull");
  EXPECT_EQ(f.t->auth_of(1), "Basic dTpw");
  EXPECT_EQ(f.t->auth_of(2), "Bearer T1");
  EXPECT_EQ(f.t->auth_of(3), "Bearer T1");
  ASSERT_EQ(f.slept.size(), 1u);
  EXPECT_EQ(f.slept[0], std::chrono::seconds(2));     // Retry-After
  ASSERT_TRUE(c->send(get(*u), {Scope::pull("a")}));  // token from the cache
  EXPECT_EQ(f.t->sent.size(), 5u);
}

TEST(ClientFake, RedirectToOtherHostCarriesNoCredentials) {
  Fixture f;
  f.t->script = {
      {401, {{"www-authenticate", R"(Basic realm="r")"}}},
      {307, {{"location", "https://cdn.example/blob?sig=1"}}},
      {200, {}, "bytes"},
  };
  auto c = f.make(Credentials{"u", "p", ""});
  auto ex = c->send(get("https://reg.example/v2/a/blobs/sha256:x"), {Scope::pull("a")});
  ASSERT_TRUE(ex) << ex.error().what();
  EXPECT_EQ(f.t->auth_of(1), "Basic dTpw");
  EXPECT_EQ(f.t->sent[2].url, "https://cdn.example/blob?sig=1");
  EXPECT_EQ(f.t->auth_of(2), "");
}

TEST(ClientFake, HttpsRealmRequiredAndConnectionErrorsRetried) {
  Fixture f;
  f.t->script = {
      {401, {{"www-authenticate", R"(Bearer realm="http://auth.example/token",service="reg")"}}},
  };
  auto c = f.make(Credentials{"u", "p", ""});
  auto ex = c->send(get("https://reg.example/v2/a/manifests/x"), {Scope::pull("a")});
  ASSERT_FALSE(ex);
  EXPECT_NE(ex.error().what().find("not https"), std::string::npos) << ex.error().what();
  EXPECT_EQ(f.t->sent.size(), 1u);  // nothing went to the http realm

  Fixture g;
  g.t->script = {{200}, {0}, {0}, {200, {}, "ok"}};
  auto c2 = g.make();
  auto ok = c2->send(get("https://reg.example/v2/"), {});
  ASSERT_TRUE(ok) << ok.error().what();
  EXPECT_EQ(g.slept.size(), 2u);
}

TEST(ClientFake, InsecureRegistryFallsBackToHttp) {
  Fixture f;
  f.t->script = {{0}, {200}};
  auto c = f.make({}, /*tls_verify=*/false);
  auto u = c->url("/v2/x");
  ASSERT_TRUE(u) << u.error().what();
  EXPECT_EQ(*u, "http://reg.example/v2/x");
  EXPECT_EQ(f.t->sent[0].url, "https://reg.example/v2/");
  EXPECT_TRUE(f.slept.empty());
}

TEST(RemoteFake, SchemaOneManifestIsRefused) {
  Fixture f;
  f.t->script = {
      {200},
      {200,
       {{"content-type", "application/vnd.docker.distribution.manifest.v1+prettyjws"}},
       R"({"schemaVersion":1,"name":"a","tag":"old","fsLayers":[]})"},
  };
  Remote remote(f.make(), "team/a");
  auto m = remote.get_manifest("old");
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().what().find("reg.example/team/a: manifest old: is a Docker schema 1"),
            std::string::npos)
      << m.error().what();
}

TEST(RemoteFake, ChunkedUploadHonoursOciChunkMinLength) {
  Fixture f;
  auto loc = [](std::string range) {
    return Headers{{"location", "/v2/team/a/blobs/uploads/u1?state=" + range}, {"range", range}};
  };
  f.t->script = {
      {200},
      {404},
      {202, {{"location", "/v2/team/a/blobs/uploads/u1"}, {"oci-chunk-min-length", "120"}}},
      {202, loc("0-119")},
      {202, loc("0-239")},
      {202, loc("0-299")},
      {201, {{"docker-content-digest", chunked_blob().digest.str()}}},
  };
  auto out = upload_chunked(f, 50);  // below the registry's minimum: raised to 120
  ASSERT_TRUE(out) << out.error().what();
  EXPECT_EQ(*out, UploadOutcome::uploaded);
  ASSERT_EQ(f.t->sent.size(), 7u);
  EXPECT_EQ(patch_ranges(*f.t), (std::vector<std::string>{"0-119", "120-239", "240-299"}));
  EXPECT_EQ(f.t->sent[4].url, "https://reg.example/v2/team/a/blobs/uploads/u1?state=0-119");
  EXPECT_EQ(f.t->sent[6].method, "PUT");
  EXPECT_NE(f.t->sent[6].url.find("&digest=sha256:"), std::string::npos) << f.t->sent[6].url;
}

TEST(RemoteFake, PaginationThatLoopsIsRefused) {
  Fixture f;
  f.t->script = {
      {200},
      {200,
       {{"link", R"(</v2/team/a/tags/list?n=2&last=b>; rel="next")"}},
       R"({"tags":["a","b"]})"},
      {200, {{"link", R"(</v2/team/a/tags/list?n=2>; rel="next")"}}, R"({"tags":["c"]})"},
  };
  Remote remote(f.make(), "team/a");
  auto tags = remote.tags(2);
  ASSERT_FALSE(tags);
  EXPECT_NE(tags.error().what().find("next page is one it sent before"), std::string::npos)
      << tags.error().what();
  EXPECT_EQ(f.t->sent.size(), 3u);  // and no fourth request
}

TEST(RemoteFake, ListedNamesAreCheckedAndTheRestOfThePageIsNotKept) {
  // Values beside the names, however deep, are skipped.
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  Fixture f;
  f.t->script = {{200}, {200, {}, R"({"junk":)" + deep + R"(,"tags":["a","b"],"n":[1,2]})"}};
  Remote remote(f.make(), "team/a");
  auto tags = remote.tags(0);
  ASSERT_TRUE(tags) << tags.error().what();
  EXPECT_EQ(*tags, (std::vector<std::string>{"a", "b"}));

  // A name with an escape sequence would reach the terminal: refused.
  Fixture g;
  g.t->script = {{200}, {200, {}, R"({"tags":["ok","\u001b]52;c;aGk=\u0007"]})"}};
  Remote r2(g.make(), "team/a");
  tags = r2.tags(0);
  ASSERT_FALSE(tags);
  EXPECT_NE(tags.error().what().find("control or non-ASCII characters"), std::string::npos)
      << tags.error().what();

  for (std::string body :
       {"[]", R"("tags")", R"({"tags":["a")", R"({"tags":["a"],"tags":["b"]})"}) {
    Fixture h;
    h.t->script = {{200}, {200, {}, body}};
    Remote r3(h.make(), "team/a");
    tags = r3.tags(0);
    ASSERT_FALSE(tags) << body;
    EXPECT_NE(tags.error().what().find("invalid JSON"), std::string::npos) << tags.error().what();
  }
}

TEST(RemoteFake, PaginationDoesNotDowngradeToHttp) {
  Fixture f;
  f.t->script = {
      {200},
      {200,
       {{"link", R"(<http://reg.example/v2/team/a/tags/list?last=a>; rel="next")"}},
       R"({"tags":["a"]})"},
  };
  Remote remote(f.make(), "team/a");
  auto tags = remote.tags(0);
  ASSERT_FALSE(tags);
  EXPECT_NE(tags.error().what().find("downgrades https to http"), std::string::npos)
      << tags.error().what();
  EXPECT_EQ(f.t->sent.size(), 2u);
}

TEST(RemoteFake, DeeplyNestedManifestIsRefusedNotACrash) {
  // Kept as an unknown descriptor field, 200,000 levels would be copied
  // recursively, one stack frame a level.
  std::string deep = std::string(200000, '[') + std::string(200000, ']');
  std::string body =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"a","digest":"sha256:)" +
      std::string(64, 'a') + R"(","size":1,"x":)" + deep + R"(},"layers":[]})";
  Fixture f;
  f.t->script = {{200},
                 {200, {{"content-type", "application/vnd.oci.image.manifest.v1+json"}}, body}};
  Remote remote(f.make(), "team/a");
  auto img = resolve_remote(remote, "deep", {});
  ASSERT_FALSE(img);
  EXPECT_NE(img.error().what().find("invalid JSON"), std::string::npos) << img.error().what();
}

TEST(RemoteFake, UploadRangeBeyondWhatWasSentIsClamped) {
  // "0-9223372036854775807" overflowed the end offset (+1). A registry cannot
  // claim more than kiln has sent: the upload goes on from the chunk's end.
  Fixture f;
  auto at = [](std::string range) {
    return Headers{{"location", "/v2/team/a/blobs/uploads/u1"}, {"range", range}};
  };
  f.t->script = {
      {200},
      {404},
      {202, {{"location", "/v2/team/a/blobs/uploads/u1"}}},
      {202, at("0-9223372036854775807")},
      {202, at("0-239")},
      {202, at("0-299")},
      {201, {{"docker-content-digest", chunked_blob().digest.str()}}},
  };
  auto out = upload_chunked(f, 120);
  ASSERT_TRUE(out) << out.error().what();
  ASSERT_EQ(f.t->sent.size(), 7u);
  EXPECT_EQ(patch_ranges(*f.t), (std::vector<std::string>{"0-119", "120-239", "240-299"}));
  EXPECT_EQ(f.t->sent[6].method, "PUT");
}

TEST(RemoteFake, BlobOfSizeZeroTakesNoBytes) {
  // A manifest may say 0 bytes: that bounds the download like any other size.
  Fixture f;
  f.t->script = {{200}, {200, {}, "endless"}};
  Remote remote(f.make(), "team/a");
  oci::Descriptor d;
  d.media_type = "application/octet-stream";
  d.digest = oci::Digest::of_bytes("");
  d.size = 0;
  auto r = remote.open_blob(d);
  ASSERT_TRUE(r) << r.error().what();
  std::vector<std::byte> buf(4096);
  auto n = (*r)->read(buf);
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().what().find("more than the expected 0 bytes"), std::string::npos)
      << n.error().what();
}

TEST(RemoteFake, IndexChildrenAreFetchedOnceAndNoLargerThanDeclared) {
  std::string child =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json",)"
      R"("digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},)"
      R"("layers":[]})";
  auto cd = oci::Digest::of_bytes(child);
  auto index = [&](int64_t size) {
    std::string e = R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                    cd.str() + R"(","size":)" + std::to_string(size) +
                    R"(,"platform":{"os":"linux","architecture":"amd64"}})";
    return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
           e + "," + e + "]}";
  };
  PlatformChoice all;
  all.all = true;

  Fixture f;  // the same child listed twice: one GET
  f.t->script = {{200}, {200, {}, index(static_cast<int64_t>(child.size()))}, {200, {}, child}};
  Remote remote(f.make(), "team/a");
  auto img = resolve_remote(remote, "multi", all);
  ASSERT_TRUE(img) << img.error().what();
  EXPECT_EQ(img->manifests.size(), 1u);
  EXPECT_EQ(f.t->sent.size(), 3u);

  Fixture g;  // a child larger than the index says is refused
  g.t->script = {{200}, {200, {}, index(10)}, {200, {}, child}};
  Remote remote2(g.make(), "team/a");
  auto bad = resolve_remote(remote2, "multi", all);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().what().find("larger than the limit of 10 bytes"), std::string::npos)
      << bad.error().what();
}

}  // namespace
}  // namespace kiln::registry
