#pragma once

#include "actors/context.hpp"
#include "actors/workflow.hpp"

#include <map>
#include <optional>
#include <set>

namespace orchflow {

/// State of a RUN actor.
struct run_state {
  static inline const char* name = "run";
  engine_context* ctx = nullptr;
  /// The run as folded from its partition (its own and its tasks' events).
  run_view view;
  /// Set while the run still has to be created (first start).
  std::optional<run_spec> create;
  /// The run's id was drawn for it and is unknown to the log (creation).
  bool fresh_id = false;
  reply_ptr create_reply;
  /// Live task actors by task id.
  std::map<std::string, task_actor> tasks;
  /// Tasks whose human output was forwarded and is not yet recorded.
  std::set<std::string> completing;
  append_queue pending;
  bool llm_in_flight = false;
  /// Told when the run only waits for humans (it may then be passivated).
  supervisor_actor supervisor;
  bool idle_sent = false;
};

/// Drives one run: plan (split, dependencies, assignment), start every
/// ready task, pause for humans, finalize. Writes only the run's own stream
/// (`run_x`); task actors write theirs.
run_actor::behavior_type
run_actor_impl(run_actor::stateful_pointer<run_state> self, engine_context* ctx,
               run_view view, std::optional<run_spec> create, reply_ptr reply,
               supervisor_actor supervisor);

} // namespace orchflow
