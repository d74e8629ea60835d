#pragma once

#include "providers/http_transport.hpp"
#include "providers/provider.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

// Wire protocols of the LLM vendors as pure functions: a request builder and
// a response parser per vendor, tested offline on saved bodies (see
// ../shared/reference/providers.md for every quirk handled here).

namespace orchflow {

/// The provider kinds a client may register.
constexpr std::string_view vendor_kinds[]
    = {"gemini", "openai", "anthropic", "ollama", "openai_compatible"};

/// True for a kind with a real vendor client.
bool is_vendor_kind(std::string_view kind);

/// True if the kind needs an API key to be registered.
bool needs_api_key(std::string_view kind);

/// Where a call goes and with which secret. The key lives in memory only
/// while the request is built.
struct vendor_target {
  std::string kind;
  std::string api_key;
  /// Overrides the vendor's default endpoint base (required for
  /// openai_compatible; optional for ollama and the others, e.g. proxies).
  std::string base_url;
};

/// Limits of the outgoing calls.
struct vendor_limits {
  long connect_timeout_ms = 10000;
  long timeout_ms = 120000;
  int max_output_tokens = 4096;
};

/// The JSON Schema of a structured step (subtask_plan, task_dependencies,
/// output_evaluation); null for free text.
nlohmann::json schema_for(std::string_view schema_name);

/// Builds the HTTP call for one attempt of `req` (pure).
http_call build_vendor_call(const vendor_target& target, const llm_request& req,
                            const vendor_limits& limits = {});

/// Reads a vendor's answer (pure, never throws): the text and token usage,
/// or an error sentence that names the vendor and says whether retrying can
/// help. Any occurrence of `api_key` in vendor text is redacted.
provider_reply parse_vendor_reply(std::string_view kind,
                                  const http_outcome& out,
                                  std::string_view api_key);

/// Parses a retry hint: `retry-after-ms`, `retry-after` (seconds or an
/// HTTP-date), in milliseconds; 0 if none.
int64_t retry_after_ms(const http_outcome& out);

/// Replaces every occurrence of `secret` (and its 12-character head and
/// tail) in `text` by "[redacted]".
std::string redact(std::string text, std::string_view secret);

} // namespace orchflow
