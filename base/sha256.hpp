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
  // An independent hasher in the same state: a checkpoint to resume from, or
  // a copy to finish while this one goes on.
  Sha256 clone() const;

  static std::string hex_of(std::string_view data);

 private:
  struct Ctx;
  explicit Sha256(std::unique_ptr<Ctx> ctx);
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace kiln
