// OpenAI Chat Completions, and every server that speaks it
// (openai_compatible: vLLM, llama.cpp, LM Studio, OpenRouter, Groq, ...).

#include "events/json_util.hpp"
#include "providers/vendor_detail.hpp"

namespace orchflow::detail {

using nlohmann::json;

http_call openai_call(const vendor_target& t, const llm_request& req,
                      const vendor_limits& limits) {
  bool official = t.kind == "openai";
  auto base = t.base_url.empty() ? std::string{"https://api.openai.com/v1"}
                                 : t.base_url;
  json body{
      {"model", req.model},
      {"messages", json::array({{{"role", "system"}, {"content", req.system}},
                                {{"role", "user"}, {"content", req.user}}})}};
  // Reasoning models reject max_tokens and custom temperatures; many
  // compatible servers ignore max_completion_tokens.
  body[official ? "max_completion_tokens" : "max_tokens"]
      = limits.max_output_tokens;
  if (auto schema = schema_for(req.schema_name); !schema.is_null())
    body["response_format"] = json{{"type", "json_schema"},
                                   {"json_schema",
                                    {{"name", req.schema_name},
                                     {"strict", true},
                                     {"schema", std::move(schema)}}}};
  http_call call;
  call.url = join_url(base, "chat/completions");
  if (!t.api_key.empty())
    call.headers.push_back("Authorization: Bearer " + t.api_key);
  call.body = dump_safe(body);
  return call;
}

provider_reply openai_reply(std::string_view kind, const http_outcome& out,
                            std::string_view api_key) {
  std::string who{kind};
  auto body = parse_body(out.body);
  if (!body || !body->is_object()) {
    provider_reply r;
    r.error = who + " returned a body that is not JSON: " + clip(out.body, 120);
    r.retryable = true;
    return r;
  }
  // OpenRouter reports failures after the start with status 200.
  if (auto& err = get_json(*body, "error"); !err.is_null()) {
    auto failed = out;
    auto info = error_fields(*body);
    if (auto& code = get_json(err, "code"); code.is_number_integer())
      failed.status = code.get<long>();
    else
      failed.status = 502;
    return failure(kind, failed, std::move(info), api_key);
  }
  auto& usage = get_json(*body, "usage");
  auto input = get_int(usage, "prompt_tokens");
  auto output = get_int(usage, "completion_tokens");
  auto& choices = get_json(*body, "choices");
  if (!choices.is_array() || choices.empty())
    return answer(kind, "", input, output, "other", api_key);
  auto& choice = choices[0];
  auto& message = get_json(choice, "message");
  auto text = get_string(message, "content");
  auto finish = get_string(choice, "finish_reason");
  if (auto refusal = get_string(message, "refusal"); !refusal.empty())
    return answer(kind, refusal, input, output, "filtered", api_key);
  std::string norm = finish == "stop"             ? "stop"
                     : finish == "length"         ? "length"
                     : finish == "content_filter" ? "filtered"
                                                  : "other";
  return answer(kind, std::move(text), input, output, norm, api_key);
}

} // namespace orchflow::detail
