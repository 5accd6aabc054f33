// kiln never sends bytes the store does not vouch for: a blob is hashed as it
// is read and the read that reaches its last byte checks the digest first, so
// a store file swapped for other bytes of the same size fails kiln's own check
// before the registry has the blob whole (monolithic and chunked alike), and a
// blob that is a symlink is not opened at all.
#include <gtest/gtest.h>

#include "registry/transfer.hpp"
#include "tests/registry/test_util.hpp"

namespace kiln::test {
namespace {

namespace fs = std::filesystem;
using registry::remote_for;

class PushVerify : public ::testing::TestWithParam<bool> {
 protected:
  registry::TransferOptions options() const {
    registry::TransferOptions opts;
    if (GetParam()) {  // chunked
      opts.upload.monolithic_max = 1 << 20;
      opts.upload.chunk_size = 1 << 20;
    }
    return opts;
  }
};

TEST_P(PushVerify, SwappedBlobFailsBeforeTheUploadCompletes) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg;
  Scratch s;
  auto store = oci::Store::open(s / "a");
  ASSERT_TRUE(store);
  auto img = make_image(*store, "example.com/src:1", {3 << 20}, 11);
  const oci::Descriptor& layer = img.blobs.back();
  // Same size, other bytes, in a regular file: only the digest tells.
  fs::remove(store->blob_path(layer.digest));
  write_text(store->blob_path(layer.digest), random_bytes(3 << 20, 12));
  auto remote = remote_for(reg.host(), "team/app", fast_options());
  auto pushed = registry::push_image(*store, img.top, remote, "v1", options());
  ASSERT_FALSE(pushed);
  // kiln's own check stopped it, not the registry's answer to a full upload.
  EXPECT_NE(pushed.error().what().find("content has digest"), std::string::npos)
      << pushed.error().what();
  auto there = remote.has_blob(layer, true);
  ASSERT_TRUE(there) << there.error().what();
  EXPECT_FALSE(*there);
  auto manifest = remote.head_manifest("v1");
  EXPECT_FALSE(manifest && *manifest);
}

TEST_P(PushVerify, SymlinkedBlobIsNeverOpened) {
  KILN_REQUIRE_PEER("docker-registry");
  RegistryServer reg;
  Scratch s;
  auto store = oci::Store::open(s / "a");
  ASSERT_TRUE(store);
  auto img = make_image(*store, "example.com/src:1", {3 << 20}, 13);
  const oci::Descriptor& layer = img.blobs.back();
  write_text(s / "secret", std::string(3 << 20, 'S'));
  fs::remove(store->blob_path(layer.digest));
  fs::create_symlink(s / "secret", store->blob_path(layer.digest));
  auto remote = remote_for(reg.host(), "team/app", fast_options());
  auto pushed = registry::push_image(*store, img.top, remote, "v1", options());
  ASSERT_FALSE(pushed);
  EXPECT_NE(pushed.error().what().find(layer.digest.str()), std::string::npos)
      << pushed.error().what();
  auto there = remote.has_blob(layer, true);
  ASSERT_TRUE(there) << there.error().what();
  EXPECT_FALSE(*there);
}

INSTANTIATE_TEST_SUITE_P(Uploads, PushVerify, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "chunked" : "monolithic"; });

}  // namespace
}  // namespace kiln::test
