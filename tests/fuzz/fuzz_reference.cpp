// libFuzzer target: any bytes as an image reference. A reference that parses
// prints (str()) as one that parses to the same fields, and printing that
// gives the same text: normalization is done once, at the first parse.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "oci/reference.hpp"

namespace {

using kiln::oci::Reference;

bool same(const Reference& a, const Reference& b) {
  return a.registry == b.registry && a.repository == b.repository && a.tag == b.tag &&
         a.digest == b.digest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto r = Reference::parse(text)) {
    auto again = Reference::parse(r->str());
    if (!again || !same(*r, *again) || again->str() != r->str()) std::abort();
    if (r->identifier().empty()) std::abort();
    (void)r->familiar();
  }
  if (auto r = Reference::parse_repository(text)) {
    auto again = Reference::parse_repository(r->name());
    if (!again || !same(*r, *again)) std::abort();
  }
  return 0;
}
