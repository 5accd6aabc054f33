#include "layers/async_stream.hpp"

#include <cstring>

namespace kiln::layers {

AsyncReader::AsyncReader(Reader& inner, size_t chunk, size_t depth)
    : inner_(inner), chunk_(chunk), depth_(depth), thread_([this] { run(); }) {}

AsyncReader::~AsyncReader() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  join();
}

void AsyncReader::join() {
  if (thread_.joinable()) thread_.join();
}

void AsyncReader::run() {
  for (;;) {
    std::vector<std::byte> buf(chunk_);
    size_t filled = 0;
    std::optional<Error> err;
    // Fill whole chunks: fewer hand-offs than one per inner read.
    while (filled < buf.size()) {
      auto n = inner_.read(std::span(buf).subspan(filled));
      if (!n) {
        err = std::move(n).error();
        break;
      }
      if (*n == 0) break;
      filled += *n;
    }
    bool end = err || filled < buf.size();
    buf.resize(filled);
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stop_ || queue_.size() < depth_; });
    if (stop_) return;
    if (!buf.empty()) queue_.push_back(std::move(buf));
    if (end) {
      if (err) error_ = std::move(err);
      queue_.emplace_back();  // end marker
      cv_.notify_all();
      return;
    }
    cv_.notify_all();
  }
}

Result<size_t> AsyncReader::read(std::span<std::byte> out) {
  if (out.empty()) return size_t{0};
  while (pos_ == current_.size()) {
    if (ended_) return size_t{0};
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty(); });
    current_ = std::move(queue_.front());
    queue_.pop_front();
    pos_ = 0;
    cv_.notify_all();
    if (current_.empty()) {
      ended_ = true;
      if (error_) return tl::unexpected(*error_);
    }
  }
  size_t n = std::min(out.size(), current_.size() - pos_);
  std::memcpy(out.data(), current_.data() + pos_, n);
  pos_ += n;
  return n;
}

AsyncWriter::AsyncWriter(Writer& inner, size_t chunk, size_t depth)
    : inner_(inner), chunk_(chunk), depth_(depth), thread_([this] { run(); }) {
  current_.reserve(chunk_);
}

AsyncWriter::~AsyncWriter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AsyncWriter::run() {
  for (;;) {
    std::vector<std::byte> buf;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || closing_ || !queue_.empty(); });
      if (stop_ || (queue_.empty() && closing_)) {
        done_ = true;
        cv_.notify_all();
        return;
      }
      buf = std::move(queue_.front());
      queue_.pop_front();
      cv_.notify_all();
    }
    auto st = inner_.write(buf);
    if (!st) {
      std::lock_guard lock(mu_);
      error_ = std::move(st).error();
      done_ = true;
      cv_.notify_all();
      return;
    }
  }
}

Status AsyncWriter::push(std::vector<std::byte> buf) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return error_ || queue_.size() < depth_; });
  if (error_) return tl::unexpected(*error_);
  queue_.push_back(std::move(buf));
  cv_.notify_all();
  return {};
}

Status AsyncWriter::write(std::span<const std::byte> data) {
  while (!data.empty()) {
    size_t n = std::min(data.size(), chunk_ - current_.size());
    current_.insert(current_.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(n));
    data = data.subspan(n);
    if (current_.size() == chunk_) {
      TRY(push(std::move(current_)));
      current_ = {};
      current_.reserve(chunk_);
    }
  }
  return {};
}

Status AsyncWriter::finish() {
  if (!current_.empty()) TRY(push(std::move(current_)));
  current_ = {};
  {
    std::unique_lock lock(mu_);
    closing_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return done_; });
  }
  if (thread_.joinable()) thread_.join();
  if (error_) return tl::unexpected(*error_);
  return {};
}

}  // namespace kiln::layers
