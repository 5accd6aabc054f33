#include "oci/json.hpp"

#include <gtest/gtest.h>

#include <string>

#include "oci/config.hpp"
#include "oci/manifest.hpp"

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

// A label (or a name, or a path in a history line) may be any bytes on Linux;
// written as JSON, a bad sequence becomes U+FFFD instead of an exception.
TEST(JsonOut, InvalidUtf8BecomesReplacementCharacter) {
  auto doc = ImageConfig::create(Platform::host(), "2026-01-01T00:00:00Z").json();
  doc["config"]["Labels"]["k"] = "\xff";
  doc["history"].push_back({{"created_by",
                             "kiln import /srv/odd\xff\xfe"
                             "dir"}});
  auto config = ImageConfig::from_json(doc);
  ASSERT_TRUE(config) << config.error().what();
  EXPECT_EQ(config->labels().at("k"), "\xEF\xBF\xBD");
  EXPECT_NE(config->bytes().find("odd\xEF\xBF\xBD\xEF\xBF\xBD"
                                 "dir"),
            std::string::npos)
      << config->bytes();
  EXPECT_EQ(dump_json(nlohmann::json("caf\xC3\xA9")), "\"caf\xC3\xA9\"");  // valid UTF-8 kept
  EXPECT_EQ(dump_json(nlohmann::json::object({{"a", 1}}), 2), "{\n  \"a\": 1\n}");
}

}  // namespace
}  // namespace kiln::oci
