#pragma once

#include "actors/interfaces.hpp"
#include "config/config.hpp"
#include "events/error.hpp"
#include "events/event_store.hpp"
#include "projections/read_model.hpp"
#include "providers/gateway.hpp"
#include "providers/key_vault.hpp"

#include <caf/send.hpp>

#include <atomic>
#include <deque>
#include <functional>

namespace orchflow {

/// The engine's shared services. Owned by the engine, which outlives every
/// actor; all members are thread-safe.
struct engine_context {
  event_store* store = nullptr;
  llm_gateway* gateway = nullptr;
  read_model* reads = nullptr;
  http_transport* transport = nullptr;
  key_vault* vault = nullptr;
  const server_config* cfg = nullptr;
  /// Set once at start, before any run actor exists.
  webhook_actor webhooks;
  /// Run actors alive (the rest are passivated or over); written by the
  /// supervisor, read by /health.
  std::atomic<int64_t> resident_runs{0};
};

/// Continuations of an actor's appends, in submission order: the store
/// commits and answers appends in the order they were queued.
using append_queue = std::deque<std::function<void(const event_batch_ptr&)>>;

/// Queues an append for `self` and remembers what to do once it is durable.
/// The store answers with `(appended, batch)` or `(appended, error)`.
template<class Handle>
void persist(const Handle& self, engine_context& ctx, append_queue& pending,
             std::string stream, uint64_t expected, event_batch events,
             bool close, std::function<void(const event_batch_ptr&)> then,
             reply_ptr fail_reply = nullptr, bool new_partition = false) {
  pending.push_back(std::move(then));
  append_request req;
  req.stream = std::move(stream);
  req.expected_version = expected;
  req.events = std::move(events);
  req.close_partition = close;
  req.new_partition = new_partition;
  req.done = [self, fail_reply](caf::expected<event_batch_ptr> res) {
    if (res) {
      caf::anon_send(self, atom::appended_v, std::move(*res));
      return;
    }
    // The command was not stored: its client learns it now, and the actor
    // stops (it cannot know what the log holds).
    if (fail_reply && res.error() != ec::run_closed)
      send_error(fail_reply, 503, "storage_unavailable",
                 "The command could not be stored durably; retry shortly.");
    caf::anon_send(self, atom::appended_v, std::move(res.error()));
  };
  ctx.store->append(std::move(req));
}

/// Sets stream and seq on events about to be appended, so the writer's own
/// state can fold them before they are durable.
inline void stamp(event_batch& events, const std::string& stream,
                  uint64_t version) {
  for (auto& e : events) {
    e.stream = stream;
    e.seq = ++version;
  }
}

} // namespace orchflow
