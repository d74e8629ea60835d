#pragma once

#include "actors/context.hpp"

#include <map>
#include <string>

namespace orchflow {

/// State of the WEBHOOKS actor.
struct webhooks_state {
  static inline const char* name = "webhooks";
  engine_context* ctx = nullptr;
  struct entry {
    webhook_delivery delivery;
    int attempts = 0;
    bool in_flight = false;
  };
  /// Deliveries not yet delivered or abandoned, by delivery id.
  std::map<std::string, entry> pending;
  /// Version of the `webhooks` stream (this actor is its only writer).
  uint64_t version = 0;
  append_queue appends;
};

/// Delivers run notifications at least once: POSTs each with a stable
/// `webhook-id`, retries failures with exponential backoff (a 3xx counts as
/// a failure: redirects are not followed), and records every outcome in the
/// `webhooks` stream, so that a restart resends exactly what was not
/// delivered. A failing endpoint never blocks its run.
webhook_actor::behavior_type
webhooks_impl(webhook_actor::stateful_pointer<webhooks_state> self,
              engine_context* ctx);

} // namespace orchflow
