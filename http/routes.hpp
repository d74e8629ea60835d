#pragma once

#include "config/config.hpp"
#include "http/server.hpp"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace orchflow {
class engine;
} // namespace orchflow

namespace orchflow::http {

/// The REST API of API.md: routing, authentication, validation and the
/// mapping of results to status codes. Free of Beast types. GETs read the
/// projections directly; commands go to the engine and answer
/// asynchronously.
class api {
public:
  /// `eng` is null until recovery finished (every route but /health
  /// answers 503 meanwhile).
  /// `offload` runs blocking work (log reads) off the I/O threads.
  api(const std::atomic<engine*>& eng, const server_config& cfg,
      std::function<void(std::function<void()>)> offload);

  /// Handles one request; never throws, never blocks on actors.
  void handle(request req, responder respond) const;

private:
  void handle_providers(engine& eng, const std::string& account,
                        const std::vector<std::string>& p, const std::string& m,
                        request& req, responder respond) const;

  const std::atomic<engine*>& engine_;
  const server_config& cfg_;
  std::function<void(std::function<void()>)> offload_;
};

/// The server's version string.
const char* version();

} // namespace orchflow::http
