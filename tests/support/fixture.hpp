#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace orchflow::test {

/// A real server process on a fresh data dir, a client, and one account.
class ServerTest : public testing::Test {
protected:
  /// Environment for the server (e.g. ORCHFLOW_DEFAULT_MODEL).
  virtual std::map<std::string, std::string> server_env() { return {}; }

  void SetUp() override {
    server
        = std::make_unique<server_process>(dir.str() + "/data", server_env());
    client = std::make_unique<http_client>(server->port());
    key = register_account(*client);
  }

  void TearDown() override {
    if (HasFailure() && server)
      std::cerr << "---- server log ----\n" << server->log() << "\n";
  }

  /// Starts a run and returns its id (expects 202).
  std::string start_run(const nlohmann::json& body) {
    auto res = client->post("/api/v1/runs", body, key);
    EXPECT_EQ(res.status, 202) << res.body;
    return res.json().value("run_id", std::string{});
  }

  nlohmann::json get_run(const std::string& id) {
    return client->get("/api/v1/runs/" + id, key).json();
  }

  /// Completes every waiting task until the run is terminal.
  nlohmann::json drive_to_end(const std::string& id,
                              const std::string& answer = "Human answer",
                              int timeout_ms = 20000) {
    auto deadline = std::chrono::steady_clock::now()
                    + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      auto doc = wait_status(
          *client, id, key,
          {"waiting_human", "completed", "failed", "cancelled"}, timeout_ms);
      auto status = doc.value("status", std::string{});
      if (status != "waiting_human"
          || std::chrono::steady_clock::now() > deadline)
        return doc;
      for (auto& t : doc["waiting_tasks"]) {
        auto res = client->post("/api/v1/runs/" + id + "/tasks/"
                                    + t.get<std::string>() + "/complete",
                                {{"output", answer}}, key);
        EXPECT_TRUE(res.status == 200 || res.status == 409) << res.body;
      }
    }
  }

  temp_dir dir;
  std::unique_ptr<server_process> server;
  std::unique_ptr<http_client> client;
  std::string key;
};

} // namespace orchflow::test
