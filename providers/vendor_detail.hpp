#pragma once

// Shared pieces of the vendor clients (providers/*_client.cpp). Internal.

#include "providers/vendors.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace orchflow::detail {

/// Cuts vendor text for an error sentence.
std::string clip(std::string_view x, size_t n = 300);

/// Parses a JSON body leniently (leading blank lines, BOM); nullopt if it
/// is not JSON.
std::optional<nlohmann::json> parse_body(std::string_view body);

/// What a vendor's error body says.
struct error_info {
  std::string message;
  /// The most specific machine code found (insufficient_quota,
  /// API_KEY_INVALID, enforced_spend_limit_reached, rate_limit_error, ...).
  std::string code;
  /// Gemini's RetryInfo.retryDelay, in ms.
  int64_t retry_delay_ms = 0;
  /// A daily quota (waiting seconds will not help).
  bool per_day = false;
};

/// Extracts the error from the usual body shapes:
/// {"error":{"message","type","code"}}, {"error":"text"},
/// {"object":"error","message",..}, {"type":"error","error":{..}},
/// {"error":{"code":429,"status":..,"details":[..]}}.
error_info error_fields(const nlohmann::json& body);

/// The error sentence and retry class of a failed HTTP exchange, shared by
/// all vendors.
provider_reply failure(std::string_view kind, const http_outcome& out,
                       error_info info, std::string_view api_key);

/// A successful answer, or an empty-output error.
provider_reply answer(std::string_view kind, std::string text,
                      int64_t input_tokens, int64_t output_tokens,
                      std::string_view finish, std::string_view api_key);

// -- per vendor
// -------------------------------------------------------------------

http_call openai_call(const vendor_target& t, const llm_request& req,
                      const vendor_limits& limits);
provider_reply openai_reply(std::string_view kind, const http_outcome& out,
                            std::string_view api_key);

http_call anthropic_call(const vendor_target& t, const llm_request& req,
                         const vendor_limits& limits);
provider_reply anthropic_reply(const http_outcome& out,
                               std::string_view api_key);

http_call gemini_call(const vendor_target& t, const llm_request& req,
                      const vendor_limits& limits);
provider_reply gemini_reply(const http_outcome& out, std::string_view api_key);

http_call ollama_call(const vendor_target& t, const llm_request& req,
                      const vendor_limits& limits);
provider_reply ollama_reply(const http_outcome& out, std::string_view api_key);

/// Joins a base URL and a path without doubling slashes.
std::string join_url(std::string base, std::string_view path);

} // namespace orchflow::detail
