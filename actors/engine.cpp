#include "actors/engine.hpp"

#include "actors/context.hpp"
#include "actors/scheduler.hpp"
#include "actors/supervisor.hpp"
#include "actors/webhooks.hpp"
#include "events/error.hpp"
#include "providers/builtin.hpp"
#include "providers/vendor_provider.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <malloc.h>

namespace orchflow {

namespace {

/// Where a call goes: the run's registered provider (its key decrypted now,
/// bound to its account), or the server's default vendor with a key from
/// the environment (<KIND>_API_KEY) for self-hosted defaults.
caf::expected<vendor_target> resolve_target(const read_model& reads,
                                            const key_vault& vault,
                                            const llm_request& req) {
  vendor_target t;
  t.kind = req.provider;
  if (req.provider_id.empty()) {
    std::string var = req.provider + "_API_KEY";
    for (auto& c : var)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (auto* key = std::getenv(var.c_str()))
      t.api_key = key;
    if (auto* base = std::getenv("ORCHFLOW_DEFAULT_BASE_URL"))
      t.base_url = base;
    return t;
  }
  auto p = reads.provider(req.provider_id);
  if (!p || p->account_id != req.account_id)
    return caf::make_error(ec::not_found,
                           "provider " + req.provider_id + " not found");
  if (!p->active)
    return caf::make_error(ec::wrong_state,
                           "provider " + req.provider_id + " was deactivated");
  t.base_url = p->base_url;
  if (!p->ciphertext.empty()) {
    auto key = vault.unseal({p->key_id, p->nonce, p->ciphertext},
                            p->account_id + "|" + p->provider_id);
    if (!key)
      return std::move(key.error());
    t.api_key = std::move(*key);
  }
  return t;
}

} // namespace

struct engine::impl {
  server_config cfg;
  std::unique_ptr<event_store> store;
  std::unique_ptr<read_model> reads;
  std::unique_ptr<llm_gateway> gateway;
  std::unique_ptr<http_transport> transport;
  std::unique_ptr<key_vault> vault;
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
    // Vendor replies arrive on the transport's thread and enter the
    // gateway: stop the gateway's thread, drop the transport (and its
    // in-flight calls), then free the gateway.
    if (gateway)
      gateway->stop();
    transport.reset();
    gateway.reset();
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
  ptr->reads->set_passivation(cfg.passivate_waiting_runs);
  if (auto err = ptr->reads->load())
    return err;
  auto vault = key_vault::open(cfg.data_dir);
  if (!vault)
    return std::move(vault.error());
  ptr->vault = std::move(*vault);
  if (ptr->vault->created_key_file())
    spdlog::warn("ENCRYPTION_KEY is not set: created a master key in {}/"
                 "master.key (mode 0600); back it up with the data dir",
                 cfg.data_dir);
  for (auto& id : ptr->reads->provider_key_ids())
    if (!ptr->vault->has_key(id))
      return caf::make_error(
          ec::invalid_argument,
          "the stored provider keys were encrypted with master key " + id
              + ", which is not loaded: set ENCRYPTION_KEY to that key (or add "
                "it to ENCRYPTION_KEYS_PREVIOUS)");
  auto* reads = ptr->reads.get();
  ptr->store->set_commit_observer(
      [reads](const std::vector<event_batch_ptr>& groups) {
        reads->apply(groups);
      });
  ptr->store->set_read_observer(
      [reads](const std::string& id, const event_batch_ptr& events) {
        reads->woken(id, *events);
      });
  gateway_options gopts;
  gopts.max_attempts = cfg.llm_max_attempts;
  gopts.backoff_ms = cfg.llm_backoff_ms;
  gopts.backoff_cap_ms = cfg.llm_backoff_cap_ms;
  ptr->gateway = std::make_unique<llm_gateway>(gopts);
  ptr->gateway->add_provider("builtin", std::make_unique<builtin_provider>());
  ptr->transport = std::make_unique<http_transport>();
  vendor_limits limits;
  limits.connect_timeout_ms = cfg.llm_connect_timeout_ms;
  limits.timeout_ms = cfg.llm_timeout_ms;
  limits.max_output_tokens = cfg.llm_max_output_tokens;
  auto* vault_ptr = ptr->vault.get();
  auto resolve = [reads, vault_ptr](
                     const llm_request& req) -> caf::expected<vendor_target> {
    return resolve_target(*reads, *vault_ptr, req);
  };
  for (auto kind : vendor_kinds)
    ptr->gateway->add_provider(
        std::string{kind},
        std::make_unique<vendor_provider>(std::string{kind}, *ptr->transport,
                                          resolve, limits));
  ptr->ctx.transport = ptr->transport.get();
  ptr->ctx.vault = ptr->vault.get();
  ptr->ctx.store = ptr->store.get();
  ptr->ctx.gateway = ptr->gateway.get();
  ptr->ctx.reads = ptr->reads.get();
  ptr->ctx.cfg = &ptr->cfg;
  tune_scheduler(ptr->sys_cfg, static_cast<size_t>(cfg.worker_threads));
  ptr->sys_cfg.set("logger.verbosity", caf::atom("quiet"));
  ptr->sys = std::make_unique<caf::actor_system>(ptr->sys_cfg);
  ptr->ctx.webhooks = ptr->sys->spawn(webhooks_impl, &ptr->ctx);
  auto active = ptr->reads->active_runs();
  if (!active.empty())
    spdlog::info("recovering {} runs that were not finished", active.size());
  ptr->supervisor = ptr->sys->spawn(supervisor_impl, &ptr->ctx, active);
  // Recovery parsed and freed a lot; glibc keeps freed memory unless asked.
  ::malloc_trim(0);
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

void engine::register_provider(provider_spec spec, reply_ptr reply) {
  caf::anon_send(impl_->supervisor, atom::prv_add_v, std::move(spec),
                 std::move(reply));
}

void engine::deactivate_provider(std::string account_id,
                                 std::string provider_id, reply_ptr reply) {
  caf::anon_send(impl_->supervisor, atom::prv_off_v, std::move(account_id),
                 std::move(provider_id), std::move(reply));
}

read_model& engine::reads() {
  return *impl_->reads;
}

event_store& engine::store() {
  return *impl_->store;
}

int64_t engine::resident_runs() const {
  return impl_->ctx.resident_runs.load();
}

const server_config& engine::config() const {
  return impl_->cfg;
}

} // namespace orchflow
