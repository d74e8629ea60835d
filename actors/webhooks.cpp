#include "actors/webhooks.hpp"

#include "events/error.hpp"
#include "events/time.hpp"
#include "events/types.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace orchflow {

namespace {

using self_ptr = webhook_actor::stateful_pointer<webhooks_state>;
using nlohmann::json;

void record(self_ptr self, event e) {
  auto& st = self->state;
  auto expected = st.version;
  event_batch events{std::move(e)};
  stamp(events, ev::webhooks_stream, expected);
  st.version = expected + 1;
  persist(webhook_actor{self}, *st.ctx, st.appends, ev::webhooks_stream,
          expected, std::move(events), false, nullptr);
}

void post(self_ptr self, webhooks_state::entry& e) {
  auto& cfg = *self->state.ctx->cfg;
  e.in_flight = true;
  ++e.attempts;
  http_call call;
  call.url = e.delivery.url;
  call.body = e.delivery.body;
  call.timeout_ms = cfg.webhook_timeout_ms;
  call.connect_timeout_ms = std::min<long>(cfg.webhook_timeout_ms, 5000);
  call.max_response_bytes = 64 * 1024;
  call.headers = {"Content-Type: application/json",
                  "webhook-id: " + e.delivery.delivery_id,
                  "webhook-timestamp: " + std::to_string(now_ms() / 1000)};
  auto hdl = webhook_actor{self};
  auto id = e.delivery.delivery_id;
  self->state.ctx->transport->submit(
      std::move(call), [hdl, id](http_outcome out) {
        caf::anon_send(hdl, atom::posted_v, id, std::move(out));
      });
}

void on_posted(self_ptr self, const std::string& id, http_outcome& out) {
  auto i = self->state.pending.find(id);
  if (i == self->state.pending.end())
    return;
  auto& e = i->second;
  e.in_flight = false;
  auto& cfg = *self->state.ctx->cfg;
  if (out.transport_ok && out.status >= 200 && out.status < 300) {
    record(self, make_event(ev::webhook_delivered, now_ms(),
                            json{{"delivery_id", id},
                                 {"run_id", e.delivery.run_id},
                                 {"attempts", e.attempts},
                                 {"status", out.status}}));
    self->state.pending.erase(i);
    return;
  }
  auto error = out.transport_ok
                   ? "the endpoint answered " + std::to_string(out.status)
                   : out.error;
  if (e.attempts >= cfg.webhook_max_attempts) {
    spdlog::warn("webhook {} for run {} abandoned after {} attempts: {}", id,
                 e.delivery.run_id, e.attempts, error);
    record(self, make_event(ev::webhook_abandoned, now_ms(),
                            json{{"delivery_id", id},
                                 {"run_id", e.delivery.run_id},
                                 {"attempts", e.attempts},
                                 {"error", error}}));
    self->state.pending.erase(i);
    return;
  }
  int64_t delay = static_cast<int64_t>(cfg.webhook_backoff_ms)
                  << std::min(e.attempts - 1, 20);
  delay = std::min<int64_t>(delay, 10 * 60 * 1000);
  record(self, make_event(ev::webhook_attempt_failed, now_ms(),
                          json{{"delivery_id", id},
                               {"run_id", e.delivery.run_id},
                               {"attempt", e.attempts},
                               {"error", error},
                               {"retry_in_ms", delay}}));
  self->delayed_send(self, std::chrono::milliseconds(delay), atom::retry_v, id);
}

} // namespace

webhook_actor::behavior_type
webhooks_impl(webhook_actor::stateful_pointer<webhooks_state> self,
              engine_context* ctx) {
  self->state.ctx = ctx;
  self->state.version = ctx->reads->webhooks_version();
  return {
      [self](atom::deliver, webhook_delivery& d) {
        auto id = d.delivery_id;
        auto [i, added] = self->state.pending.emplace(
            id, webhooks_state::entry{std::move(d), 0, false});
        if (added)
          post(self, i->second);
      },
      [self](atom::posted, std::string& id, http_outcome& out) {
        on_posted(self, id, out);
      },
      [self](atom::retry, std::string& id) {
        auto i = self->state.pending.find(id);
        if (i != self->state.pending.end() && !i->second.in_flight)
          post(self, i->second);
      },
      [self](atom::appended, event_batch_ptr&) {
        self->state.appends.pop_front();
      },
      [self](atom::appended, caf::error& err) {
        // The outcome is lost, not the delivery: after a restart the
        // notification is pending again and is resent (at least once).
        spdlog::error("webhooks: recording an outcome failed: {}", render(err));
        self->state.appends.pop_front();
        // The store rolled the stream back; so does this writer (appends
        // queued after the failed one fail too, and roll back in turn).
        --self->state.version;
      },
  };
}

} // namespace orchflow
