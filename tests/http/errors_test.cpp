#include <thread>

#include "support/fixture.hpp"

namespace orchflow::test {
namespace {

using nlohmann::json;

class ErrorTest : public ServerTest {
protected:
  /// Expects `status` and a detail sentence (or 422 detail list).
  void expect_error(const http_result& res, int status) {
    EXPECT_EQ(res.status, status) << res.body;
    auto j = res.json();
    ASSERT_TRUE(j.is_object()) << res.body;
    ASSERT_TRUE(j.contains("detail")) << res.body;
    if (status == 422) {
      ASSERT_TRUE(j["detail"].is_array());
      for (auto& d : j["detail"]) {
        EXPECT_TRUE(d["loc"].is_array());
        EXPECT_TRUE(d["msg"].is_string());
        EXPECT_TRUE(d["type"].is_string());
      }
    } else {
      EXPECT_TRUE(j["detail"].is_string());
      EXPECT_GT(j["detail"].get<std::string>().size(), 10u);
    }
    EXPECT_EQ(res.headers.at("content-type"), "application/json");
  }
};

TEST_F(ErrorTest, MalformedJsonIs400) {
  expect_error(client->request("POST", "/api/v1/runs", "{\"task\": ", key),
               400);
  expect_error(client->request("POST", "/api/v1/runs", "{}x", key), 400);
  expect_error(
      client->request("POST", "/api/v1/runs", std::string(100000, '['), key),
      400);
  expect_error(
      client->request("POST", "/api/v1/runs", "{\"task\": \"\xC0\xAF\"}", key),
      400);
  expect_error(client->request("POST", "/api/v1/auth/register", "nope"), 400);
  // The server is still fine.
  EXPECT_EQ(client->get("/health").status, 200);
}

TEST_F(ErrorTest, MissingOrInvalidKeyIs401) {
  expect_error(client->get("/api/v1/runs"), 401);
  expect_error(client->get("/api/v1/runs", "orch_not_a_real_key"), 401);
  expect_error(client->post("/api/v1/runs", {{"task", "x"}}), 401);
  expect_error(client->get("/api/v1/runs/run_x", key.substr(0, key.size() - 1)),
               401);
}

TEST_F(ErrorTest, ValidationIs422WithLocMsgType) {
  auto res = client->post("/api/v1/runs", json::object(), key);
  expect_error(res, 422);
  EXPECT_EQ(res.json()["detail"][0]["loc"], json::array({"body", "task"}));
  EXPECT_EQ(res.json()["detail"][0]["type"], "missing");
  expect_error(client->post("/api/v1/runs", {{"task", 5}}, key), 422);
  expect_error(client->post("/api/v1/runs", {{"task", "   "}}, key), 422);
  expect_error(
      client->post("/api/v1/runs", {{"task", std::string(20001, 'a')}}, key),
      422);
  expect_error(client->post("/api/v1/runs",
                            {{"task", "x"}, {"agents", "research"}}, key),
               422);
  expect_error(
      client->post("/api/v1/runs",
                   {{"task", "x"}, {"agents", json::array({{{"model", "m"}}})}},
                   key),
      422);
  expect_error(client->post("/api/v1/runs",
                            {{"task", "x"}, {"require_approval", "yes"}}, key),
               422);
  expect_error(client->post("/api/v1/runs",
                            {{"task", "x"}, {"ask_me_about", "voice"}}, key),
               422);
  expect_error(client->post("/api/v1/runs",
                            {{"task", "x"}, {"webhook_url", "ftp://a"}}, key),
               422);
  expect_error(
      client->post(
          "/api/v1/runs",
          {{"task", "x"},
           {"agents", json::array({{{"name", "w"}, {"model", "gpt-x"}}})}},
          key),
      422);
  expect_error(client->post("/api/v1/runs", json::array(), key), 422);
  expect_error(client->post("/api/v1/auth/register", {{"name", "x"}}), 422);
  expect_error(client->post("/api/v1/auth/register",
                            {{"name", "x"}, {"email", "not-an-email"}}),
               422);
  // Nothing was created by any of these.
  EXPECT_EQ(client->get("/api/v1/runs", key).json()["total"], 0);
}

TEST_F(ErrorTest, OversizedBodyIs413) {
  std::string big
      = "{\"task\": \"" + std::string(1024 * 1024 + 10, 'a') + "\"}";
  expect_error(client->request("POST", "/api/v1/runs", big, key), 413);
  EXPECT_EQ(http_client{server->port()}.get("/health").status, 200);
}

TEST_F(ErrorTest, SmugglingFramingIs400) {
  for (auto head :
       {"POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
        "Content-Length: 5\r\n\r\nhello",
        "POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, "
        "chunked\r\n\r\n0\r\n\r\n"}) {
    auto out = http_client::raw(server->port(), head);
    EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
    EXPECT_NE(out.find("Connection: close"), std::string::npos) << out;
  }
  auto garbage = http_client::raw(server->port(), "HELLO\r\n\r\n");
  EXPECT_EQ(garbage.rfind("HTTP/1.1 400", 0), 0u) << garbage;
  EXPECT_EQ(client->get("/health").status, 200);
}

TEST_F(ErrorTest, UnknownIdsAre404AndWrongStateIs409) {
  expect_error(client->get("/api/v1/runs/run_doesnotexist", key), 404);
  expect_error(client->get("/api/v1/runs/run_doesnotexist/tasks", key), 404);
  expect_error(client->get("/api/v1/nothing", key), 404);
  auto id = start_run({{"task", "Create a blog post about AI"},
                       {"ask_me_about", json::array({"audience"})}});
  auto doc = wait_status(*client, id, key, {"waiting_human"});
  ASSERT_EQ(doc["status"], "waiting_human");
  // T2 is pending, not waiting for a human.
  expect_error(client->post("/api/v1/runs/" + id + "/tasks/T2/complete",
                            {{"output", "x"}}, key),
               409);
  expect_error(client->post("/api/v1/runs/" + id + "/tasks/T99/complete",
                            {{"output", "x"}}, key),
               404);
  expect_error(client->post("/api/v1/runs/" + id + "/tasks/T1/complete",
                            {{"answer", "x"}}, key),
               422);
  ASSERT_EQ(client
                ->post("/api/v1/runs/" + id + "/tasks/T1/complete",
                       {{"output", "devs"}}, key)
                .status,
            200);
  // Completing twice is a conflict, not a second completion.
  expect_error(client->post("/api/v1/runs/" + id + "/tasks/T1/complete",
                            {{"output", "again"}}, key),
               409);
  doc = wait_status(*client, id, key, {"completed"});
  ASSERT_EQ(doc["status"], "completed");
  EXPECT_EQ(doc["subtasks"]["T1"]["output"], "devs");
  expect_error(client->request("DELETE", "/api/v1/runs/" + id, {}, key), 409);
  expect_error(client->post("/api/v1/runs/" + id + "/tasks/T1/complete",
                            {{"output", "late"}}, key),
               409);
}

TEST_F(ErrorTest, ConcurrentCompletionsCompleteOnce) {
  for (int round = 0; round < 5; ++round) {
    auto id = start_run({{"task", "Create a blog post about AI"},
                         {"ask_me_about", json::array({"audience"})}});
    ASSERT_EQ(wait_status(*client, id, key, {"waiting_human"})["status"],
              "waiting_human");
    std::vector<int> statuses(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
      threads.emplace_back([&, i] {
        http_client c{server->port()};
        statuses[i] = c.post("/api/v1/runs/" + id + "/tasks/T1/complete",
                             {{"output", "answer " + std::to_string(i)}}, key)
                          .status;
      });
    for (auto& t : threads)
      t.join();
    int ok = 0;
    int winner = -1;
    for (int i = 0; i < 4; ++i) {
      if (statuses[i] == 200) {
        ++ok;
        winner = i;
      } else {
        EXPECT_EQ(statuses[i], 409);
      }
    }
    ASSERT_EQ(ok, 1);
    auto doc = wait_status(*client, id, key, {"completed"});
    EXPECT_EQ(doc["subtasks"]["T1"]["output"],
              "answer " + std::to_string(winner));
  }
}

TEST_F(ErrorTest, AnotherAccountsRunsAre404) {
  auto id = start_run({{"task", "Create a blog post about AI"},
                       {"ask_me_about", json::array({"audience"})}});
  wait_status(*client, id, key, {"waiting_human"});
  auto mallory = register_account(*client, "Mallory");
  auto missing = client->get("/api/v1/runs/run_doesnotexist", mallory);
  auto foreign = client->get("/api/v1/runs/" + id, mallory);
  expect_error(foreign, 404);
  // Same shape as a run that does not exist, id aside: no oracle.
  EXPECT_EQ(foreign.json()["code"], missing.json()["code"]);
  expect_error(client->get("/api/v1/runs/" + id + "/tasks", mallory), 404);
  expect_error(client->get("/api/v1/runs/" + id + "/events", mallory), 404);
  expect_error(client->get("/api/v1/runs/" + id + "?at_seq=1", mallory), 404);
  expect_error(client->post("/api/v1/runs/" + id + "/tasks/T1/complete",
                            {{"output", "pwned"}}, mallory),
               404);
  expect_error(client->request("DELETE", "/api/v1/runs/" + id, {}, mallory),
               404);
  // The owner's run is untouched.
  auto doc = get_run(id);
  EXPECT_EQ(doc["status"], "waiting_human");
  EXPECT_TRUE(doc["subtasks"]["T1"]["output"].is_null());
}

} // namespace
} // namespace orchflow::test
