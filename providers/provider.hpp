#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace orchflow {

/// One LLM call as the engine asks for it. Vendors see only `system`, `user`
/// and the model; `step` names the JSON schema for structured steps.
struct llm_request {
  /// split, dependencies, execute, evaluate or finalize.
  std::string step;
  /// Provider kind (builtin, openai, ...).
  std::string provider;
  /// The registered provider (prv_...) whose key pays for the call; empty
  /// for the server's default provider.
  std::string provider_id;
  /// The account that owns the run (binds the key's decryption).
  std::string account_id;
  std::string model;
  std::string system;
  std::string user;
  /// Stable schema name for structured steps (subtask_plan, ...); empty for
  /// free text.
  std::string schema_name;
  /// 1 for the first transport attempt; the gateway increments it on retry.
  int transport_attempt = 1;
};

/// What a provider answered to one transport attempt.
struct provider_reply {
  bool ok = false;
  std::string text;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  /// For failures: a sentence a person can act on (never a secret).
  std::string error;
  /// Whether the vendor says trying again may help (429, 5xx, ...).
  bool retryable = false;
  /// Retry-After or similar hint in ms; 0 for none.
  int64_t retry_after_ms = 0;
  /// Simulated latency (builtin only): deliver the reply after this delay.
  int64_t delay_ms = 0;
};

/// A failed transport attempt that was retried.
struct llm_attempt {
  int attempt = 0;
  std::string error;
  bool retryable = false;
  int64_t latency_ms = 0;
};

/// The outcome of one LLM call after the gateway's retries.
struct llm_result {
  std::string step;
  std::string provider;
  std::string model;
  bool ok = false;
  std::string text;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t latency_ms = 0;
  /// Number of transport attempts made (1 = no retry).
  int attempts = 0;
  std::string error;
  bool retryable = false;
  /// Attempts that failed before the final one.
  std::vector<llm_attempt> failed_attempts;
};

/// A vendor client. Implementations must not block: `complete` either
/// answers at once (builtin) or starts I/O and answers later, on the
/// gateway's thread.
class llm_provider {
public:
  virtual ~llm_provider() = default;

  /// Starts one transport attempt; calls `done` exactly once.
  virtual void complete(const llm_request& req,
                        std::function<void(provider_reply)> done)
      = 0;
};

} // namespace orchflow
