// Ollama's native chat API.

#include "events/json_util.hpp"
#include "providers/vendor_detail.hpp"

namespace orchflow::detail {

using nlohmann::json;

http_call ollama_call(const vendor_target& t, const llm_request& req,
                      const vendor_limits& limits) {
  auto base
      = t.base_url.empty() ? std::string{"http://localhost:11434"} : t.base_url;
  json body{
      {"model", req.model},
      {"messages", json::array({{{"role", "system"}, {"content", req.system}},
                                {{"role", "user"}, {"content", req.user}}})},
      {"stream", false},
      // Without num_ctx, long prompts are silently cut from the front.
      {"options",
       {{"num_ctx", 16384}, {"num_predict", limits.max_output_tokens}}}};
  if (auto schema = schema_for(req.schema_name); !schema.is_null())
    body["format"] = std::move(schema);
  http_call call;
  call.url = join_url(base, "api/chat");
  if (!t.api_key.empty())
    call.headers.push_back("Authorization: Bearer " + t.api_key);
  call.body = dump_safe(body);
  return call;
}

provider_reply ollama_reply(const http_outcome& out, std::string_view api_key) {
  auto body = parse_body(out.body);
  if (!body || !body->is_object()) {
    provider_reply r;
    r.error = "ollama returned a body that is not JSON: " + clip(out.body, 120);
    r.retryable = true;
    return r;
  }
  if (auto err = get_opt_string(*body, "error")) {
    auto failed = out;
    failed.status = 502;
    error_info info;
    info.message = *err;
    return failure("ollama", failed, std::move(info), api_key);
  }
  auto text = get_string(get_json(*body, "message"), "content");
  auto done = get_string(*body, "done_reason", "stop");
  std::string norm = done == "stop"     ? "stop"
                     : done == "length" ? "length"
                                        : "other";
  return answer("ollama", std::move(text), get_int(*body, "prompt_eval_count"),
                get_int(*body, "eval_count"), norm, api_key);
}

} // namespace orchflow::detail
