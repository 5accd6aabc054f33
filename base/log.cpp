#include "base/log.hpp"

#include <atomic>
#include <mutex>

namespace kiln {

namespace {
std::atomic<LogLevel> g_level{LogLevel::warn};
std::mutex g_mu;
std::function<void(LogLevel, std::string_view)> g_sink;
}  // namespace

void set_log_level(LogLevel level) {
  g_level = level;
}
LogLevel log_level() {
  return g_level;
}

void set_log_sink(std::function<void(LogLevel, std::string_view)> sink) {
  std::lock_guard lock(g_mu);
  g_sink = std::move(sink);
}

void log(LogLevel level, std::string_view line) {
  if (level < g_level) return;
  std::lock_guard lock(g_mu);
  if (g_sink) g_sink(level, line);
}

}  // namespace kiln
