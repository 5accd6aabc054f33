// A TarWriter dropped before finish(), as when writing a layer or an export
// fails half way, writes nothing more: a stream cut off inside an entry is not
// padded out and ended as if it were a complete tar.
#include "layers/tar_writer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kiln::test {
namespace {

TEST(TarWriter, DroppedUnfinishedWritesNothingMore) {
  StringWriter out;
  size_t written = 0;
  {
    auto tw = layers::TarWriter::open(out);
    ASSERT_TRUE(tw) << tw.error().what();
    layers::TarEntry e;
    e.path = "big";
    e.size = 100000;
    ASSERT_TRUE((*tw)->add(e));
    std::string part(1000, 'x');
    ASSERT_TRUE((*tw)->write_data(std::as_bytes(std::span(part))));
    written = out.str().size();
    ASSERT_GE(written, part.size());
  }
  EXPECT_EQ(out.str().size(), written);
}

}  // namespace
}  // namespace kiln::test
