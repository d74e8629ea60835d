#include "actors/supervisor.hpp"

#include "actors/run_actor.hpp"
#include "events/error.hpp"
#include "events/ids.hpp"
#include "events/time.hpp"
#include "events/types.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace orchflow {

namespace {

using self_ptr = supervisor_actor::stateful_pointer<supervisor_state>;
using nlohmann::json;

void spawn_run(self_ptr self, run_view view, std::optional<run_spec> create,
               reply_ptr reply) {
  auto id = view.run_id;
  auto hdl = self->spawn(run_actor_impl, self->state.ctx, std::move(view),
                         std::move(create), std::move(reply),
                         supervisor_actor{self});
  self->monitor(hdl);
  self->state.runs.emplace(id, hdl);
  ++self->state.ctx->resident_runs;
  self->send(hdl, atom::start_v);
}

void wake(self_ptr self, const std::string& id);

void recover(self_ptr self, const std::string& id) {
  if (self->state.runs.count(id) != 0)
    return;
  auto view = self->state.ctx->reads->active_view(id);
  if (!view) {
    // Passivated in the projection: read it back from the log.
    auto status = self->state.ctx->reads->status_of(id);
    if (status && *status != "completed" && *status != "failed"
        && *status != "cancelled")
      wake(self, id);
    return;
  }
  spawn_run(self, std::move(*view), std::nullopt, nullptr);
}

void forward(self_ptr self, const run_actor& hdl, held_command& cmd) {
  if (cmd.cancel)
    self->send(hdl, atom::cancel_v, std::move(cmd.reply));
  else
    self->send(hdl, atom::complete_v, std::move(cmd.task_id),
               std::move(cmd.output), std::move(cmd.reply));
}

/// Reads a passivated run back from the log (on the store's thread: no
/// actor blocks on the disk); `woken` brings the events.
void wake(self_ptr self, const std::string& id) {
  if (!self->state.waking.insert(id).second)
    return;
  auto hdl = supervisor_actor{self};
  self->state.ctx->store->read_async(
      id, [hdl, id](caf::expected<event_batch_ptr> evs) {
        if (evs)
          caf::anon_send(hdl, atom::woken_v, id, std::move(*evs));
        else
          caf::anon_send(hdl, atom::woken_v, id, std::move(evs.error()));
      });
}

/// Routes a command to its run: to the live actor, into the queue of a
/// run being passivated or woken, or wakes a passivated run first.
void route(self_ptr self, const std::string& run_id, held_command cmd) {
  auto& st = self->state;
  if (st.passivating.count(run_id) != 0 || st.waking.count(run_id) != 0) {
    st.held[run_id].push_back(std::move(cmd));
    return;
  }
  if (auto i = st.runs.find(run_id); i != st.runs.end()) {
    forward(self, i->second, cmd);
    return;
  }
  auto status = st.ctx->reads->status_of(run_id);
  if (!status) {
    send_error(cmd.reply, 404, "run_not_found",
               "Run " + run_id + " not found.");
  } else if (*status == "completed" || *status == "failed"
             || *status == "cancelled") {
    send_error(cmd.reply, 409, "run_terminal",
               "Run " + run_id + " is already " + *status
                   + "; it accepts no more commands.");
  } else {
    st.held[run_id].push_back(std::move(cmd));
    wake(self, run_id);
  }
}

void flush(self_ptr self, const std::string& id) {
  auto& st = self->state;
  auto held = std::move(st.held[id]);
  st.held.erase(id);
  auto i = st.runs.find(id);
  for (auto& cmd : held) {
    if (i != st.runs.end())
      forward(self, i->second, cmd);
    else
      send_error(cmd.reply, 503, "unavailable",
                 "Run " + id + " could not be resumed; retry shortly.");
  }
}

void on_woken(self_ptr self, const std::string& id, const event_batch& evs) {
  auto& st = self->state;
  st.waking.erase(id);
  run_view view;
  apply_all(view, evs);
  if (view.terminal() || view.run_id.empty()) {
    for (auto& cmd : st.held[id])
      send_error(cmd.reply, 409, "run_terminal",
                 "Run " + id + " is already " + view.status
                     + "; it accepts no more commands.");
    st.held.erase(id);
    return;
  }
  if (st.runs.count(id) == 0)
    spawn_run(self, std::move(view), std::nullopt, nullptr);
  flush(self, id);
}

std::string key_hint(const std::string& key) {
  if (key.size() < 8)
    return key.empty() ? "" : "…";
  return "…" + key.substr(key.size() - 4);
}

void register_provider(self_ptr self, provider_spec& spec,
                       const reply_ptr& reply) {
  auto& ctx = *self->state.ctx;
  auto id = random_id("prv_");
  json data{{"provider_id", id},
            {"account_id", spec.account_id},
            {"provider", spec.kind},
            {"label", spec.label},
            {"model", spec.model},
            {"base_url", spec.base_url},
            {"key_hint", key_hint(spec.api_key)}};
  if (!spec.api_key.empty()) {
    // The account and provider ids are the associated data: a ciphertext
    // copied to another record does not decrypt.
    auto sealed = ctx.vault->seal(spec.api_key, spec.account_id + "|" + id);
    OPENSSL_cleanse(spec.api_key.data(), spec.api_key.size());
    if (!sealed) {
      send_error(reply, 500, "encryption_failed", render(sealed.error()));
      return;
    }
    data["key_id"] = sealed->key_id;
    data["nonce"] = sealed->nonce;
    data["ciphertext"] = sealed->ciphertext;
  }
  auto ts = now_ms();
  json answer{{"provider_id", id},
              {"provider", spec.kind},
              {"label", spec.label},
              {"model", spec.model},
              {"created_at", format_rfc3339(ts)}};
  persist(
      supervisor_actor{self}, ctx, self->state.pending, id, 0,
      {make_event(ev::provider_registered, ts, std::move(data))}, false,
      [reply, answer = std::move(answer)](const event_batch_ptr&) {
        reply->send(201, answer.dump());
      },
      reply);
}

void deactivate_provider(self_ptr self, const std::string& account,
                         const std::string& id, const reply_ptr& reply) {
  auto& ctx = *self->state.ctx;
  auto p = ctx.reads->provider(id);
  if (!p || p->account_id != account) {
    send_error(reply, 404, "provider_not_found",
               "Provider " + id + " not found.");
    return;
  }
  json answer{{"provider_id", id}, {"active", false}};
  if (!p->active || self->state.deactivating.count(id) != 0) {
    reply->send(200, answer.dump()); // already inactive: idempotent
    return;
  }
  self->state.deactivating.insert(id);
  persist(
      supervisor_actor{self}, ctx, self->state.pending, id, p->version,
      {make_event(ev::provider_deactivated, now_ms(),
                  json{{"provider_id", id}})},
      false,
      [self, reply, id, answer = std::move(answer)](const event_batch_ptr&) {
        self->state.deactivating.erase(id);
        reply->send(200, answer.dump());
      },
      reply);
}

} // namespace

supervisor_actor::behavior_type
supervisor_impl(supervisor_actor::stateful_pointer<supervisor_state> self,
                engine_context* ctx, std::vector<std::string> active) {
  self->state.ctx = ctx;
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& runs = self->state.runs;
    for (auto i = runs.begin(); i != runs.end(); ++i) {
      if (i->second.address() != msg.source)
        continue;
      auto id = i->first;
      runs.erase(i);
      --self->state.ctx->resident_runs;
      if (self->state.passivating.erase(id) != 0) {
        // Passivated: the store forgets its versions too. Commands that
        // came meanwhile wake it at once.
        self->state.ctx->store->release(id);
        if (!self->state.held[id].empty())
          wake(self, id);
        else
          self->state.held.erase(id);
        return;
      }
      if (msg.reason && msg.reason != caf::exit_reason::user_shutdown) {
        // Back off exponentially (1 s .. 5 min) so a run that keeps failing
        // cannot spin.
        auto n = ++self->state.failures[id];
        auto delay
            = std::chrono::seconds(std::min(300, 1 << std::min(n - 1, 9)));
        spdlog::warn("run {} stopped ({}); recovering it from the log in {} s",
                     id, render(msg.reason), delay.count());
        self->delayed_send(self, delay, atom::recover_v, id);
      } else {
        self->state.failures.erase(id);
      }
      return;
    }
  });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& [id, hdl] : self->state.runs)
      self->send_exit(hdl, msg.reason);
    self->state.runs.clear();
    self->quit(msg.reason);
  });
  for (auto& id : active)
    recover(self, id);
  // Notifications that were queued but not delivered before the restart.
  for (auto& w : ctx->reads->pending_webhooks())
    self->send(ctx->webhooks, atom::deliver_v,
               webhook_delivery{w.delivery_id, w.run_id, w.url, w.body});
  return {
      [self](atom::create, run_spec& spec, reply_ptr& reply) {
        run_view view;
        // 100 random bits; checked against every run the log holds, so the
        // store may take the partition as new without looking.
        do
          view.run_id = random_id("run_");
        while (self->state.ctx->reads->status_of(view.run_id));
        spec.data["run_id"] = view.run_id;
        spawn_run(self, std::move(view), std::move(spec), std::move(reply));
      },
      [self](atom::enroll, account_spec& spec, reply_ptr& reply) {
        auto account_id = random_id("acct_");
        auto key = new_api_key();
        event_batch events{make_event(ev::account_registered, now_ms(),
                                      json{{"account_id", account_id},
                                           {"name", spec.name},
                                           {"email", spec.email},
                                           {"key_hash", sha256_hex(key)}})};
        persist(
            supervisor_actor{self}, *self->state.ctx, self->state.pending,
            account_id, 0, std::move(events), false,
            [reply, key, account_id](const event_batch_ptr&) {
              reply->send(
                  201, json{{"api_key", key},
                            {"account_id", account_id},
                            {"message", "Free tier: 100 runs/month, 3 managed "
                                        "trial runs included."}}
                           .dump());
            },
            reply);
      },
      [self](atom::prv_add, provider_spec& spec, reply_ptr& reply) {
        register_provider(self, spec, reply);
      },
      [self](atom::prv_off, std::string& account, std::string& id,
             reply_ptr& reply) {
        deactivate_provider(self, account, id, reply);
      },
      [self](atom::complete, std::string& run_id, std::string& task_id,
             std::string& output, reply_ptr& reply) {
        route(self, run_id,
              held_command{false, std::move(task_id), std::move(output),
                           std::move(reply)});
      },
      [self](atom::cancel, std::string& run_id, reply_ptr& reply) {
        route(self, run_id, held_command{true, {}, {}, std::move(reply)});
      },
      [self](atom::idle, std::string& id) {
        auto i = self->state.runs.find(id);
        if (i == self->state.runs.end()
            || !self->state.passivating.insert(id).second)
          return;
        self->send(i->second, atom::passivate_v);
      },
      [self](atom::active, std::string& id) {
        self->state.passivating.erase(id);
        flush(self, id);
      },
      [self](atom::woken, std::string& id, event_batch_ptr& evs) {
        on_woken(self, id, *evs);
      },
      [self](atom::woken, std::string& id, caf::error& err) {
        spdlog::error("cannot read run {} back: {}", id, render(err));
        self->state.waking.erase(id);
        flush(self, id);
      },
      [self](atom::recover, std::string& id) { recover(self, id); },
      [self](atom::appended, event_batch_ptr& batch) {
        auto f = std::move(self->state.pending.front());
        self->state.pending.pop_front();
        f(batch);
      },
      [self](atom::appended, caf::error& err) {
        spdlog::error("supervisor: append failed: {}", render(err));
        self->state.pending.pop_front();
      },
  };
}

} // namespace orchflow
