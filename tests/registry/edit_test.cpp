// kiln mutate and kiln append: local images, and registry images edited on the
// registry without their layers ever being downloaded (a FaultProxy with no
// rules in front of the registry counts the requests).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "registry/transfer.hpp"
#include "tests/registry/test_util.hpp"
#include "tests/support/fault_proxy.hpp"

namespace kiln::test {
namespace {

// Requests from `from` on that name one of `digests` with `method`.
int count(const std::vector<std::string>& log, size_t from, const std::string& method,
          const std::vector<oci::Descriptor>& digests) {
  int n = 0;
  for (size_t i = from; i < log.size(); ++i)
    for (auto& d : digests)
      if (log[i].rfind(method + " ", 0) == 0 && log[i].find(d.digest.str()) != std::string::npos)
        ++n;
  return n;
}

int count_prefix(const std::vector<std::string>& log, size_t from, const std::string& prefix) {
  int n = 0;
  for (size_t i = from; i < log.size(); ++i)
    n += log[i].find(prefix) != std::string::npos;
  return n;
}

class KilnEdit : public KilnCli {
 protected:
  std::vector<oci::Descriptor> layers_of(const MadeImage& img) {
    return {img.blobs.begin() + 1, img.blobs.end()};
  }
};

TEST_F(KilnEdit, MutateLocalImage) {
  auto store = oci::Store::open(s / "root");
  auto img = make_image(*store, "example.com/m/app:1", {1000, 2000}, 51);
  auto r = kiln({"mutate",
                 "example.com/m/app:1",
                 "-t",
                 "example.com/m/app:2",
                 "--env",
                 "A=1",
                 "--env",
                 "PATH=/bin",
                 "--cmd",
                 "serve --port 80",
                 "--entrypoint",
                 "[\"/app\"]",
                 "--user",
                 "1000:1000",
                 "--workdir",
                 "/srv",
                 "--expose",
                 "8080",
                 "--expose",
                 "53/udp",
                 "--stop-signal",
                 "SIGINT",
                 "--label",
                 "x=y",
                 "--unset-label",
                 "seed",
                 "--format",
                 "json"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto out = nlohmann::json::parse(r.out);
  EXPECT_EQ(out["ref"], "example.com/m/app:2");
  auto reopened = oci::Store::open(s / "root");
  auto m = reopened->load_image("example.com/m/app:2");
  ASSERT_TRUE(m) << m.error().what();
  EXPECT_EQ(out["digest"], m->top.digest.str());
  EXPECT_EQ(m->config.env(), (std::vector<std::string>{"A=1", "PATH=/bin"}));
  EXPECT_EQ(m->config.cmd(), (std::vector<std::string>{"serve", "--port", "80"}));
  EXPECT_EQ(m->config.entrypoint(), std::vector<std::string>{"/app"});
  EXPECT_EQ(m->config.user(), "1000:1000");
  EXPECT_EQ(m->config.working_dir(), "/srv");
  EXPECT_EQ(m->config.exposed_ports(), (std::vector<std::string>{"53/udp", "8080/tcp"}));
  EXPECT_EQ(m->config.stop_signal(), "SIGINT");
  EXPECT_EQ(m->config.labels(), (std::map<std::string, std::string>{{"x", "y"}}));
  EXPECT_EQ(m->manifest.layers().size(), 2u);
  EXPECT_EQ(m->manifest.layers()[1].digest, img.blobs[2].digest);
  EXPECT_EQ(m->config.diff_ids().size(), 2u);

  // Clearing, and bad input named by its flag.
  r = kiln({"mutate", "example.com/m/app:2", "-t", "example.com/m/app:3", "--cmd", "",
            "--unset-env", "A", "--unexpose", "8080"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto m3 = oci::Store::open(s / "root")->load_image("example.com/m/app:3");
  ASSERT_TRUE(m3);
  EXPECT_TRUE(m3->config.cmd().empty());
  EXPECT_EQ(m3->config.env(), std::vector<std::string>{"PATH=/bin"});
  EXPECT_EQ(m3->config.exposed_ports(), std::vector<std::string>{"53/udp"});
  r = kiln({"mutate", "example.com/m/app:2", "-t", "example.com/m/app:4", "--expose", "http"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("--expose \"http\""), std::string::npos) << r.err;
}

TEST_F(KilnEdit, MutateAndAppendOnRegistryMoveNoLayers) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg;
  FaultProxy counter(reg.port());
  auto store = oci::Store::open(s / "root");
  auto img = make_image(*store, "example.com/r/app:1", {300000, 500000}, 52);
  std::string base = counter.host() + "/edit/app";
  auto r = kiln({"push", "-q", "example.com/r/app:1", base + ":v1"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto layers = layers_of(img);

  // Same repository: layers HEAD-skipped.
  size_t mark = counter.requests().size();
  r = kiln({"mutate", base + ":v1", "-t", base + ":v2", "--env", "MODE=prod", "--format", "json"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto log = counter.requests();
  EXPECT_EQ(count(log, mark, "GET", layers), 0) << ::testing::PrintToString(log);
  EXPECT_EQ(count_prefix(log, mark, "POST /v2/edit/app/blobs/uploads/"), 1);  // the config
  EXPECT_EQ(count_prefix(log, mark, "PATCH "), 0);
  auto out = nlohmann::json::parse(r.out);
  EXPECT_EQ(out["ref"], base + ":v2");
  EXPECT_EQ(kiln({"digest", base + ":v2"}).out, out["digest"].get<std::string>() + "\n");
  auto cfg = nlohmann::json::parse(kiln({"config", base + ":v2"}).out);
  EXPECT_EQ(cfg["config"]["Env"].back(), "MODE=prod");
  auto man = oci::Manifest::parse(kiln({"manifest", base + ":v2"}).out);
  ASSERT_TRUE(man) << man.error().what();
  ASSERT_EQ(man->layers().size(), 2u);
  EXPECT_EQ(man->layers()[0].digest, layers[0].digest);

  // Another repository of the registry: layers mounted, still never read.
  mark = counter.requests().size();
  r = kiln({"mutate", base + ":v1", "-t", counter.host() + "/edit/other:v1", "--user", "nobody"});
  ASSERT_EQ(r.status, 0) << r.err;
  log = counter.requests();
  EXPECT_EQ(count(log, mark, "GET", layers), 0) << ::testing::PrintToString(log);
  EXPECT_EQ(count_prefix(log, mark, "?mount="), 2) << ::testing::PrintToString(log);

  // append uploads just the new layer (and the config).
  Scratch dir;
  write_text(dir / "hello.txt", "hello\n");
  mark = counter.requests().size();
  r = kiln({"append", base + ":v2", dir.path().string(), "-t", base + ":v3"});
  ASSERT_EQ(r.status, 0) << r.err;
  log = counter.requests();
  EXPECT_EQ(count(log, mark, "GET", layers), 0) << ::testing::PrintToString(log);
  EXPECT_EQ(count_prefix(log, mark, "POST /v2/edit/app/blobs/uploads/"), 2)
      << ::testing::PrintToString(log);
  // The result pulls and verifies, with three layers.
  r = kiln_in(s / "fresh", {"pull", "-q", base + ":v3"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto pulled = oci::Store::open(s / "fresh")->load_image(base + ":v3");
  ASSERT_TRUE(pulled) << pulled.error().what();
  EXPECT_EQ(pulled->manifest.layers().size(), 3u);
  EXPECT_EQ(pulled->config.diff_ids().size(), 3u);
  EXPECT_EQ(pulled->config.env().back(), "MODE=prod");
}

// A multi-platform image on a registry: every platform edited alike, the
// result an index again with the same platforms; attestations are dropped;
// --platform edits one image only. No layer is downloaded.
TEST_F(KilnEdit, MutateRegistryIndexEditsEveryPlatform) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg;
  FaultProxy counter(reg.port());
  auto store = oci::Store::open(s / "root");
  auto host = make_image(*store, "example.com/x:host", {1000}, 61);
  auto arm = make_image(*store, "example.com/x:arm", {2000}, 62);
  auto att = make_image(*store, "example.com/x:att", {300}, 63);
  std::vector<oci::Descriptor> children = {host.top, arm.top, att.top};
  children[0].platform = oci::Platform::host();
  children[1].platform = *oci::Platform::parse(
      oci::Platform::host().architecture == "arm" ? "linux/s390x" : "linux/arm/v7");
  children[2].platform = *oci::Platform::parse("unknown/unknown");
  children[2].annotations["vnd.docker.reference.type"] = "attestation-manifest";
  children[2].annotations["vnd.docker.reference.digest"] = host.top.digest.str();
  auto index = oci::Index::create(oci::media::kOciIndex, children);
  ASSERT_TRUE(store->put_blob_bytes(index.bytes()));
  auto remote = registry::remote_for(counter.host(), "edit/multi", fast_options());
  ASSERT_TRUE(registry::push_image(*store, index.descriptor(), remote, "v1", {}));
  std::string base = counter.host() + "/edit/multi";

  size_t mark = counter.requests().size();
  auto r =
      kiln({"mutate", base + ":v1", "-t", base + ":v2", "--label", "tier=web", "--format", "json"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::vector<oci::Descriptor> layers = {host.blobs[1], arm.blobs[1]};
  EXPECT_EQ(count(counter.requests(), mark, "GET", layers), 0);
  auto made = oci::Index::parse(kiln({"manifest", base + ":v2"}).out);
  ASSERT_TRUE(made) << made.error().what();
  EXPECT_EQ(nlohmann::json::parse(r.out)["digest"], made->digest().str());
  ASSERT_EQ(made->manifests().size(), 2u) << "the attestation is dropped";
  for (size_t i = 0; i < 2; ++i) {
    const auto& d = made->manifests()[i];
    ASSERT_TRUE(d.platform);
    EXPECT_EQ(d.platform->str(), children[i].platform->str());
    auto cfg = nlohmann::json::parse(kiln({"config", base + "@" + d.digest.str()}).out);
    EXPECT_EQ(cfg["config"]["Labels"]["tier"], "web") << d.platform->str();
    auto m = oci::Manifest::parse(kiln({"manifest", base + "@" + d.digest.str()}).out);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->layers()[0].digest, (i == 0 ? host : arm).blobs[1].digest);
  }

  // --platform: that one image, edited, named alone.
  r = kiln({"mutate", base + ":v1", "-t", base + ":v3", "--platform", children[1].platform->str(),
            "--user", "nobody"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto single = oci::Manifest::parse(kiln({"manifest", base + ":v3"}).out);
  ASSERT_TRUE(single) << single.error().what();
  EXPECT_EQ(single->layers()[0].digest, arm.blobs[1].digest);
}

}  // namespace
}  // namespace kiln::test
