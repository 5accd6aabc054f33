// Logging: a level filter and a sink. Library code logs; only cli/ decides
// where lines go (it installs the sink). Secrets must never be passed here.
// Thread-safe: the sink is called under a mutex.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace kiln {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

void set_log_level(LogLevel level);
LogLevel log_level();
void set_log_sink(std::function<void(LogLevel, std::string_view)> sink);
void log(LogLevel level, std::string_view line);

inline void log_debug(std::string_view s) {
  log(LogLevel::debug, s);
}
inline void log_info(std::string_view s) {
  log(LogLevel::info, s);
}
inline void log_warn(std::string_view s) {
  log(LogLevel::warn, s);
}

}  // namespace kiln
