// A small streaming JSON writer (parser/ may not use a JSON library). The
// layout matches nlohmann::json::dump(2): two-space indent, "key": value,
// empty containers as [] and {}, UTF-8 kept, invalid bytes as U+FFFD.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kiln::parser {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& string(std::string_view s);
  JsonWriter& number(long long n);
  JsonWriter& boolean(bool b);
  JsonWriter& null();
  JsonWriter& string_array(const std::vector<std::string>& items);

  // The document, newline-terminated.
  std::string take();

  static void append_escaped(std::string& out, std::string_view s);

 private:
  void before_value();
  void open(char c);
  void close(char c);
  struct Level {
    int count = 0;
    bool object = false;
  };
  std::string out_;
  std::vector<Level> stack_;
  bool after_key_ = false;
};

}  // namespace kiln::parser
