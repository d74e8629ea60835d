#include "actors/run_actor.hpp"

#include "actors/task_actor.hpp"
#include "events/error.hpp"
#include "events/json_util.hpp"
#include "events/time.hpp"
#include "events/types.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace orchflow {

namespace {

using self_ptr = run_actor::stateful_pointer<run_state>;
using nlohmann::json;

void advance(self_ptr self);

bool closes(const event_batch& events) {
  return std::any_of(events.begin(), events.end(), [](const event& e) {
    return e.type == ev::run_completed || e.type == ev::run_failed
           || e.type == ev::run_cancelled;
  });
}

/// The notification event of a status change, if the run has a webhook.
const char* notification_of(const event& e) {
  if (e.type == ev::run_waiting_human)
    return "waiting_human";
  if (e.type == ev::run_completed)
    return "completed";
  if (e.type == ev::run_failed)
    return "failed";
  if (e.type == ev::run_cancelled)
    return "cancelled";
  return nullptr;
}

/// Appends to the run's stream, folds at once (single writer), and once
/// durable runs `then`, hands queued notifications to the webhook actor,
/// and advances. Status changes carry their webhook.queued outbox entry in
/// the same atomic append.
void record(self_ptr self, event_batch events, std::function<void()> then = {},
            reply_ptr fail_reply = nullptr) {
  auto& st = self->state;
  auto& v = st.view;
  auto expected = v.version;
  bool close = closes(events);
  auto version = expected;
  event_batch out;
  std::vector<webhook_delivery> deliveries;
  for (auto& e : events) {
    e.stream = v.run_id;
    e.seq = ++version;
    apply(v, e);
    auto* what = notification_of(e);
    auto ts = e.ts;
    out.push_back(std::move(e));
    if (what == nullptr || !v.webhook_url)
      continue;
    webhook_delivery d;
    d.delivery_id = v.run_id + "." + std::to_string(version + 1);
    d.run_id = v.run_id;
    d.url = *v.webhook_url;
    json payload{{"run_id", v.run_id},
                 {"event", what},
                 {"status", v.status},
                 {"waiting_tasks", waiting_tasks(v)},
                 {"timestamp", format_rfc3339(ts)}};
    d.body = dump_safe(payload);
    auto q = make_event(ev::webhook_queued, ts,
                        json{{"delivery_id", d.delivery_id},
                             {"url", d.url},
                             {"event", what},
                             {"payload", std::move(payload)}});
    q.stream = v.run_id;
    q.seq = ++version;
    apply(v, q);
    out.push_back(std::move(q));
    deliveries.push_back(std::move(d));
  }
  persist(
      run_actor{self}, *st.ctx, st.pending, v.run_id, expected, std::move(out),
      close,
      [self, then = std::move(then),
       deliveries = std::move(deliveries)](const event_batch_ptr&) {
        for (auto& d : deliveries)
          self->send(self->state.ctx->webhooks, atom::deliver_v, d);
        if (then)
          then();
        advance(self);
      },
      std::move(fail_reply), expected == 0 && st.fresh_id);
}

void call(self_ptr self, llm_request req) {
  self->state.llm_in_flight = true;
  auto hdl = run_actor{self};
  self->state.ctx->gateway->submit(std::move(req), [hdl](llm_result r) {
    caf::anon_send(hdl, atom::llm_v, std::move(r));
  });
}

void stop_tasks(self_ptr self) {
  for (auto& [id, hdl] : self->state.tasks)
    self->send(hdl, atom::cancel_v);
  self->state.tasks.clear();
}

void finish(self_ptr self) {
  stop_tasks(self);
  self->quit();
}

/// Starts every ready task, and task actors lost to a restart.
void schedule(self_ptr self) {
  auto& st = self->state;
  auto& v = st.view;
  for (auto& t : v.tasks)
    if (t.state == "failed") {
      record(self,
             {make_event(ev::run_failed, now_ms(),
                         json{{"error", t.error.value_or("Task " + t.id
                                                         + " failed")}})});
      return;
    }
  auto start = ready_tasks(v);
  for (auto& t : v.tasks)
    if ((t.state == "running" || t.state == "waiting_human")
        && st.tasks.count(t.id) == 0)
      start.push_back(t.id);
  for (auto& id : start) {
    if (st.tasks.count(id) != 0)
      continue;
    auto* t = v.find_task(id);
    auto tctx = make_task_context(v, *t, st.ctx->cfg->eval_max_retries);
    auto hdl = self->spawn<caf::linked>(task_actor_impl, st.ctx,
                                        run_actor{self}, std::move(tctx), *t);
    st.tasks.emplace(id, hdl);
    self->send(hdl, atom::start_v);
  }
  // Busy = an AI task running, or a task actor starting up.
  bool busy = false;
  for (auto& t : v.tasks)
    if (t.state == "running"
        || (t.state == "pending" && st.tasks.count(t.id) != 0))
      busy = true;
  auto waiting = waiting_tasks(v);
  if (!busy && !waiting.empty() && v.status != "waiting_human")
    record(self, {make_event(ev::run_waiting_human, now_ms(),
                             json{{"waiting_tasks", waiting}})});
  else if (busy && v.status == "waiting_human")
    record(self, {make_event(ev::run_resumed, now_ms(), json::object())});
}

/// True if the run only waits for humans: nothing runs, nothing is being
/// written or asked, no answer is on its way to a task.
bool quiescent(self_ptr self) {
  auto& st = self->state;
  auto& v = st.view;
  if (v.status != "waiting_human" || !st.pending.empty() || st.llm_in_flight
      || !st.completing.empty())
    return false;
  for (auto& t : v.tasks)
    if (t.state == "running"
        || (t.state == "pending" && st.tasks.count(t.id) != 0))
      return false;
  return true;
}

/// Offers the supervisor to passivate the run once it is quiescent.
void maybe_idle(self_ptr self) {
  auto& st = self->state;
  if (!st.ctx->cfg->passivate_waiting_runs || !st.supervisor)
    return;
  if (!quiescent(self)) {
    st.idle_sent = false;
    return;
  }
  if (!st.idle_sent) {
    st.idle_sent = true;
    self->send(st.supervisor, atom::idle_v, st.view.run_id);
  }
}

/// Takes the next step the folded state calls for. Waits while an append
/// or an LLM call is in flight: their completions call advance again.
void advance(self_ptr self) {
  auto& st = self->state;
  auto& v = st.view;
  if (!st.pending.empty() || st.llm_in_flight)
    return;
  if (v.terminal()) {
    finish(self);
    return;
  }
  if (!v.planning_started) {
    record(self,
           {make_event(ev::run_planning_started, now_ms(), json::object())});
  } else if (!v.planned) {
    call(self, split_request(v));
  } else if (!v.planned_deps) {
    call(self, dependencies_request(v));
  } else if (!v.assigned) {
    record(self,
           {make_event(ev::run_agents_assigned, now_ms(), assign_tasks(v))});
  } else if (v.finalizing) {
    call(self, finalize_request(v));
  } else if (all_tasks_completed(v)) {
    record(self, {make_event(ev::run_finalizing, now_ms(), json::object())});
  } else {
    schedule(self);
  }
  maybe_idle(self);
}

void on_llm(self_ptr self, llm_result& r) {
  auto& st = self->state;
  st.llm_in_flight = false;
  if (st.view.terminal()) {
    advance(self);
    return;
  }
  auto now = now_ms();
  if (r.step == "split")
    record(self, decide_split(st.view, r, now));
  else if (r.step == "dependencies")
    record(self, decide_dependencies(st.view, r, now));
  else if (r.step == "finalize")
    record(self, decide_finalize(st.view, r, now));
}

void on_complete(self_ptr self, const std::string& task_id, std::string& output,
                 reply_ptr& reply) {
  auto& v = self->state.view;
  if (v.terminal()) {
    send_error(reply, 409, "run_terminal",
               "Run " + v.run_id + " is " + v.status
                   + "; it accepts no more input.");
    return;
  }
  auto* t = v.find_task(task_id);
  if (t == nullptr) {
    send_error(reply, 404, "task_not_found",
               "Run " + v.run_id + " has no task " + task_id + ".");
    return;
  }
  if (t->state != "waiting_human") {
    send_error(reply, 409, "task_not_waiting",
               "Task " + task_id + " is " + t->state
                   + ", not waiting for a human; only tasks in state "
                     "waiting_human can be completed.");
    return;
  }
  if (self->state.completing.count(task_id) != 0) {
    send_error(reply, 409, "task_not_waiting",
               "Task " + task_id
                   + " is already being completed by another request.");
    return;
  }
  auto i = self->state.tasks.find(task_id);
  if (i == self->state.tasks.end()) {
    send_error(reply, 503, "unavailable",
               "Task " + task_id + " is being recovered; retry shortly.");
    return;
  }
  self->state.completing.insert(task_id);
  self->send(i->second, atom::complete_v, std::move(output), std::move(reply));
}

void on_cancel(self_ptr self, reply_ptr& reply) {
  auto& v = self->state.view;
  if (v.terminal()) {
    send_error(reply, 409, "run_terminal",
               "Run " + v.run_id + " is already " + v.status
                   + " and cannot be cancelled.");
    return;
  }
  stop_tasks(self);
  record(
      self,
      {make_event(ev::run_cancelled, now_ms(),
                  json{{"reason", "cancelled by the client"}})},
      [self, reply] {
        reply->send(200, json{{"run_id", self->state.view.run_id},
                              {"status", "cancelled"}}
                             .dump());
      },
      reply);
}

void on_task_update(self_ptr self, const std::string& task_id,
                    const event_batch_ptr& batch) {
  auto& st = self->state;
  for (auto& e : *batch)
    apply(st.view, e);
  if (auto* t = st.view.find_task(task_id); t && t->terminal())
    st.tasks.erase(task_id);
  st.completing.erase(task_id);
  advance(self);
}

} // namespace

run_actor::behavior_type
run_actor_impl(run_actor::stateful_pointer<run_state> self, engine_context* ctx,
               run_view view, std::optional<run_spec> create, reply_ptr reply,
               supervisor_actor supervisor) {
  self->state.ctx = ctx;
  self->state.supervisor = std::move(supervisor);
  self->state.view = std::move(view);
  self->state.fresh_id = create.has_value();
  self->state.create = std::move(create);
  self->state.create_reply = std::move(reply);
  return {
      [self](atom::start) {
        auto& st = self->state;
        if (!st.create) {
          advance(self);
          return;
        }
        auto data = std::move(st.create->data);
        st.create.reset();
        auto run_id = st.view.run_id;
        auto now = now_ms();
        // Created and planning in one append: one synced write per POST.
        record(
            self,
            {make_event(ev::run_created, now, std::move(data)),
             make_event(ev::run_planning_started, now, json::object())},
            [self, run_id] {
              auto& r = self->state.create_reply;
              r->send(202, json{{"run_id", run_id},
                                {"status", "pending"},
                                {"message", "Run started. Poll GET /runs/"
                                                + run_id + " for status."}}
                               .dump());
              r.reset();
            },
            st.create_reply);
      },
      [self](atom::complete, std::string& task_id, std::string& output,
             reply_ptr& reply) { on_complete(self, task_id, output, reply); },
      [self](atom::cancel, reply_ptr& reply) { on_cancel(self, reply); },
      [self](atom::passivate) {
        // Only the supervisor sends this, after `idle`: whatever it
        // forwarded before came first, so quiescence is still exact here.
        if (quiescent(self)) {
          finish(self);
          return;
        }
        self->state.idle_sent = false;
        self->send(self->state.supervisor, atom::active_v,
                   self->state.view.run_id);
      },
      [self](atom::task_upd, std::string& task_id, event_batch_ptr& batch) {
        on_task_update(self, task_id, batch);
      },
      [self](atom::appended, event_batch_ptr& batch) {
        auto f = std::move(self->state.pending.front());
        self->state.pending.pop_front();
        f(batch);
      },
      [self](atom::appended, caf::error& err) {
        spdlog::error("run {}: append failed: {}", self->state.view.run_id,
                      render(err));
        stop_tasks(self);
        self->quit(std::move(err));
      },
      [self](atom::llm, llm_result& r) { on_llm(self, r); },
  };
}

} // namespace orchflow
