// The vendor clients, offline, on saved bodies (providers.md section 8).

#include "providers/vendors.hpp"

#include <gtest/gtest.h>

namespace orchflow {
namespace {

using nlohmann::json;

http_outcome ok(std::string body,
                std::map<std::string, std::string> headers = {}) {
  http_outcome o;
  o.transport_ok = true;
  o.status = 200;
  o.body = std::move(body);
  o.headers = std::move(headers);
  return o;
}

http_outcome status(long s, std::string body,
                    std::map<std::string, std::string> headers = {}) {
  auto o = ok(std::move(body), std::move(headers));
  o.status = s;
  return o;
}

llm_request request(std::string schema = {}) {
  llm_request r;
  r.step = "split";
  r.model = "m-1";
  r.system = "You plan.";
  r.user = "Quotes \" backslash \\ newline \n emoji 🎉";
  r.schema_name = std::move(schema);
  return r;
}

TEST(VendorsTest, OpenAiRequestShape) {
  auto call
      = build_vendor_call({"openai", "sk-test", ""}, request("subtask_plan"));
  EXPECT_EQ(call.url, "https://api.openai.com/v1/chat/completions");
  EXPECT_NE(std::find(call.headers.begin(), call.headers.end(),
                      "Authorization: Bearer sk-test"),
            call.headers.end());
  EXPECT_NE(std::find(call.headers.begin(), call.headers.end(), "Expect:"),
            call.headers.end());
  auto b = json::parse(call.body);
  EXPECT_EQ(b["model"], "m-1");
  EXPECT_EQ(b["messages"][0]["role"], "system");
  EXPECT_EQ(b["messages"][1]["content"], request().user);
  EXPECT_TRUE(b.contains("max_completion_tokens"));
  EXPECT_FALSE(b.contains("temperature"));
  EXPECT_EQ(b["response_format"]["type"], "json_schema");
  EXPECT_EQ(b["response_format"]["json_schema"]["name"], "subtask_plan");
  EXPECT_TRUE(b["response_format"]["json_schema"]["strict"]);
  auto compat = json::parse(
      build_vendor_call({"openai_compatible", "", "http://h:8000/v1/"},
                        request())
          .body);
  EXPECT_TRUE(compat.contains("max_tokens"));
  EXPECT_FALSE(compat.contains("response_format"));
}

TEST(VendorsTest, OpenAiAnswersAndQuirks) {
  auto happy = parse_vendor_reply(
      "openai",
      ok(R"({"choices":[{"index":0,"message":{"role":"assistant","content":"billing","refusal":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":29,"completion_tokens":2}})"),
      "k");
  ASSERT_TRUE(happy.ok) << happy.error;
  EXPECT_EQ(happy.text, "billing");
  EXPECT_EQ(happy.input_tokens, 29);
  EXPECT_EQ(happy.output_tokens, 2);
  auto refusal = parse_vendor_reply(
      "openai",
      ok(R"({"choices":[{"message":{"content":null,"refusal":"I can't help"},"finish_reason":"stop"}]})"),
      "k");
  EXPECT_FALSE(refusal.ok);
  EXPECT_NE(refusal.error.find("refused"), std::string::npos);
  auto truncated = parse_vendor_reply(
      "openai",
      ok(R"({"choices":[{"message":{"content":"{\"label\":\"bil"},"finish_reason":"length"}]})"),
      "k");
  EXPECT_FALSE(truncated.ok);
  EXPECT_NE(truncated.error.find("token limit"), std::string::npos);
  auto empty = parse_vendor_reply(
      "openai",
      ok(R"({"choices":[{"message":{"content":""},"finish_reason":"length"}],"usage":{"completion_tokens":64,"completion_tokens_details":{"reasoning_tokens":64}}})"),
      "k");
  EXPECT_FALSE(empty.ok);
  EXPECT_EQ(empty.output_tokens, 64); // usage still recorded
  auto odd = parse_vendor_reply(
      "openai_compatible",
      ok("\n\n\n"
         R"({"choices":[{"message":{"content":"x"},"finish_reason":"weird"}],"timings":{}})"),
      "k");
  EXPECT_TRUE(odd.ok) << odd.error;
  EXPECT_EQ(odd.input_tokens, 0);
  auto no_choices = parse_vendor_reply("openai", ok(R"({"choices":[]})"), "k");
  EXPECT_FALSE(no_choices.ok);
  auto surrogate = parse_vendor_reply(
      "openai",
      ok(R"({"choices":[{"message":{"content":"smile \uD83D\uDE00"},"finish_reason":"stop"}]})"),
      "k");
  EXPECT_EQ(surrogate.text, "smile 😀");
}

TEST(VendorsTest, ErrorClassification) {
  auto auth = parse_vendor_reply(
      "openai",
      status(
          401,
          R"({"error":{"message":"Incorrect API key provided: sk-secret-key-123456789.","type":"invalid_request_error","code":"invalid_api_key"}})"),
      "sk-secret-key-123456789");
  EXPECT_EQ(auth.error, "openai rejected the API key (401)");
  EXPECT_FALSE(auth.retryable);
  auto rate = parse_vendor_reply(
      "openai",
      status(
          429,
          R"({"error":{"message":"Rate limit reached","type":"tokens","code":"rate_limit_exceeded"}})",
          {{"retry-after", "1"}}),
      "k");
  EXPECT_TRUE(rate.retryable);
  EXPECT_EQ(rate.retry_after_ms, 1000);
  auto quota = parse_vendor_reply(
      "openai",
      status(
          429,
          R"({"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}})"),
      "k");
  EXPECT_FALSE(quota.retryable);
  EXPECT_NE(quota.error.find("quota"), std::string::npos);
  auto too_large = parse_vendor_reply(
      "openai",
      status(
          429,
          R"({"error":{"message":"Request too large for gpt-4o on tokens per min","code":"rate_limit_exceeded"}})"),
      "k");
  EXPECT_FALSE(too_large.retryable);
  auto bad = parse_vendor_reply(
      "openai",
      status(
          400,
          R"({"error":{"message":"Unsupported parameter: 'max_tokens'","param":"max_tokens","code":"unsupported_parameter"}})"),
      "k");
  EXPECT_FALSE(bad.retryable);
  EXPECT_NE(bad.error.find("max_tokens"), std::string::npos);
  EXPECT_TRUE(parse_vendor_reply("openai", status(500, "{}"), "k").retryable);
  EXPECT_FALSE(
      parse_vendor_reply("openai",
                         status(500, "{}", {{"x-should-retry", "false"}}), "k")
          .retryable);
  auto html = parse_vendor_reply(
      "openai_compatible", status(502, "<html><body>Bad gateway</body></html>"),
      "k");
  EXPECT_TRUE(html.retryable);
  EXPECT_NE(html.error.find("Bad gateway"), std::string::npos);
  auto vllm = parse_vendor_reply(
      "openai_compatible", status(401, R"({"error":"Unauthorized"})"), "k");
  EXPECT_NE(vllm.error.find("rejected the API key"), std::string::npos);
  auto old_vllm = parse_vendor_reply(
      "openai_compatible",
      status(
          400,
          R"({"object":"error","message":"bad model","type":"BadRequestError","code":400})"),
      "k");
  EXPECT_NE(old_vllm.error.find("bad model"), std::string::npos);
  auto loading = parse_vendor_reply(
      "openai_compatible",
      status(
          503,
          R"({"error":{"code":503,"message":"Loading model","type":"unavailable_error"}})"),
      "k");
  EXPECT_TRUE(loading.retryable);
  http_outcome refused;
  refused.error = "Couldn't connect to server";
  EXPECT_TRUE(parse_vendor_reply("ollama", refused, "k").retryable);
  http_outcome slow;
  slow.timed_out = true;
  slow.error = "Operation timed out";
  auto t = parse_vendor_reply("openai", slow, "k");
  EXPECT_TRUE(t.retryable);
  EXPECT_NE(t.error.find("did not answer in time"), std::string::npos);
}

TEST(VendorsTest, RetryHints) {
  EXPECT_EQ(retry_after_ms(ok("", {{"retry-after-ms", "250"}})), 250);
  EXPECT_EQ(retry_after_ms(ok("", {{"retry-after", "1.5"}})), 1500);
  EXPECT_EQ(retry_after_ms(ok("", {{"retry-after", "Wed, 21 Oct 2015 "
                                                   "07:28:00 GMT"}})),
            0); // in the past
  EXPECT_EQ(retry_after_ms(ok("", {})), 0);
}

TEST(VendorsTest, AnthropicShapes) {
  auto call
      = build_vendor_call({"anthropic", "sk-ant", ""}, request("subtask_plan"));
  EXPECT_EQ(call.url, "https://api.anthropic.com/v1/messages");
  EXPECT_NE(
      std::find(call.headers.begin(), call.headers.end(), "x-api-key: sk-ant"),
      call.headers.end());
  EXPECT_NE(std::find(call.headers.begin(), call.headers.end(),
                      "anthropic-version: 2023-06-01"),
            call.headers.end());
  auto b = json::parse(call.body);
  EXPECT_EQ(b["system"], "You plan.");
  EXPECT_TRUE(b.contains("max_tokens"));
  ASSERT_EQ(b["messages"].size(), 1u);
  EXPECT_EQ(b["messages"][0]["role"], "user");
  EXPECT_FALSE(b.contains("output_config")); // m-1 predates it
  auto r = request("subtask_plan");
  r.model = "claude-haiku-4-5";
  EXPECT_TRUE(json::parse(build_vendor_call({"anthropic", "k", ""}, r).body)
                  .contains("output_config"));
  auto happy = parse_vendor_reply(
      "anthropic",
      ok(R"({"type":"message","content":[{"type":"thinking","thinking":"hm"},{"type":"text","text":"bil"},{"type":"text","text":"ling"}],"stop_reason":"end_turn","usage":{"input_tokens":10,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,"output_tokens":4}})"),
      "k");
  ASSERT_TRUE(happy.ok);
  EXPECT_EQ(happy.text, "billing");
  EXPECT_EQ(happy.input_tokens, 1110);
  auto refusal = parse_vendor_reply(
      "anthropic", ok(R"({"content":[],"stop_reason":"refusal"})"), "k");
  EXPECT_FALSE(refusal.ok);
  EXPECT_FALSE(
      parse_vendor_reply(
          "anthropic",
          ok(R"({"content":[{"type":"text","text":"x"}],"stop_reason":"max_tokens"})"),
          "k")
          .ok);
  auto overloaded = parse_vendor_reply(
      "anthropic",
      status(
          529,
          R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"),
      "k");
  EXPECT_TRUE(overloaded.retryable);
  EXPECT_NE(overloaded.error.find("overloaded (529)"), std::string::npos);
  auto spend = parse_vendor_reply(
      "anthropic",
      status(
          429,
          R"({"type":"error","error":{"type":"rate_limit_error","message":"spend","details":{"error_code":"enforced_spend_limit_reached"}}})"),
      "k");
  EXPECT_FALSE(spend.retryable);
  EXPECT_FALSE(
      parse_vendor_reply(
          "anthropic",
          status(
              404,
              R"({"type":"error","error":{"type":"not_found_error","message":"model: x"}})"),
          "k")
          .retryable);
}

TEST(VendorsTest, GeminiShapes) {
  auto call = build_vendor_call({"gemini", "AIza-key", ""},
                                request("output_evaluation"));
  EXPECT_EQ(call.url, "https://generativelanguage.googleapis.com/v1beta/"
                      "models/m-1:generateContent");
  EXPECT_NE(std::find(call.headers.begin(), call.headers.end(),
                      "x-goog-api-key: AIza-key"),
            call.headers.end());
  EXPECT_EQ(call.url.find("key="), std::string::npos);
  auto b = json::parse(call.body);
  EXPECT_EQ(b["systemInstruction"]["parts"][0]["text"], "You plan.");
  EXPECT_EQ(b["generationConfig"]["responseMimeType"], "application/json");
  EXPECT_EQ(b["generationConfig"]["responseSchema"]["type"], "OBJECT");
  EXPECT_FALSE(
      b["generationConfig"]["responseSchema"].contains("additionalProperties"));
  auto happy = parse_vendor_reply(
      "gemini",
      ok(R"({"candidates":[{"content":{"role":"model","parts":[{"text":"plan","thought":true},{"text":"bil"},{"text":"ling"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":14,"candidatesTokenCount":7,"thoughtsTokenCount":3}})"),
      "k");
  ASSERT_TRUE(happy.ok);
  EXPECT_EQ(happy.text, "billing");
  EXPECT_EQ(happy.output_tokens, 10);
  auto blocked = parse_vendor_reply(
      "gemini",
      ok(R"({"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":9}})"),
      "k");
  EXPECT_FALSE(blocked.ok);
  EXPECT_NE(blocked.error.find("SAFETY"), std::string::npos);
  auto cand = parse_vendor_reply(
      "gemini", ok(R"({"candidates":[{"finishReason":"SAFETY","index":0}]})"),
      "k");
  EXPECT_FALSE(cand.ok);
  auto thinking = parse_vendor_reply(
      "gemini",
      ok(R"({"candidates":[{"content":{"role":"model"},"finishReason":"MAX_TOKENS"}],"usageMetadata":{"promptTokenCount":40,"thoughtsTokenCount":50}})"),
      "k");
  EXPECT_FALSE(thinking.ok);
  EXPECT_EQ(thinking.output_tokens, 50);
  auto exhausted = parse_vendor_reply(
      "gemini",
      status(
          429,
          R"({"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2s"}]}})"),
      "k");
  EXPECT_TRUE(exhausted.retryable);
  EXPECT_EQ(exhausted.retry_after_ms, 2000);
  auto daily = parse_vendor_reply(
      "gemini",
      status(
          429,
          R"({"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"22s"}]}})"),
      "k");
  EXPECT_FALSE(daily.retryable);
  auto key = parse_vendor_reply(
      "gemini",
      status(
          400,
          R"({"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}})"),
      "k");
  EXPECT_EQ(key.error, "gemini rejected the API key (400)");
  EXPECT_TRUE(
      parse_vendor_reply(
          "gemini",
          status(
              503,
              R"({"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}})"),
          "k")
          .retryable);
}

TEST(VendorsTest, OllamaShapes) {
  auto call = build_vendor_call({"ollama", "", "http://127.0.0.1:11434"},
                                request("task_dependencies"));
  EXPECT_EQ(call.url, "http://127.0.0.1:11434/api/chat");
  auto b = json::parse(call.body);
  EXPECT_EQ(b["stream"], false);
  EXPECT_TRUE(b["options"].contains("num_ctx"));
  EXPECT_TRUE(b["options"].contains("num_predict"));
  EXPECT_EQ(b["format"]["type"], "object");
  auto happy = parse_vendor_reply(
      "ollama",
      ok(R"({"message":{"role":"assistant","content":"hi"},"done":true,"done_reason":"stop","prompt_eval_count":31,"eval_count":9})"),
      "");
  ASSERT_TRUE(happy.ok);
  EXPECT_EQ(happy.input_tokens, 31);
  auto missing = parse_vendor_reply(
      "ollama",
      status(404, R"({"error":"model \"x\" not found, try pulling it first"})"),
      "");
  EXPECT_FALSE(missing.retryable);
  EXPECT_NE(missing.error.find("try pulling it first"), std::string::npos);
  EXPECT_TRUE(
      parse_vendor_reply("ollama", status(503, R"({"error":"queue full"})"), "")
          .retryable);
  EXPECT_FALSE(parse_vendor_reply(
                   "ollama",
                   ok(R"({"message":{"content":"x"},"done_reason":"length"})"),
                   "")
                   .ok);
}

TEST(VendorsTest, KeysAreRedactedFromVendorText) {
  std::string key = "sk-canary-0123456789abcdefghijklmnop";
  auto r = parse_vendor_reply(
      "openai_compatible",
      status(400, R"({"error":{"message":"bad header Authorization: Bearer )"
                      + key + R"("}})"),
      key);
  EXPECT_EQ(r.error.find(key), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find(key.substr(0, 12)), std::string::npos);
  EXPECT_NE(r.error.find("[redacted]"), std::string::npos);
  EXPECT_EQ(redact("head " + key.substr(key.size() - 12) + " tail", key),
            "head [redacted] tail");
}

} // namespace
} // namespace orchflow
