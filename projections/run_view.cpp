#include "projections/run_view.hpp"

#include "events/json_util.hpp"
#include "events/time.hpp"
#include "events/types.hpp"

#include <string_view>

namespace orchflow {

using nlohmann::json;

task_view* run_view::find_task(std::string_view id) {
  for (auto& t : tasks)
    if (t.id == id)
      return &t;
  return nullptr;
}

const task_view* run_view::find_task(std::string_view id) const {
  for (auto& t : tasks)
    if (t.id == id)
      return &t;
  return nullptr;
}

namespace {

void apply_run_created(run_view& v, const event& e) {
  auto& d = e.data;
  v.run_id = get_string(d, "run_id");
  v.account_id = get_string(d, "account_id");
  v.goal = get_string(d, "task");
  v.created_at = e.ts;
  v.status = "pending";
  v.agents.clear();
  if (auto& agents = get_json(d, "agents"); agents.is_array())
    for (auto& a : agents)
      v.agents.push_back(agent_spec{get_string(a, "name"),
                                    get_string(a, "system_prompt"),
                                    get_opt_string(a, "model")});
  v.ask_me_about = get_strings(d, "ask_me_about");
  v.human_gates = get_strings(d, "human_gates");
  v.require_approval = get_bool(d, "require_approval");
  v.webhook_url = get_opt_string(d, "webhook_url");
  v.metadata = get_json(d, "metadata");
  v.provider = get_string(d, "provider");
  v.model = get_string(d, "model");
  v.provider_id = get_string(d, "provider_id");
}

void apply_assigned(run_view& v, const event& e) {
  v.assigned = true;
  v.tasks.clear();
  if (auto& tasks = get_json(e.data, "tasks"); tasks.is_array())
    for (auto& t : tasks) {
      task_view tv;
      tv.id = get_string(t, "task_id");
      tv.name = get_string(t, "name");
      tv.description = get_string(t, "description");
      tv.kind = get_string(t, "kind", "ai");
      tv.agent = get_string(t, "agent");
      tv.depends_on = get_strings(t, "depends_on");
      tv.question = get_string(t, "question");
      tv.wait_reason = get_string(t, "wait_reason");
      v.tasks.push_back(std::move(tv));
    }
  if (v.status == "planning" || v.status == "pending")
    v.status = "running";
}

void end_open_tasks(run_view& v) {
  for (auto& t : v.tasks)
    if (!t.terminal())
      t.state = "cancelled";
}

void apply_run_event(run_view& v, const event& e) {
  auto& t = e.type;
  auto& d = e.data;
  v.version = e.seq;
  if (t == ev::run_created) {
    apply_run_created(v, e);
  } else if (t == ev::run_planning_started) {
    v.planning_started = true;
    if (v.status == "pending")
      v.status = "planning";
  } else if (t == ev::run_subtasks_planned) {
    std::vector<planned_subtask> subtasks;
    if (auto& xs = get_json(d, "subtasks"); xs.is_array())
      for (auto& x : xs)
        subtasks.push_back(planned_subtask{get_string(x, "id"),
                                           get_string(x, "name"),
                                           get_string(x, "description")});
    v.planned = std::move(subtasks);
  } else if (t == ev::run_dependencies_inferred) {
    v.planned_deps = get_json(d, "depends_on");
  } else if (t == ev::run_agents_assigned) {
    apply_assigned(v, e);
  } else if (t == ev::run_waiting_human) {
    if (!v.terminal())
      v.status = "waiting_human";
  } else if (t == ev::run_resumed) {
    if (!v.terminal())
      v.status = "running";
  } else if (t == ev::run_finalizing) {
    v.finalizing = true;
    if (!v.terminal())
      v.status = "running";
  } else if (t == ev::run_completed) {
    v.status = "completed";
    v.final_output = get_string(d, "final_output");
  } else if (t == ev::run_failed) {
    v.status = "failed";
    v.error = get_string(d, "error");
    end_open_tasks(v);
  } else if (t == ev::run_cancelled) {
    v.status = "cancelled";
    end_open_tasks(v);
  }
}

void apply_task_event(run_view& v, task_view& task, const event& e) {
  auto& t = e.type;
  auto& d = e.data;
  task.version = e.seq;
  if (t == ev::task_started) {
    task.attempts = static_cast<int>(get_int(d, "attempt", task.attempts + 1));
    task.state = "running";
    task.pending_output.reset();
    if (task.started_at == 0)
      task.started_at = e.ts;
  } else if (t == ev::task_output_produced) {
    task.pending_output = get_string(d, "output");
  } else if (t == ev::task_evaluated) {
    evaluation_result r;
    r.passed = get_bool(d, "passed");
    r.score = get_double(d, "score");
    r.feedback = get_string(d, "feedback");
    if (!r.passed)
      ++task.eval_failures;
    task.evaluation = std::move(r);
  } else if (t == ev::task_retry_scheduled) {
    task.retry_feedback = get_string(d, "feedback");
    task.draft = task.pending_output;
    task.pending_output.reset();
  } else if (t == ev::task_escalated) {
    task.kind = "human";
    task.draft = get_string(d, "draft");
    task.pending_output.reset();
  } else if (t == ev::task_waiting_human) {
    task.state = "waiting_human";
    task.question = get_string(d, "question");
    task.wait_reason = get_string(d, "reason", task.wait_reason);
    if (auto draft = get_opt_string(d, "draft"))
      task.draft = std::move(draft);
    task.pending_output.reset();
    if (task.started_at == 0)
      task.started_at = e.ts;
  } else if (t == ev::task_human_input_received) {
    task.output = get_string(d, "output");
  } else if (t == ev::task_completed) {
    task.state = "completed";
    task.output = get_string(d, "output");
    task.pending_output.reset();
    task.completed_at = e.ts;
  } else if (t == ev::task_failed) {
    task.state = "failed";
    task.error = get_string(d, "error");
    task.completed_at = e.ts;
  }
  (void)v;
}

} // namespace

void apply(run_view& v, const event& e) {
  v.last_event_seq = e.pseq;
  v.updated_at = e.ts;
  if (e.type == ev::llm_call_completed) {
    ++v.usage.llm_calls;
    v.usage.input_tokens += get_int(e.data, "input_tokens");
    v.usage.output_tokens += get_int(e.data, "output_tokens");
  } else if (e.type == ev::llm_call_failed) {
    ++v.usage.llm_calls;
  }
  auto slash = e.stream.find('/');
  if (slash == std::string::npos) {
    apply_run_event(v, e);
    return;
  }
  auto id = std::string_view{e.stream}.substr(slash + 1);
  if (auto* task = v.find_task(id))
    apply_task_event(v, *task, e);
}

void apply_all(run_view& view, const event_batch& events) {
  for (auto& e : events)
    apply(view, e);
}

namespace {

json opt(const std::optional<std::string>& x) {
  return x ? json(*x) : json(nullptr);
}

json time_or_null(int64_t ms) {
  return ms == 0 ? json(nullptr) : json(format_rfc3339(ms));
}

} // namespace

json render_task(const task_view& t) {
  json evaluation = nullptr;
  if (t.evaluation)
    evaluation = json{{"passed", t.evaluation->passed},
                      {"score", t.evaluation->score},
                      {"feedback", t.evaluation->feedback}};
  return json{
      {"task_id", t.id},
      {"name", t.name},
      {"description", t.description},
      {"kind", t.kind},
      {"agent", t.agent.empty() ? json(nullptr) : json(t.agent)},
      {"state", t.state},
      {"depends_on", t.depends_on},
      {"question", t.question.empty() ? json(nullptr) : json(t.question)},
      {"output", opt(t.output)},
      {"draft", opt(t.draft)},
      {"attempts", t.attempts},
      {"evaluation", std::move(evaluation)},
      {"error", opt(t.error)},
      {"started_at", time_or_null(t.started_at)},
      {"completed_at", time_or_null(t.completed_at)},
  };
}

json render_run(const run_view& v) {
  json agents = json::array();
  for (auto& a : v.agents)
    agents.push_back(json{{"name", a.name},
                          {"system_prompt", a.system_prompt},
                          {"model", opt(a.model)}});
  json subtasks = json::object();
  json waiting = json::array();
  for (auto& t : v.tasks) {
    subtasks[t.id] = render_task(t);
    if (t.state == "waiting_human")
      waiting.push_back(t.id);
  }
  return json{
      {"run_id", v.run_id},
      {"status", v.status},
      {"task", v.goal},
      {"created_at", time_or_null(v.created_at)},
      {"updated_at", time_or_null(v.updated_at)},
      {"agents", std::move(agents)},
      {"options",
       {{"ask_me_about", v.ask_me_about},
        {"human_gates", v.human_gates},
        {"require_approval", v.require_approval},
        {"webhook_url", opt(v.webhook_url)}}},
      {"metadata", v.metadata.is_null() ? json::object() : v.metadata},
      {"provider", v.provider},
      {"provider_id",
       v.provider_id.empty() ? json(nullptr) : json(v.provider_id)},
      {"model", v.model},
      {"subtasks", std::move(subtasks)},
      {"waiting_tasks", std::move(waiting)},
      {"final_output", opt(v.final_output)},
      {"error", opt(v.error)},
      {"usage",
       {{"llm_calls", v.usage.llm_calls},
        {"input_tokens", v.usage.input_tokens},
        {"output_tokens", v.usage.output_tokens}}},
      {"last_event_seq", v.last_event_seq},
  };
}

json render_tasks(const run_view& v) {
  json tasks = json::array();
  for (auto& t : v.tasks)
    tasks.push_back(render_task(t));
  return json{{"run_id", v.run_id}, {"tasks", std::move(tasks)}};
}

json render_summary(const run_view& v) {
  return json{{"run_id", v.run_id},
              {"status", v.status},
              {"task", v.goal},
              {"created_at", time_or_null(v.created_at)},
              {"updated_at", time_or_null(v.updated_at)}};
}

json render_event(const event& e) {
  auto slash = e.stream.find('/');
  json task_id = slash == std::string::npos ? json(nullptr)
                                            : json(e.stream.substr(slash + 1));
  return json{{"seq", e.pseq},
              {"stream", e.stream},
              {"stream_seq", e.seq},
              {"global_seq", e.global_seq},
              {"type", e.type},
              {"v", e.v},
              {"ts", format_rfc3339(e.ts)},
              {"task_id", std::move(task_id)},
              {"data", e.data}};
}

} // namespace orchflow
