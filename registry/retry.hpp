// RetryPolicy: when and how long to wait before trying a request again.
//
// Retried: connection failures (refused, reset, timed out, stalled, a document
// past its deadline, a blob below its minimum rate: a slow path is as often a
// passing fault as a dead one, and every attempt is bounded, so a registry
// holds kiln at most max_attempts times as long), HTTP 5xx except 501/505, and
// 429. Waits grow exponentially with full jitter and are capped; a Retry-After
// header (seconds or an HTTP date) is honoured up to a limit. The random source
// and clock are injectable for tests.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

#include "base/result.hpp"

namespace kiln::registry {

struct RetryPolicy {
  int max_attempts = 5;  // total tries, first included
  std::chrono::milliseconds base_delay{200};
  std::chrono::milliseconds max_delay{10000};
  std::chrono::milliseconds max_retry_after{60000};
  // Returns a uniformly random value in [0, 1); default uses a thread-local engine.
  std::function<double()> random;

  // The wait before attempt `attempt` + 1 (attempt counts from 1).
  std::chrono::milliseconds delay(int attempt,
                                  std::optional<std::chrono::milliseconds> retry_after) const;
  bool allows(int attempt) const { return attempt < max_attempts; }
};

bool retryable_status(int http_status);
// Transport failures carry an errno-like code in Error::sys_errno (ECONNREFUSED,
// ECONNRESET, ETIMEDOUT, ...); true for the ones worth retrying.
bool retryable_error(const Error& e);

// Parses a Retry-After value: delta-seconds or an IMF-fixdate, relative to `now`.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace kiln::registry
