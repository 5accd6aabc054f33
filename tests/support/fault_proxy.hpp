// FaultProxy: a TCP proxy in front of a registry that injects faults, for
// testing retries, resume and timeouts against the real server.
//
// Each rule matches requests by method and a substring of the target and fires
// `times` times (-1: always). Faults: answer a status (500, or 429 with
// Retry-After) without forwarding; forward and drop the connection after
// `after_bytes` bytes of the response body; hold the connection silent (stall);
// forward the response body slowly, `trickle_bytes` every `trickle_every`.
// Every connection is forced to "Connection: close" so rules see each request.
// Thread-safe; a background thread per connection, all joined on destruction.
#pragma once

#include <atomic>
#include <chrono>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/fd.hpp"

namespace kiln::test {

struct FaultRule {
  enum Kind { status, drop, stall, redirect, trickle } kind = status;
  std::string method;           // "" matches any
  std::string target_contains;  // "" matches any
  int times = 1;                // -1: every time
  int skip = 0;                 // let this many matching requests through first
  int code = 500;               // for status
  int retry_after = -1;         // seconds, for status (429); -1: no header
  size_t after_bytes = 0;       // for drop: body bytes relayed first
  std::chrono::milliseconds stall_for{10000};
  size_t trickle_bytes = 1;  // for trickle
  std::chrono::milliseconds trickle_every{100};
  std::string redirect_to;  // for redirect: a base URL ("http://127.0.0.1:PORT"), target appended
};

class FaultProxy {
 public:
  explicit FaultProxy(int upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;

  int port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  void add(FaultRule rule);
  // A header added to every forwarded request (as blob storage trusts its own
  // signed URLs, this proxy can stand in for storage that needs no client auth).
  void inject_header(std::string line) { inject_ = std::move(line); }
  // "METHOD target [range] [auth]" per request seen, in order ("auth" when the
  // client sent an Authorization header); and how many faults fired.
  std::vector<std::string> requests() const;
  int faults_fired() const { return fired_; }

 private:
  void serve();
  void handle(Fd client);
  bool pick(const std::string& method, const std::string& target, FaultRule& out);

  int upstream_;
  Fd listen_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> fired_{0};
  mutable std::mutex mu_;
  std::vector<FaultRule> rules_;
  std::string inject_;
  std::vector<std::string> log_;
  std::list<std::thread> workers_;
  std::thread thread_;
};

}  // namespace kiln::test
