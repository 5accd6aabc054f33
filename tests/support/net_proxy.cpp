#include "tests/support/net_proxy.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdlib>
#include <stdexcept>

#include "tests/support/registry_net.hpp"
#include "tests/support/registry_server.hpp"

namespace kiln::test {

namespace {

constexpr int kIdleMs = 20000;  // no test waits longer on a silent peer

// The port of "host:port" or of an absolute URL's authority; 0 when absent.
int port_of(const std::string& authority) {
  size_t colon = authority.rfind(':');
  if (colon == std::string::npos) return 0;
  return std::atoi(authority.c_str() + colon + 1);
}

// Relays bytes both ways until either side closes or goes quiet.
void relay(int a, int b) {
  char buf[65536];
  for (;;) {
    pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    if (::poll(p, 2, kIdleMs) <= 0) return;
    for (int i = 0; i < 2; ++i) {
      if (!(p[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t n = ::recv(p[i].fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      if (!write_all(p[1 - i].fd, std::string_view(buf, static_cast<size_t>(n)))) return;
    }
  }
}

template <class Handler>
void accept_loop(std::atomic<bool>& stop, const Fd& listen, std::mutex& mu,
                 std::list<std::thread>& workers, Handler handler) {
  while (!stop) {
    if (!wait_readable(listen.get(), std::chrono::milliseconds(50))) continue;
    Fd c(::accept4(listen.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!c) continue;
    std::lock_guard lock(mu);
    workers.emplace_back([handler, fd = c.release()] { handler(Fd(fd)); });
  }
}

}  // namespace

ForwardProxy::ForwardProxy() {
  listen_ = listen_local(port_);
  if (!listen_) throw std::runtime_error("forward proxy: cannot listen");
  thread_ = std::thread([this] {
    accept_loop(stop_, listen_, mu_, workers_, [this](Fd c) { handle(std::move(c)); });
  });
}

ForwardProxy::~ForwardProxy() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  for (auto& t : workers_)
    t.join();
}

std::vector<std::string> ForwardProxy::requests() const {
  std::lock_guard lock(mu_);
  return log_;
}

void ForwardProxy::handle(Fd client) {
  HttpHead head;
  std::string rest;
  if (!read_head(client.get(), head, rest, std::chrono::milliseconds(kIdleMs))) return;
  {
    std::lock_guard lock(mu_);
    log_.push_back(head.method + " " + head.target);
  }
  if (head.method == "CONNECT") {
    Fd up = connect_local(port_of(head.target));
    if (!up) {
      write_all(client.get(), "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    if (!write_all(client.get(), "HTTP/1.1 200 Connection established\r\n\r\n")) return;
    if (!rest.empty() && !write_all(up.get(), rest)) return;
    relay(client.get(), up.get());
    return;
  }
  // An absolute URI: forward in origin form, one exchange per connection.
  const std::string scheme = "http://";
  size_t slash = head.target.find('/', scheme.size());
  if (head.target.rfind(scheme, 0) != 0 || slash == std::string::npos) {
    write_all(client.get(), "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    return;
  }
  Fd up = connect_local(port_of(head.target.substr(0, slash)));
  if (!up) return;
  std::string out = head.method + " " + head.target.substr(slash) + " " + head.version + "\r\n";
  for (auto& [k, v] : head.headers)
    if (k != "connection" && k != "proxy-connection" && k != "keep-alive")
      out += k + ": " + v + "\r\n";
  out += "Connection: close\r\n\r\n";
  if (!write_all(up.get(), out + rest)) return;
  relay(client.get(), up.get());
}

TlsFront::TlsFront(int upstream_port) : upstream_(upstream_port) {
  const TestPki& pki = test_pki();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, pki.server_crt.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, pki.server_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    SSL_CTX_free(ctx);
    throw std::runtime_error("tls front: cannot load the server certificate");
  }
  ctx_ = ctx;
  listen_ = listen_local(port_);
  if (!listen_) throw std::runtime_error("tls front: cannot listen");
  thread_ = std::thread([this] {
    accept_loop(stop_, listen_, mu_, workers_, [this](Fd c) { handle(std::move(c)); });
  });
}

TlsFront::~TlsFront() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  for (auto& t : workers_)
    t.join();
  SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
}

std::vector<std::string> TlsFront::ciphers() const {
  std::lock_guard lock(mu_);
  return ciphers_;
}

void TlsFront::handle(Fd client) {
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(static_cast<SSL_CTX*>(ctx_)), &SSL_free);
  if (!ssl || SSL_set_fd(ssl.get(), client.get()) != 1 || SSL_accept(ssl.get()) != 1) return;
  ++connections_;
  {
    std::lock_guard lock(mu_);
    ciphers_.push_back(SSL_get_cipher_name(ssl.get()));
  }
  Fd up = connect_local(upstream_);
  if (!up) return;
  char buf[65536];
  for (;;) {
    // Decrypted bytes OpenSSL already holds do not show up in poll().
    if (SSL_pending(ssl.get()) == 0) {
      pollfd p[2] = {{client.get(), POLLIN, 0}, {up.get(), POLLIN, 0}};
      if (::poll(p, 2, kIdleMs) <= 0) return;
      if (p[1].revents & (POLLIN | POLLHUP)) {
        ssize_t n = ::recv(up.get(), buf, sizeof buf, 0);
        if (n <= 0 || SSL_write(ssl.get(), buf, static_cast<int>(n)) <= 0) return;
      }
      if (!(p[0].revents & (POLLIN | POLLHUP))) continue;
    }
    int n = SSL_read(ssl.get(), buf, sizeof buf);
    if (n <= 0) {
      // TLS 1.3 session tickets and the like: no application data yet.
      if (SSL_get_error(ssl.get(), n) == SSL_ERROR_WANT_READ) continue;
      return;
    }
    if (!write_all(up.get(), std::string_view(buf, static_cast<size_t>(n)))) return;
  }
}

}  // namespace kiln::test
