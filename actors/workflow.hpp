#pragma once

#include "events/event.hpp"
#include "projections/run_view.hpp"
#include "providers/provider.hpp"

#include <caf/expected.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The workflow's decision logic as pure functions: state + input -> events.
// Actors only move messages and call these; tests need no actor system.

namespace orchflow {

// -- parsing LLM answers (planner.cpp) ----------------------------------------

/// Finds the JSON object in an LLM answer: strips code fences and prose,
/// and repairs trailing commas and smart quotes. Never throws.
std::optional<nlohmann::json> extract_json(std::string_view answer);

/// Reads `{"subtasks":[...]}` (or a bare array) into 3-6 subtasks with ids
/// S1..Sn; more than 6 are merged, fewer than 3 or none is an error.
caf::expected<std::vector<planned_subtask>>
parse_subtasks(std::string_view answer);

/// Reads `{"dependencies":{id:[ids]}}` (or `{id:[ids]}`, or a list of
/// `{id, depends_on}`); anything unreadable yields no dependencies.
std::map<std::string, std::vector<std::string>>
parse_dependencies(std::string_view answer);

/// Reads `{"passed","score","feedback"}`; a verdict in prose is accepted.
evaluation_result parse_evaluation(std::string_view answer);

// -- routing (planner.cpp)
// ------------------------------------------------------

/// Picks the agent of a subtask: name match, then role keywords, then the
/// first agent.
std::string pick_agent(const std::vector<agent_spec>& agents,
                       std::string_view name, std::string_view description);

/// True if a planned step named `name` is the human gate `gate`.
bool gate_matches(std::string_view gate, std::string_view name);

/// The final task graph (`run.agents_assigned` data) of a planned run:
/// ask_me_about tasks first, gates as human tasks, AI tasks routed.
nlohmann::json assign_tasks(const run_view& v);

// -- requests
// -------------------------------------------------------------------

/// Everything a task actor needs besides its own state.
struct task_context {
  std::string run_id;
  std::string goal;
  agent_spec agent;
  std::string provider;
  std::string provider_id;
  std::string account_id;
  std::string model;
  bool require_approval = false;
  int eval_max_retries = 2;
  /// Outputs this task can see: (task id, name, output), in id order.
  std::vector<std::tuple<std::string, std::string, std::string>> inputs;
};

/// Builds the context of a task from the run's state.
task_context make_task_context(const run_view& v, const task_view& t,
                               int eval_max_retries);

llm_request split_request(const run_view& v);
llm_request dependencies_request(const run_view& v);
llm_request execute_request(const task_context& ctx, const task_view& t);
llm_request evaluate_request(const task_context& ctx, const task_view& t,
                             const std::string& output);
llm_request finalize_request(const run_view& v);

// -- decisions
// -------------------------------------------------------------------

/// The llm.call_* events recording a call (failed attempts included).
event_batch record_llm_call(const llm_result& r, int64_t now);

/// Run: the split answer -> subtasks_planned, or run.failed.
event_batch decide_split(const run_view& v, const llm_result& r, int64_t now);

/// Run: the dependencies answer -> dependencies_inferred, or run.failed.
event_batch decide_dependencies(const run_view& v, const llm_result& r,
                                int64_t now);

/// Run: the final synthesis -> run.completed, or run.failed.
event_batch decide_finalize(const run_view& v, const llm_result& r,
                            int64_t now);

/// Task: what starting (or resuming) it appends; empty if nothing.
event_batch decide_task_start(const task_view& t, int64_t now);

/// Task: the execution answer -> output_produced, or task.failed.
event_batch decide_execution(const task_view& t, const llm_result& r,
                             int64_t now);

/// Task: the evaluation answer -> completed, approval wait, retry or
/// escalation; task.failed if the reviewer call failed.
event_batch decide_evaluation(const task_context& ctx, const task_view& t,
                              const llm_result& r, int64_t now);

/// Task: a human's answer. `ec::wrong_state` unless the task waits.
caf::expected<event_batch>
decide_human_input(const task_view& t, const std::string& output, int64_t now);

/// Tasks whose dependencies all completed and that have not started.
std::vector<std::string> ready_tasks(const run_view& v);

/// True if every task completed.
bool all_tasks_completed(const run_view& v);

/// Ids of the tasks waiting for a human.
std::vector<std::string> waiting_tasks(const run_view& v);

/// Applies task-stream events to one task (used by task actors).
void apply_task_events(task_view& t, const event_batch& events);

} // namespace orchflow
