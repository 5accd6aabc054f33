// The HTTP seam of the registry client: a Request, the Response head, and an
// Exchange that streams the body. The libcurl implementation lives in
// curl_transport.cpp; unit tests substitute their own Transport.
//
// Failures of the connection itself come back as an Error whose sys_errno says
// what happened (ECONNREFUSED, ECONNRESET, ETIMEDOUT for a stall, a connect
// timeout, a document past its deadline or a blob below its minimum rate,
// EPROTO for TLS), so retry decisions need no transport details.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "base/stream.hpp"

namespace kiln::registry {

using Headers = std::vector<std::pair<std::string, std::string>>;

// What the caller does with the response body. It decides how slow the
// registry may be (CurlOptions): a document is read into memory whole and has
// a deadline; a blob streams to its consumer and must keep a minimum rate. A
// request that streams a body of its own (an upload, `open_body`) has neither:
// a deadline would cut a large upload short, and its pace is the sender's.
enum class BodyUse { document, blob };

struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;  // may hold credentials: never logged
  // The body: either small bytes, or a source opened afresh for every attempt
  // (so a retried upload streams again from the start).
  std::string body;
  std::function<Result<std::unique_ptr<Reader>>()> open_body;
  int64_t body_size = -1;  // required with open_body
  BodyUse use = BodyUse::document;
};

struct Response {
  int status = 0;
  Headers headers;  // names lower-case, in arrival order
  std::string url;  // the URL that answered

  // The first header of that (lower-case) name, or "".
  std::string header(std::string_view name) const;
  std::vector<std::string> headers_named(std::string_view name) const;
};

// One request in flight whose response head has arrived. read() yields the
// body; a connection that breaks mid-body is an Error with sys_errno set.
class Exchange : public Reader {
 public:
  virtual const Response& response() const = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends the request and returns once the response head is in. Thread-safe.
  virtual Result<std::unique_ptr<Exchange>> start(const Request& req) = 0;
};

// Reads the rest of an exchange's body (bounded), for small responses.
Result<std::string> read_body(Exchange& ex, size_t limit = 4 << 20);

// TLS material for one registry: what certs.d (or --cert-dir) provides.
struct TlsSettings {
  bool verify = true;
  std::string extra_ca_pem;  // appended to the system CAs
  std::string client_cert;   // PEM file paths, both or neither
  std::string client_key;
};

struct CurlOptions {
  std::chrono::milliseconds connect_timeout{30000};
  // A transfer that moves no byte for this long fails with ETIMEDOUT.
  std::chrono::milliseconds stall_timeout{60000};
  // A document's whole exchange, head and body, ends within this (0: no deadline).
  std::chrono::milliseconds document_deadline{60000};
  // A blob arrives at blob_min_rate bytes/s or faster, averaged over each
  // blob_rate_window that kiln spends waiting on the registry (time its own
  // consumer takes does not count). 0: no minimum.
  int64_t blob_min_rate = 1024;
  std::chrono::milliseconds blob_rate_window{60000};
  // TLS settings per "host:port" (the registry's name as written in certs.d).
  std::function<TlsSettings(const std::string& host_port)> tls_for;
  std::string user_agent = "kiln/0.1";
};

std::shared_ptr<Transport> make_curl_transport(CurlOptions opts);

}  // namespace kiln::registry
