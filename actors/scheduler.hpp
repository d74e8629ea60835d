#pragma once

#include <caf/actor_system_config.hpp>

#include <chrono>
#include <cstddef>

namespace orchflow {

/// The CAF scheduler as the engine runs it: `threads` workers, and idle
/// workers that never nap between polls.
///
/// CAF 0.17's work-stealing workers, once out of work, poll 100 times, then
/// poll 500 more times with a 50 us sleep between polls (with the kernel's
/// timer slack, ~100 us each), and only then wait on a condition variable
/// that an enqueue signals. Every answer from a thread outside CAF (the
/// store's writer after an fsync, the LLM gateway, an HTTP handler) lands
/// in that napping window and waits out the rest of a nap: measured, that
/// cost a synced append 30% of its rate (bench A1). Without the naps, a
/// worker spins briefly and then sleeps on the condition variable, which
/// the enqueue wakes at once; idle CPU use is unchanged.
inline void tune_scheduler(caf::actor_system_config& cfg, size_t threads) {
  cfg.set("scheduler.max-threads", threads);
  cfg.set("work-stealing.moderate-sleep-duration",
          caf::timespan{std::chrono::nanoseconds{0}});
}

} // namespace orchflow
