#include "support/fixture.hpp"
#include "support/webhook_receiver.hpp"

namespace orchflow::test {
namespace {

using nlohmann::json;

class WebhookTest : public ServerTest {
  std::map<std::string, std::string> server_env() override {
    return {{"ORCHFLOW_WEBHOOK_BACKOFF_MS", "50"}};
  }
};

TEST_F(WebhookTest, NotifiesWaitingHumanAndCompletion) {
  webhook_receiver hook;
  auto id = start_run({{"task", "Create a blog post about AI"},
                       {"ask_me_about", json::array({"audience"})},
                       {"webhook_url", hook.url()}});
  ASSERT_GE(hook.wait_for(1), 1u);
  auto first = hook.requests()[0];
  EXPECT_EQ(first.json["run_id"], id);
  EXPECT_EQ(first.json["event"], "waiting_human");
  EXPECT_EQ(first.json["status"], "waiting_human");
  EXPECT_EQ(first.json["waiting_tasks"], json::array({"T1"}));
  EXPECT_TRUE(first.json["timestamp"].is_string());
  EXPECT_FALSE(first.headers["webhook-id"].empty());
  EXPECT_EQ(first.headers["content-type"], "application/json");
  ASSERT_EQ(client
                ->post("/api/v1/runs/" + id + "/tasks/T1/complete",
                       {{"output", "developers"}}, key)
                .status,
            200);
  ASSERT_GE(hook.wait_for(2), 2u);
  auto second = hook.requests()[1];
  EXPECT_EQ(second.json["event"], "completed");
  EXPECT_EQ(second.json["status"], "completed");
  EXPECT_EQ(second.json["waiting_tasks"], json::array());
  EXPECT_NE(second.headers["webhook-id"], first.headers["webhook-id"]);
  expect_replay_equal(*client, id, key);
}

TEST_F(WebhookTest, RetriesFailuresAndRedirectsWithTheSameId) {
  webhook_receiver hook{{500, 503, 302}};
  auto id = start_run(
      {{"task", "Create a blog post about AI"}, {"webhook_url", hook.url()}});
  ASSERT_GE(hook.wait_for(4), 4u);
  auto reqs = hook.requests();
  for (auto& r : reqs) {
    EXPECT_EQ(r.headers["webhook-id"], reqs[0].headers["webhook-id"]);
    EXPECT_EQ(r.body, reqs[0].body); // the exact same bytes every time
  }
  EXPECT_EQ(reqs[3].json["event"], "completed");
  // Delivered: no fifth attempt.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(hook.requests().size(), 4u);
  EXPECT_EQ(get_run(id)["status"], "completed");
}

TEST_F(WebhookTest, UndeliveredNotificationsAreResentAfterACrash) {
  auto port = free_port(); // nobody listens yet: deliveries fail
  auto url = "http://127.0.0.1:" + std::to_string(port) + "/hooks/orchflow";
  auto id = start_run(
      {{"task", "Create a blog post about AI"}, {"webhook_url", url}});
  ASSERT_EQ(wait_status(*client, id, key, {"completed"})["status"],
            "completed");
  server->kill9();
  webhook_receiver hook{{}, port};
  server->restart();
  ASSERT_GE(hook.wait_for(1), 1u) << server->log();
  auto r = hook.requests()[0];
  EXPECT_EQ(r.json["run_id"], id);
  EXPECT_EQ(r.json["event"], "completed");
  auto evs = client->get("/api/v1/runs/" + id + "/events?limit=1000", key);
  ASSERT_EQ(evs.status, 200) << evs.body;
  std::string queued_id;
  auto listed = evs.json();
  for (auto& e : listed["events"])
    if (e["type"] == "webhook.queued")
      queued_id = e["data"]["delivery_id"];
  EXPECT_EQ(r.headers["webhook-id"], queued_id);
  // Delivered once recorded, a further restart sends nothing again.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  server->restart();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(hook.requests().size(), 1u);
}

} // namespace
} // namespace orchflow::test
