#include "tests/support/fault_proxy.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "tests/support/registry_net.hpp"

namespace kiln::test {

namespace {

constexpr auto kIdle = std::chrono::seconds(20);  // no test waits longer on a silent peer

// Rewrites the head so both sides close after one exchange.
std::string close_head(const HttpHead& h, const std::string& inject) {
  std::string out = h.method + " " + h.target + " " + h.version + "\r\n";
  size_t pos = h.raw.find("\r\n") + 2;
  while (pos < h.raw.size() - 2) {
    size_t e = h.raw.find("\r\n", pos);
    std::string line = h.raw.substr(pos, e - pos);
    pos = e + 2;
    std::string lower;
    for (char c : line.substr(0, line.find(':')))
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "connection" || lower == "keep-alive") continue;
    out += line + "\r\n";
  }
  if (!inject.empty()) out += inject + "\r\n";
  return out + "Connection: close\r\n\r\n";
}

}  // namespace

FaultProxy::FaultProxy(int upstream_port) : upstream_(upstream_port) {
  listen_ = listen_local(port_);
  if (!listen_) throw std::runtime_error("fault proxy: cannot listen");
  thread_ = std::thread([this] { serve(); });
}

FaultProxy::~FaultProxy() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  for (auto& t : workers_)
    t.join();
}

void FaultProxy::add(FaultRule rule) {
  std::lock_guard lock(mu_);
  rules_.push_back(std::move(rule));
}

std::vector<std::string> FaultProxy::requests() const {
  std::lock_guard lock(mu_);
  return log_;
}

bool FaultProxy::pick(const std::string& method, const std::string& target, FaultRule& out) {
  std::lock_guard lock(mu_);
  for (auto& r : rules_) {
    if (r.times == 0) continue;
    if (!r.method.empty() && r.method != method) continue;
    if (target.find(r.target_contains) == std::string::npos) continue;
    if (r.skip > 0) {
      --r.skip;
      continue;
    }
    if (r.times > 0) --r.times;
    out = r;
    ++fired_;
    return true;
  }
  return false;
}

void FaultProxy::serve() {
  while (!stop_) {
    if (!wait_readable(listen_.get(), std::chrono::milliseconds(50))) continue;
    Fd c(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!c) continue;
    std::lock_guard lock(mu_);
    workers_.emplace_back([this, fd = c.release()] { handle(Fd(fd)); });
  }
}

void FaultProxy::handle(Fd client) {
  HttpHead head;
  std::string rest;
  if (!read_head(client.get(), head, rest, kIdle)) return;
  {
    std::lock_guard lock(mu_);
    std::string range = head.header("range");
    log_.push_back(head.method + " " + head.target + (range.empty() ? "" : " " + range) +
                   (head.header("authorization").empty() ? "" : " auth"));
  }
  FaultRule rule;
  bool faulty = pick(head.method, head.target, rule);
  if (faulty && rule.kind == FaultRule::stall) {
    auto end = std::chrono::steady_clock::now() + rule.stall_for;
    while (!stop_ && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return;
  }
  if (faulty && rule.kind == FaultRule::status) {
    // Drain the request body so the client sees the answer, not a reset.
    size_t want = std::strtoul(head.header("content-length").c_str(), nullptr, 10);
    size_t got = rest.size();
    while (got < want && wait_readable(client.get(), std::chrono::milliseconds(2000))) {
      char buf[65536];
      ssize_t n = ::recv(client.get(), buf, sizeof buf, 0);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    std::string body = rule.code == 429
                           ? R"({"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]})"
                           : R"({"errors":[{"code":"UNKNOWN","message":"injected failure"}]})";
    std::string extra =
        rule.retry_after >= 0 ? "Retry-After: " + std::to_string(rule.retry_after) + "\r\n" : "";
    write_all(client.get(), "HTTP/1.1 " + std::to_string(rule.code) +
                                " Injected\r\nContent-Type: application/json\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n" + extra +
                                "Connection: close\r\n\r\n" + body);
    return;
  }
  if (faulty && rule.kind == FaultRule::redirect) {
    write_all(client.get(), "HTTP/1.1 307 Temporary Redirect\r\nLocation: " + rule.redirect_to +
                                head.target + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return;
  }
  Fd up = connect_local(upstream_);
  if (!up) return;
  if (!write_all(up.get(), close_head(head, inject_) + rest)) return;
  // Relay both ways until the registry closes; count response body bytes for drops.
  std::string resp_head;
  bool in_body = false;
  size_t body_seen = 0;
  char buf[65536];
  for (;;) {
    pollfd p[2] = {{client.get(), POLLIN, 0}, {up.get(), POLLIN, 0}};
    int r = ::poll(p, 2, static_cast<int>(std::chrono::milliseconds(kIdle).count()));
    if (r <= 0 || stop_) return;
    if (p[0].revents & (POLLIN | POLLHUP)) {
      ssize_t n = ::recv(client.get(), buf, sizeof buf, 0);
      if (n <= 0) return;
      if (!write_all(up.get(), std::string_view(buf, static_cast<size_t>(n)))) return;
    }
    if (p[1].revents & (POLLIN | POLLHUP)) {
      ssize_t n = ::recv(up.get(), buf, sizeof buf, 0);
      if (n <= 0) return;
      std::string_view chunk(buf, static_cast<size_t>(n));
      if (!in_body) {
        resp_head.append(chunk);
        size_t e = resp_head.find("\r\n\r\n");
        if (e == std::string::npos) {
          if (!write_all(client.get(), chunk)) return;
          continue;
        }
        in_body = true;
        size_t head_in_chunk = chunk.size() - (resp_head.size() - (e + 4));
        if (!write_all(client.get(), chunk.substr(0, head_in_chunk))) return;
        chunk.remove_prefix(head_in_chunk);
      }
      if (faulty && rule.kind == FaultRule::drop) {
        size_t allowed = rule.after_bytes - std::min(rule.after_bytes, body_seen);
        if (chunk.size() >= allowed) {
          write_all(client.get(), chunk.substr(0, allowed));
          ::shutdown(client.get(), SHUT_RDWR);
          return;
        }
      }
      body_seen += chunk.size();
      while (faulty && rule.kind == FaultRule::trickle && !chunk.empty()) {
        if (stop_) return;
        size_t k = std::min(rule.trickle_bytes, chunk.size());
        if (!write_all(client.get(), chunk.substr(0, k))) return;
        chunk.remove_prefix(k);
        std::this_thread::sleep_for(rule.trickle_every);
      }
      if (!write_all(client.get(), chunk)) return;
    }
  }
}

}  // namespace kiln::test
