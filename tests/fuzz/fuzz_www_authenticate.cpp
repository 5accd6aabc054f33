// libFuzzer target: any bytes as a registry's WWW-Authenticate header(s), and
// what the client takes from the challenges: the realm as a URL that gets
// service and scope added to its query, the scope parsed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "registry/scope.hpp"
#include "registry/url.hpp"
#include "registry/www_authenticate.hpp"

namespace {

using namespace kiln::registry;

// Lower-case RFC 7230 token characters: what schemes and parameter names are.
bool lower_token(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (c <= ' ' || c >= 0x7f || (c >= 'A' && c <= 'Z') ||
        std::string_view("\"(),:;<=>?@[\\]{}").find(static_cast<char>(c)) != std::string_view::npos)
      return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view header(reinterpret_cast<const char*>(data), size);
  for (const Challenge& c : parse_www_authenticate(header)) {
    if (!lower_token(c.scheme)) std::abort();
    for (auto& [name, value] : c.params)
      if (!lower_token(name)) std::abort();
    if (c.scheme != "bearer") continue;
    Scope sc, sc_again;
    if (Scope::parse(c.param("scope"), sc) &&
        (!Scope::parse(sc.str(), sc_again) || sc_again.str() != sc.str()))
      std::abort();
    auto realm = Url::parse(c.param("realm"));
    if (!realm) continue;
    // The realm as a request names it reads back as the same URL, and the
    // query kiln adds keeps it there.
    auto again = Url::parse(realm->str());
    if (!again || again->str() != realm->str()) std::abort();
    Url asked = realm->with_query("service", c.param("service")).with_query("scope", sc.str());
    auto reread = Url::parse(asked.str());
    if (!reread || !reread->same_origin(*realm)) std::abort();
  }
  return 0;
}
