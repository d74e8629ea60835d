#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace orchflow {

/// One outgoing HTTP request.
struct http_call {
  std::string method = "POST";
  /// http:// or https:// only; redirects are never followed.
  std::string url;
  /// Full header lines, e.g. "Content-Type: application/json".
  std::vector<std::string> headers;
  std::string body;
  long connect_timeout_ms = 5000;
  long timeout_ms = 30000;
  /// Larger responses fail the call (hostile or broken servers).
  size_t max_response_bytes = 4 * 1024 * 1024;
};

/// What came back.
struct http_outcome {
  /// False if no HTTP response arrived (DNS, connect, timeout, too large).
  bool transport_ok = false;
  long status = 0;
  std::string body;
  /// Response headers, names in lowercase.
  std::map<std::string, std::string> headers;
  /// For transport failures: a sentence (never contains request headers).
  std::string error;
  /// True if the failure was a timeout.
  bool timed_out = false;
  int64_t latency_ms = 0;
};

/// Outgoing HTTP on libcurl's multi interface, driven by one thread of its
/// own: `submit` only enqueues, and `done` runs on that thread, so callers
/// never block and must merely hand the outcome on. The only place of the
/// project (with its .cpp) that includes curl.
class http_transport {
public:
  http_transport();

  /// Aborts what is in flight (without calling `done`) and joins the thread.
  ~http_transport();

  http_transport(const http_transport&) = delete;
  http_transport& operator=(const http_transport&) = delete;

  /// Queues a request. Thread-safe. `done` runs exactly once unless the
  /// transport is destroyed first.
  void submit(http_call call, std::function<void(http_outcome)> done);

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace orchflow
