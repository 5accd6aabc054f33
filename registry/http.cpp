#include "registry/http.hpp"

#include <vector>

#include "registry/url.hpp"

namespace kiln::registry {

std::string Response::header(std::string_view name) const {
  for (auto& [k, v] : headers)
    if (k == name) return v;
  return "";
}

std::vector<std::string> Response::headers_named(std::string_view name) const {
  std::vector<std::string> out;
  for (auto& [k, v] : headers)
    if (k == name) out.push_back(v);
  return out;
}

Result<std::string> read_body(Exchange& ex, size_t limit) {
  return read_all(ex, limit, "response from " + url_for_messages(ex.response().url));
}

}  // namespace kiln::registry
