#include "providers/vendors.hpp"

#include "events/json_util.hpp"
#include "providers/text.hpp"
#include "providers/vendor_detail.hpp"

#include <charconv>
#include <ctime>

namespace orchflow {

using nlohmann::json;

bool is_vendor_kind(std::string_view kind) {
  for (auto k : vendor_kinds)
    if (k == kind)
      return true;
  return false;
}

bool needs_api_key(std::string_view kind) {
  return kind == "gemini" || kind == "openai" || kind == "anthropic";
}

json schema_for(std::string_view name) {
  auto str = json{{"type", "string"}};
  if (name == "subtask_plan")
    return json{{"type", "object"},
                {"properties",
                 {{"subtasks",
                   {{"type", "array"},
                    {"items",
                     {{"type", "object"},
                      {"properties",
                       {{"id", str}, {"name", str}, {"description", str}}},
                      {"required", {"id", "name", "description"}},
                      {"additionalProperties", false}}}}}}},
                {"required", {"subtasks"}},
                {"additionalProperties", false}};
  if (name == "task_dependencies")
    return json{{"type", "object"},
                {"properties",
                 {{"dependencies",
                   {{"type", "array"},
                    {"items",
                     {{"type", "object"},
                      {"properties",
                       {{"id", str},
                        {"depends_on", {{"type", "array"}, {"items", str}}}}},
                      {"required", {"id", "depends_on"}},
                      {"additionalProperties", false}}}}}}},
                {"required", {"dependencies"}},
                {"additionalProperties", false}};
  if (name == "output_evaluation")
    return json{{"type", "object"},
                {"properties",
                 {{"passed", {{"type", "boolean"}}},
                  {"score", {{"type", "number"}}},
                  {"feedback", str}}},
                {"required", {"passed", "score", "feedback"}},
                {"additionalProperties", false}};
  return nullptr;
}

http_call build_vendor_call(const vendor_target& target, const llm_request& req,
                            const vendor_limits& limits) {
  http_call call;
  if (target.kind == "anthropic")
    call = detail::anthropic_call(target, req, limits);
  else if (target.kind == "gemini")
    call = detail::gemini_call(target, req, limits);
  else if (target.kind == "ollama")
    call = detail::ollama_call(target, req, limits);
  else
    call = detail::openai_call(target, req, limits);
  call.connect_timeout_ms = limits.connect_timeout_ms;
  call.timeout_ms = limits.timeout_ms;
  // libcurl would send "Expect: 100-continue" for large bodies and stall a
  // second on servers that never answer it.
  call.headers.push_back("Expect:");
  call.headers.push_back("Content-Type: application/json");
  return call;
}

provider_reply parse_vendor_reply(std::string_view kind,
                                  const http_outcome& out,
                                  std::string_view api_key) {
  if (!out.transport_ok || out.status < 200 || out.status >= 300) {
    detail::error_info info;
    if (auto body = detail::parse_body(out.body))
      info = detail::error_fields(*body);
    else if (!out.body.empty())
      info.message = text::one_line(out.body); // HTML from a proxy, text
    return detail::failure(kind, out, std::move(info), api_key);
  }
  if (kind == "anthropic")
    return detail::anthropic_reply(out, api_key);
  if (kind == "gemini")
    return detail::gemini_reply(out, api_key);
  if (kind == "ollama")
    return detail::ollama_reply(out, api_key);
  return detail::openai_reply(kind, out, api_key);
}

int64_t retry_after_ms(const http_outcome& out) {
  auto find = [&](const char* name) -> const std::string* {
    auto i = out.headers.find(name);
    return i == out.headers.end() ? nullptr : &i->second;
  };
  if (auto* ms = find("retry-after-ms")) {
    double v = 0;
    auto [p, ec] = std::from_chars(ms->data(), ms->data() + ms->size(), v);
    if (ec == std::errc{} && v > 0)
      return static_cast<int64_t>(v);
  }
  if (auto* ra = find("retry-after")) {
    double v = 0;
    auto [p, ec] = std::from_chars(ra->data(), ra->data() + ra->size(), v);
    if (ec == std::errc{} && p == ra->data() + ra->size())
      return v > 0 ? static_cast<int64_t>(v * 1000) : 0;
    // An HTTP-date, e.g. "Wed, 21 Oct 2015 07:28:00 GMT".
    std::tm tm{};
    if (strptime(ra->c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) != nullptr) {
      auto when = timegm(&tm);
      auto now = std::time(nullptr);
      return when > now ? static_cast<int64_t>(when - now) * 1000 : 0;
    }
  }
  return 0;
}

std::string redact(std::string text, std::string_view secret) {
  if (secret.size() < 8)
    return text;
  auto replace_all = [&](std::string_view needle) {
    size_t pos = 0;
    while ((pos = text.find(needle, pos)) != std::string::npos) {
      text.replace(pos, needle.size(), "[redacted]");
      pos += 10;
    }
  };
  replace_all(secret);
  if (secret.size() >= 24) {
    replace_all(secret.substr(0, 12));
    replace_all(secret.substr(secret.size() - 12));
  }
  return text;
}

namespace detail {

std::string clip(std::string_view x, size_t n) {
  return text::truncate(text::one_line(x), n);
}

std::optional<json> parse_body(std::string_view body) {
  auto b = body.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos)
    return std::nullopt;
  body.remove_prefix(b);
  if (body.substr(0, 3) == "\xEF\xBB\xBF")
    body.remove_prefix(3);
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded())
    return std::nullopt;
  return j;
}

error_info error_fields(const json& body) {
  error_info info;
  auto& err = get_json(body, "error");
  if (err.is_string()) {
    info.message = err.get<std::string>();
    return info;
  }
  if (!err.is_object()) {
    info.message = get_string(body, "message");
    info.code = get_string(body, "type", get_string(body, "code"));
    return info;
  }
  info.message = get_string(err, "message");
  auto& code = get_json(err, "code");
  if (code.is_string())
    info.code = code.get<std::string>();
  if (info.code.empty())
    info.code = get_string(err, "type", get_string(err, "status"));
  auto& details = get_json(err, "details");
  if (details.is_object()) // Anthropic spend limits
    info.code = get_string(details, "error_code", info.code);
  if (details.is_array())
    for (auto& d : details) {
      if (auto reason = get_string(d, "reason"); !reason.empty())
        info.code = reason;
      if (auto delay = get_string(d, "retryDelay"); !delay.empty()) {
        double secs = 0;
        std::from_chars(delay.data(), delay.data() + delay.size(), secs);
        info.retry_delay_ms = static_cast<int64_t>(secs * 1000);
      }
      if (auto& v = get_json(d, "violations"); v.is_array())
        for (auto& x : v)
          if (get_string(x, "quotaId").find("PerDay") != std::string::npos)
            info.per_day = true;
    }
  return info;
}

provider_reply failure(std::string_view kind, const http_outcome& out,
                       error_info info, std::string_view api_key) {
  provider_reply r;
  std::string who{kind};
  auto message = redact(clip(info.message), api_key);
  auto& code = info.code;
  auto with = [&](std::string head) {
    return message.empty() ? head : head + ": " + message;
  };
  if (!out.transport_ok) {
    r.retryable = true;
    r.error = out.timed_out ? who + " did not answer in time ("
                                  + redact(out.error, api_key) + ")"
                            : who + " could not be reached ("
                                  + redact(out.error, api_key) + ")";
    return r;
  }
  auto s = out.status;
  auto status = "(" + std::to_string(s) + ")";
  bool quota = code == "insufficient_quota"
               || code == "enforced_spend_limit_reached" || info.per_day
               || message.find("Request too large") != std::string::npos;
  if (s == 401 || code == "API_KEY_INVALID" || code == "invalid_api_key"
      || code == "authentication_error") {
    // Never quote the body: some servers echo the key or its header.
    r.error = who + " rejected the API key " + status;
  } else if (s == 403) {
    r.error = with(who + " refused access " + status);
  } else if (s == 402 || (s == 429 && quota)) {
    r.error = with(who + " quota or credit is exhausted " + status);
  } else if (s == 404) {
    r.error = with(who + " does not know the model or endpoint " + status);
  } else if (s == 429) {
    r.error = with(who + " rate limit reached " + status);
    r.retryable = true;
  } else if (s == 529 || code == "overloaded_error") {
    r.error = with(who + " is overloaded " + status);
    r.retryable = true;
  } else if (s == 408 || s == 409 || s >= 500) {
    r.error = with(who + " failed on its side " + status);
    r.retryable = true;
  } else {
    r.error = with(who + " rejected the request " + status);
  }
  // The server's own retry instruction wins (OpenAI's x-should-retry).
  if (auto i = out.headers.find("x-should-retry"); i != out.headers.end())
    r.retryable = i->second == "true";
  r.retry_after_ms = std::max(retry_after_ms(out), info.retry_delay_ms);
  return r;
}

provider_reply answer(std::string_view kind, std::string text,
                      int64_t input_tokens, int64_t output_tokens,
                      std::string_view finish, std::string_view api_key) {
  provider_reply r;
  r.input_tokens = input_tokens;
  r.output_tokens = output_tokens;
  std::string who{kind};
  if (finish == "filtered") {
    r.error = who + " refused or filtered the answer"
              + (text.empty() ? "" : ": " + redact(clip(text), api_key));
    return r;
  }
  if (finish == "length") {
    r.error = who + " stopped at the output token limit before finishing";
    return r;
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    r.error = who + " returned an empty answer";
    r.retryable = true; // transient more often than not; bounded retries
    return r;
  }
  text::sanitize_utf8(text);
  r.ok = true;
  r.text = std::move(text);
  return r;
}

std::string join_url(std::string base, std::string_view path) {
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  if (!path.empty() && path.front() != '/')
    base += '/';
  base += path;
  return base;
}

} // namespace detail

} // namespace orchflow
