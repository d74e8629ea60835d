#pragma once

#include "actors/reply.hpp"

#include <nlohmann/json.hpp>

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

/// Validates a POST /runs body into the data of `run.created`: 422 with
/// FastAPI-style `loc/msg/type` details for every problem found.
std::variant<run_spec, input_error>
validate_run(const nlohmann::json& body, const std::string& account_id,
             const std::string& default_provider,
             const std::string& default_model);

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
