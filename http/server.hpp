#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace orchflow::http {

/// A parsed request, free of Beast types.
struct request {
  std::string method;
  /// Path and query, e.g. `/api/v1/runs?limit=10`.
  std::string target;
  std::string body;
  /// Header values the API needs (lowercase names).
  std::string api_key;
  bool has_api_key = false;
  std::string content_type;
};

/// A response, free of Beast types.
struct response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Delivers the response of one request. Callable once, from any thread; it
/// hops to the connection's strand and never blocks.
using responder = std::function<void(response)>;

/// Handles one request; must not block the I/O thread (hand long work to
/// actors and answer later through the responder).
using handler = std::function<void(request, responder)>;

/// Limits of the server.
struct server_options {
  std::string host = "127.0.0.1";
  uint16_t port = 8000;
  int threads = 1;
  size_t max_body_bytes = 1024 * 1024;
  int timeout_s = 30;
};

/// An HTTP/1.1 server on Boost.Beast: a session per connection on a strand,
/// keep-alive, parser limits (8 KiB headers, `max_body_bytes` bodies),
/// request-smuggling guards (Transfer-Encoding with Content-Length,
/// non-chunked transfer codings) and read timeouts. The only file that
/// includes Beast.
class server {
public:
  server(server_options opts, handler h);

  /// Stops accepting, closes connections and joins the I/O threads.
  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds and starts the I/O threads. Throws std::runtime_error with a
  /// sentence if the address cannot be bound.
  void start();

  /// The bound port (useful with port 0).
  uint16_t port() const;

  /// Stops the server (idempotent).
  void stop();

  /// Runs `f` on a small pool reserved for blocking work (disk reads of the
  /// event log), so that I/O threads never wait on the disk. Thread-safe.
  void offload(std::function<void()> f);

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace orchflow::http
