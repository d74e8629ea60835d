#include <set>

#include "support/fixture.hpp"

namespace orchflow::test {
namespace {

using nlohmann::json;

const char* youtube_goal
    = "Plan and launch a faceless YouTube channel about AI tools for "
      "freelancers. Research 5 competing channels, extract content patterns, "
      "define our positioning, design a 30-day content plan, and produce a "
      "launch checklist.";

json seed_body() {
  return {{"task", youtube_goal},
          {"agents", json::array({{{"name", "research"}},
                                  {{"name", "analyst"}},
                                  {{"name", "writer"}}})},
          {"ask_me_about", json::array({"brand voice", "target audience"})},
          {"require_approval", false}};
}

class FlowTest : public ServerTest {};

TEST_F(FlowTest, SeedFlowPausesForHumansAndCompletes) {
  auto id = start_run(seed_body());
  auto doc = wait_status(*client, id, key, {"waiting_human"});
  ASSERT_EQ(doc["status"], "waiting_human");
  EXPECT_EQ(doc["waiting_tasks"], json::array({"T1", "T2"}));
  auto& t1 = doc["subtasks"]["T1"];
  EXPECT_EQ(t1["kind"], "human");
  EXPECT_EQ(t1["state"], "waiting_human");
  EXPECT_NE(t1["question"].get<std::string>().find("brand voice"),
            std::string::npos);
  // No AI task ran before the answers.
  for (auto& [tid, t] : doc["subtasks"].items()) {
    if (t["kind"] == "ai") {
      EXPECT_EQ(t["state"], "pending") << tid;
    }
  }
  // The plan is a real graph: some task has two dependencies, and two
  // tasks share a dependency (parallel branches).
  bool fan_in = false;
  std::map<std::string, int> dependents;
  for (auto& [tid, t] : doc["subtasks"].items()) {
    if (t["kind"] == "ai" && t["depends_on"].size() >= 2
        && t["depends_on"][0] != "T1")
      fan_in = true;
    for (auto& d : t["depends_on"])
      ++dependents[d.get<std::string>()];
  }
  EXPECT_TRUE(fan_in);
  bool fan_out = false;
  for (auto& [d, n] : dependents)
    if (d != "T1" && d != "T2" && n >= 2)
      fan_out = true;
  EXPECT_TRUE(fan_out);
  auto answer = "Brand voice: practical and founder-friendly.";
  // Once passivated, a polled document is cached; an answer must still
  // show at once.
  for (int i = 0;
       i < 100 && client->get("/health").json()["runs_resident"] != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(get_run(id), doc);
  ASSERT_EQ(client
                ->post("/api/v1/runs/" + id + "/tasks/T1/complete",
                       {{"output", answer}}, key)
                .status,
            200);
  auto after = get_run(id);
  EXPECT_EQ(after["subtasks"]["T1"]["state"], "completed");
  EXPECT_EQ(after["waiting_tasks"], json::array({"T2"}));
  for (auto tid : {"T2"}) {
    auto res
        = client->post("/api/v1/runs/" + id + "/tasks/" + tid + "/complete",
                       {{"output", answer}}, key);
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.json()["state"], "completed");
    EXPECT_EQ(res.json()["output"], answer);
  }
  doc = wait_status(*client, id, key, {"completed", "failed"});
  ASSERT_EQ(doc["status"], "completed") << doc.dump(2);
  EXPECT_FALSE(doc["final_output"].get<std::string>().empty());
  // The answer became context of the AI tasks after it.
  EXPECT_NE(doc["subtasks"]["T3"]["output"].get<std::string>().find(answer),
            std::string::npos);
  EXPECT_GT(doc["usage"]["llm_calls"], 10);
  for (auto& [tid, t] : doc["subtasks"].items()) {
    EXPECT_EQ(t["state"], "completed");
    if (t["kind"] == "ai") {
      EXPECT_TRUE(t["evaluation"]["passed"]);
      EXPECT_EQ(t["attempts"], 1);
    }
  }
  expect_replay_equal(*client, id, key);
}

TEST_F(FlowTest, HumanGatesBecomeHumanTasks) {
  auto id = start_run(
      {{"task", "Research competitors, compare pricing, get "
                "legal approval, then draft our launch "
                "strategy."},
       {"human_gates", json::array({"legal approval", "founder review"})}});
  auto doc = wait_status(*client, id, key, {"waiting_human"});
  ASSERT_EQ(doc["status"], "waiting_human");
  std::set<std::string> gates;
  for (auto& [tid, t] : doc["subtasks"].items())
    if (t["kind"] == "human")
      gates.insert(t["name"].get<std::string>());
  EXPECT_EQ(gates,
            (std::set<std::string>{"Get legal approval", "Founder review"}));
  doc = drive_to_end(id, "Approved by legal.");
  EXPECT_EQ(doc["status"], "completed");
  expect_replay_equal(*client, id, key);
}

TEST_F(FlowTest, RequireApprovalWaitsOnEveryAiTask) {
  auto id = start_run(
      {{"task", "Create a blog post about AI"}, {"require_approval", true}});
  auto doc = wait_status(*client, id, key, {"waiting_human"});
  ASSERT_EQ(doc["status"], "waiting_human");
  auto tid = doc["waiting_tasks"][0].get<std::string>();
  auto& t = doc["subtasks"][tid];
  EXPECT_EQ(t["kind"], "ai");
  EXPECT_FALSE(t["draft"].get<std::string>().empty());
  EXPECT_TRUE(t["output"].is_null());
  auto res = client->post("/api/v1/runs/" + id + "/tasks/" + tid + "/complete",
                          {{"output", "Edited and approved"}}, key);
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.json()["output"], "Edited and approved");
  int approvals = 1;
  for (;;) {
    doc = wait_status(*client, id, key, {"waiting_human", "completed"});
    if (doc["status"] != "waiting_human")
      break;
    for (auto& w : doc["waiting_tasks"]) {
      ++approvals;
      client->post("/api/v1/runs/" + id + "/tasks/" + w.get<std::string>()
                       + "/complete",
                   {{"output", "ok"}}, key);
    }
  }
  EXPECT_EQ(doc["status"], "completed");
  EXPECT_EQ(approvals, 4); // every AI task of the 4-step plan
  expect_replay_equal(*client, id, key);
}

TEST_F(FlowTest, CancelStopsEverything) {
  auto id = start_run(
      {{"task", "Create a blog post about AI"},
       {"agents",
        json::array({{{"name", "writer"}, {"model", "builtin-slow-400"}}})}});
  wait_for(*client, id, key, [](const json& d) {
    for (auto& [k, t] : d["subtasks"].items())
      if (t["state"] == "running")
        return true;
    return false;
  });
  auto res = client->request("DELETE", "/api/v1/runs/" + id, {}, key);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.json(), (json{{"run_id", id}, {"status", "cancelled"}}));
  auto doc = get_run(id);
  EXPECT_EQ(doc["status"], "cancelled");
  auto seq = doc["last_event_seq"];
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  doc = get_run(id);
  EXPECT_EQ(doc["last_event_seq"], seq) << "work continued after cancel";
  for (auto& [k, t] : doc["subtasks"].items())
    EXPECT_NE(t["state"], "running");
  EXPECT_EQ(client->request("DELETE", "/api/v1/runs/" + id, {}, key).status,
            409);
  expect_replay_equal(*client, id, key);
}

TEST_F(FlowTest, IndependentTasksRunAtTheSameTime) {
  auto id = start_run(
      {{"task", "Create a blog post about AI"},
       {"agents",
        json::array({{{"name", "research"}, {"model", "builtin-slow-300"}},
                     {{"name", "analyst"}, {"model", "builtin-slow-300"}}})}});
  auto doc = wait_for(*client, id, key, [](const json& d) {
    int running = 0;
    for (auto& [k, t] : d["subtasks"].items())
      running += t["state"] == "running";
    return running >= 2;
  });
  int running = 0;
  for (auto& [k, t] : doc["subtasks"].items())
    running += t["state"] == "running";
  EXPECT_GE(running, 2) << doc.dump(2);
  EXPECT_EQ(wait_status(*client, id, key, {"completed"}, 30000)["status"],
            "completed");
}

TEST_F(FlowTest, FailedEvaluationIsRetriedWithFeedback) {
  auto id = start_run(
      {{"task", "Create a blog post about AI"},
       {"agents",
        json::array({{{"name", "writer"}, {"model", "builtin-flaky-2"}}})}});
  auto doc = wait_status(*client, id, key, {"completed", "failed"}, 30000);
  ASSERT_EQ(doc["status"], "completed") << doc.dump(2);
  for (auto& [k, t] : doc["subtasks"].items()) {
    EXPECT_EQ(t["attempts"], 3) << k;
    EXPECT_TRUE(t["evaluation"]["passed"]) << k;
    EXPECT_NE(t["output"].get<std::string>().find("reviewer feedback"),
              std::string::npos)
        << "the retry prompt did not carry the feedback";
  }
  expect_replay_equal(*client, id, key);
}

TEST_F(FlowTest, ExhaustedRetriesEscalateToAHuman) {
  auto id = start_run(
      {{"task", "Create a blog post about AI"},
       {"agents",
        json::array({{{"name", "writer"}, {"model", "builtin-flaky-3"}}})}});
  auto doc = wait_status(*client, id, key, {"waiting_human", "failed"});
  ASSERT_EQ(doc["status"], "waiting_human") << doc.dump(2);
  auto tid = doc["waiting_tasks"][0].get<std::string>();
  auto& t = doc["subtasks"][tid];
  EXPECT_EQ(t["kind"], "human");
  EXPECT_EQ(t["attempts"], 3);
  EXPECT_FALSE(t["evaluation"]["passed"]);
  EXPECT_FALSE(t["draft"].get<std::string>().empty());
  EXPECT_NE(t["question"].get<std::string>().find("failed self-evaluation 3"),
            std::string::npos);
  doc = drive_to_end(id, "A human-written final version.");
  EXPECT_EQ(doc["status"], "completed");
  expect_replay_equal(*client, id, key);
}

TEST_F(FlowTest, TransientProviderErrorsAreRetried) {
  auto id = start_run(
      {{"task", "Create a blog post about AI"},
       {"agents",
        json::array({{{"name", "writer"}, {"model", "builtin-error-2"}}})}});
  auto doc = wait_status(*client, id, key, {"completed", "failed"});
  ASSERT_EQ(doc["status"], "completed") << doc.dump(2);
  auto evs = client->get("/api/v1/runs/" + id + "/events?limit=1000", key)
                 .json()["events"];
  int failed_calls = 0;
  for (auto& e : evs)
    failed_calls += e["type"] == "llm.call_failed";
  EXPECT_GE(failed_calls, 8); // two failed attempts per task call
}

TEST_F(FlowTest, ProviderOutageFailsTheRunWithAClearError) {
  auto id = start_run({{"task", "Create a blog post about AI"},
                       {"agents", json::array({{{"name", "writer"},
                                                {"model", "builtin-down"}}})}});
  auto doc = wait_status(*client, id, key, {"completed", "failed"});
  ASSERT_EQ(doc["status"], "failed");
  auto error = doc["error"].get<std::string>();
  EXPECT_NE(error.find("builtin provider is down"), std::string::npos) << error;
  EXPECT_NE(error.find("Task T"), std::string::npos) << error;
  for (auto& [k, t] : doc["subtasks"].items())
    EXPECT_NE(t["state"], "running");
  expect_replay_equal(*client, id, key);
}

class PlanningOutageTest : public ServerTest {
  std::map<std::string, std::string> server_env() override {
    return {{"ORCHFLOW_DEFAULT_MODEL", "builtin-error-9"}};
  }
};

TEST_F(PlanningOutageTest, PlanningErrorsFailTheRun) {
  auto id = start_run({{"task", "Create a blog post about AI"}});
  auto doc = wait_status(*client, id, key, {"completed", "failed"});
  ASSERT_EQ(doc["status"], "failed");
  auto error = doc["error"].get<std::string>();
  EXPECT_NE(error.find("Planning the run failed"), std::string::npos) << error;
  EXPECT_NE(error.find("gave up after 3 attempts"), std::string::npos) << error;
  EXPECT_EQ(doc["usage"]["llm_calls"], 3);
}

} // namespace
} // namespace orchflow::test
