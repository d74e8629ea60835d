#include "actors/workflow.hpp"

#include "actors/dag.hpp"
#include "config/templates.hpp"
#include "events/error.hpp"
#include "events/types.hpp"
#include "providers/text.hpp"

#include <algorithm>
#include <set>

namespace orchflow {

using nlohmann::json;

// -- requests
// -------------------------------------------------------------------

namespace {

/// Who pays for a call: the run's provider and account.
struct payer {
  const std::string& provider;
  const std::string& provider_id;
  const std::string& account_id;
};

llm_request
make_request(std::string step, const payer& who, const std::string& model,
             const std::vector<std::pair<std::string, std::string>>& vars,
             std::string schema = {}) {
  auto& tpl = prompt_for(step);
  llm_request req;
  req.step = std::move(step);
  req.provider = who.provider;
  req.provider_id = who.provider_id;
  req.account_id = who.account_id;
  req.model = model;
  req.system = fill(tpl.system, vars);
  req.user = fill(tpl.user, vars);
  req.schema_name = std::move(schema);
  return req;
}

std::string input_block(const std::string& id, const std::string& name,
                        const std::string& body) {
  // Earlier outputs are data, not instructions: fenced and labelled.
  std::string safe_name = name;
  std::replace(safe_name.begin(), safe_name.end(), '"', '\'');
  return "<input task=\"" + id + "\" name=\"" + safe_name + "\">\n" + body
         + "\n</input>\n";
}

} // namespace

task_context make_task_context(const run_view& v, const task_view& t,
                               int eval_max_retries) {
  task_context ctx;
  ctx.run_id = v.run_id;
  ctx.goal = v.goal;
  ctx.provider = v.provider;
  ctx.provider_id = v.provider_id;
  ctx.account_id = v.account_id;
  ctx.model = v.model;
  ctx.require_approval = v.require_approval;
  ctx.eval_max_retries = eval_max_retries;
  for (auto& a : v.agents)
    if (a.name == t.agent) {
      ctx.agent = a;
      if (a.model && !a.model->empty())
        ctx.model = *a.model;
    }
  // Every completed ancestor's output (human answers included).
  std::set<std::string> seen;
  std::vector<std::string> stack = t.depends_on;
  while (!stack.empty()) {
    auto id = stack.back();
    stack.pop_back();
    if (!seen.insert(id).second)
      continue;
    if (auto* dep = v.find_task(id))
      for (auto& d : dep->depends_on)
        stack.push_back(d);
  }
  for (auto& other : v.tasks)
    if (seen.count(other.id) != 0 && other.output)
      ctx.inputs.emplace_back(other.id, other.name, *other.output);
  return ctx;
}

llm_request split_request(const run_view& v) {
  std::string agents;
  for (auto& a : v.agents)
    agents += "- " + a.name + ": "
              + text::truncate(text::first_sentence(a.system_prompt), 160)
              + "\n";
  std::string gates;
  for (auto& g : v.human_gates)
    gates += "- " + g + "\n";
  return make_request("split", {v.provider, v.provider_id, v.account_id},
                      v.model,
                      {{"goal", v.goal},
                       {"agents", agents.empty() ? "(any)" : agents},
                       {"human_gates", gates.empty() ? "(none)" : gates}},
                      "subtask_plan");
}

llm_request dependencies_request(const run_view& v) {
  json subtasks = json::array();
  if (v.planned)
    for (auto& s : *v.planned)
      subtasks.push_back(
          json{{"id", s.id}, {"name", s.name}, {"description", s.description}});
  return make_request(
      "dependencies", {v.provider, v.provider_id, v.account_id}, v.model,
      {{"goal", v.goal}, {"subtasks", subtasks.dump(2)}}, "task_dependencies");
}

llm_request execute_request(const task_context& ctx, const task_view& t) {
  std::string inputs;
  for (auto& [id, name, output] : ctx.inputs)
    inputs += input_block(id, name, output);
  return make_request(
      "execute", {ctx.provider, ctx.provider_id, ctx.account_id}, ctx.model,
      {{"agent_prompt", ctx.agent.system_prompt},
       {"goal", ctx.goal},
       {"task_name", t.name},
       {"task_description", t.description},
       {"inputs", inputs.empty() ? "(none)" : inputs},
       {"feedback", t.retry_feedback.empty() ? "(none)" : t.retry_feedback},
       {"attempt", std::to_string(t.attempts)}});
}

llm_request evaluate_request(const task_context& ctx, const task_view& t,
                             const std::string& output) {
  return make_request(
      "evaluate", {ctx.provider, ctx.provider_id, ctx.account_id}, ctx.model,
      {{"goal", ctx.goal},
       {"task_name", t.name},
       {"task_description", t.description},
       {"output", output},
       {"attempt", std::to_string(t.attempts)}},
      "output_evaluation");
}

llm_request finalize_request(const run_view& v) {
  std::string outputs;
  for (auto& t : v.tasks)
    if (t.output)
      outputs += input_block(t.id, t.name, *t.output);
  return make_request("finalize", {v.provider, v.provider_id, v.account_id},
                      v.model, {{"goal", v.goal}, {"outputs", outputs}});
}

// -- decisions
// -------------------------------------------------------------------

event_batch record_llm_call(const llm_result& r, int64_t now) {
  auto call = [&](int attempt, int64_t latency, const char* outcome) {
    return json{{"step", r.step},     {"provider", r.provider},
                {"model", r.model},   {"attempt", attempt},
                {"outcome", outcome}, {"latency_ms", latency}};
  };
  event_batch out;
  for (auto& f : r.failed_attempts) {
    auto data = call(f.attempt, f.latency_ms, "error");
    data["error"] = f.error;
    data["retryable"] = f.retryable;
    out.push_back(make_event(ev::llm_call_failed, now, std::move(data)));
  }
  auto data = call(r.attempts, r.latency_ms, r.ok ? "ok" : "error");
  if (r.ok) {
    data["input_tokens"] = r.input_tokens;
    data["output_tokens"] = r.output_tokens;
    data["text"] = r.text;
    out.push_back(make_event(ev::llm_call_completed, now, std::move(data)));
  } else {
    data["error"] = r.error;
    data["retryable"] = r.retryable;
    out.push_back(make_event(ev::llm_call_failed, now, std::move(data)));
  }
  return out;
}

namespace {

event_batch run_failed(event_batch out, std::string error, int64_t now) {
  out.push_back(make_event(ev::run_failed, now, json{{"error", error}}));
  return out;
}

std::string call_error(const std::string& what, const llm_result& r) {
  return what + " failed: " + r.provider + " model " + r.model + ": " + r.error;
}

} // namespace

event_batch decide_split(const run_view& v, const llm_result& r, int64_t now) {
  auto out = record_llm_call(r, now);
  if (!r.ok)
    return run_failed(std::move(out), call_error("Planning the run", r), now);
  auto subtasks = parse_subtasks(r.text);
  if (!subtasks)
    return run_failed(std::move(out),
                      "Planning the run failed: " + render(subtasks.error()),
                      now);
  json xs = json::array();
  for (auto& s : *subtasks)
    xs.push_back(
        json{{"id", s.id}, {"name", s.name}, {"description", s.description}});
  out.push_back(
      make_event(ev::run_subtasks_planned, now, json{{"subtasks", xs}}));
  (void)v;
  return out;
}

event_batch decide_dependencies(const run_view& v, const llm_result& r,
                                int64_t now) {
  auto out = record_llm_call(r, now);
  if (!r.ok)
    return run_failed(std::move(out), call_error("Inferring dependencies", r),
                      now);
  std::vector<std::string> ids;
  if (v.planned)
    for (auto& s : *v.planned)
      ids.push_back(s.id);
  auto dag = validate_dag(ids, parse_dependencies(r.text));
  json deps = json::object();
  for (auto& id : ids)
    deps[id] = dag.depends_on[id];
  out.push_back(
      make_event(ev::run_dependencies_inferred, now,
                 json{{"depends_on", std::move(deps)}, {"notes", dag.notes}}));
  return out;
}

event_batch decide_finalize(const run_view& v, const llm_result& r,
                            int64_t now) {
  auto out = record_llm_call(r, now);
  if (!r.ok)
    return run_failed(std::move(out), call_error("The final synthesis", r),
                      now);
  out.push_back(
      make_event(ev::run_completed, now, json{{"final_output", r.text}}));
  (void)v;
  return out;
}

event_batch decide_task_start(const task_view& t, int64_t now) {
  event_batch out;
  if (t.terminal() || t.state == "waiting_human")
    return out;
  if (t.kind == "human") {
    out.push_back(
        make_event(ev::task_waiting_human, now,
                   json{{"question", t.question}, {"reason", t.wait_reason}}));
    return out;
  }
  // AI task: fresh, or running when the process died (unless its output
  // is recorded and only the evaluation is missing).
  if (t.state == "running" && t.pending_output)
    return out;
  out.push_back(
      make_event(ev::task_started, now, json{{"attempt", t.attempts + 1}}));
  return out;
}

event_batch decide_execution(const task_view& t, const llm_result& r,
                             int64_t now) {
  auto out = record_llm_call(r, now);
  if (!r.ok) {
    out.push_back(make_event(
        ev::task_failed, now,
        json{{"error", call_error("Task " + t.id + " (" + t.name + ")", r)}}));
    return out;
  }
  out.push_back(make_event(ev::task_output_produced, now,
                           json{{"attempt", t.attempts}, {"output", r.text}}));
  return out;
}

event_batch decide_evaluation(const task_context& ctx, const task_view& t,
                              const llm_result& r, int64_t now) {
  auto out = record_llm_call(r, now);
  if (!r.ok) {
    out.push_back(make_event(
        ev::task_failed, now,
        json{
            {"error",
             call_error("Evaluating task " + t.id + " (" + t.name + ")", r)}}));
    return out;
  }
  auto verdict = parse_evaluation(r.text);
  auto output = t.pending_output.value_or("");
  out.push_back(make_event(ev::task_evaluated, now,
                           json{{"attempt", t.attempts},
                                {"passed", verdict.passed},
                                {"score", verdict.score},
                                {"feedback", verdict.feedback}}));
  if (verdict.passed) {
    if (ctx.require_approval)
      out.push_back(
          make_event(ev::task_waiting_human, now,
                     json{{"question",
                           "Approve the output of '" + t.name
                               + "': submit it unchanged or edited as output."},
                          {"reason", "approval"},
                          {"draft", output}}));
    else
      out.push_back(
          make_event(ev::task_completed, now, json{{"output", output}}));
    return out;
  }
  if (t.eval_failures + 1 <= ctx.eval_max_retries) {
    out.push_back(make_event(
        ev::task_retry_scheduled, now,
        json{{"attempt", t.attempts}, {"feedback", verdict.feedback}}));
    out.push_back(
        make_event(ev::task_started, now, json{{"attempt", t.attempts + 1}}));
    return out;
  }
  auto reason = "The output failed self-evaluation "
                + std::to_string(t.eval_failures + 1)
                + " times (last feedback: " + verdict.feedback + ")";
  out.push_back(make_event(ev::task_escalated, now,
                           json{{"reason", reason}, {"draft", output}}));
  out.push_back(
      make_event(ev::task_waiting_human, now,
                 json{{"question", reason + ". Review the draft of '" + t.name
                                       + "' and submit the final output."},
                      {"reason", "escalation"},
                      {"draft", output}}));
  return out;
}

caf::expected<event_batch>
decide_human_input(const task_view& t, const std::string& output, int64_t now) {
  if (t.state != "waiting_human")
    return caf::make_error(ec::wrong_state,
                           "Task " + t.id + " is " + t.state
                               + ", not waiting for a human; only tasks in "
                                 "state waiting_human can be completed.");
  event_batch out;
  out.push_back(
      make_event(ev::task_human_input_received, now, json{{"output", output}}));
  out.push_back(make_event(ev::task_completed, now, json{{"output", output}}));
  return out;
}

std::vector<std::string> ready_tasks(const run_view& v) {
  std::vector<std::string> out;
  for (auto& t : v.tasks) {
    if (t.state != "pending")
      continue;
    bool ready = std::all_of(
        t.depends_on.begin(), t.depends_on.end(), [&](const std::string& d) {
          auto* dep = v.find_task(d);
          return dep == nullptr || dep->state == "completed";
        });
    if (ready)
      out.push_back(t.id);
  }
  return out;
}

bool all_tasks_completed(const run_view& v) {
  return std::all_of(v.tasks.begin(), v.tasks.end(),
                     [](const task_view& t) { return t.state == "completed"; });
}

std::vector<std::string> waiting_tasks(const run_view& v) {
  std::vector<std::string> out;
  for (auto& t : v.tasks)
    if (t.state == "waiting_human")
      out.push_back(t.id);
  return out;
}

void apply_task_events(task_view& t, const event_batch& events) {
  run_view tmp;
  tmp.tasks.push_back(std::move(t));
  for (auto& e : events)
    apply(tmp, e);
  t = std::move(tmp.tasks.front());
}

} // namespace orchflow
