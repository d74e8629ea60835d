#pragma once

#include "actors/reply.hpp"
#include "config/config.hpp"

#include <caf/expected.hpp>

#include <memory>
#include <string>

namespace orchflow {

class event_store;
class read_model;

/// The write side as the HTTP layer sees it: opens the store, restores the
/// projections, starts the actor system and the LLM gateway, recovers every
/// run that is not terminal, and takes commands. Commands are thread-safe
/// and never block: answers arrive through the reply sink.
class engine {
public:
  /// Starts everything; fails with a sentence if the data dir is unusable.
  [[nodiscard]] static caf::expected<std::unique_ptr<engine>>
  start(const server_config& cfg);

  /// Stops actors first, then the gateway, then closes the store.
  ~engine();

  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // -- commands
  // ----------------------------------------------------------------

  void create_run(run_spec spec, reply_ptr reply);
  void register_account(account_spec spec, reply_ptr reply);
  void complete_task(std::string run_id, std::string task_id,
                     std::string output, reply_ptr reply);
  void cancel_run(std::string run_id, reply_ptr reply);
  void register_provider(provider_spec spec, reply_ptr reply);
  void deactivate_provider(std::string account_id, std::string provider_id,
                           reply_ptr reply);

  // -- reads
  // ---------------------------------------------------------------------

  /// The projections (thread-safe).
  read_model& reads();

  /// The event log (thread-safe reads block on I/O).
  event_store& store();

  const server_config& config() const;

  /// Number of run actors alive (passivated runs have none).
  int64_t resident_runs() const;

  struct impl;

private:
  explicit engine(std::unique_ptr<impl> ptr);

  std::unique_ptr<impl> impl_;
};

} // namespace orchflow
