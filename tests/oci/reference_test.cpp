// Reference parsing and normalization, rule by rule, as Docker's distribution
// reference library behaves.
#include <gtest/gtest.h>

#include "oci/reference.hpp"

using kiln::oci::Reference;

namespace {

const std::string kHex(64, 'a');
const std::string kDigest = "sha256:" + kHex;

struct Normalized {
  const char* input;
  const char* expected;
  const char* familiar;
};

class Normalization : public ::testing::TestWithParam<Normalized> {};

TEST_P(Normalization, ParsesTo) {
  auto r = Reference::parse(GetParam().input);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->str(), GetParam().expected);
  EXPECT_EQ(r->familiar(), GetParam().familiar);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, Normalization,
    ::testing::Values(
        // Official images get docker.io/library/ and :latest.
        Normalized{"ubuntu", "docker.io/library/ubuntu:latest", "ubuntu:latest"},
        Normalized{"ubuntu:22.04", "docker.io/library/ubuntu:22.04", "ubuntu:22.04"},
        // A user repository on Docker Hub gets only docker.io/.
        Normalized{"user/app", "docker.io/user/app:latest", "user/app:latest"},
        Normalized{"docker.io/library/busybox", "docker.io/library/busybox:latest",
                   "busybox:latest"},
        Normalized{"index.docker.io/library/busybox:1", "docker.io/library/busybox:1", "busybox:1"},
        Normalized{"docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
        // A first component with '.', ':' or "localhost" is a registry.
        Normalized{"localhost/app", "localhost/app:latest", "localhost/app:latest"},
        Normalized{"localhost:5000/a/b:t", "localhost:5000/a/b:t", "localhost:5000/a/b:t"},
        Normalized{"registry.example/team/app:1.2", "registry.example/team/app:1.2",
                   "registry.example/team/app:1.2"},
        Normalized{"127.0.0.1:5000/app", "127.0.0.1:5000/app:latest", "127.0.0.1:5000/app:latest"},
        Normalized{"[::1]:5000/app:v1", "[::1]:5000/app:v1", "[::1]:5000/app:v1"},
        // A first component with an upper-case letter is a registry, not a path.
        Normalized{"Registry.Example/app", "Registry.Example/app:latest",
                   "Registry.Example/app:latest"},
        // Separators inside path components.
        Normalized{"a/b.c_d__e-f---g", "docker.io/a/b.c_d__e-f---g:latest",
                   "a/b.c_d__e-f---g:latest"},
        // Tag and digest both kept; digest alone gets no default tag.
        Normalized{"localhost:5000/a/"
                   "b:t@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                   "localhost:5000/a/"
                   "b:t@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                   "localhost:5000/a/"
                   "b:t@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
        Normalized{
            "busybox@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "docker.io/library/"
            "busybox@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "busybox@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
        // Tags: word characters, '.', '-', up to 128.
        Normalized{"app:_x.Y-1", "docker.io/library/app:_x.Y-1", "app:_x.Y-1"}));

struct Rejected {
  std::string input;
  const char* reason;  // a fragment the error must contain
};

class Rejection : public ::testing::TestWithParam<Rejected> {};

TEST_P(Rejection, FailsWithReason) {
  auto r = Reference::parse(GetParam().input);
  ASSERT_FALSE(r) << GetParam().input << " parsed as " << r->str();
  EXPECT_NE(r.error().what().find(GetParam().reason), std::string::npos) << r.error().what();
  EXPECT_NE(r.error().what().find("invalid reference"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, Rejection,
    ::testing::Values(
        Rejected{"", "at least one component"}, Rejected{"Ubuntu", "must be lowercase"},
        Rejected{"docker.io/User/app", "must be lowercase"},
        Rejected{"localhost:5000/App:1", "must be lowercase"}, Rejected{kHex, "image ID"},
        Rejected{"app:", "invalid tag"}, Rejected{"app:-x", "invalid tag"},
        Rejected{"app:.x", "invalid tag"}, Rejected{"app:" + std::string(129, 't'), "invalid tag"},
        Rejected{"app@sha256:abc", "invalid digest"},
        Rejected{"app@md5:" + std::string(32, 'a'), "unsupported algorithm"},
        Rejected{"app@sha256:" + std::string(64, 'A'), "lower-case hex"},
        Rejected{"a//b", "invalid repository path component"},
        Rejected{"a/b/", "invalid repository path component"},
        Rejected{"-a/b", "invalid repository path component"},
        Rejected{"a_/b", "invalid repository path component"},
        Rejected{"a/b___c", "invalid repository path component"},
        Rejected{"a/b..c", "invalid repository path component"},
        Rejected{"host:port/app", "invalid registry host"},
        Rejected{"-host.example/app", "invalid registry host"}, Rejected{"app name", "space"},
        Rejected{"registry.example/" + std::string(250, 'a'), "255 characters"}));

TEST(Reference, RepositoryFormHasNoDefaultTag) {
  auto r = Reference::parse_repository("localhost:5000/a/b");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->str(), "localhost:5000/a/b");
  EXPECT_FALSE(Reference::parse_repository("a/b:t"));
}

TEST(Reference, IdentifierPrefersDigest) {
  auto r = Reference::parse("a/b:t@" + kDigest);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->identifier(), kDigest);
  EXPECT_EQ(Reference::parse("a/b")->identifier(), "latest");
  EXPECT_EQ(r->pull_ref(), "docker.io/a/b@" + kDigest);
  EXPECT_EQ(Reference::parse("a/b:t")->pull_ref(), "docker.io/a/b:t");
  EXPECT_EQ(Reference::parse("localhost:5000/b@" + kDigest)->pull_ref(),
            "localhost:5000/b@" + kDigest);
}

}  // namespace
