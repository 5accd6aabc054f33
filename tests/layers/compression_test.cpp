#include <gtest/gtest.h>

#include <random>

#include "layers/compression.hpp"
#include "tests/layers/helpers.hpp"

namespace kiln::layers {
namespace {

std::string sample(size_t n) {
  std::mt19937 rng(42);
  std::string s;
  s.reserve(n);
  const char* words[] = {"layer ", "tar ", "kiln ", "\n", "0123456789 ", "\0\0\0\0"};
  while (s.size() < n) {
    s += words[rng() % 6];
    if (rng() % 50 == 0) s.push_back(static_cast<char>(rng()));
  }
  s.resize(n);
  return s;
}

std::string compress(Compression c, const std::string& data, size_t piece) {
  StringWriter out;
  auto w = make_compressor(c, out);
  EXPECT_TRUE(w.has_value());
  for (size_t i = 0; i < data.size(); i += piece)
    EXPECT_TRUE((*w)->write(std::string_view(data).substr(i, piece)).has_value());
  EXPECT_TRUE((*w)->finish().has_value());
  return out.take();
}

Result<std::string> decompress(const std::string& bytes) {
  StringReader in(bytes);
  auto r = make_decompressor(in, "test");
  return read_all(*r, 1 << 30, "test");
}

TEST(Compression, RoundTripsAndSniffs) {
  std::string data = sample(3 << 20);
  for (auto c : {Compression::none, Compression::gzip, Compression::zstd}) {
    std::string z = compress(c, data, 100'000);
    EXPECT_EQ(sniff_compression(std::as_bytes(std::span(z.data(), 4))), c);
    auto back = decompress(z);
    ASSERT_TRUE(back.has_value()) << back.error().what();
    EXPECT_EQ(*back, data);
  }
}

TEST(Compression, OutputIsIndependentOfWriteSizes) {
  std::string data = sample(1 << 20);
  for (auto c : {Compression::gzip, Compression::zstd})
    EXPECT_EQ(compress(c, data, 512), compress(c, data, 77'777));
}

TEST(Compression, GzipHeaderIsFixedAndReadableByGzip) {
  std::string z = compress(Compression::gzip, "hello\n", 6);
  EXPECT_EQ(z.substr(0, 10), std::string("\x1f\x8b\x08\0\0\0\0\0\0\xff", 10));
  test::Scratch s;
  test::write_text(s / "x.gz", z);
  EXPECT_EQ(test::sh("gzip -dc " + (s / "x.gz").string()).out, "hello\n");
  StringWriter zl;
  auto w = make_zlib_gzip(zl, 6);
  ASSERT_TRUE(w->write(std::string_view("hello\n")).has_value());
  ASSERT_TRUE(w->finish().has_value());
  EXPECT_EQ(*decompress(zl.str()), "hello\n");
}

TEST(Compression, ConcatenatedGzipMembers) {
  std::string z = compress(Compression::gzip, "one\n", 4) + compress(Compression::gzip, "two\n", 4);
  EXPECT_EQ(*decompress(z), "one\ntwo\n");
}

TEST(Compression, TruncatedAndCorruptInputFail) {
  std::string data = sample(200'000);
  for (auto c : {Compression::gzip, Compression::zstd}) {
    std::string z = compress(c, data, 4096);
    EXPECT_FALSE(decompress(z.substr(0, z.size() / 2)).has_value());
    z[z.size() / 2] ^= 0x55;
    z[z.size() / 2 + 1] ^= 0x55;
    EXPECT_FALSE(decompress(z).has_value());
  }
}

// The gzip trailer (CRC-32 and size) is checked, and header fields other
// tools write (a file name) are skipped.
TEST(Compression, GzipTrailerIsCheckedAndHeaderFieldsSkipped) {
  std::string data = sample(300'000);
  std::string z = compress(Compression::gzip, data, 4096);
  std::string bad_crc = z;
  bad_crc[bad_crc.size() - 8] ^= 0x01;
  EXPECT_FALSE(decompress(bad_crc).has_value());
  std::string bad_size = z;
  bad_size[bad_size.size() - 1] ^= 0x01;
  EXPECT_FALSE(decompress(bad_size).has_value());
  EXPECT_FALSE(decompress(z.substr(0, z.size() - 8)).has_value()) << "no trailer";

  test::Scratch s;
  test::write_text(s / "named.txt", data);
  std::string named = test::sh("gzip -c " + (s / "named.txt").string()).out;
  ASSERT_NE(named[3] & 0x08, 0) << "gzip stored no file name";
  auto back = decompress(named + named);
  ASSERT_TRUE(back.has_value()) << back.error().what();
  EXPECT_EQ(*back, data + data);
}

TEST(Compression, ParseNames) {
  EXPECT_EQ(*parse_compression("zstd"), Compression::zstd);
  EXPECT_FALSE(parse_compression("lz4").has_value());
}

}  // namespace
}  // namespace kiln::layers
