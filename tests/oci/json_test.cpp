#include "oci/json.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kiln::oci {
namespace {

TEST(UntrustedJson, NestingIsBounded) {
  auto nested = [](int n) { return std::string(n, '[') + std::string(n, ']'); };
  EXPECT_TRUE(json_nesting_within(nested(kMaxJsonDepth)));
  EXPECT_FALSE(json_nesting_within(nested(kMaxJsonDepth + 1)));
  // Brackets inside strings, escaped quotes included, do not count.
  EXPECT_TRUE(json_nesting_within(R"({"a":"[[[[\"[[[[","b":[1]})", 2));
  EXPECT_FALSE(json_nesting_within(R"({"a":"\\","b":[[1]]})", 2));

  EXPECT_EQ(parse_untrusted_json(nested(kMaxJsonDepth)).size(), 1u);
  EXPECT_TRUE(parse_untrusted_json(nested(200000)).is_discarded());
  EXPECT_TRUE(parse_untrusted_json("{").is_discarded());
  EXPECT_EQ(parse_untrusted_json(R"({"k":"v"})")["k"], "v");
}

}  // namespace
}  // namespace kiln::oci
