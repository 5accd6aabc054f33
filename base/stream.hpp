// Byte streams: Reader and Writer, and wrappers that hash and verify on the way.
//
// Blobs always move through these so memory stays flat whatever the size.
// A VerifyingReader fails at end of stream (never silently) when the bytes seen
// do not match the expected size and sha256. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/fd.hpp"
#include "base/result.hpp"
#include "base/sha256.hpp"

namespace kiln {

class Reader {
 public:
  virtual ~Reader() = default;
  // Reads up to buf.size() bytes; 0 means end of stream.
  virtual Result<size_t> read(std::span<std::byte> buf) = 0;
};

class Writer {
 public:
  virtual ~Writer() = default;
  virtual Status write(std::span<const std::byte> data) = 0;
  Status write(std::string_view s) { return write(std::as_bytes(std::span(s.data(), s.size()))); }
};

// Reads from a file descriptor, owned or borrowed.
class FdReader : public Reader {
 public:
  explicit FdReader(Fd fd) : owned_(std::move(fd)), fd_(owned_.get()) {}
  explicit FdReader(int borrowed) : fd_(borrowed) {}
  Result<size_t> read(std::span<std::byte> buf) override;

 private:
  Fd owned_;
  int fd_;
};

class FdWriter : public Writer {
 public:
  explicit FdWriter(int borrowed) : fd_(borrowed) {}
  using Writer::write;
  Status write(std::span<const std::byte> data) override;

 private:
  int fd_;
};

class StringReader : public Reader {
 public:
  explicit StringReader(std::string data) : data_(std::move(data)) {}
  Result<size_t> read(std::span<std::byte> buf) override;

 private:
  std::string data_;
  size_t pos_ = 0;
};

class StringWriter : public Writer {
 public:
  using Writer::write;
  Status write(std::span<const std::byte> data) override;
  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Passes bytes through, counting them and hashing with sha256.
class HashingReader : public Reader {
 public:
  explicit HashingReader(Reader& inner) : inner_(inner) {}
  Result<size_t> read(std::span<std::byte> buf) override;
  uint64_t size() const { return size_; }
  std::string hex_final() { return hash_.hex_final(); }

 private:
  Reader& inner_;
  Sha256 hash_;
  uint64_t size_ = 0;
};

class HashingWriter : public Writer {
 public:
  explicit HashingWriter(Writer& inner) : inner_(inner) {}
  using Writer::write;
  Status write(std::span<const std::byte> data) override;
  uint64_t size() const { return size_; }
  std::string hex_final() { return hash_.hex_final(); }

 private:
  Writer& inner_;
  Sha256 hash_;
  uint64_t size_ = 0;
};

// Fails as soon as more than `size` bytes arrive, and at end of stream when the
// size or sha256 differs. `what` names the blob in the error. With a size, the
// check happens before the last bytes are handed over: the read that reaches
// `size` first makes sure the stream ends there and the digest matches, so a
// consumer that stops after exactly `size` bytes (an HTTP body of that
// Content-Length) never gets a wrong blob whole.
class VerifyingReader : public Reader {
 public:
  VerifyingReader(Reader& inner, std::optional<uint64_t> size, std::string sha256_hex,
                  std::string what)
      : inner_(inner), size_(size), hex_(std::move(sha256_hex)), what_(std::move(what)) {}
  Result<size_t> read(std::span<std::byte> buf) override;

 private:
  Result<size_t> check(std::span<std::byte> buf);
  Reader& inner_;
  std::optional<uint64_t> size_;
  std::string hex_;
  std::string what_;
  Sha256 hash_;
  uint64_t seen_ = 0;
  bool done_ = false;
  std::optional<Error> failed_;
};

// Copies until end of stream; returns the number of bytes copied.
Result<uint64_t> copy_stream(Reader& from, Writer& to);

// Reads a whole (small) stream into memory, failing past `limit` bytes.
Result<std::string> read_all(Reader& from, size_t limit, std::string_view what);

}  // namespace kiln
