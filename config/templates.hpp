#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orchflow {

/// A built-in agent (config/agent_templates.json).
struct agent_template {
  std::string name;
  std::string description;
  std::string system_prompt;
  /// Role keywords used to route subtasks to this agent.
  std::vector<std::string> keywords;
};

/// The built-in agents, in their documented order. Immutable; thread-safe.
const std::vector<agent_template>& agent_templates();

/// Returns the template named `name`, or nullptr.
const agent_template* find_template(std::string_view name);

/// A system/user prompt pair (config/prompts.json).
struct prompt_template {
  std::string system;
  std::string user;
};

/// Returns the prompt template of a step: split, dependencies, execute,
/// evaluate or finalize. Immutable; thread-safe.
const prompt_template& prompt_for(std::string_view step);

/// Replaces every `{name}` in `text` by its value; other braces stay.
std::string fill(std::string_view text,
                 const std::vector<std::pair<std::string, std::string>>& vars);

} // namespace orchflow
