// Digests, platforms, manifests, indexes and configs: parse, keep, round-trip.
#include <gtest/gtest.h>

#include "oci/config.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "oci/platform.hpp"

using namespace kiln::oci;

TEST(Digest, ParsesAndRejects) {
  std::string hex(64, 'b');
  auto d = Digest::parse("sha256:" + hex);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->hex(), hex);
  EXPECT_EQ(d->algorithm(), "sha256");
  EXPECT_FALSE(Digest::parse("sha256:" + hex.substr(1)));
  EXPECT_FALSE(Digest::parse(hex));
  EXPECT_FALSE(Digest::parse("sha256:" + std::string(63, 'b') + "g"));
  EXPECT_TRUE(Digest::parse("sha512:" + std::string(128, 'c')));
  EXPECT_FALSE(Digest::parse("sha512:" + std::string(128, 'c'))->verifiable());
  EXPECT_EQ(Digest::of_bytes("abc").str(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Platform, NormalizesAndMatches) {
  EXPECT_EQ(Platform::parse("linux/arm64/v8")->str(), "linux/arm64");
  EXPECT_EQ(Platform::parse("linux/aarch64")->str(), "linux/arm64");
  EXPECT_EQ(Platform::parse("linux/x86_64")->str(), "linux/amd64");
  EXPECT_EQ(Platform::parse("linux/arm")->str(), "linux/arm/v7");
  EXPECT_EQ(Platform::parse("arm64")->str(), "linux/arm64");
  EXPECT_TRUE(Platform::parse("linux/arm64")->matches(*Platform::parse("linux/arm64/v8")));
  EXPECT_FALSE(Platform::parse("linux/arm/v7")->matches(*Platform::parse("linux/arm/v6")));
  EXPECT_FALSE(Platform::parse("linux/amd64")->matches(*Platform::parse("windows/amd64")));
  EXPECT_FALSE(Platform::parse("linux//v7"));
  EXPECT_FALSE(Platform::parse("a/b/c/d"));
}

TEST(Manifest, KeepsExactBytesAndUnknownFields) {
  // Spacing and key order a registry might use; the digest is over these bytes.
  std::string bytes =
      R"({ "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
      "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 5,
      "digest": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      "x-vendor": {"keep": true}}],
    "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 1,
      "digest": "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}})";
  auto m = Manifest::parse(bytes);
  ASSERT_TRUE(m) << m.error().what();
  EXPECT_EQ(m->bytes(), bytes);
  EXPECT_EQ(m->digest(), Digest::of_bytes(bytes));
  EXPECT_EQ(m->layers().size(), 1u);
  EXPECT_EQ(m->layers()[0].extra["x-vendor"]["keep"], true);
  EXPECT_TRUE(m->json().contains("subject"));
  // The unknown descriptor field survives re-serialization.
  EXPECT_EQ(m->layers()[0].to_json()["x-vendor"]["keep"], true);
}

TEST(Manifest, CreateRoundTrips) {
  Descriptor cfg;
  cfg.media_type = media::kOciConfig;
  cfg.digest = Digest::of_bytes("{}");
  cfg.size = 2;
  Descriptor layer;
  layer.media_type = media::kOciLayerZstd;
  layer.digest = Digest::of_bytes("x");
  layer.size = 1;
  layer.annotations["a"] = "b";
  auto m = Manifest::create(media::kOciManifest, cfg, {layer}, {{"k", "v"}});
  auto again = Manifest::parse(m.bytes(), media::kOciManifest);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->digest(), m.digest());
  EXPECT_EQ(again->layers()[0].annotations.at("a"), "b");
  EXPECT_EQ(again->annotations().at("k"), "v");
  EXPECT_EQ(Manifest::create(media::kOciManifest, cfg, {layer}, {{"k", "v"}}).bytes(), m.bytes());
}

TEST(Manifest, RejectsBadInput) {
  EXPECT_FALSE(Manifest::parse("not json"));
  EXPECT_FALSE(Manifest::parse("[]"));
  auto s1 = Manifest::parse(R"({"schemaVersion":1,"name":"x","fsLayers":[]})");
  ASSERT_FALSE(s1);
  EXPECT_NE(s1.error().what().find("schema 1"), std::string::npos);
  auto unknown = Manifest::parse(R"({"schemaVersion":2,"mediaType":"application/x-foo"})");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().what().find("unknown manifest media type"), std::string::npos);
  // A manifest claiming to be something other than what the transport said.
  auto mismatch = Manifest::parse(
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]})",
      media::kDockerManifest);
  EXPECT_FALSE(mismatch);
  EXPECT_FALSE(Manifest::parse(
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a","size":-1,"digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"layers":[]})"));
}

TEST(Index, ParsesDockerListAndSniffsOciWithoutMediaType) {
  std::string list =
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",
    "manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":7,
    "digest":"sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
    "platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]})";
  auto ix = Index::parse(list);
  ASSERT_TRUE(ix) << ix.error().what();
  EXPECT_EQ(ix->media_type(), media::kDockerManifestList);
  EXPECT_EQ(ix->manifests()[0].platform->variant, "v8");
  auto oci = Index::parse(R"({"schemaVersion":2,"manifests":[]})");
  ASSERT_TRUE(oci);
  EXPECT_EQ(oci->media_type(), media::kOciIndex);
}

TEST(Index, DocumentWithTheFieldsOfBothIsNeither) {
  // Read as an index under one Content-Type and as a manifest under another,
  // one digest would name two images: refused either way.
  std::string both =
      R"({"schemaVersion":2,"manifests":[],"config":{"mediaType":"a","size":1,)"
      R"("digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"layers":[]})";
  auto ix = Index::parse(both, media::kOciIndex);
  ASSERT_FALSE(ix);
  EXPECT_NE(ix.error().what().find("both"), std::string::npos) << ix.error().what();
  EXPECT_FALSE(Manifest::parse(both, media::kOciManifest));
}

// Chain ids as the OCI image-spec defines them; the values come from
// python3's hashlib over "CHAIN DIFFID".
TEST(ImageConfig, ChainIdsFollowTheImageSpec) {
  std::string a(64, 'a'), b(64, 'b'), c(64, 'c');
  auto cfg = ImageConfig::parse(R"({"rootfs":{"type":"layers","diff_ids":["sha256:)" + a +
                                R"(","sha256:)" + b + R"(","sha256:)" + c + R"("]}})");
  ASSERT_TRUE(cfg) << cfg.error().what();
  auto ids = cfg->chain_ids();
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0].str(), "sha256:" + a);
  EXPECT_EQ(ids[1].str(),
            "sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c");
  EXPECT_EQ(ids[2].str(),
            "sha256:c1377126441fb2f5ec2c21ae2a60255331d639e830f0ee1b40a36e52d4c40588");
}

TEST(ImageConfig, ReadsFieldsAndKeepsUnknownOnes) {
  std::string bytes = R"({"architecture":"amd64","os":"linux","created":"2026-01-01T00:00:00Z",
    "config":{"Env":["PATH=/bin"],"Entrypoint":["/bin/sh"],"Cmd":["-c","true"],
    "Labels":{"a":"b"},"ExposedPorts":{"80/tcp":{}}},"rootfs":{"type":"layers",
    "diff_ids":["sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"]},
    "history":[{"created_by":"import","empty_layer":false}],"x-extra":1})";
  auto c = ImageConfig::parse(bytes);
  ASSERT_TRUE(c) << c.error().what();
  EXPECT_EQ(c->bytes(), bytes);
  EXPECT_EQ(c->env(), std::vector<std::string>{"PATH=/bin"});
  EXPECT_EQ(c->entrypoint(), std::vector<std::string>{"/bin/sh"});
  EXPECT_EQ(c->labels().at("a"), "b");
  EXPECT_EQ(c->exposed_ports(), std::vector<std::string>{"80/tcp"});
  EXPECT_EQ(c->diff_ids().size(), 1u);
  EXPECT_EQ(c->history()[0].created_by, "import");
  auto doc = c->json();
  doc["config"]["User"] = "1000";
  auto edited = ImageConfig::from_json(doc);
  ASSERT_TRUE(edited);
  EXPECT_EQ(edited->user(), "1000");
  EXPECT_EQ(edited->json()["x-extra"], 1);
  EXPECT_FALSE(ImageConfig::parse(R"({"rootfs":{"diff_ids":["sha256:zz"]}})"));
}
