// Small socket helpers for the registry fixtures (token server, fault proxy,
// registry launcher). Every wait has a timeout so a test can never hang.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "base/fd.hpp"

namespace kiln::test {

// A listening TCP socket on 127.0.0.1 with a kernel-chosen port.
Fd listen_local(int& port);
// A port that was free a moment ago (for servers we do not start ourselves).
int free_port();
// Connects to 127.0.0.1:port; invalid Fd on failure.
Fd connect_local(int port);
// True once 127.0.0.1:port accepts connections, polling until `limit`.
bool wait_for_port(int port, std::chrono::milliseconds limit);

bool write_all(int fd, std::string_view data);
// Waits up to `timeout` for readable data; false on timeout.
bool wait_readable(int fd, std::chrono::milliseconds timeout);

// One parsed HTTP/1.1 request head.
struct HttpHead {
  std::string method, target, version;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string raw;  // the head exactly as received, CRLFCRLF included
  std::string header(const std::string& lower_name) const;
};

// Reads a request (or response) head; bytes read past it are left in `rest`.
// False on EOF, timeout or garbage.
bool read_head(int fd, HttpHead& head, std::string& rest, std::chrono::milliseconds timeout);

std::string base64(std::string_view data, bool url = false);
std::string base64_decode(std::string_view s);
std::string url_decode(std::string_view s);

}  // namespace kiln::test
