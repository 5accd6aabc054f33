#include "parser/flags.hpp"

#include <algorithm>

#include "parser/text.hpp"

namespace kiln::parser::detail {

namespace {
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string suggest(std::string_view word, const std::vector<std::string>& choices,
                    std::string_view prefix) {
  if (word.empty() || word.size() > 64) return "";
  std::string best;
  size_t best_d = std::max<size_t>(1, word.size() / 3) + 1;
  for (const std::string& c : choices) {
    size_t d = edit_distance(text::to_lower(word), c);
    if (d < best_d) best_d = d, best = c;
  }
  if (best.empty()) return "";
  return " (did you mean " + std::string(prefix) + best + "?)";
}

void Flags::add_string(std::string name, std::string def) {
  flags_[std::move(name)] = Flag{Type::string, std::move(def), {}, false};
}
void Flags::add_bool(std::string name) {
  flags_[std::move(name)] = Flag{Type::boolean, "false", {}, false};
}
void Flags::add_strings(std::string name) {
  flags_[std::move(name)] = Flag{Type::strings, "", {}, false};
}

Status Flags::parse() {
  for (const std::string& a : args_) {
    if (a == "--") break;
    if (!text::starts_with(a, "--"))
      return fail("flag ", text::go_quote(a), " should start with --");
    std::string_view body = std::string_view(a).substr(2);
    size_t eq = body.find('=');
    bool has_value = eq != std::string_view::npos;
    std::string_view name = body.substr(0, eq);
    std::string_view value = has_value ? body.substr(eq + 1) : std::string_view();
    auto it = flags_.find(name);
    if (it == flags_.end()) {
      std::vector<std::string> names;
      for (auto& [n, _] : flags_)
        names.push_back(n);
      return fail("unknown flag --", name, suggest(name, names, "--"));
    }
    Flag& f = it->second;
    if (f.used && f.type != Type::strings) return fail("duplicate flag --", name);
    f.used = true;
    switch (f.type) {
      case Type::boolean: {
        if (has_value && value.empty()) return fail("missing a value on flag --", name);
        std::string v = text::to_lower(value);
        if (v == "true" || v.empty())
          f.value = "true";
        else if (v == "false")
          f.value = "false";
        else
          return fail("expecting boolean value for flag --", name, ", not: ", value);
        break;
      }
      case Type::string:
        if (!has_value) return fail("missing a value on flag --", name);
        f.value = std::string(value);
        break;
      case Type::strings:
        if (!has_value) return fail("missing a value on flag --", name);
        f.values.emplace_back(value);
        break;
    }
  }
  return {};
}

const std::string& Flags::str(std::string_view name) const {
  static const std::string empty;
  auto it = flags_.find(name);
  return it == flags_.end() ? empty : it->second.value;
}

bool Flags::used(std::string_view name) const {
  auto it = flags_.find(name);
  return it != flags_.end() && it->second.used;
}

const std::vector<std::string>& Flags::strings(std::string_view name) const {
  static const std::vector<std::string> empty;
  auto it = flags_.find(name);
  return it == flags_.end() ? empty : it->second.values;
}

}  // namespace kiln::parser::detail
