// Network fixtures that sit between kiln and a server on 127.0.0.1:
//
// ForwardProxy: an HTTP forward proxy (absolute-URI requests) that also tunnels
// CONNECT, for testing that HTTP(S)_PROXY and NO_PROXY are honoured. It logs
// every request it handles ("GET http://127.0.0.1:5000/v2/", "CONNECT
// 127.0.0.1:5000") and forwards only to 127.0.0.1, whatever host is named.
//
// TlsFront: terminates TLS (TestPki's server certificate) and relays the plain
// bytes to an upstream port, to serve a plain-HTTP fixture (the token server)
// over https.
//
// Both are thread-safe; a thread per connection, all joined on destruction.
#pragma once

#include <atomic>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/fd.hpp"

namespace kiln::test {

class ForwardProxy {
 public:
  ForwardProxy();
  ~ForwardProxy();
  ForwardProxy(const ForwardProxy&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> requests() const;

 private:
  void serve();
  void handle(Fd client);

  Fd listen_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<std::string> log_;
  std::list<std::thread> workers_;
  std::thread thread_;
};

class TlsFront {
 public:
  explicit TlsFront(int upstream_port);
  ~TlsFront();
  TlsFront(const TlsFront&) = delete;

  int port() const { return port_; }
  int connections() const { return connections_; }
  // The TLS 1.3 cipher suite of each connection, in order ("TLS_AES_128_GCM_SHA256").
  // The front follows the client's order of preference, as OpenSSL servers do.
  std::vector<std::string> ciphers() const;

 private:
  void serve();
  void handle(Fd client);

  int upstream_;
  void* ctx_ = nullptr;  // SSL_CTX*; OpenSSL stays out of this header
  Fd listen_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  std::vector<std::string> ciphers_;
  std::list<std::thread> workers_;
  std::thread thread_;
};

}  // namespace kiln::test
