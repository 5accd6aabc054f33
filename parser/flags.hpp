// Instruction flags (internal): BuildKit's BFlags. Each instruction declares
// the flags it takes; parse() rejects unknown, repeated (except list flags),
// value-less and badly typed ones.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace kiln::parser::detail {

class Flags {
 public:
  explicit Flags(const std::vector<std::string>& args) : args_(args) {}

  void add_string(std::string name, std::string def = "");
  void add_bool(std::string name);
  void add_strings(std::string name);  // may repeat: --mount, --exclude
  Status parse();

  const std::string& str(std::string_view name) const;
  bool boolean(std::string_view name) const { return str(name) == "true"; }
  bool used(std::string_view name) const;
  const std::vector<std::string>& strings(std::string_view name) const;

 private:
  enum class Type { string, boolean, strings };
  struct Flag {
    Type type;
    std::string value;
    std::vector<std::string> values;
    bool used = false;
  };
  const std::vector<std::string>& args_;
  std::map<std::string, Flag, std::less<>> flags_;
};

// "did you mean --from?" for a misspelt word, or "".
std::string suggest(std::string_view word, const std::vector<std::string>& choices,
                    std::string_view prefix);

}  // namespace kiln::parser::detail
