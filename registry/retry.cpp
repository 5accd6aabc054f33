#include "registry/retry.hpp"

#include <cerrno>
#include <ctime>
#include <random>
#include <string>

namespace kiln::registry {

using std::chrono::milliseconds;

milliseconds RetryPolicy::delay(int attempt, std::optional<milliseconds> retry_after) const {
  if (retry_after) return std::min(*retry_after, max_retry_after);
  double r;
  if (random) {
    r = random();
  } else {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    r = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  }
  // Full jitter: uniform in [cap/2, cap) keeps a floor so bursts still spread.
  double cap = static_cast<double>(base_delay.count());
  for (int i = 1; i < attempt && cap < static_cast<double>(max_delay.count()); ++i)
    cap *= 2;
  cap = std::min(cap, static_cast<double>(max_delay.count()));
  return milliseconds(static_cast<int64_t>(cap / 2 + r * cap / 2));
}

bool retryable_status(int s) {
  return s == 429 || s == 408 || (s >= 500 && s <= 599 && s != 501 && s != 505);
}

bool retryable_error(const Error& e) {
  if (e.http_status != 0) return retryable_status(e.http_status);
  switch (e.sys_errno) {
    case ECONNREFUSED:
    case ECONNRESET:
    case ECONNABORTED:
    case ETIMEDOUT:
    case EPIPE:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EAGAIN:
    case EIO:
      return true;
    default:
      return false;
  }
}

std::optional<milliseconds> parse_retry_after(std::string_view v,
                                              std::chrono::system_clock::time_point now) {
  while (!v.empty() && v.front() == ' ')
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\r'))
    v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  bool digits = true;
  for (char c : v)
    digits = digits && c >= '0' && c <= '9';
  if (digits) {
    if (v.size() > 9) return milliseconds(std::chrono::hours(24));
    return milliseconds(std::stoll(std::string(v)) * 1000);
  }
  std::tm tm{};
  std::string s(v);
  if (!::strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) return std::nullopt;
  auto at = std::chrono::system_clock::from_time_t(::timegm(&tm));
  if (at <= now) return milliseconds(0);
  return std::chrono::duration_cast<milliseconds>(at - now);
}

}  // namespace kiln::registry
