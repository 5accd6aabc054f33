// Sha256: incremental SHA-256 over OpenSSL's EVP interface.
// Not thread-safe; one instance per stream.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace kiln {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(std::span<const std::byte> data);
  void update(std::string_view data);
  // Lower-case hex of the digest. The hasher must not be updated afterwards.
  std::string hex_final();

  static std::string hex_of(std::string_view data);

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace kiln
