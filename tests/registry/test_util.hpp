// Helpers for the registry tests: peer checks, images made with the Store API,
// client options tuned so failures show up in milliseconds, not minutes.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "oci/store.hpp"
#include "registry/client.hpp"
#include "tests/support/registry_server.hpp"
#include "tests/support/tmp.hpp"

// Skips when a peer tool is missing, unless CI demands peers (KILN_REQUIRE_PEERS).
#define KILN_REQUIRE_PEER(tool)                                             \
  do {                                                                      \
    if (!::kiln::test::have_tool(tool)) {                                   \
      if (::kiln::test::peers_required()) FAIL() << tool << " is required"; \
      GTEST_SKIP() << tool << " is not installed";                          \
    }                                                                       \
  } while (0)

namespace kiln::test {

// Deterministic pseudo-random bytes.
std::string random_bytes(size_t n, uint32_t seed);

struct MadeImage {
  oci::Descriptor top;                 // the manifest descriptor
  std::vector<oci::Descriptor> blobs;  // config first, then layers
};

// A config blob, layers of the given sizes and an OCI manifest, put in the store
// and named `name` (a full reference string).
MadeImage make_image(oci::Store& store, const std::string& name, std::vector<size_t> layer_sizes,
                     uint32_t seed = 1);

// An OCI manifest over `config` (any bytes, stored as they are) and one layer
// of `layer_size` random bytes, in the store but not named.
MadeImage make_image_with_config(oci::Store& store, std::string_view config, size_t layer_size,
                                 uint32_t seed);

// Options for talking to a test registry: fast retries, short stall timeout.
registry::ClientOptions fast_options(bool tls_verify = false);

// Runs the kiln binary with its own store and authfile, TLS verification off.
class KilnCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kiln_bin())) {
      if (peers_required()) FAIL() << "kiln binary missing: " << kiln_bin();
      GTEST_SKIP() << "kiln binary not built";
    }
  }
  RunResult kiln(std::vector<std::string> args, const std::string& input = "") {
    return kiln_in(s / "root", std::move(args), input);
  }
  RunResult kiln_in(const std::filesystem::path& root, std::vector<std::string> args,
                    const std::string& input = "") {
    std::vector<std::string> argv = {kiln_bin(),    "--root",
                                     root.string(), "--tls-verify=false",
                                     "--authfile",  (s / "auth.json").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, input);
  }
  Scratch s;
};

}  // namespace kiln::test
