#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

#include "support/http_client.hpp"

namespace orchflow::test {

/// The real `orchflow` binary, started on 127.0.0.1 with a free port and a
/// given data dir, stopped by PID. Its output goes to `<data_dir>.log`.
class server_process {
public:
  /// Starts the server and waits (at most 20 s) until /health answers 200.
  server_process(std::string data_dir,
                 std::map<std::string, std::string> env = {});

  /// Stops the server with SIGTERM (SIGKILL after 10 s) if still running.
  ~server_process();

  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  uint16_t port() const { return port_; }

  pid_t pid() const { return pid_; }

  /// SIGKILLs the server and reaps it.
  void kill9();

  /// SIGTERMs the server and waits for a clean exit; returns its status.
  int terminate();

  /// Starts it again on the same data dir and port.
  void restart();

  /// The server's log so far.
  std::string log() const;

  const std::string& data_dir() const { return data_dir_; }

private:
  void launch();
  std::string data_dir_;
  std::map<std::string, std::string> env_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

/// Returns a port that was free a moment ago.
uint16_t free_port();

/// Registers an account and returns its API key.
std::string register_account(http_client& c, const std::string& name = "Ada");

/// Polls GET /api/v1/runs/{id} until `pred(doc)` holds or `timeout_ms`
/// passes; returns the last document.
template<class Pred>
nlohmann::json wait_for(http_client& c, const std::string& run_id,
                        const std::string& key, Pred pred,
                        int timeout_ms = 15000);

/// Polls until the run's status is one of `statuses`.
nlohmann::json wait_status(http_client& c, const std::string& run_id,
                           const std::string& key,
                           const std::vector<std::string>& statuses,
                           int timeout_ms = 15000);

/// Asserts (gtest) that the live run document equals the one rebuilt by
/// replaying the run's events (GET ?at_seq=last_event_seq).
void expect_replay_equal(http_client& c, const std::string& run_id,
                         const std::string& key);

} // namespace orchflow::test

#include "support/server_process_impl.hpp"
