// What kiln prints cannot forge output: a name holding a newline stays on its
// line, and a registry's document reaches a terminal without its control
// characters but reaches a pipe byte for byte.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/printable.hpp"
#include "oci/store.hpp"
#include "tests/support/registry_server.hpp"
#include "tests/support/tmp.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;

// A name that, printed raw, would add a line of its own to a listing
// ("∕" is U+2215, which looks like a slash), with a tab after it.
const std::string kForger = "x\nD \u2215usr\u2215bin\u2215sudo\tz";
const std::string kForgerShown = "x\\u000aD \u2215usr\u2215bin\u2215sudo\\u0009z";

RunResult kiln(const fs::path& root, std::vector<std::string> args) {
  args.insert(args.begin(), {kiln_bin(), "--root", root.string(), "--tls-verify=false"});
  return run(args);
}

TEST(Terminal, DiffShowsANewlineInANameEscaped) {
  Scratch dir;
  const fs::path root = dir / "store";
  write_text(dir / "base/etc/motd", "hello\n");
  auto r = kiln(root, {"import", (dir / "base").string(), "-t", "localhost/base:1"});
  ASSERT_EQ(r.status, 0) << r.err;
  write_text(dir / "layer" / kForger, "");
  r = kiln(root,
           {"append", "localhost/base:1", (dir / "layer").string(), "-t", "localhost/next:1"});
  ASSERT_EQ(r.status, 0) << r.err;

  r = kiln(root, {"diff", "localhost/base:1", "localhost/next:1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "A /" + kForgerShown + "\n");
  // JSON keeps the exact name.
  r = kiln(root, {"diff", "localhost/base:1", "localhost/next:1", "--format", "json"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto files = nlohmann::json::parse(r.out)["files"];
  ASSERT_EQ(files.size(), 1u) << r.out;
  EXPECT_EQ(files[0]["path"], "/" + kForger);

  // Every listing prints its names the same way.
  r = run({kiln_bin(), "context", "ls", (dir / "layer").string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, kForgerShown + "\n");
}

TEST(Terminal, DocumentsAreExactInAPipeAndEscapedOnATerminal) {
  if (!have_tool("docker-registry")) {
    if (peers_required()) FAIL() << "docker-registry is not installed";
    GTEST_SKIP() << "docker-registry is not installed";
  }
  Scratch dir;
  const fs::path root = dir / "store";
  auto store = oci::Store::open(root);
  ASSERT_TRUE(store) << store.error().what();
  // DEL and CSI (U+009B, as UTF-8) are allowed as they are in JSON strings,
  // and a carriage return between tokens is JSON whitespace: each is valid in
  // a document a registry serves, and each is acted on by a terminal.
  const std::string controls =
      "\x7f\xc2\x9b"
      "2J";
  auto layer = store->put_blob_bytes("not a tar; the registry does not look");
  ASSERT_TRUE(layer);
  const std::string config = R"({"architecture":"amd64","os":"linux","config":{"Labels":{"x":")" +
                             controls +
                             R"("}},)"
                             "\r"
                             R"("rootfs":{"type":"layers","diff_ids":[")" +
                             layer->digest.str() + R"("]}})";
  auto cfg = store->put_blob_bytes(config);
  ASSERT_TRUE(cfg);
  const std::string manifest =
      R"({"schemaVersion":2,)"
      "\r\n"
      R"("mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      cfg->digest.str() + R"(","size":)" + std::to_string(config.size()) + "}," +
      R"("layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" +
      layer->digest.str() + R"(","size":)" + std::to_string(layer->size) + "}]," +
      R"("annotations":{"x":")" + controls + R"("}})";
  auto man = store->put_blob_bytes(manifest);
  ASSERT_TRUE(man);
  oci::Descriptor top;
  top.media_type = "application/vnd.oci.image.manifest.v1+json";
  top.digest = man->digest;
  top.size = man->size;
  ASSERT_TRUE(store->set_name("localhost/hostile:1", top));

  RegistryServer reg;
  const std::string ref = reg.host() + "/hostile:1";
  auto r = kiln(root, {"push", "-q", "localhost/hostile:1", ref});
  ASSERT_EQ(r.status, 0) << r.err << reg.log();

  for (auto& [command, bytes] : {std::pair{"manifest", manifest}, std::pair{"config", config}}) {
    SCOPED_TRACE(command);
    r = kiln(root, {command, ref});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, bytes);  // what a script hashes

    std::vector<std::string> argv = {kiln_bin(),           "--root", root.string(),
                                     "--tls-verify=false", command,  ref};
    r = run_on_terminal(argv);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, printable(bytes, true));
    EXPECT_EQ(r.out.find('\x7f'), std::string::npos);
    EXPECT_EQ(r.out.find("\xc2\x9b"), std::string::npos);
    EXPECT_EQ(r.out.find('\r'), std::string::npos);
    EXPECT_NE(r.out.find("\\u007f\\u009b2J"), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace kiln::test
