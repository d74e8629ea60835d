#include <chrono>
#include <filesystem>
#include <fstream>

#include "support/fixture.hpp"

namespace orchflow::test {
namespace {

using nlohmann::json;

class ApiTest : public ServerTest {};

TEST_F(ApiTest, HealthReportsModeAndActiveRuns) {
  auto res = client->get("/health");
  ASSERT_EQ(res.status, 200);
  auto j = res.json();
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["mode"], "self_hosted");
  EXPECT_EQ(j["runs_active"], 0);
  EXPECT_EQ(res.headers["content-type"], "application/json");
}

TEST_F(ApiTest, RegistrationShowsTheKeyOnceAndStoresOnlyItsHash) {
  auto res = client->post("/api/v1/auth/register",
                          {{"name", "Tarun"}, {"email", "tarun@example.com"}});
  ASSERT_EQ(res.status, 201);
  auto j = res.json();
  auto k = j["api_key"].get<std::string>();
  EXPECT_EQ(k.rfind("orch_", 0), 0u);
  EXPECT_EQ(j["account_id"].get<std::string>().rfind("acct_", 0), 0u);
  EXPECT_EQ(j["message"],
            "Free tier: 100 runs/month, 3 managed trial runs included.");
  EXPECT_EQ(client->get("/api/v1/runs", k).status, 200);
  // Stop the server so RocksDB files are complete, then scan every byte.
  server->terminate();
  for (auto& f : std::filesystem::recursive_directory_iterator(dir.path())) {
    if (!f.is_regular_file())
      continue;
    std::ifstream in{f.path(), std::ios::binary};
    std::string bytes{std::istreambuf_iterator<char>(in), {}};
    EXPECT_EQ(bytes.find(k), std::string::npos) << f.path();
  }
}

TEST_F(ApiTest, TemplatesArePublic) {
  auto res = client->get("/api/v1/agents/templates");
  ASSERT_EQ(res.status, 200);
  std::vector<std::string> names;
  auto j = res.json();
  for (auto& t : j["templates"]) {
    names.push_back(t["name"]);
    EXPECT_FALSE(t["system_prompt"].get<std::string>().empty());
    EXPECT_FALSE(t["description"].get<std::string>().empty());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"research", "coding", "writer",
                                             "analyst", "editor"}));
}

TEST_F(ApiTest, PostRunAnswersAtOnceAndReadsItsOwnWrite) {
  auto t0 = std::chrono::steady_clock::now();
  auto res = client->post("/api/v1/runs",
                          {{"task", "Create a blog post about AI"},
                           {"agents", json::array({{{"name", "writer"}}})},
                           {"metadata", {{"customer", 42}}}},
                          key);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - t0)
                .count();
  ASSERT_EQ(res.status, 202) << res.body;
  EXPECT_LT(ms, 1000);
  auto j = res.json();
  EXPECT_EQ(j["status"], "pending");
  auto id = j["run_id"].get<std::string>();
  EXPECT_EQ(id.rfind("run_", 0), 0u);
  EXPECT_EQ(j["message"], "Run started. Poll GET /runs/" + id + " for status.");
  // Read-your-writes: the very next GET sees the run.
  auto doc = client->get("/api/v1/runs/" + id, key);
  ASSERT_EQ(doc.status, 200);
  EXPECT_EQ(doc.json()["task"], "Create a blog post about AI");
  EXPECT_EQ(doc.json()["metadata"]["customer"], 42);
  EXPECT_EQ(doc.json()["agents"][0]["system_prompt"].get<std::string>().rfind(
                "You are a professional content writer", 0),
            0u);
  auto tasks = client->get("/api/v1/runs/" + id + "/tasks", key);
  ASSERT_EQ(tasks.status, 200);
  EXPECT_EQ(tasks.json()["run_id"], id);
  auto end = wait_status(*client, id, key, {"completed"});
  EXPECT_EQ(end["status"], "completed");
  expect_replay_equal(*client, id, key);
}

TEST_F(ApiTest, RunListIsNewestFirstWithPaging) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(start_run({{"task", "Goal number " + std::to_string(i)},
                             {"ask_me_about", json::array({"x"})}}));
  auto res = client->get("/api/v1/runs?limit=2&offset=1", key);
  ASSERT_EQ(res.status, 200);
  auto j = res.json();
  EXPECT_EQ(j["total"], 5);
  EXPECT_EQ(j["limit"], 2);
  EXPECT_EQ(j["offset"], 1);
  ASSERT_EQ(j["runs"].size(), 2u);
  EXPECT_EQ(j["runs"][0]["run_id"], ids[3]);
  EXPECT_EQ(j["runs"][1]["run_id"], ids[2]);
  for (auto& field : {"run_id", "status", "task", "created_at", "updated_at"})
    EXPECT_TRUE(j["runs"][0].contains(field)) << field;
  auto other = register_account(*client, "Grace");
  EXPECT_EQ(client->get("/api/v1/runs", other).json()["total"], 0);
  EXPECT_EQ(client->get("/api/v1/runs?limit=0", key).status, 422);
  EXPECT_EQ(client->get("/api/v1/runs?offset=-1", key).status, 422);
  EXPECT_EQ(client->get("/api/v1/runs?limit=abc", key).status, 422);
}

TEST_F(ApiTest, EventLogAndTimeTravel) {
  auto id = start_run({{"task", "Create a blog post about AI"}});
  auto end = wait_status(*client, id, key, {"completed"});
  ASSERT_EQ(end["status"], "completed");
  auto res = client->get("/api/v1/runs/" + id + "/events?limit=1000", key);
  ASSERT_EQ(res.status, 200);
  auto evs = res.json()["events"];
  ASSERT_EQ(evs.size(), end["last_event_seq"].get<size_t>());
  EXPECT_EQ(evs[0]["type"], "run.created");
  EXPECT_EQ(evs.back()["type"], "run.completed");
  for (size_t i = 0; i < evs.size(); ++i)
    EXPECT_EQ(evs[i]["seq"], i + 1);
  auto page = client->get("/api/v1/runs/" + id + "/events?after=2&limit=3", key)
                  .json()["events"];
  ASSERT_EQ(page.size(), 3u);
  EXPECT_EQ(page[0]["seq"], 3);
  auto early = client->get("/api/v1/runs/" + id + "?at_seq=1", key).json();
  EXPECT_EQ(early["status"], "pending");
  EXPECT_EQ(early["last_event_seq"], 1);
  expect_replay_equal(*client, id, key);
}

} // namespace
} // namespace orchflow::test
