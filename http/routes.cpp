#include "http/routes.hpp"

#include "actors/engine.hpp"
#include "config/templates.hpp"
#include "events/error.hpp"
#include "events/event_store.hpp"
#include "events/ids.hpp"
#include "events/json_util.hpp"
#include "http/json_input.hpp"
#include "projections/read_model.hpp"
#include "projections/run_view.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <map>
#include <string_view>
#include <vector>

namespace orchflow::http {

using nlohmann::json;

const char* version() {
  return "0.1.0";
}

namespace {

response json_response(int status, std::string body) {
  response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

response error_response(int status, const std::string& code,
                        const std::string& detail) {
  return json_response(status, json{{"detail", detail}, {"code", code}}.dump());
}

response from_input_error(const input_error& e) {
  return json_response(e.status, e.body);
}

/// A reply sink that turns an actor's answer into an HTTP response.
class responder_sink : public reply_sink {
public:
  explicit responder_sink(responder r) : respond_(std::move(r)) {
    // nop
  }

  /// A command dropped on its way (e.g. sent to an actor that stopped a
  /// moment before) must not leave its client hanging: it learns to retry.
  ~responder_sink() override {
    if (!sent_) {
      auto res = error_response(503, "retry",
                                "The run changed while the command was on "
                                "its way; send it again.");
      res.headers.emplace_back("Retry-After", "1");
      respond_(std::move(res));
    }
  }

  void send(int status, std::string body) override {
    sent_ = true;
    respond_(json_response(status, std::move(body)));
  }

private:
  responder respond_;
  bool sent_ = false;
};

reply_ptr sink(responder r) {
  return std::make_shared<responder_sink>(std::move(r));
}

/// Percent-decodes a query value.
std::string url_decode(std::string_view x) {
  std::string out;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] == '%' && i + 2 < x.size()) {
      int v = 0;
      auto [p, ec] = std::from_chars(x.data() + i + 1, x.data() + i + 3, v, 16);
      if (ec == std::errc{} && p == x.data() + i + 3) {
        out += static_cast<char>(v);
        i += 2;
        continue;
      }
    }
    out += x[i] == '+' ? ' ' : x[i];
  }
  return out;
}

struct target {
  std::vector<std::string> segments;
  std::map<std::string, std::string> query;
};

target parse_target(std::string_view t) {
  target result;
  auto q = t.find('?');
  auto path = t.substr(0, q);
  size_t pos = 0;
  while (pos <= path.size()) {
    auto slash = path.find('/', pos);
    auto seg = path.substr(pos, slash == std::string_view::npos
                                    ? std::string_view::npos
                                    : slash - pos);
    if (!seg.empty())
      result.segments.push_back(url_decode(seg));
    if (slash == std::string_view::npos)
      break;
    pos = slash + 1;
  }
  if (q != std::string_view::npos) {
    auto qs = t.substr(q + 1);
    size_t p = 0;
    while (p < qs.size()) {
      auto amp = qs.find('&', p);
      auto kv = qs.substr(
          p, amp == std::string_view::npos ? std::string_view::npos : amp - p);
      auto eq = kv.find('=');
      if (eq != std::string_view::npos)
        result.query[url_decode(kv.substr(0, eq))]
            = url_decode(kv.substr(eq + 1));
      else if (!kv.empty())
        result.query[url_decode(kv)] = "";
      if (amp == std::string_view::npos)
        break;
      p = amp + 1;
    }
  }
  return result;
}

/// Reads an integer query parameter within [lo, hi]; a 422 otherwise.
std::optional<response> int_param(const target& t, const std::string& name,
                                  int64_t lo, int64_t hi, int64_t& out) {
  auto i = t.query.find(name);
  if (i == t.query.end())
    return std::nullopt;
  int64_t v = 0;
  auto& s = i->second;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v < lo || v > hi)
    return json_response(
        422, json{{"detail",
                   json::array({json{{"loc", json::array({"query", name})},
                                     {"msg", "Input should be an integer from "
                                                 + std::to_string(lo) + " to "
                                                 + std::to_string(hi)},
                                     {"type", "int_parsing"}}})},
                  {"code", "validation_error"}}
                 .dump());
  out = v;
  return std::nullopt;
}

response not_found(const std::string& what, const std::string& id) {
  auto label = what;
  label[0] = static_cast<char>(label[0] - 'a' + 'A');
  return error_response(404, what + "_not_found",
                        label + " " + id + " not found.");
}

} // namespace

void api::handle_providers(engine& eng, const std::string& account,
                           const std::vector<std::string>& p,
                           const std::string& m, request& req,
                           responder respond) const {
  if (p.size() == 1 && m == "POST") {
    auto body = parse_object(req.body);
    if (auto* err = std::get_if<input_error>(&body))
      return respond(from_input_error(*err));
    auto spec = validate_provider(std::get<json>(body), account, cfg_);
    if (auto* err = std::get_if<input_error>(&spec))
      return respond(from_input_error(*err));
    return eng.register_provider(std::move(std::get<provider_spec>(spec)),
                                 sink(std::move(respond)));
  }
  if (p.size() == 1 && m == "GET")
    return respond(
        json_response(200, dump_safe(eng.reads().list_providers(account))));
  if (p.size() == 2 && m == "DELETE")
    return eng.deactivate_provider(account, p[1], sink(std::move(respond)));
  if (p.size() == 2 && m == "GET") {
    auto prov = eng.reads().provider(p[1]);
    if (!prov || prov->account_id != account)
      return respond(not_found("provider", p[1]));
    auto all = eng.reads().list_providers(account);
    for (auto& x : all["providers"])
      if (x["provider_id"] == p[1])
        return respond(json_response(200, dump_safe(x)));
  }
  if (p.size() <= 2)
    return respond(error_response(405, "method_not_allowed",
                                  "Use POST or GET /api/v1/providers, or "
                                  "DELETE /api/v1/providers/{id}."));
  return respond(error_response(404, "route_not_found",
                                "No route " + m + " " + req.target + "."));
}

api::api(const std::atomic<engine*>& eng, const server_config& cfg,
         std::function<void(std::function<void()>)> offload)
    : engine_(eng), cfg_(cfg), offload_(std::move(offload)) {
  // nop
}

void api::handle(request req, responder respond) const {
  auto t = parse_target(req.target);
  auto& seg = t.segments;
  auto& m = req.method;
  auto* eng = engine_.load();
  // -- public routes
  // -------------------------------------------------------------
  if (seg.size() == 1 && seg[0] == "health") {
    if (m != "GET" && m != "HEAD")
      return respond(
          error_response(405, "method_not_allowed", "Use GET /health."));
    if (eng == nullptr)
      return respond(json_response(503, json{{"status", "recovering"},
                                             {"version", version()},
                                             {"mode", cfg_.mode}}
                                            .dump()));
    return respond(
        json_response(200, json{{"status", "ok"},
                                {"version", version()},
                                {"mode", cfg_.mode},
                                {"runs_active", eng->reads().active_count()},
                                {"runs_resident", eng->resident_runs()}}
                               .dump()));
  }
  if (seg.size() < 2 || seg[0] != "api" || seg[1] != "v1")
    return respond(error_response(404, "route_not_found",
                                  "No route " + m + " " + req.target
                                      + "; the API lives under /api/v1."));
  std::vector<std::string> p(seg.begin() + 2, seg.end());
  if (p.size() == 2 && p[0] == "agents" && p[1] == "templates") {
    if (m != "GET")
      return respond(error_response(405, "method_not_allowed",
                                    "Use GET /api/v1/agents/templates."));
    json xs = json::array();
    for (auto& tpl : agent_templates())
      xs.push_back(json{{"name", tpl.name},
                        {"system_prompt", tpl.system_prompt},
                        {"description", tpl.description}});
    return respond(json_response(200, json{{"templates", xs}}.dump()));
  }
  if (eng == nullptr)
    return respond(error_response(503, "recovering",
                                  "The server is recovering its runs; retry "
                                  "in a few seconds."));
  if (p.size() == 2 && p[0] == "auth" && p[1] == "register") {
    if (m != "POST")
      return respond(error_response(405, "method_not_allowed",
                                    "Use POST /api/v1/auth/register."));
    auto body = parse_object(req.body);
    if (auto* err = std::get_if<input_error>(&body))
      return respond(from_input_error(*err));
    auto spec = validate_registration(std::get<json>(body));
    if (auto* err = std::get_if<input_error>(&spec))
      return respond(from_input_error(*err));
    return eng->register_account(std::move(std::get<account_spec>(spec)),
                                 sink(std::move(respond)));
  }
  // -- protected routes
  // ----------------------------------------------------------
  if (!req.has_api_key || req.api_key.empty())
    return respond(error_response(401, "unauthorized",
                                  "Missing API key: pass your key in the "
                                  "X-API-Key header."));
  auto account = eng->reads().account_by_key_hash(sha256_hex(req.api_key));
  if (!account)
    return respond(error_response(401, "unauthorized",
                                  "Invalid API key: check the X-API-Key "
                                  "header or register for a new key."));
  if (!p.empty() && p[0] == "providers")
    return handle_providers(*eng, *account, p, m, req, std::move(respond));
  if (p.empty() || p[0] != "runs")
    return respond(error_response(404, "route_not_found",
                                  "No route " + m + " " + req.target + "."));
  // /runs
  if (p.size() == 1) {
    if (m == "POST") {
      auto body = parse_object(req.body);
      if (auto* err = std::get_if<input_error>(&body))
        return respond(from_input_error(*err));
      auto lookup = [&](const std::string& id)
          -> std::variant<run_provider, input_error> {
        auto prov = eng->reads().provider(id);
        if (!prov || prov->account_id != *account)
          return make_error(404, "provider_not_found",
                            "Provider " + id
                                + " not found; register one with POST "
                                  "/api/v1/providers or omit provider_id.");
        if (!prov->active)
          return input_error{
              422,
              json{{"detail",
                    json::array({json{
                        {"loc", json::array({"body", "provider_id"})},
                        {"msg", "Provider " + id
                                    + " is deactivated; register a new one"},
                        {"type", "value_error"}}})},
                   {"code", "validation_error"}}
                  .dump()};
        return run_provider{prov->kind, prov->model, prov->provider_id};
      };
      auto spec = validate_run(
          std::get<json>(body), *account,
          run_provider{cfg_.default_provider, cfg_.default_model, ""}, lookup);
      if (auto* err = std::get_if<input_error>(&spec))
        return respond(from_input_error(*err));
      return eng->create_run(std::move(std::get<run_spec>(spec)),
                             sink(std::move(respond)));
    }
    if (m == "GET") {
      int64_t limit = 20;
      int64_t offset = 0;
      if (auto bad = int_param(t, "limit", 1, 100, limit))
        return respond(std::move(*bad));
      if (auto bad = int_param(t, "offset", 0, 1'000'000'000, offset))
        return respond(std::move(*bad));
      // Lists may read rows of passivated runs: off the I/O thread.
      return offload_([eng, account = *account, limit, offset,
                       respond = std::move(respond)] {
        respond(json_response(200, eng->reads()
                                       .list_runs(account,
                                                  static_cast<size_t>(limit),
                                                  static_cast<size_t>(offset))
                                       .dump()));
      });
    }
    return respond(error_response(405, "method_not_allowed",
                                  "Use GET or POST /api/v1/runs."));
  }
  auto& run_id = p[1];
  auto run = eng->reads().run(run_id, *account);
  if (!run)
    return respond(not_found("run", run_id));
  if (p.size() == 2) {
    if (m == "GET") {
      if (t.query.count("at_seq") != 0) {
        int64_t at = 0;
        if (auto bad = int_param(t, "at_seq", 0, INT64_MAX, at))
          return respond(std::move(*bad));
        // Replay reads the log: off the I/O thread.
        return offload_([eng, run_id, at, respond = std::move(respond)] {
          auto events
              = eng->store().read_partition(run_id, 0, static_cast<size_t>(at));
          if (!events)
            return respond(
                error_response(500, "storage_error", render(events.error())));
          run_view v;
          apply_all(v, *events);
          respond(json_response(200, dump_safe(render_run(v))));
        });
      }
      if (run->stored) // passivated: its document is a row on disk
        return offload_([eng, run_id, respond = std::move(respond)] {
          auto doc = eng->reads().stored_document(run_id);
          if (!doc)
            return respond(not_found("run", run_id));
          respond(json_response(200, std::move(*doc)));
        });
      return respond(json_response(200, *run->document));
    }
    if (m == "DELETE")
      return eng->cancel_run(run_id, sink(std::move(respond)));
    return respond(error_response(405, "method_not_allowed",
                                  "Use GET or DELETE /api/v1/runs/{id}."));
  }
  if (p.size() == 3 && p[2] == "tasks") {
    if (m != "GET")
      return respond(error_response(405, "method_not_allowed",
                                    "Use GET /api/v1/runs/{id}/tasks."));
    if (run->stored)
      return offload_([eng, run_id, respond = std::move(respond)] {
        auto doc = eng->reads().stored_document(run_id);
        if (!doc)
          return respond(not_found("run", run_id));
        respond(json_response(200, tasks_of(run_id, *doc)));
      });
    return respond(json_response(
        200, run->tasks ? *run->tasks : tasks_of(run_id, *run->document)));
  }
  if (p.size() == 3 && p[2] == "events") {
    if (m != "GET")
      return respond(error_response(405, "method_not_allowed",
                                    "Use GET /api/v1/runs/{id}/events."));
    int64_t after = 0;
    int64_t limit = 100;
    if (auto bad = int_param(t, "after", 0, INT64_MAX, after))
      return respond(std::move(*bad));
    if (auto bad = int_param(t, "limit", 1, 1000, limit))
      return respond(std::move(*bad));
    return offload_([eng, run_id, after, limit, respond = std::move(respond)] {
      auto events = eng->store().read_partition(
          run_id, static_cast<uint64_t>(after), static_cast<size_t>(limit));
      if (!events)
        return respond(
            error_response(500, "storage_error", render(events.error())));
      json xs = json::array();
      for (auto& e : *events)
        xs.push_back(render_event(e));
      respond(json_response(
          200, dump_safe(json{{"run_id", run_id}, {"events", std::move(xs)}})));
    });
  }
  if (p.size() == 5 && p[2] == "tasks" && p[4] == "complete") {
    if (m != "POST")
      return respond(error_response(
          405, "method_not_allowed",
          "Use POST /api/v1/runs/{id}/tasks/{task_id}/complete."));
    auto body = parse_object(req.body);
    if (auto* err = std::get_if<input_error>(&body))
      return respond(from_input_error(*err));
    auto output = validate_completion(std::get<json>(body));
    if (auto* err = std::get_if<input_error>(&output))
      return respond(from_input_error(*err));
    return eng->complete_task(run_id, p[3],
                              std::move(std::get<std::string>(output)),
                              sink(std::move(respond)));
  }
  return respond(error_response(404, "route_not_found",
                                "No route " + m + " " + req.target + "."));
}

} // namespace orchflow::http
