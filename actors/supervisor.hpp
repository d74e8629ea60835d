#pragma once

#include "actors/context.hpp"

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace orchflow {

/// A command held while its run is passivating or waking.
struct held_command {
  /// complete or cancel.
  bool cancel = false;
  std::string task_id;
  std::string output;
  reply_ptr reply;
};

/// State of the SUPERVISOR actor.
struct supervisor_state {
  static inline const char* name = "supervisor";
  engine_context* ctx = nullptr;
  /// Live run actors by run id: at most one per run (single writer).
  std::unordered_map<std::string, run_actor> runs;
  /// Consecutive failures per run, for the recovery back-off.
  std::unordered_map<std::string, int> failures;
  append_queue pending;
  /// Providers whose deactivation is being recorded.
  std::set<std::string> deactivating;
  /// Runs asked to passivate, and runs being read back from the log:
  /// their commands wait here, in order.
  std::set<std::string> passivating;
  std::set<std::string> waking;
  std::map<std::string, std::vector<held_command>> held;
};

/// Spawns, finds and recovers run actors; registers accounts. On start it
/// spawns an actor for every run in `active` (recovery); a run actor that
/// stops on an error is respawned from the log after a back-off.
supervisor_actor::behavior_type
supervisor_impl(supervisor_actor::stateful_pointer<supervisor_state> self,
                engine_context* ctx, std::vector<std::string> active);

} // namespace orchflow
