// The one platform normalisation (containerd's), for every spelling that
// oci/ and parser/ used to normalise differently, and its matcher.
#include "base/platform.hpp"

#include <gtest/gtest.h>

namespace kiln {
namespace {

struct Spelling {
  const char* in;
  const char* out;
};

class PlatformSpelling : public ::testing::TestWithParam<Spelling> {};

TEST_P(PlatformSpelling, NormalizesAsContainerd) {
  auto p = Platform::parse(GetParam().in);
  ASSERT_TRUE(p) << p.error().what();
  EXPECT_EQ(p->str(), GetParam().out);
  EXPECT_EQ(p->normalized(), *p);  // parse() gives the canonical form
}

INSTANTIATE_TEST_SUITE_P(
    Table, PlatformSpelling,
    ::testing::Values(
        // x86: i386 is the only 386 alias; the variant goes with it.
        Spelling{"linux/i386", "linux/386"}, Spelling{"linux/i386/v2", "linux/386"},
        Spelling{"linux/386", "linux/386"},
        // containerd has no alias for uname's other names: they stay as written.
        Spelling{"linux/i486", "linux/i486"}, Spelling{"linux/i686", "linux/i686"},
        Spelling{"linux/armv7l", "linux/armv7l"}, Spelling{"linux/armv7", "linux/armv7"},
        // amd64: x86_64 and x86-64 are aliases; v1 is the default variant, others stay.
        Spelling{"linux/x86_64", "linux/amd64"}, Spelling{"linux/x86-64", "linux/amd64"},
        Spelling{"linux/amd64/v1", "linux/amd64"}, Spelling{"linux/x86_64/v1", "linux/amd64"},
        Spelling{"linux/amd64/v3", "linux/amd64/v3"}, Spelling{"linux/x86_64/v2", "linux/amd64/v2"},
        // arm64: aarch64 is an alias; v8 (or 8) is the default variant.
        Spelling{"linux/aarch64", "linux/arm64"}, Spelling{"linux/arm64/v8", "linux/arm64"},
        Spelling{"linux/arm64/8", "linux/arm64"}, Spelling{"linux/aarch64/v8", "linux/arm64"},
        Spelling{"linux/arm64/v9", "linux/arm64/v9"},
        // arm: v7 is the default; a bare 5/6/7/8 gains its "v"; armhf and armel
        // fix the variant, whatever is written after them.
        Spelling{"linux/arm", "linux/arm/v7"}, Spelling{"linux/arm/7", "linux/arm/v7"},
        Spelling{"linux/arm/8", "linux/arm/v8"}, Spelling{"linux/arm/5", "linux/arm/v5"},
        Spelling{"linux/arm/v6", "linux/arm/v6"}, Spelling{"linux/armhf", "linux/arm/v7"},
        Spelling{"linux/armhf/v6", "linux/arm/v7"}, Spelling{"linux/armel", "linux/arm/v6"},
        // Case, macos, one word.
        Spelling{"Linux/ARM64/V8", "linux/arm64"}, Spelling{"macos/arm64", "darwin/arm64"},
        Spelling{"arm64", "linux/arm64"}, Spelling{"x86_64", "linux/amd64"},
        Spelling{"armhf", "linux/arm/v7"}, Spelling{"linux/s390x", "linux/s390x"},
        Spelling{"windows/amd64", "windows/amd64"}));

TEST(Platform, OneWordThatIsAnOsTakesThisHostsArchitecture) {
  auto p = Platform::parse("Windows");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->os, "windows");
  EXPECT_EQ(p->architecture, Platform::host().architecture);
  EXPECT_EQ(p->variant, Platform::host().variant);
}

TEST(Platform, RejectsWhatContainerdRejects) {
  for (const char* bad : {"", "linux//amd64", "linux/amd64/", "/amd64", "a/b/c/d", "linux/am d64",
                          "linux/*", "armv7l", "nonsense"})
    EXPECT_FALSE(Platform::parse(bad)) << bad;
  EXPECT_EQ(Platform::parse("a/b/c/d").error().message,
            "too many components in platform \"a/b/c/d\"");
}

TEST(Platform, HostIsCanonical) {
  Platform h = Platform::host();
  EXPECT_EQ(h.os, "linux");
  EXPECT_EQ(h.normalized(), h);
  EXPECT_TRUE(h.matches(h));
}

// An index entry comes from JSON, not parse(): it is normalized when matched.
Platform entry(const char* os, const char* arch, const char* variant = "") {
  Platform p;
  p.os = os;
  p.architecture = arch;
  p.variant = variant;
  return p;
}

TEST(Platform, MatchesAsContainerdsStrictMatcher) {
  auto want = [](const char* s) { return *Platform::parse(s); };
  EXPECT_TRUE(want("linux/arm64").matches(entry("linux", "arm64", "v8")));
  EXPECT_TRUE(want("linux/arm64/v8").matches(entry("linux", "arm64")));
  EXPECT_TRUE(want("linux/arm64").matches(entry("Linux", "aarch64", "8")));
  EXPECT_TRUE(want("linux/arm/v7").matches(entry("linux", "arm")));
  EXPECT_TRUE(want("linux/arm").matches(entry("linux", "armhf")));
  EXPECT_TRUE(want("linux/arm/v6").matches(entry("linux", "armel")));
  EXPECT_TRUE(want("linux/amd64").matches(entry("linux", "amd64", "v1")));
  EXPECT_TRUE(want("linux/386").matches(entry("linux", "i386")));
  EXPECT_TRUE(want("linux/amd64").matches(entry("", "x86_64")));  // no os: linux
  // No fallback to an older variant, and no variant is not "any variant".
  EXPECT_FALSE(want("linux/arm/v7").matches(entry("linux", "arm", "v6")));
  EXPECT_FALSE(want("linux/arm64").matches(entry("linux", "arm64", "v9")));
  EXPECT_FALSE(want("linux/amd64").matches(entry("linux", "amd64", "v3")));
  EXPECT_FALSE(want("linux/amd64/v3").matches(entry("linux", "amd64")));
  EXPECT_FALSE(want("linux/amd64").matches(entry("windows", "amd64")));
  EXPECT_FALSE(want("linux/amd64").matches(entry("linux", "386")));
  // An entry's os.features must all be wanted.
  Platform featured = entry("windows", "amd64");
  featured.os_features = {"win32k"};
  EXPECT_FALSE(want("windows/amd64").matches(featured));
  Platform wants_it = want("windows/amd64");
  wants_it.os_features = {"win32k", "other"};
  EXPECT_TRUE(wants_it.matches(featured));
}

}  // namespace
}  // namespace kiln
