#include "registry/scope.hpp"

#include <algorithm>
#include <tuple>

namespace kiln::registry {

std::string Scope::str() const {
  std::string s = type + ":" + name + ":";
  bool first = true;
  for (auto& a : actions) {
    if (!first) s += ",";
    s += a;
    first = false;
  }
  return s;
}

bool Scope::parse(const std::string& s, Scope& out) {
  size_t first = s.find(':'), last = s.rfind(':');
  if (first == std::string::npos || last == first) return false;
  out = Scope{s.substr(0, first), s.substr(first + 1, last - first - 1), {}};
  std::string acts = s.substr(last + 1);
  size_t pos = 0;
  while (pos <= acts.size()) {
    size_t e = acts.find(',', pos);
    if (e == std::string::npos) e = acts.size();
    if (e > pos) out.actions.insert(acts.substr(pos, e - pos));
    pos = e + 1;
  }
  return !out.type.empty() && !out.name.empty();
}

void Scopes::add(const Scope& s) {
  for (auto& have : items_)
    if (have.type == s.type && have.name == s.name) {
      have.actions.insert(s.actions.begin(), s.actions.end());
      return;
    }
  items_.push_back(s);
  std::sort(items_.begin(), items_.end(), [](const Scope& a, const Scope& b) {
    return std::tie(a.type, a.name) < std::tie(b.type, b.name);
  });
}

void Scopes::add(const Scopes& s) {
  for (auto& x : s.items_)
    add(x);
}

std::string Scopes::key() const {
  std::string k;
  for (auto& s : items_) {
    if (!k.empty()) k += ' ';
    k += s.str();
  }
  return k;
}

bool Scopes::covers(const Scopes& other) const {
  for (auto& o : other.items_) {
    auto it = std::find_if(items_.begin(), items_.end(),
                           [&](const Scope& s) { return s.type == o.type && s.name == o.name; });
    if (it == items_.end()) return false;
    for (auto& a : o.actions)
      if (!it->actions.count(a) && !it->actions.count("*")) return false;
  }
  return true;
}

}  // namespace kiln::registry
