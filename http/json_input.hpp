#pragma once

#include "actors/reply.hpp"
#include "config/config.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace orchflow::http {

/// A client error: status, machine code, and the body to send.
struct input_error {
  int status = 400;
  std::string body;
};

/// Parses a request body as a JSON object: 400 for malformed JSON (too deep
/// or invalid UTF-8 included), 422 for anything but an object. Never throws.
std::variant<nlohmann::json, input_error> parse_object(std::string_view body);

/// Which provider and default model a run uses.
struct run_provider {
  std::string kind;
  std::string model;
  /// Empty for the server's default provider.
  std::string provider_id;
};

/// Resolves a `provider_id` of the caller's account (404 if missing or
/// another account's, 422 if deactivated).
using provider_lookup = std::function<std::variant<run_provider, input_error>(
    const std::string&)>;

/// Validates a POST /runs body into the data of `run.created`: 422 with
/// FastAPI-style `loc/msg/type` details for every problem found.
std::variant<run_spec, input_error> validate_run(const nlohmann::json& body,
                                                 const std::string& account_id,
                                                 const run_provider& fallback,
                                                 const provider_lookup& lookup);

/// Validates a POST /providers body (the raw key is only moved, never
/// copied into an error).
std::variant<provider_spec, input_error>
validate_provider(nlohmann::json& body, const std::string& account_id,
                  const server_config& cfg);

/// Validates a POST /auth/register body.
std::variant<account_spec, input_error>
validate_registration(const nlohmann::json& body);

/// Validates a POST .../complete body and returns the output.
std::variant<std::string, input_error>
validate_completion(const nlohmann::json& body);

/// `{"detail": detail, "code": code}` as an input_error.
input_error make_error(int status, const std::string& code,
                       const std::string& detail);

} // namespace orchflow::http
