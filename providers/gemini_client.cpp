// Google Gemini API (generativelanguage, AI Studio keys).

#include "events/json_util.hpp"
#include "providers/vendor_detail.hpp"

namespace orchflow::detail {

using nlohmann::json;

namespace {

/// Gemini's responseSchema is an OpenAPI subset: upper-case type names and
/// no additionalProperties.
json to_openapi(const json& schema) {
  if (schema.is_array()) {
    json out = json::array();
    for (auto& x : schema)
      out.push_back(to_openapi(x));
    return out;
  }
  if (!schema.is_object())
    return schema;
  json out = json::object();
  for (auto& [k, v] : schema.items()) {
    if (k == "additionalProperties")
      continue;
    if (k == "type" && v.is_string()) {
      auto t = v.get<std::string>();
      for (auto& c : t)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out[k] = t;
    } else if (k == "properties" && v.is_object()) {
      json props = json::object();
      for (auto& [name, sub] : v.items())
        props[name] = to_openapi(sub);
      out[k] = props;
    } else {
      out[k] = to_openapi(v);
    }
  }
  return out;
}

const char* blocked[]
    = {"SAFETY", "RECITATION",   "BLOCKLIST", "PROHIBITED_CONTENT",
       "SPII",   "IMAGE_SAFETY", "LANGUAGE"};

} // namespace

http_call gemini_call(const vendor_target& t, const llm_request& req,
                      const vendor_limits& limits) {
  auto base
      = t.base_url.empty()
            ? std::string{"https://generativelanguage.googleapis.com/v1beta"}
            : t.base_url;
  json config{{"maxOutputTokens", limits.max_output_tokens}};
  if (auto schema = schema_for(req.schema_name); !schema.is_null()) {
    config["responseMimeType"] = "application/json";
    config["responseSchema"] = to_openapi(schema);
  }
  json body{{"systemInstruction", {{"parts", {{{"text", req.system}}}}}},
            {"contents",
             json::array({{{"role", "user"},
                           {"parts", json::array({{{"text", req.user}}})}}})},
            {"generationConfig", std::move(config)}};
  http_call call;
  call.url = join_url(base, "models/" + req.model + ":generateContent");
  // The header, not ?key=, keeps the key out of URL logs.
  call.headers.push_back("x-goog-api-key: " + t.api_key);
  call.body = dump_safe(body);
  return call;
}

provider_reply gemini_reply(const http_outcome& out, std::string_view api_key) {
  auto body = parse_body(out.body);
  if (!body || !body->is_object()) {
    provider_reply r;
    r.error = "gemini returned a body that is not JSON: " + clip(out.body, 120);
    r.retryable = true;
    return r;
  }
  auto& usage = get_json(*body, "usageMetadata");
  auto input = get_int(usage, "promptTokenCount")
               + get_int(usage, "toolUsePromptTokenCount");
  auto output = get_int(usage, "candidatesTokenCount")
                + get_int(usage, "thoughtsTokenCount");
  auto& candidates = get_json(*body, "candidates");
  if (!candidates.is_array() || candidates.empty()) {
    auto reason = get_string(get_json(*body, "promptFeedback"), "blockReason",
                             "no candidates");
    return answer("gemini", "the prompt was blocked (" + reason + ")", input,
                  output, "filtered", api_key);
  }
  auto& cand = candidates[0];
  std::string text;
  if (auto& parts = get_json(get_json(cand, "content"), "parts");
      parts.is_array())
    for (auto& p : parts)
      if (!get_bool(p, "thought"))
        text += get_string(p, "text");
  auto finish = get_string(cand, "finishReason");
  std::string norm = finish == "STOP"         ? "stop"
                     : finish == "MAX_TOKENS" ? "length"
                                              : "other";
  for (auto* b : blocked)
    if (finish == b) {
      norm = "filtered";
      text = "the answer was blocked (" + finish + ")";
    }
  return answer("gemini", std::move(text), input, output, norm, api_key);
}

} // namespace orchflow::detail
