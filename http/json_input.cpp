#include "http/json_input.hpp"

#include "config/templates.hpp"
#include "providers/builtin.hpp"
#include "providers/vendors.hpp"

#include <set>

namespace orchflow::http {

using nlohmann::json;

namespace {

constexpr size_t max_depth = 32;

/// Rejects documents nested deeper than `max_depth` before any DOM is built
/// (nlohmann's copy and dump are recursive).
bool too_deep(std::string_view text) {
  size_t depth = 0;
  bool in_str = false;
  bool esc = false;
  for (char c : text) {
    if (in_str) {
      if (esc)
        esc = false;
      else if (c == '\\')
        esc = true;
      else if (c == '"')
        in_str = false;
      continue;
    }
    if (c == '"')
      in_str = true;
    else if (c == '{' || c == '[') {
      if (++depth > max_depth)
        return true;
    } else if ((c == '}' || c == ']') && depth > 0)
      --depth;
  }
  return false;
}

/// Collects 422 details.
struct problems {
  json details = json::array();

  void add(std::string field, std::string msg, std::string type) {
    json loc = json::array({"body"});
    if (!field.empty())
      loc.push_back(std::move(field));
    details.push_back(json{{"loc", std::move(loc)},
                           {"msg", std::move(msg)},
                           {"type", std::move(type)}});
  }

  void add_loc(json loc, std::string msg, std::string type) {
    details.push_back(json{{"loc", std::move(loc)},
                           {"msg", std::move(msg)},
                           {"type", std::move(type)}});
  }

  bool empty() const { return details.empty(); }

  input_error error() const {
    return input_error{
        422, json{{"detail", details}, {"code", "validation_error"}}.dump()};
  }
};

bool valid_utf8_length(const std::string& s, size_t lo, size_t hi) {
  // Count code points (the parser already rejected invalid UTF-8).
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80)
      ++n;
  return n >= lo && n <= hi;
}

/// Reads an array of 0..max non-empty strings of at most `len` characters.
std::vector<std::string> string_list(const json& body, const char* field,
                                     size_t max, size_t len, problems& p) {
  std::vector<std::string> out;
  auto i = body.find(field);
  if (i == body.end() || i->is_null())
    return out;
  if (!i->is_array()) {
    p.add(field, "Input should be a valid list of strings", "list_type");
    return out;
  }
  if (i->size() > max) {
    p.add(field, "List should have at most " + std::to_string(max) + " items",
          "too_long");
    return out;
  }
  for (size_t k = 0; k < i->size(); ++k) {
    auto& x = (*i)[k];
    if (!x.is_string()) {
      p.add_loc(json::array({"body", field, k}),
                "Input should be a valid string", "string_type");
      continue;
    }
    auto s = x.get<std::string>();
    if (s.find_first_not_of(" \t\r\n") == std::string::npos
        || !valid_utf8_length(s, 1, len)) {
      p.add_loc(json::array({"body", field, k}),
                "String should have 1 to " + std::to_string(len)
                    + " characters",
                "string_too_long");
      continue;
    }
    out.push_back(std::move(s));
  }
  return out;
}

} // namespace

input_error make_error(int status, const std::string& code,
                       const std::string& detail) {
  return input_error{status, json{{"detail", detail}, {"code", code}}.dump()};
}

std::variant<json, input_error> parse_object(std::string_view body) {
  if (too_deep(body))
    return make_error(400, "malformed_json",
                      "The JSON body is nested deeper than 32 levels.");
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded())
    return make_error(400, "malformed_json",
                      "The request body is not valid JSON (UTF-8).");
  if (!j.is_object()) {
    problems p;
    p.add_loc(json::array({"body"}), "Input should be a valid JSON object",
              "dict_type");
    return p.error();
  }
  return j;
}

std::variant<run_spec, input_error>
validate_run(const json& body, const std::string& account_id,
             const run_provider& fallback, const provider_lookup& lookup) {
  run_provider prov = fallback;
  if (auto i = body.find("provider_id"); i != body.end() && i->is_string()) {
    auto found = lookup(i->get<std::string>());
    if (auto* err = std::get_if<input_error>(&found))
      return *err;
    prov = std::get<run_provider>(found);
  }
  auto& default_provider = prov.kind;
  problems p;
  // Unknown fields are ignored (as the product's FastAPI server does); only
  // the fields below are ever read, so none can set server-owned state.
  std::string task;
  if (auto i = body.find("task"); i == body.end() || i->is_null()) {
    p.add("task", "Field required", "missing");
  } else if (!i->is_string()) {
    p.add("task", "Input should be a valid string", "string_type");
  } else {
    task = i->get<std::string>();
    if (task.find_first_not_of(" \t\r\n") == std::string::npos)
      p.add("task", "String should have at least 1 character",
            "string_too_short");
    else if (!valid_utf8_length(task, 1, 20000))
      p.add("task", "String should have at most 20000 characters",
            "string_too_long");
  }
  json agents = json::array();
  std::set<std::string> names;
  if (auto i = body.find("agents"); i != body.end() && !i->is_null()) {
    if (!i->is_array()) {
      p.add("agents", "Input should be a valid list", "list_type");
    } else if (i->size() > 20) {
      p.add("agents", "List should have at most 20 items", "too_long");
    } else {
      for (size_t k = 0; k < i->size(); ++k) {
        auto& a = (*i)[k];
        auto loc = [&](const char* f) {
          return json::array({"body", "agents", k, f});
        };
        if (!a.is_object()) {
          p.add_loc(json::array({"body", "agents", k}),
                    "Input should be a valid object", "dict_type");
          continue;
        }
        auto n = a.find("name");
        if (n == a.end() || !n->is_string()
            || !valid_utf8_length(n->get<std::string>(), 1, 64)) {
          p.add_loc(loc("name"),
                    "Agent name must be a string of 1 to 64 "
                    "characters",
                    "string_type");
          continue;
        }
        auto name = n->get<std::string>();
        if (!names.insert(name).second) {
          p.add_loc(loc("name"), "Agent names must be unique", "value_error");
          continue;
        }
        std::string prompt;
        if (auto s = a.find("system_prompt"); s != a.end() && !s->is_null()) {
          if (!s->is_string()
              || !valid_utf8_length(s->get<std::string>(), 0, 20000)) {
            p.add_loc(loc("system_prompt"),
                      "Input should be a string of at most 20000 characters",
                      "string_type");
            continue;
          }
          prompt = s->get<std::string>();
        }
        if (prompt.empty()) {
          if (auto* t = find_template(name))
            prompt = t->system_prompt;
          else
            prompt = "You are " + name
                     + ", a specialist agent. Complete "
                       "your task thoroughly and clearly.";
        }
        json model = nullptr;
        if (auto m = a.find("model"); m != a.end() && !m->is_null()) {
          if (!m->is_string()
              || !valid_utf8_length(m->get<std::string>(), 1, 200)) {
            p.add_loc(loc("model"), "Input should be a model name string",
                      "string_type");
            continue;
          }
          model = *m;
          if (default_provider == "builtin"
              && !parse_builtin_model(m->get<std::string>()))
            p.add_loc(loc("model"),
                      "Unknown builtin model; use builtin, builtin-slow-MS, "
                      "builtin-flaky-N, builtin-error-N or builtin-down",
                      "value_error");
        }
        agents.push_back(
            json{{"name", name}, {"system_prompt", prompt}, {"model", model}});
      }
    }
  }
  if (agents.empty() && p.empty())
    for (auto& t : agent_templates())
      agents.push_back(json{{"name", t.name},
                            {"system_prompt", t.system_prompt},
                            {"model", nullptr}});
  auto ask = string_list(body, "ask_me_about", 20, 500, p);
  auto gates = string_list(body, "human_gates", 20, 500, p);
  bool approval = false;
  if (auto i = body.find("require_approval");
      i != body.end() && !i->is_null()) {
    if (!i->is_boolean())
      p.add("require_approval", "Input should be a valid boolean", "bool_type");
    else
      approval = i->get<bool>();
  }
  json webhook = nullptr;
  if (auto i = body.find("webhook_url"); i != body.end() && !i->is_null()) {
    if (!i->is_string())
      p.add("webhook_url", "Input should be a valid URL string", "url_type");
    else {
      auto url = i->get<std::string>();
      if ((url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
          || url.size() > 2048 || url.find(' ') != std::string::npos)
        p.add("webhook_url", "Input should be a valid http or https URL",
              "url_parsing");
      else
        webhook = url;
    }
  }
  json metadata = json::object();
  if (auto i = body.find("metadata"); i != body.end() && !i->is_null()) {
    if (!i->is_object())
      p.add("metadata", "Input should be a valid object", "dict_type");
    else if (i->dump().size() > 16 * 1024)
      p.add("metadata", "Metadata must serialize to at most 16 KiB",
            "too_long");
    else
      metadata = *i;
  }
  if (auto i = body.find("provider_id"); i != body.end() && !i->is_null()) {
    if (!i->is_string())
      p.add("provider_id", "Input should be a valid string", "string_type");
  }
  if (!p.empty())
    return p.error();
  run_spec spec;
  spec.data = json{{"account_id", account_id},
                   {"task", task},
                   {"agents", std::move(agents)},
                   {"ask_me_about", ask},
                   {"human_gates", gates},
                   {"require_approval", approval},
                   {"webhook_url", webhook},
                   {"metadata", std::move(metadata)},
                   {"provider", prov.kind},
                   {"model", prov.model},
                   {"provider_id", prov.provider_id.empty()
                                       ? json(nullptr)
                                       : json(prov.provider_id)}};
  return spec;
}

std::variant<provider_spec, input_error>
validate_provider(json& body, const std::string& account_id,
                  const server_config& cfg) {
  problems p;
  provider_spec spec;
  spec.account_id = account_id;
  auto text = [&](const char* field, std::string& out, size_t max,
                  bool required) {
    auto i = body.find(field);
    if (i == body.end() || i->is_null()) {
      if (required)
        p.add(field, "Field required", "missing");
      return;
    }
    if (!i->is_string()) {
      p.add(field, "Input should be a valid string", "string_type");
      return;
    }
    auto& s = i->get_ref<std::string&>();
    if (s.find_first_not_of(" \t") == std::string::npos
        || !valid_utf8_length(s, 1, max)) {
      p.add(field,
            "String should have 1 to " + std::to_string(max) + " characters",
            "string_too_long");
      return;
    }
    out = std::move(s); // the key is moved, never copied
  };
  text("provider", spec.kind, 40, true);
  text("label", spec.label, 200, true);
  text("model", spec.model, 200, false);
  text("base_url", spec.base_url, 2048, false);
  text("api_key", spec.api_key, 8192, false);
  if (!spec.kind.empty() && spec.kind != "builtin"
      && !is_vendor_kind(spec.kind))
    p.add("provider",
          "Unknown provider '" + spec.kind
              + "'; use gemini, openai, anthropic, ollama, openai_compatible "
                "or builtin",
          "enum");
  if (needs_api_key(spec.kind) && spec.api_key.empty()
      && body.find("api_key") == body.end())
    p.add("api_key", "Field required for " + spec.kind, "missing");
  if (spec.kind == "openai_compatible" && spec.base_url.empty()
      && body.find("base_url") == body.end())
    p.add("base_url", "Field required for openai_compatible", "missing");
  if (!spec.base_url.empty()) {
    auto& u = spec.base_url;
    bool scheme = u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0;
    auto host_start
        = u.find("://") == std::string::npos ? 0 : u.find("://") + 3;
    auto host_end = u.find_first_of("/?#", host_start);
    auto host = u.substr(host_start, host_end == std::string::npos
                                         ? std::string::npos
                                         : host_end - host_start);
    if (!scheme || host.empty() || host.find('@') != std::string::npos
        || u.find_first_of(" \t\r\n") != std::string::npos
        || u.find('?') != std::string::npos || u.find('#') != std::string::npos)
      p.add("base_url",
            "Input should be an http or https URL without credentials, "
            "query or fragment, e.g. http://127.0.0.1:8000/v1",
            "url_parsing");
  }
  if (spec.kind == "builtin" && !spec.model.empty()
      && !parse_builtin_model(spec.model))
    p.add("model", "Unknown builtin model", "value_error");
  if (spec.model.empty() && !spec.kind.empty()) {
    spec.model = default_model_for(cfg, spec.kind);
    if (spec.model.empty() && p.empty())
      p.add("model",
            "Field required for " + spec.kind
                + " (the server has no default model for it)",
            "missing");
  }
  if (!p.empty())
    return p.error();
  return spec;
}

std::variant<account_spec, input_error>
validate_registration(const json& body) {
  problems p;
  account_spec spec;
  auto str = [&](const char* field, std::string& out, size_t max) {
    auto i = body.find(field);
    if (i == body.end() || i->is_null()) {
      p.add(field, "Field required", "missing");
    } else if (!i->is_string()) {
      p.add(field, "Input should be a valid string", "string_type");
    } else if (!valid_utf8_length(i->get<std::string>(), 1, max)
               || i->get<std::string>().find_first_not_of(" \t")
                      == std::string::npos) {
      p.add(field,
            "String should have 1 to " + std::to_string(max) + " characters",
            "string_too_long");
    } else {
      out = i->get<std::string>();
    }
  };
  str("name", spec.name, 200);
  str("email", spec.email, 320);
  if (!spec.email.empty()) {
    auto at = spec.email.find('@');
    if (at == std::string::npos || at == 0
        || spec.email.find('.', at) == std::string::npos
        || spec.email.find(' ') != std::string::npos)
      p.add("email", "value is not a valid email address", "value_error");
  }
  if (!p.empty())
    return p.error();
  return spec;
}

std::variant<std::string, input_error> validate_completion(const json& body) {
  problems p;
  auto i = body.find("output");
  if (i == body.end() || i->is_null())
    p.add("output", "Field required", "missing");
  else if (!i->is_string())
    p.add("output", "Input should be a valid string", "string_type");
  else if (!valid_utf8_length(i->get<std::string>(), 0, 200000))
    p.add("output", "String should have at most 200000 characters",
          "string_too_long");
  if (!p.empty())
    return p.error();
  return i->get<std::string>();
}

} // namespace orchflow::http
