// AsyncReader / AsyncWriter: run one side of a byte stream on a second thread,
// with a small bounded queue of buffers between the two, so that hashing and
// (de)compression overlap with tar work and file I/O — what a shell pipeline
// like `zstd -dc | tar -x` gets from being two processes.
//
// Memory is bounded (depth × chunk bytes). Errors on the background side are
// returned by the next call on the foreground side. The thread is joined by
// finish()/join() or the destructor; no thread outlives its object.
// Each object is used from one foreground thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "base/result.hpp"
#include "base/stream.hpp"

namespace kiln::layers {

// Reads `inner` to its end on a background thread.
class AsyncReader : public Reader {
 public:
  explicit AsyncReader(Reader& inner, size_t chunk = 1 << 20, size_t depth = 4);
  ~AsyncReader() override;
  Result<size_t> read(std::span<std::byte> buf) override;
  // Waits for the background thread; after this `inner` is no longer touched.
  void join();

 private:
  void run();
  Reader& inner_;
  size_t chunk_, depth_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<std::byte>> queue_;  // an empty buffer marks the end
  std::optional<Error> error_;
  bool stop_ = false;
  std::vector<std::byte> current_;
  size_t pos_ = 0;
  bool ended_ = false;
  std::thread thread_;
};

// Writes to `inner` on a background thread. finish() must be called to flush;
// the destructor of an unfinished writer drops what is queued.
class AsyncWriter : public Writer {
 public:
  explicit AsyncWriter(Writer& inner, size_t chunk = 1 << 20, size_t depth = 4);
  ~AsyncWriter() override;
  using Writer::write;
  Status write(std::span<const std::byte> data) override;
  Status finish();

 private:
  void run();
  Status push(std::vector<std::byte> buf);
  Writer& inner_;
  size_t chunk_, depth_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<std::byte>> queue_;
  std::optional<Error> error_;
  bool closing_ = false, stop_ = false, done_ = false;
  std::vector<std::byte> current_;
  std::thread thread_;
};

}  // namespace kiln::layers
