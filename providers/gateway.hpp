#pragma once

#include "providers/provider.hpp"

#include <functional>
#include <memory>
#include <string>

namespace orchflow {

/// Retry policy of the gateway.
struct gateway_options {
  /// Transport attempts per call (1 = no retry).
  int max_attempts = 3;
  /// First retry delay; doubles per attempt, full jitter.
  int backoff_ms = 500;
  /// Upper bound of one delay, Retry-After hints included.
  int backoff_cap_ms = 30000;
};

/// Runs every LLM call of the process on one thread of its own: providers
/// start their I/O there and answer there, retries wait there on a timer
/// queue. Callers (actors) never block: `submit` only enqueues, and `done`
/// runs on the gateway thread, so it must merely send a message.
class llm_gateway {
public:
  explicit llm_gateway(gateway_options opts);

  /// Stops the thread; pending calls are dropped without calling `done`.
  ~llm_gateway();

  llm_gateway(const llm_gateway&) = delete;
  llm_gateway& operator=(const llm_gateway&) = delete;

  /// Stops the thread; calls queued or waiting for a retry are dropped.
  /// Idempotent; the destructor calls it.
  void stop();

  /// Registers the client for a provider kind. Call before the first submit.
  void add_provider(std::string kind, std::unique_ptr<llm_provider> p);

  /// Queues a call. Thread-safe. `done` runs exactly once on the gateway
  /// thread, unless the gateway is destroyed first.
  void submit(llm_request req, std::function<void(llm_result)> done);

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace orchflow
