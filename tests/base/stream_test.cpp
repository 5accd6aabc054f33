#include <gtest/gtest.h>

#include "base/files.hpp"
#include "base/sha256.hpp"
#include "base/stream.hpp"
#include "tests/support/tmp.hpp"

using namespace kiln;

static const std::string kAbcHex =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(Sha256, KnownVector) {
  EXPECT_EQ(Sha256::hex_of("abc"), kAbcHex);
}

TEST(VerifyingReader, AcceptsMatchingContent) {
  StringReader src("abc");
  VerifyingReader v(src, 3, kAbcHex, "blob x");
  StringWriter out;
  ASSERT_TRUE(copy_stream(v, out));
  EXPECT_EQ(out.str(), "abc");
}

TEST(VerifyingReader, RejectsWrongDigestAtEnd) {
  StringReader src("abd");
  VerifyingReader v(src, 3, kAbcHex, "blob x");
  StringWriter out;
  auto r = copy_stream(v, out);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("blob x"), std::string::npos);
}

TEST(VerifyingReader, HoldsTheLastBytesUntilTheDigestMatched) {
  // A consumer that stops after exactly `size` bytes (an HTTP body of that
  // Content-Length) must never get a wrong blob whole: the read that would
  // hand over the last byte fails instead.
  StringReader src("abd");
  VerifyingReader v(src, 3, kAbcHex, "blob x");
  std::byte one[1];
  size_t got = 0;
  for (int i = 0; i < 2; ++i) {
    auto n = v.read(one);
    ASSERT_TRUE(n);
    got += *n;
  }
  EXPECT_EQ(got, 2u);
  auto last = v.read(one);
  ASSERT_FALSE(last);
  EXPECT_NE(last.error().what().find("content has digest"), std::string::npos);
  EXPECT_FALSE(v.read(one)) << "the failure is sticky, never a clean end";
  // A source longer than the size fails at the same read, not one later.
  StringReader longer("abcd");
  VerifyingReader v2(longer, 3, kAbcHex, "blob y");
  std::byte three[3];
  EXPECT_FALSE(v2.read(three));
}

TEST(VerifyingReader, RejectsExtraAndMissingBytes) {
  StringReader longer("abcd");
  VerifyingReader v1(longer, 3, kAbcHex, "blob");
  StringWriter o1;
  EXPECT_FALSE(copy_stream(v1, o1));
  StringReader shorter("ab");
  VerifyingReader v2(shorter, 3, kAbcHex, "blob");
  StringWriter o2;
  auto r = copy_stream(v2, o2);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("size 2"), std::string::npos);
}

TEST(AtomicFile, UncommittedLeavesNothing) {
  test::Scratch dir;
  {
    auto f = AtomicFile::create(dir / "x");
    ASSERT_TRUE(f);
    ASSERT_TRUE(f->write(std::string_view("partial")));
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
  ASSERT_TRUE(write_file_atomic(dir / "x", "whole"));
  EXPECT_EQ(test::read_text(dir / "x"), "whole");
}

TEST(Error, ContextChainReadsOutermostFirst) {
  Error e = with_context(with_context(Error{"bad byte", {}, 0, {}, 0}, "blob sha256:ab"), "pull");
  EXPECT_EQ(e.what(), "pull: blob sha256:ab: bad byte");
}
