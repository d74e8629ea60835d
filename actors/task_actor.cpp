#include "actors/task_actor.hpp"

#include "events/error.hpp"
#include "events/json_util.hpp"
#include "events/time.hpp"
#include "events/types.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

namespace orchflow {

namespace {

using self_ptr = task_actor::stateful_pointer<task_state>;

std::string stream_of(self_ptr self) {
  return self->state.tctx.run_id + "/" + self->state.task.id;
}

/// Appends `events` to the task's stream, folds them, and once durable tells
/// the run actor and continues with `then`.
void record(self_ptr self, event_batch events, std::function<void()> then = {},
            reply_ptr fail_reply = nullptr) {
  auto& st = self->state;
  auto stream = stream_of(self);
  auto expected = st.task.version;
  stamp(events, stream, expected);
  apply_task_events(st.task, events);
  persist(
      task_actor{self}, *st.ctx, st.pending, stream, expected,
      std::move(events), false,
      [self, then = std::move(then)](const event_batch_ptr& batch) {
        self->send(self->state.parent, atom::task_upd_v, self->state.task.id,
                   batch);
        if (then)
          then();
      },
      std::move(fail_reply));
}

void call(self_ptr self, llm_request req) {
  self->state.llm_in_flight = true;
  auto hdl = task_actor{self};
  self->state.ctx->gateway->submit(std::move(req), [hdl](llm_result r) {
    caf::anon_send(hdl, atom::llm_v, std::move(r));
  });
}

void execute(self_ptr self) {
  call(self, execute_request(self->state.tctx, self->state.task));
}

void evaluate(self_ptr self) {
  auto& st = self->state;
  call(self,
       evaluate_request(st.tctx, st.task, st.task.pending_output.value_or("")));
}

/// Continues after an append or an answer: what the folded state says next.
void proceed(self_ptr self) {
  auto& t = self->state.task;
  if (t.terminal()) {
    self->quit();
    return;
  }
  if (t.state != "running")
    return; // waiting for a human
  if (t.pending_output)
    evaluate(self);
  else
    execute(self);
}

void begin(self_ptr self) {
  auto events = decide_task_start(self->state.task, now_ms());
  if (events.empty()) {
    proceed(self);
    return;
  }
  record(self, std::move(events), [self] { proceed(self); });
}

void on_llm(self_ptr self, llm_result& r) {
  auto& st = self->state;
  st.llm_in_flight = false;
  if (st.task.terminal() || st.task.state != "running")
    return;
  event_batch events;
  if (r.step == "execute")
    events = decide_execution(st.task, r, now_ms());
  else
    events = decide_evaluation(st.tctx, st.task, r, now_ms());
  record(self, std::move(events), [self] { proceed(self); });
}

} // namespace

task_actor::behavior_type
task_actor_impl(task_actor::stateful_pointer<task_state> self,
                engine_context* ctx, run_actor parent, task_context tctx,
                task_view task) {
  self->state.ctx = ctx;
  self->state.parent = std::move(parent);
  self->state.tctx = std::move(tctx);
  self->state.task = std::move(task);
  return {
      [self](atom::start) { begin(self); },
      [self](atom::complete, std::string& output, reply_ptr& reply) {
        auto events = decide_human_input(self->state.task, output, now_ms());
        if (!events) {
          send_error(reply, 409, "wrong_state", render(events.error()));
          return;
        }
        record(
            self, std::move(*events),
            [self, reply] {
              reply->send(200, dump_safe(render_task(self->state.task)));
              self->quit();
            },
            reply);
      },
      [self](atom::cancel) { self->quit(); },
      [self](atom::appended, event_batch_ptr& batch) {
        auto f = std::move(self->state.pending.front());
        self->state.pending.pop_front();
        f(batch);
      },
      [self](atom::appended, caf::error& err) {
        if (err == ec::run_closed) {
          self->quit(); // the run ended meanwhile; nothing more to do
          return;
        }
        spdlog::error("task {}: append failed: {}", stream_of(self),
                      render(err));
        self->quit(std::move(err));
      },
      [self](atom::llm, llm_result& r) { on_llm(self, r); },
  };
}

} // namespace orchflow
