// Real vendors' protocols end to end, against a fake vendor on 127.0.0.1.

#include <filesystem>
#include <fstream>
#include <random>

#include "support/fake_vendor.hpp"
#include "support/fixture.hpp"

namespace orchflow::test {
namespace {

using nlohmann::json;

class ProviderTest : public ServerTest {
protected:
  std::map<std::string, std::string> server_env() override {
    return {{"ORCHFLOW_LLM_TIMEOUT_MS", "1500"},
            {"ORCHFLOW_LLM_BACKOFF_MS", "50"}};
  }

  /// Registers a provider of `kind` pointing at the fake; returns its id.
  std::string add_provider(const std::string& kind,
                           const std::string& api_key = "sk-test-key-1",
                           const std::string& model = "") {
    json body{{"provider", kind},
              {"api_key", api_key},
              {"label", "My " + kind},
              {"base_url", vendor.base_url(kind)}};
    if (!model.empty())
      body["model"] = model;
    if (kind == "openai_compatible" && model.empty())
      body["model"] = "served-model";
    auto res = client->post("/api/v1/providers", body, key);
    EXPECT_EQ(res.status, 201) << res.body;
    return res.json().value("provider_id", std::string{});
  }

  std::string run_on(const std::string& provider_id, json extra = {}) {
    json body{{"task", "Research competitors, compare pricing, then draft "
                       "our launch strategy."},
              {"provider_id", provider_id}};
    for (auto& [k, v] : extra.items())
      body[k] = v;
    return start_run(body);
  }

  fake_vendor vendor;
};

TEST_F(ProviderTest, RegisterListAndDeactivate) {
  auto res = client->post("/api/v1/providers",
                          {{"provider", "gemini"},
                           {"api_key", "AIzaSy-secret-value-1234"},
                           {"label", "My Gemini key"}},
                          key);
  ASSERT_EQ(res.status, 201) << res.body;
  auto j = res.json();
  EXPECT_EQ(j["provider_id"].get<std::string>().rfind("prv_", 0), 0u);
  EXPECT_EQ(j["provider"], "gemini");
  EXPECT_EQ(j["label"], "My Gemini key");
  EXPECT_EQ(j["model"], "gemini-2.0-flash-lite"); // the configured default
  EXPECT_TRUE(j["created_at"].is_string());
  EXPECT_EQ(res.body.find("AIzaSy"), std::string::npos);
  auto id = j["provider_id"].get<std::string>();
  auto list = client->get("/api/v1/providers", key);
  ASSERT_EQ(list.status, 200);
  auto p = list.json()["providers"][0];
  EXPECT_EQ(p["key_hint"], "…1234");
  EXPECT_EQ(p["active"], true);
  EXPECT_EQ(list.body.find("secret"), std::string::npos);
  // Another account sees nothing and cannot touch it.
  auto other = register_account(*client, "Eve");
  EXPECT_EQ(client->get("/api/v1/providers", other).json()["providers"],
            json::array());
  EXPECT_EQ(
      client->request("DELETE", "/api/v1/providers/" + id, {}, other).status,
      404);
  auto foreign_run = client->post("/api/v1/runs",
                                  {{"task", "x"}, {"provider_id", id}}, other);
  EXPECT_EQ(foreign_run.status, 404);
  auto del = client->request("DELETE", "/api/v1/providers/" + id, {}, key);
  ASSERT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(del.json()["active"], false);
  EXPECT_EQ(
      client->get("/api/v1/providers", key).json()["providers"][0]["active"],
      false);
  auto late
      = client->post("/api/v1/runs", {{"task", "x"}, {"provider_id", id}}, key);
  EXPECT_EQ(late.status, 422) << late.body;
  EXPECT_EQ(client
                ->post("/api/v1/runs",
                       {{"task", "x"}, {"provider_id", "prv_nope"}}, key)
                .status,
            404);
}

TEST_F(ProviderTest, RegistrationValidation) {
  auto expect_422 = [&](json body, const std::string& field) {
    auto res = client->post("/api/v1/providers", body, key);
    EXPECT_EQ(res.status, 422) << body.dump() << " -> " << res.body;
    bool named = false;
    auto j = res.json();
    for (auto& d : j["detail"])
      named = named || d["loc"].back() == field;
    EXPECT_TRUE(named) << res.body;
  };
  expect_422({{"provider", "mistral"}, {"api_key", "k"}, {"label", "x"}},
             "provider");
  expect_422({{"provider", "openai"}, {"label", "x"}}, "api_key");
  expect_422({{"provider", "openai"}, {"api_key", "k"}}, "label");
  expect_422(
      {{"provider", "openai_compatible"}, {"label", "x"}, {"model", "m"}},
      "base_url");
  expect_422({{"provider", "openai_compatible"},
              {"label", "x"},
              {"model", "m"},
              {"base_url", "ftp://x/v1"}},
             "base_url");
  expect_422({{"provider", "openai_compatible"},
              {"label", "x"},
              {"model", "m"},
              {"base_url", "http://user:pw@host/v1"}},
             "base_url");
  expect_422({{"provider", "openai_compatible"},
              {"label", "x"},
              {"base_url", "http://host/v1"}},
             "model");
  // Ollama needs no key.
  EXPECT_EQ(client
                ->post("/api/v1/providers",
                       {{"provider", "ollama"}, {"label", "local"}}, key)
                .status,
            201);
}

TEST_F(ProviderTest, EveryKindRunsAWholeWorkflow) {
  for (auto kind :
       {"openai", "openai_compatible", "anthropic", "gemini", "ollama"}) {
    auto before = vendor.count();
    auto id = add_provider(kind, std::string{"sk-"} + kind + "-0123456789");
    auto run = run_on(id, {{"ask_me_about", json::array({"company"})}});
    auto doc = drive_to_end(run, "We sell a workflow API.");
    ASSERT_EQ(doc["status"], "completed") << kind << ": " << doc.dump(2);
    EXPECT_EQ(doc["provider"], kind);
    EXPECT_EQ(doc["provider_id"], id);
    EXPECT_FALSE(doc["final_output"].get<std::string>().empty());
    EXPECT_GT(doc["usage"]["input_tokens"], 0);
    auto calls = vendor.count() - before;
    EXPECT_EQ(static_cast<int64_t>(calls), doc["usage"]["llm_calls"]) << kind;
    std::cout << "[run] " << kind << ": " << doc["status"].get<std::string>()
              << ", " << doc["subtasks"].size() << " tasks, "
              << doc["usage"].dump() << ", final output "
              << doc["final_output"].get<std::string>().size() << " bytes\n";
    expect_replay_equal(*client, run, key);
  }
  // What reached the wire.
  for (auto& r : vendor.requests()) {
    auto& h = r.headers;
    if (r.path == "/v1/messages") {
      EXPECT_EQ(h["x-api-key"], "sk-anthropic-0123456789");
      EXPECT_EQ(h["anthropic-version"], "2023-06-01");
      EXPECT_EQ(r.body["model"], "claude-3-5-haiku-20241022");
    } else if (r.path.find(":generateContent") != std::string::npos) {
      EXPECT_EQ(h["x-goog-api-key"], "sk-gemini-0123456789");
      EXPECT_EQ(r.path, "/v1beta/models/gemini-2.0-flash-lite:"
                        "generateContent");
    } else if (r.path == "/api/chat") {
      EXPECT_EQ(r.body["stream"], false);
      EXPECT_EQ(r.body["model"], "llama3");
    } else {
      EXPECT_EQ(r.path, "/v1/chat/completions");
      auto auth = h["authorization"];
      EXPECT_TRUE(auth == "Bearer sk-openai-0123456789"
                  || auth == "Bearer sk-openai_compatible-0123456789")
          << auth;
      if (r.step == "split" && auth == "Bearer sk-openai-0123456789") {
        EXPECT_EQ(r.body["response_format"]["json_schema"]["name"],
                  "subtask_plan");
      }
      if (r.step == "evaluate" && auth == "Bearer sk-openai-0123456789") {
        EXPECT_EQ(r.body["response_format"]["json_schema"]["name"],
                  "output_evaluation");
      }
    }
  }
}

TEST_F(ProviderTest, PerAgentModelsReachTheWire) {
  auto id = add_provider("openai");
  auto run = run_on(
      id, {{"agents", json::array({{{"name", "research"}, {"model", "gpt-4o"}},
                                   {{"name", "writer"}}})}});
  ASSERT_EQ(wait_status(*client, run, key, {"completed", "failed"})["status"],
            "completed");
  std::map<std::string, std::set<std::string>> models; // step -> models
  for (auto& r : vendor.requests())
    models[r.step].insert(r.body["model"].get<std::string>());
  EXPECT_EQ(models["split"], std::set<std::string>{"gpt-4o-mini"});
  EXPECT_EQ(models["finalize"], std::set<std::string>{"gpt-4o-mini"});
  EXPECT_EQ(models["execute"],
            (std::set<std::string>{"gpt-4o", "gpt-4o-mini"}));
  auto doc = get_run(run);
  for (auto& [tid, t] : doc["subtasks"].items())
    EXPECT_TRUE(t["agent"] == "research" || t["agent"] == "writer");
}

TEST_F(ProviderTest, RateLimitIsRetriedAfterRetryAfter) {
  auto id = add_provider("openai");
  vendor.script({fake_vendor::with(
      429,
      R"({"error":{"message":"Rate limit reached","type":"tokens","code":"rate_limit_exceeded"}})",
      {{"retry-after", "1"}})});
  auto run = run_on(id);
  auto doc = wait_status(*client, run, key, {"completed", "failed"});
  ASSERT_EQ(doc["status"], "completed") << doc.dump(2);
  auto reqs = vendor.requests();
  ASSERT_GE(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].step, "split");
  EXPECT_EQ(reqs[1].step, "split");
  auto evs
      = client->get("/api/v1/runs/" + run + "/events?limit=1000", key).json();
  bool recorded = false;
  for (auto& e : evs["events"])
    if (e["type"] == "llm.call_failed") {
      recorded = true;
      EXPECT_NE(e["data"]["error"].get<std::string>().find("rate limit"),
                std::string::npos);
      EXPECT_EQ(e["data"]["retryable"], true);
    }
  EXPECT_TRUE(recorded);
  std::cout << "[429 retry-after 1] run " << doc["status"].get<std::string>()
            << "; the split was sent " << vendor.count("split") << " times\n";
}

TEST_F(ProviderTest, OverloadAndServerErrorsAreRetried) {
  auto id = add_provider("anthropic");
  vendor.script(
      {fake_vendor::with(
           529,
           R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"),
       fake_vendor::with(500, "<html>oops</html>")});
  auto run = run_on(id);
  auto doc = wait_status(*client, run, key, {"completed", "failed"});
  ASSERT_EQ(doc["status"], "completed") << doc.dump(2);
  EXPECT_EQ(vendor.count("split"), 3u);
  std::cout << "[529, 500] retried; run " << doc["status"].get<std::string>()
            << " after " << vendor.count("split") << " split attempts\n";
}

TEST_F(ProviderTest, RejectedKeyFailsTheRunClearlyWithoutRetrying) {
  auto secret = std::string{"sk-canary-"}
                + std::to_string(std::random_device{}()) + "-abcdefghijklmnop";
  auto id = add_provider("anthropic", secret);
  // The vendor echoes the key it got: it must go nowhere.
  vendor.always(fake_vendor::with(
      401,
      R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key )"
          + secret + R"("}})"));
  auto run = run_on(id);
  auto doc = wait_status(*client, run, key, {"completed", "failed"});
  ASSERT_EQ(doc["status"], "failed");
  auto error = doc["error"].get<std::string>();
  std::cout << "[401] run " << doc["status"].get<std::string>() << ": " << error
            << "\n";
  EXPECT_NE(error.find("anthropic rejected the API key (401)"),
            std::string::npos)
      << error;
  EXPECT_EQ(vendor.count(), 1u); // no retry on 401
  EXPECT_EQ(doc.dump().find(secret.substr(10)), std::string::npos);
}

TEST_F(ProviderTest, SafetyBlockAndTruncationFailWithReasons) {
  auto gem = add_provider("gemini");
  vendor.always(
      fake_vendor::with(200, R"({"promptFeedback":{"blockReason":"SAFETY"}})"),
      "split");
  auto run = run_on(gem);
  auto doc = wait_status(*client, run, key, {"completed", "failed"});
  ASSERT_EQ(doc["status"], "failed");
  std::cout << "[safety] run failed: " << doc["error"].get<std::string>()
            << "\n";
  EXPECT_NE(doc["error"].get<std::string>().find("SAFETY"), std::string::npos)
      << doc["error"];
  fake_vendor::reply cut;
  cut.text = R"({"subtasks":[{"id":"S1","na)";
  cut.finish = "length";
  vendor.always(cut, "split");
  auto oai = add_provider("openai");
  auto run2 = run_on(oai);
  auto doc2 = wait_status(*client, run2, key, {"completed", "failed"});
  ASSERT_EQ(doc2["status"], "failed");
  std::cout << "[truncated] run failed: " << doc2["error"].get<std::string>()
            << "\n";
  EXPECT_NE(doc2["error"].get<std::string>().find("output token limit"),
            std::string::npos)
      << doc2["error"];
}

TEST_F(ProviderTest, SlowAndDroppedAnswersAreRetriedThenFail) {
  auto id = add_provider("ollama");
  fake_vendor::reply slow;
  slow.delay_ms = 2500; // past ORCHFLOW_LLM_TIMEOUT_MS=1500
  fake_vendor::reply dropped;
  dropped.drop = true;
  vendor.script({slow, dropped});
  auto run = run_on(id);
  auto doc = wait_status(*client, run, key, {"completed", "failed"}, 30000);
  ASSERT_EQ(doc["status"], "completed") << doc.dump(2);
  EXPECT_EQ(vendor.count("split"), 3u);
  // Always dropped: the run fails after the configured attempts.
  fake_vendor::reply gone;
  gone.drop = true;
  vendor.always(gone);
  auto run2 = run_on(id);
  auto doc2 = wait_status(*client, run2, key, {"completed", "failed"}, 30000);
  ASSERT_EQ(doc2["status"], "failed");
  std::cout << "[dropped] run failed: " << doc2["error"].get<std::string>()
            << "\n";
  EXPECT_NE(doc2["error"].get<std::string>().find("gave up after 3 attempts"),
            std::string::npos)
      << doc2["error"];
}

TEST_F(ProviderTest, RecoveryNeverRepeatsRecordedCalls) {
  auto id = add_provider("openai");
  auto run = run_on(id, {{"ask_me_about", json::array({"company"})}});
  ASSERT_EQ(wait_status(*client, run, key, {"waiting_human"})["status"],
            "waiting_human");
  EXPECT_EQ(vendor.count("split"), 1u);
  EXPECT_EQ(vendor.count("dependencies"), 1u);
  server->kill9();
  server->restart();
  client = std::make_unique<http_client>(server->port());
  ASSERT_EQ(client
                ->post("/api/v1/runs/" + run + "/tasks/T1/complete",
                       {{"output", "We sell APIs."}}, key)
                .status,
            200);
  auto doc = wait_status(*client, run, key, {"completed", "failed"});
  ASSERT_EQ(doc["status"], "completed");
  EXPECT_EQ(vendor.count("split"), 1u);
  EXPECT_EQ(vendor.count("dependencies"), 1u);
  EXPECT_EQ(static_cast<int64_t>(vendor.count()), doc["usage"]["llm_calls"]);
  // Killed mid-run: only calls that were in flight may be repeated.
  fake_vendor::reply slowish;
  slowish.delay_ms = 150;
  vendor.always(slowish);
  auto before = vendor.count();
  auto run2 = run_on(id);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  server->kill9();
  server->restart();
  client = std::make_unique<http_client>(server->port());
  auto doc2 = wait_status(*client, run2, key, {"completed", "failed"}, 30000);
  ASSERT_EQ(doc2["status"], "completed");
  auto sent = static_cast<int64_t>(vendor.count() - before);
  auto recorded = doc2["usage"]["llm_calls"].get<int64_t>();
  EXPECT_GE(sent, recorded);
  EXPECT_LE(sent - recorded, 3) << "recorded calls were repeated";
}

TEST_F(ProviderTest, PlantedKeyAppearsNowhere) {
  auto secret = std::string{"sk-canary-"}
                + std::to_string(std::random_device{}())
                + "-qrstuvwxyz0123456789";
  auto id = add_provider("openai", secret);
  auto run = run_on(id, {{"webhook_url", "http://127.0.0.1:9/none"}});
  ASSERT_EQ(wait_status(*client, run, key, {"completed"})["status"],
            "completed");
  // A vendor error that echoes the Authorization header, too.
  vendor.always(fake_vendor::with(
      400, R"({"error":{"message":"bad request from Authorization: Bearer )"
               + secret + R"("}})"));
  auto run2 = run_on(id);
  wait_status(*client, run2, key, {"failed"});
  std::vector<std::string> responses;
  for (auto path : {"/api/v1/providers", "/api/v1/runs"})
    responses.push_back(client->get(path, key).body);
  for (auto& r : {run, run2}) {
    responses.push_back(client->get("/api/v1/runs/" + r, key).body);
    responses.push_back(
        client->get("/api/v1/runs/" + r + "/events?limit=1000", key).body);
  }
  server->terminate();
  std::vector<std::string> forms{secret, secret.substr(0, 16),
                                 secret.substr(secret.size() - 16)};
  auto scan = [&](const std::string& where, const std::string& bytes) {
    for (auto& f : forms)
      EXPECT_EQ(bytes.find(f), std::string::npos)
          << "the key leaked into " << where;
  };
  for (auto& r : responses)
    scan("a response", r);
  scan("the server log", server->log());
  for (auto& f : std::filesystem::recursive_directory_iterator(dir.path())) {
    if (!f.is_regular_file())
      continue;
    std::ifstream in{f.path(), std::ios::binary};
    scan(f.path().string(),
         std::string{std::istreambuf_iterator<char>(in), {}});
  }
  // The key did reach the vendor, in the header and only there.
  size_t in_header = 0;
  for (auto& r : vendor.requests()) {
    in_header += r.headers["authorization"] == "Bearer " + secret;
    EXPECT_EQ(r.raw_body.find(secret), std::string::npos);
  }
  EXPECT_GT(in_header, 0u);
}

TEST_F(ProviderTest, WrongMasterKeyIsAClearStartupError) {
  add_provider("openai");
  server->terminate();
  // Losing the key file makes every stored provider key unreadable.
  std::filesystem::remove(dir.path() / "data" / "master.key");
  EXPECT_THROW(server->restart(), std::runtime_error);
  EXPECT_NE(server->log().find("were encrypted with master key"),
            std::string::npos)
      << server->log();
}

} // namespace
} // namespace orchflow::test
