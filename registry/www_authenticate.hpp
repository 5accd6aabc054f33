// Parsing of WWW-Authenticate headers (RFC 7235 challenges), as registries send
// them: `Bearer realm="https://auth.example/token",service="reg",scope="repository:a:pull"`,
// several challenges in one header or over several headers, quoted strings with
// escapes, token68 credentials, odd spacing. Never fails: what cannot be parsed
// is skipped.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::registry {

struct Challenge {
  std::string scheme;                         // lower-case: "basic", "bearer"
  std::map<std::string, std::string> params;  // names lower-case, values unquoted
  std::string token68;

  std::string param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? "" : it->second;
  }
};

std::vector<Challenge> parse_www_authenticate(std::string_view header);

}  // namespace kiln::registry
