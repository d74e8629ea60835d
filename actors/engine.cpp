#include "actors/engine.hpp"

#include "actors/context.hpp"
#include "actors/supervisor.hpp"
#include "actors/webhooks.hpp"
#include "events/error.hpp"
#include "providers/builtin.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

namespace orchflow {

struct engine::impl {
  server_config cfg;
  std::unique_ptr<event_store> store;
  std::unique_ptr<read_model> reads;
  std::unique_ptr<llm_gateway> gateway;
  std::unique_ptr<http_transport> transport;
  engine_context ctx;
  caf::actor_system_config sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  supervisor_actor supervisor;

  ~impl() {
    if (supervisor)
      caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
    supervisor = nullptr;
    if (ctx.webhooks)
      caf::anon_send_exit(ctx.webhooks, caf::exit_reason::user_shutdown);
    ctx.webhooks = nullptr;
    sys.reset(); // waits for every actor to finish
    gateway.reset();
    transport.reset();
    store.reset(); // drains the writer
  }
};

engine::engine(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {
  // nop
}

engine::~engine() = default;

caf::expected<std::unique_ptr<engine>> engine::start(const server_config& cfg) {
  auto ptr = std::make_unique<impl>();
  ptr->cfg = cfg;
  store_options sopts;
  sopts.sync = cfg.sync;
  auto store = event_store::open(cfg.data_dir, sopts);
  if (!store)
    return std::move(store.error());
  ptr->store = std::move(*store);
  ptr->reads = std::make_unique<read_model>(*ptr->store);
  if (auto err = ptr->reads->load())
    return err;
  auto* reads = ptr->reads.get();
  ptr->store->set_commit_observer(
      [reads](const std::vector<event_batch_ptr>& groups) {
        reads->apply(groups);
      });
  gateway_options gopts;
  gopts.max_attempts = cfg.llm_max_attempts;
  gopts.backoff_ms = cfg.llm_backoff_ms;
  gopts.backoff_cap_ms = cfg.llm_backoff_cap_ms;
  ptr->gateway = std::make_unique<llm_gateway>(gopts);
  ptr->gateway->add_provider("builtin", std::make_unique<builtin_provider>());
  ptr->transport = std::make_unique<http_transport>();
  ptr->ctx.transport = ptr->transport.get();
  ptr->ctx.store = ptr->store.get();
  ptr->ctx.gateway = ptr->gateway.get();
  ptr->ctx.reads = ptr->reads.get();
  ptr->ctx.cfg = &ptr->cfg;
  ptr->sys_cfg.set("scheduler.max-threads",
                   static_cast<size_t>(cfg.worker_threads));
  ptr->sys_cfg.set("logger.verbosity", caf::atom("quiet"));
  ptr->sys = std::make_unique<caf::actor_system>(ptr->sys_cfg);
  ptr->ctx.webhooks = ptr->sys->spawn(webhooks_impl, &ptr->ctx);
  auto active = ptr->reads->active_runs();
  if (!active.empty())
    spdlog::info("recovering {} runs that were not finished", active.size());
  ptr->supervisor = ptr->sys->spawn(supervisor_impl, &ptr->ctx, active);
  return std::unique_ptr<engine>{new engine(std::move(ptr))};
}

void engine::create_run(run_spec spec, reply_ptr reply) {
  caf::anon_send(impl_->supervisor, atom::create_v, std::move(spec),
                 std::move(reply));
}

void engine::register_account(account_spec spec, reply_ptr reply) {
  caf::anon_send(impl_->supervisor, atom::enroll_v, std::move(spec),
                 std::move(reply));
}

void engine::complete_task(std::string run_id, std::string task_id,
                           std::string output, reply_ptr reply) {
  caf::anon_send(impl_->supervisor, atom::complete_v, std::move(run_id),
                 std::move(task_id), std::move(output), std::move(reply));
}

void engine::cancel_run(std::string run_id, reply_ptr reply) {
  caf::anon_send(impl_->supervisor, atom::cancel_v, std::move(run_id),
                 std::move(reply));
}

read_model& engine::reads() {
  return *impl_->reads;
}

event_store& engine::store() {
  return *impl_->store;
}

const server_config& engine::config() const {
  return impl_->cfg;
}

} // namespace orchflow
