#pragma once

#include "events/event.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace orchflow {

/// An agent of a run, with its template already filled in.
struct agent_spec {
  std::string name;
  std::string system_prompt;
  /// Overrides the provider's default model for this agent's tasks.
  std::optional<std::string> model;
};

/// A subtask as the planner proposed it (before agents and human tasks).
struct planned_subtask {
  std::string id;
  std::string name;
  std::string description;
};

/// The result of one self-evaluation.
struct evaluation_result {
  bool passed = false;
  double score = 0;
  std::string feedback;
};

/// One task of a run, as folded from its events.
struct task_view {
  std::string id;
  std::string name;
  std::string description;
  /// "ai" or "human".
  std::string kind = "ai";
  /// Empty for human tasks.
  std::string agent;
  /// pending, running, waiting_human, completed, failed or cancelled.
  std::string state = "pending";
  std::vector<std::string> depends_on;
  /// The question shown to a human; empty unless it is or was human work.
  std::string question;
  /// ask, gate, approval or escalation (why a human is needed).
  std::string wait_reason;
  std::optional<std::string> output;
  /// The AI draft a human reviews (approval, escalation).
  std::optional<std::string> draft;
  std::optional<std::string> error;
  std::optional<evaluation_result> evaluation;
  /// Number of task.started events.
  int attempts = 0;
  /// Evaluations that failed; at 3 the task escalates to a human.
  int eval_failures = 0;
  /// Output of the current attempt, produced but not yet evaluated.
  std::optional<std::string> pending_output;
  /// Feedback of the last failed evaluation, for the next attempt's prompt.
  std::string retry_feedback;
  int64_t started_at = 0;
  int64_t completed_at = 0;
  /// Version of the task's stream (`run_x/T1`).
  uint64_t version = 0;

  bool terminal() const {
    return state == "completed" || state == "failed" || state == "cancelled";
  }
};

/// Token and call counters of a run.
struct usage_totals {
  int64_t llm_calls = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
};

/// A run as folded from its partition's events: the state the run actor
/// decides on and the source of the run document. `apply` is pure and total:
/// unknown or malformed events change nothing but the sequence numbers.
struct run_view {
  std::string run_id;
  std::string account_id;
  /// pending, planning, running, waiting_human, completed, failed, cancelled.
  std::string status = "pending";
  std::string goal;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::vector<agent_spec> agents;
  std::vector<std::string> ask_me_about;
  std::vector<std::string> human_gates;
  bool require_approval = false;
  std::optional<std::string> webhook_url;
  nlohmann::json metadata;
  std::string provider;
  std::string model;
  /// The registered provider (prv_...), empty for the server default.
  std::string provider_id;
  // -- planning progress
  // -------------------------------------------------------
  bool planning_started = false;
  std::optional<std::vector<planned_subtask>> planned;
  std::optional<nlohmann::json> planned_deps;
  bool assigned = false;
  bool finalizing = false;
  /// Tasks in id order (T1, T2, ...).
  std::vector<task_view> tasks;
  std::optional<std::string> final_output;
  std::optional<std::string> error;
  usage_totals usage;
  /// Number of events in the partition folded so far.
  uint64_t last_event_seq = 0;
  /// Version of the run's own stream (`run_x`).
  uint64_t version = 0;

  bool terminal() const {
    return status == "completed" || status == "failed" || status == "cancelled";
  }

  /// Returns the task with `id`, or nullptr.
  task_view* find_task(std::string_view id);
  const task_view* find_task(std::string_view id) const;
};

/// Folds one event of the run's partition into `view`.
void apply(run_view& view, const event& e);

/// Folds a sequence of events.
void apply_all(run_view& view, const event_batch& events);

/// Renders the run document of GET /api/v1/runs/{id}.
nlohmann::json render_run(const run_view& view);

/// Renders one task object.
nlohmann::json render_task(const task_view& task);

/// Renders `{"run_id", "tasks": [...]}` of GET /api/v1/runs/{id}/tasks.
nlohmann::json render_tasks(const run_view& view);

/// Renders one entry of GET /api/v1/runs.
nlohmann::json render_summary(const run_view& view);

/// Renders one stored event for GET /api/v1/runs/{id}/events.
nlohmann::json render_event(const event& e);

} // namespace orchflow
