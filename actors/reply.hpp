#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace orchflow {

/// Where the answer to a command goes. The HTTP layer implements it by
/// posting the response to the connection's strand; tests implement it with
/// a promise. `send` is called exactly once, from any thread, and must not
/// block.
class reply_sink {
public:
  virtual ~reply_sink() = default;

  /// Delivers the HTTP status and JSON body of the answer.
  virtual void send(int status, std::string body) = 0;
};

using reply_ptr = std::shared_ptr<reply_sink>;

/// Sends `{"detail": detail, "code": code}` with `status`.
inline void send_error(const reply_ptr& r, int status, const std::string& code,
                       const std::string& detail) {
  if (r)
    r->send(status, nlohmann::json{{"detail", detail}, {"code", code}}.dump());
}

/// A validated POST /runs body, normalized to the data of `run.created`
/// (without run_id, which the supervisor draws).
struct run_spec {
  nlohmann::json data;
};

/// A notification to POST to a client's webhook_url.
struct webhook_delivery {
  /// Stable across retries and restarts (the webhook-id header).
  std::string delivery_id;
  std::string run_id;
  std::string url;
  /// The JSON body, exactly as sent every time.
  std::string body;
};

/// A validated provider registration. `api_key` is the raw secret: it is
/// sealed at once and never stored, logged or echoed.
struct provider_spec {
  std::string account_id;
  std::string kind;
  std::string api_key;
  std::string label;
  std::string model;
  std::string base_url;
};

/// A validated registration: name and email.
struct account_spec {
  std::string name;
  std::string email;
};

} // namespace orchflow
