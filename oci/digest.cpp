#include "oci/digest.hpp"

#include "base/sha256.hpp"

namespace kiln::oci {

namespace {

bool is_lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

Result<Digest> Digest::parse(std::string_view s) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos) return fail("invalid digest \"", s, "\": no algorithm");
  std::string_view alg = s.substr(0, colon), hex = s.substr(colon + 1);
  size_t want = 0;
  if (alg == "sha256") {
    want = 64;
  } else if (alg == "sha512") {
    want = 128;
  } else {
    return fail("invalid digest \"", s.substr(0, 80), "\": unsupported algorithm \"",
                alg.substr(0, 20), "\"");
  }
  if (hex.size() != want || !is_lower_hex(hex))
    return fail("invalid digest \"", s.substr(0, 140), "\": ", alg, " needs ", want,
                " lower-case hex characters");
  return Digest(std::string(s));
}

Digest Digest::from_sha256_hex(std::string hex) {
  return Digest("sha256:" + hex);
}

Digest Digest::of_bytes(std::string_view bytes) {
  return from_sha256_hex(Sha256::hex_of(bytes));
}

Result<DiffId> DiffId::parse(std::string_view s) {
  TRY_ASSIGN(Digest d, Digest::parse(s));
  return DiffId(std::move(d));
}

}  // namespace kiln::oci
