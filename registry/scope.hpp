// Scopes of the Docker token-auth spec: "repository:team/app:pull,push",
// "registry:catalog:*". kiln asks for the least it needs: pull to read, pull and
// push to write, pull on the source repository for a cross-repository mount.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace kiln::registry {

struct Scope {
  std::string type = "repository";
  std::string name;
  std::set<std::string> actions;  // sorted, so the string form is stable

  std::string str() const;  // "repository:name:pull,push"
  static Scope pull(std::string repo) { return {"repository", std::move(repo), {"pull"}}; }
  static Scope push(std::string repo) { return {"repository", std::move(repo), {"pull", "push"}}; }
  static Scope del(std::string repo) { return {"repository", std::move(repo), {"delete"}}; }
  static Scope catalog() { return {"registry", "catalog", {"*"}}; }
  // Parses "type:name:a,b" (the name may itself hold ':', as "host:5000/x" can).
  static bool parse(const std::string& s, Scope& out);
};

// A set of scopes, merged per resource (two scopes on one repository become one).
class Scopes {
 public:
  Scopes() = default;
  Scopes(std::initializer_list<Scope> l) {
    for (auto& s : l)
      add(s);
  }
  void add(const Scope& s);
  void add(const Scopes& s);
  const std::vector<Scope>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  // Stable key for the token cache: the sorted scope strings joined by ' '.
  std::string key() const;
  // True when every action of `other` is in this set.
  bool covers(const Scopes& other) const;

 private:
  std::vector<Scope> items_;  // kept sorted by type and name
};

}  // namespace kiln::registry
