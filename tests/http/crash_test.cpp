// kill -9 at random instants during live runs; restart; check that nothing
// acknowledged was lost, nothing completed twice, and work goes on.

#include <random>
#include <set>

#include "support/fixture.hpp"

namespace orchflow::test {
namespace {

using nlohmann::json;

class CrashTest : public ServerTest {
protected:
  /// Checks the invariants of one run's log.
  void check_log(const std::string& id) {
    auto evs = client->get("/api/v1/runs/" + id + "/events?limit=1000", key)
                   .json()["events"];
    ASSERT_TRUE(evs.is_array());
    std::map<std::string, uint64_t> stream_seq;
    std::map<std::string, int> completions;
    std::map<std::string, int> last_attempt;
    int terminal = 0;
    for (size_t i = 0; i < evs.size(); ++i) {
      auto& e = evs[i];
      EXPECT_EQ(e["seq"], i + 1) << "gap in run " << id;
      auto stream = e["stream"].get<std::string>();
      EXPECT_EQ(e["stream_seq"], ++stream_seq[stream]) << stream;
      auto type = e["type"].get<std::string>();
      if (type == "task.completed") {
        EXPECT_EQ(++completions[stream], 1) << stream << " completed twice";
      }
      if (type == "task.started") {
        EXPECT_EQ(completions[stream], 0) << stream << " restarted after done";
        auto attempt = e["data"]["attempt"].get<int>();
        EXPECT_GT(attempt, last_attempt[stream]) << stream;
        last_attempt[stream] = attempt;
      }
      if (type == "run.completed" || type == "run.failed"
          || type == "run.cancelled")
        ++terminal;
    }
    EXPECT_LE(terminal, 1) << id;
  }
};

TEST_F(CrashTest, KillNineAtRandomInstantsLosesNothingAcknowledged) {
  std::mt19937 rng{12345};
  std::map<std::string, std::map<std::string, std::string>> answers;
  std::vector<std::string> runs;
  auto slow = json::array({{{"name", "research"}, {"model", "builtin-slow-40"}},
                           {{"name", "writer"}, {"model", "builtin-slow-40"}}});
  for (int cycle = 0; cycle < 5; ++cycle) {
    for (int i = 0; i < 4; ++i) {
      json body{{"task", "Research competitors, compare pricing, then draft "
                         "our launch strategy (cycle "
                             + std::to_string(cycle) + ")."},
                {"agents", slow}};
      if (i % 2 == 0)
        body["ask_me_about"] = json::array({"company details"});
      auto res = client->post("/api/v1/runs", body, key);
      ASSERT_EQ(res.status, 202) << res.body;
      runs.push_back(res.json()["run_id"]);
    }
    // Answer whatever waits, then crash at a random instant.
    auto until = std::chrono::steady_clock::now()
                 + std::chrono::milliseconds(100 + rng() % 500);
    while (std::chrono::steady_clock::now() < until) {
      for (auto& id : runs) {
        auto doc = get_run(id);
        for (auto& t : doc["waiting_tasks"]) {
          auto tid = t.get<std::string>();
          if (answers[id].count(tid) != 0)
            continue;
          auto answer = "answer " + id + "/" + tid;
          auto res = client->post("/api/v1/runs/" + id + "/tasks/" + tid
                                      + "/complete",
                                  {{"output", answer}}, key);
          if (res.status == 200)
            answers[id][tid] = answer; // acknowledged: must survive
        }
      }
    }
    server->kill9();
    server->restart();
    client = std::make_unique<http_client>(server->port());
    // Everything acknowledged is there.
    for (auto& id : runs) {
      auto doc = get_run(id);
      ASSERT_EQ(doc["run_id"], id) << "acknowledged run lost";
      for (auto& [tid, answer] : answers[id]) {
        EXPECT_EQ(doc["subtasks"][tid]["state"], "completed");
        EXPECT_EQ(doc["subtasks"][tid]["output"], answer);
      }
    }
  }
  // After the last restart every run makes progress to its end.
  for (auto& id : runs) {
    auto doc = drive_to_end(id, "late answer", 60000);
    EXPECT_EQ(doc["status"], "completed") << doc.dump(2);
    check_log(id);
    expect_replay_equal(*client, id, key);
    for (auto& [tid, answer] : answers[id])
      EXPECT_EQ(doc["subtasks"][tid]["output"], answer);
  }
}

TEST_F(CrashTest, WaitingTasksStillWaitAfterRestart) {
  auto id = start_run({{"task", "Create a blog post about AI"},
                       {"ask_me_about", json::array({"audience", "tone"})}});
  auto before = wait_status(*client, id, key, {"waiting_human"});
  ASSERT_EQ(before["status"], "waiting_human");
  ASSERT_EQ(client
                ->post("/api/v1/runs/" + id + "/tasks/T1/complete",
                       {{"output", "developers"}}, key)
                .status,
            200);
  server->kill9();
  server->restart();
  client = std::make_unique<http_client>(server->port());
  auto after = get_run(id);
  EXPECT_EQ(after["status"], "waiting_human");
  EXPECT_EQ(after["waiting_tasks"], json::array({"T2"}));
  EXPECT_EQ(after["subtasks"]["T1"]["output"], "developers");
  EXPECT_EQ(client->get("/health").json()["runs_active"], 1);
  // Only waiting for a human: the run keeps no actor until it is needed.
  auto health = client->get("/health").json();
  for (int i = 0; i < 100 && health["runs_resident"] != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    health = client->get("/health").json();
  }
  EXPECT_EQ(health["runs_resident"], 0);
  // A passivated run still answers every read.
  auto tasks = client->get("/api/v1/runs/" + id + "/tasks", key);
  ASSERT_EQ(tasks.status, 200);
  auto tj = tasks.json();
  ASSERT_EQ(tj["tasks"].size(), after["subtasks"].size());
  EXPECT_EQ(get_run(id), after);
  EXPECT_EQ(client->get("/api/v1/runs", key).json()["runs"][0]["status"],
            "waiting_human");
  ASSERT_EQ(client
                ->post("/api/v1/runs/" + id + "/tasks/T2/complete",
                       {{"output", "casual"}}, key)
                .status,
            200);
  auto end = wait_status(*client, id, key, {"completed"});
  EXPECT_EQ(end["status"], "completed");
  check_log(id);
  expect_replay_equal(*client, id, key);
}

TEST_F(CrashTest, CleanShutdownAndRestartKeepsEverything) {
  auto id = start_run({{"task", "Create a blog post about AI"}});
  auto end = wait_status(*client, id, key, {"completed"});
  ASSERT_EQ(end["status"], "completed");
  EXPECT_EQ(server->terminate(), 0);
  server->restart();
  client = std::make_unique<http_client>(server->port());
  EXPECT_EQ(get_run(id), end);
  EXPECT_EQ(client->get("/api/v1/runs", key).json()["total"], 1);
}

} // namespace
} // namespace orchflow::test
