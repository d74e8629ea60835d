#pragma once

#include "actors/context.hpp"
#include "actors/workflow.hpp"

namespace orchflow {

/// State of a TASK actor: the task as folded from its stream, and what it
/// needs from the run.
struct task_state {
  static inline const char* name = "task";
  engine_context* ctx = nullptr;
  run_actor parent;
  task_context tctx;
  task_view task;
  append_queue pending;
  bool llm_in_flight = false;
};

/// Runs one task: execute, self-evaluate, retry with feedback, escalate to a
/// human, or wait for a human; every step is an event of `run_x/Tn` before
/// it is acted on.
task_actor::behavior_type
task_actor_impl(task_actor::stateful_pointer<task_state> self,
                engine_context* ctx, run_actor parent, task_context tctx,
                task_view task);

} // namespace orchflow
