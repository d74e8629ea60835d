#pragma once

#include "providers/provider.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orchflow {

/// Behaviour switches encoded in a builtin model name, e.g.
/// `builtin-slow-200+flaky-1`.
struct builtin_behavior {
  /// Answer after this many ms (simulated latency).
  int64_t latency_ms = 0;
  /// Fail self-evaluation for task attempts 1..flaky.
  int flaky = 0;
  /// Return a retryable error for transport attempts 1..errors.
  int errors = 0;
  /// Always return a non-retryable error.
  bool down = false;
};

/// Parses a builtin model name; nullopt if it is not one.
std::optional<builtin_behavior> parse_builtin_model(std::string_view model);

// -- the pure planner and writer (tested without any I/O) ---------------------

/// Splits a goal into 3-6 subtasks: `{"subtasks":[{id,name,description}]}`.
nlohmann::json builtin_split(std::string_view goal);

/// Infers dependencies between subtasks from the kind of work each one is
/// (gathering, analysis, creation, review): `{"dependencies":{id:[ids]}}`.
/// Subtasks doing the same kind of work stay independent.
nlohmann::json builtin_dependencies(const nlohmann::json& subtasks);

/// Writes a task's output from the execute prompt.
std::string builtin_execute(std::string_view system, std::string_view user);

/// Evaluates an output from the evaluate prompt:
/// `{"passed","score","feedback"}`.
nlohmann::json builtin_evaluate(std::string_view user, int flaky);

/// Synthesizes the final output from the finalize prompt.
std::string builtin_finalize(std::string_view user);

/// The offline, deterministic provider: no network, no key.
class builtin_provider : public llm_provider {
public:
  void complete(const llm_request& req,
                std::function<void(provider_reply)> done) override;
};

} // namespace orchflow
