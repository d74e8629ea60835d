// Anthropic Messages API.

#include "events/json_util.hpp"
#include "providers/vendor_detail.hpp"

namespace orchflow::detail {

using nlohmann::json;

namespace {

/// Native structured output exists for Claude 4.5 and later.
bool has_structured_output(const std::string& model) {
  for (auto v : {"-4-5", "-4-6", "-4-7", "-4-8", "-4-9", "-5-", "-6-"})
    if (model.find(v) != std::string::npos)
      return true;
  return false;
}

} // namespace

http_call anthropic_call(const vendor_target& t, const llm_request& req,
                         const vendor_limits& limits) {
  auto base = t.base_url.empty() ? std::string{"https://api.anthropic.com/v1"}
                                 : t.base_url;
  json body{
      {"model", req.model},
      {"max_tokens", limits.max_output_tokens},
      {"system", req.system},
      {"messages", json::array({{{"role", "user"}, {"content", req.user}}})}};
  if (auto schema = schema_for(req.schema_name);
      !schema.is_null() && has_structured_output(req.model))
    body["output_config"]
        = json{{"format", {{"type", "json_schema"}, {"schema", schema}}}};
  http_call call;
  call.url = join_url(base, "messages");
  call.headers.push_back("x-api-key: " + t.api_key);
  call.headers.push_back("anthropic-version: 2023-06-01");
  call.body = dump_safe(body);
  return call;
}

provider_reply anthropic_reply(const http_outcome& out,
                               std::string_view api_key) {
  auto body = parse_body(out.body);
  if (!body || !body->is_object()) {
    provider_reply r;
    r.error
        = "anthropic returned a body that is not JSON: " + clip(out.body, 120);
    r.retryable = true;
    return r;
  }
  if (get_string(*body, "type") == "error") {
    auto failed = out;
    failed.status = 502;
    return failure("anthropic", failed, error_fields(*body), api_key);
  }
  auto& usage = get_json(*body, "usage");
  auto input = get_int(usage, "input_tokens")
               + get_int(usage, "cache_creation_input_tokens")
               + get_int(usage, "cache_read_input_tokens");
  auto output = get_int(usage, "output_tokens");
  std::string text;
  if (auto& content = get_json(*body, "content"); content.is_array())
    for (auto& block : content)
      if (get_string(block, "type") == "text")
        text += get_string(block, "text");
  auto stop = get_string(*body, "stop_reason");
  std::string norm
      = (stop == "end_turn" || stop == "stop_sequence") ? "stop"
        : (stop == "max_tokens" || stop == "model_context_window_exceeded")
            ? "length"
        : stop == "refusal" ? "filtered"
                            : "other";
  return answer("anthropic", std::move(text), input, output, norm, api_key);
}

} // namespace orchflow::detail
