#include "base/stream.hpp"

#include <cerrno>
#include <cstring>
#include <vector>

namespace kiln {

Result<size_t> FdReader::read(std::span<std::byte> buf) {
  for (;;) {
    ssize_t n = ::read(fd_, buf.data(), buf.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return fail_errno(errno, "read");
  }
}

Status FdWriter::write(std::span<const std::byte> data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, "write");
    }
    data = data.subspan(static_cast<size_t>(n));
  }
  return {};
}

Result<size_t> StringReader::read(std::span<std::byte> buf) {
  size_t n = std::min(buf.size(), data_.size() - pos_);
  std::memcpy(buf.data(), data_.data() + pos_, n);
  pos_ += n;
  return n;
}

Status StringWriter::write(std::span<const std::byte> data) {
  out_.append(reinterpret_cast<const char*>(data.data()), data.size());
  return {};
}

Result<size_t> HashingReader::read(std::span<std::byte> buf) {
  auto n = inner_.read(buf);
  if (n && *n > 0) {
    hash_.update(buf.first(*n));
    size_ += *n;
  }
  return n;
}

Status HashingWriter::write(std::span<const std::byte> data) {
  hash_.update(data);
  size_ += data.size();
  return inner_.write(data);
}

Result<size_t> VerifyingReader::read(std::span<std::byte> buf) {
  if (failed_) return tl::unexpected(*failed_);
  if (done_) return size_t{0};
  auto n = check(buf);
  if (!n) failed_ = n.error();  // sticky: a later read never looks like a clean end
  return n;
}

Result<size_t> VerifyingReader::check(std::span<std::byte> buf) {
  TRY_ASSIGN(size_t n, inner_.read(buf));
  if (n > 0) {
    seen_ += n;
    if (size_ && seen_ > *size_) return fail(what_, ": more bytes than the expected ", *size_);
    hash_.update(buf.first(n));
    if (!size_ || seen_ < *size_) return n;
    // The last expected bytes: hold them until the stream is known to end
    // here with the right digest.
    std::byte extra;
    TRY_ASSIGN(size_t more, inner_.read(std::span(&extra, 1)));
    if (more > 0) return fail(what_, ": more bytes than the expected ", *size_);
    std::string got = hash_.hex_final();
    if (got != hex_) return fail(what_, ": content has digest sha256:", got);
    done_ = true;
    return n;
  }
  if (size_ && seen_ != *size_)
    return fail(what_, ": size ", seen_, " does not match the expected ", *size_);
  std::string got = hash_.hex_final();
  if (got != hex_) return fail(what_, ": content has digest sha256:", got);
  done_ = true;
  return size_t{0};
}

Result<uint64_t> copy_stream(Reader& from, Writer& to) {
  std::vector<std::byte> buf(1 << 20);
  uint64_t total = 0;
  for (;;) {
    TRY_ASSIGN(size_t n, from.read(buf));
    if (n == 0) return total;
    TRY(to.write(std::span(buf).first(n)));
    total += n;
  }
}

Result<std::string> read_all(Reader& from, size_t limit, std::string_view what) {
  std::string out;
  std::vector<std::byte> buf(64 * 1024);
  for (;;) {
    TRY_ASSIGN(size_t n, from.read(buf));
    if (n == 0) return out;
    if (out.size() + n > limit) return fail(what, ": larger than the limit of ", limit, " bytes");
    out.append(reinterpret_cast<const char*>(buf.data()), n);
  }
}

}  // namespace kiln
