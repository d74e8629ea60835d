// Reading LLM answers and routing subtasks (pure functions).

#include "actors/dag.hpp"
#include "actors/workflow.hpp"
#include "config/templates.hpp"
#include "events/error.hpp"
#include "events/json_util.hpp"
#include "providers/text.hpp"

#include <algorithm>

namespace orchflow {

using nlohmann::json;

namespace {

std::string replace_all(std::string s, std::string_view from,
                        std::string_view to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

/// Removes commas directly before a closing bracket, outside strings.
std::string drop_trailing_commas(const std::string& s) {
  std::string out;
  bool in_str = false;
  bool esc = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_str) {
      out += c;
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
    if (c == ',') {
      auto j = s.find_first_not_of(" \t\r\n", i + 1);
      if (j != std::string::npos && (s[j] == '}' || s[j] == ']'))
        continue;
    }
    out += c;
  }
  return out;
}

} // namespace

std::optional<json> extract_json(std::string_view answer) {
  std::string s{answer};
  s = replace_all(s, "\xe2\x80\x9c", "\""); // smart quotes
  s = replace_all(s, "\xe2\x80\x9d", "\"");
  auto try_parse = [](const std::string& x) -> std::optional<json> {
    auto j = json::parse(x, nullptr, false);
    if (j.is_discarded())
      j = json::parse(drop_trailing_commas(x), nullptr, false);
    if (j.is_discarded())
      return std::nullopt;
    return j;
  };
  if (auto j = try_parse(s))
    return j;
  // Take the outermost {...} or [...] span (code fences, prose around it).
  for (auto [open, close] : {std::pair{'{', '}'}, std::pair{'[', ']'}}) {
    auto b = s.find(open);
    auto e = s.rfind(close);
    if (b != std::string::npos && e != std::string::npos && e > b)
      if (auto j = try_parse(s.substr(b, e - b + 1)))
        return j;
  }
  return std::nullopt;
}

caf::expected<std::vector<planned_subtask>>
parse_subtasks(std::string_view answer) {
  auto j = extract_json(answer);
  if (!j)
    return caf::make_error(ec::invalid_argument,
                           "the planner's answer is not JSON");
  const json* list = nullptr;
  if (j->is_array())
    list = &*j;
  else if (auto& xs = get_json(*j, "subtasks"); xs.is_array())
    list = &xs;
  else if (auto& ys = get_json(*j, "tasks"); ys.is_array())
    list = &ys;
  if (list == nullptr)
    return caf::make_error(ec::invalid_argument,
                           "the planner's answer has no subtask list");
  std::vector<planned_subtask> result;
  for (auto& x : *list) {
    planned_subtask s;
    if (x.is_string()) {
      s.name = x.get<std::string>();
    } else {
      s.name = get_string(x, "name", get_string(x, "title"));
      s.description = get_string(x, "description", get_string(x, "details"));
      s.id = get_string(x, "id");
    }
    s.name = text::truncate(text::one_line(s.name), 120);
    if (s.name.empty())
      s.name = text::truncate(text::one_line(s.description), 80);
    if (s.name.empty())
      continue;
    if (s.description.empty())
      s.description = s.name;
    result.push_back(std::move(s));
  }
  while (result.size() > 6) {
    auto last = result.back();
    result.pop_back();
    result.back().name += " and " + last.name;
    result.back().description += " " + last.description;
  }
  if (result.size() < 3)
    return caf::make_error(ec::invalid_argument,
                           "the planner proposed "
                               + std::to_string(result.size())
                               + " subtasks; 3 to 6 are needed");
  // Keep the planner's ids when unique and present (dependencies refer to
  // them); otherwise number S1..Sn.
  bool ids_ok = true;
  for (size_t i = 0; i < result.size() && ids_ok; ++i) {
    if (result[i].id.empty())
      ids_ok = false;
    for (size_t k = 0; k < i && ids_ok; ++k)
      ids_ok = result[k].id != result[i].id;
  }
  for (size_t i = 0; i < result.size(); ++i)
    if (!ids_ok)
      result[i].id = "S" + std::to_string(i + 1);
  return result;
}

std::map<std::string, std::vector<std::string>>
parse_dependencies(std::string_view answer) {
  std::map<std::string, std::vector<std::string>> result;
  auto j = extract_json(answer);
  if (!j)
    return result;
  const json* deps = &*j;
  if (auto& d = get_json(*j, "dependencies"); !d.is_null())
    deps = &d;
  auto read_list = [](const json& x) {
    std::vector<std::string> ids;
    if (x.is_array())
      for (auto& y : x)
        if (y.is_string())
          ids.push_back(y.get<std::string>());
    return ids;
  };
  if (deps->is_object()) {
    for (auto& [id, list] : deps->items())
      result[id] = read_list(list);
  } else if (deps->is_array()) {
    for (auto& x : *deps) {
      auto id = get_string(x, "id", get_string(x, "subtask"));
      if (!id.empty())
        result[id] = read_list(get_json(x, "depends_on"));
    }
  }
  return result;
}

evaluation_result parse_evaluation(std::string_view answer) {
  evaluation_result r;
  if (auto j = extract_json(answer); j && j->is_object()) {
    auto& p = get_json(*j, "passed");
    if (p.is_boolean()) {
      r.passed = p.get<bool>();
      r.score = get_double(*j, "score", r.passed ? 0.8 : 0.2);
      r.score = std::clamp(r.score, 0.0, 1.0);
      r.feedback = get_string(*j, "feedback");
      return r;
    }
  }
  // A verdict in prose: look for a clear word.
  auto low = text::lower(answer);
  bool fail = low.find("fail") != std::string::npos
              || low.find("reject") != std::string::npos;
  r.passed = !fail;
  r.score = fail ? 0.3 : 0.7;
  r.feedback = text::truncate(text::one_line(answer), 500);
  return r;
}

std::string pick_agent(const std::vector<agent_spec>& agents,
                       std::string_view name, std::string_view description) {
  if (agents.empty())
    return "writer";
  std::string what{name};
  what += ' ';
  what += description;
  // 1. The agent's name appears in the subtask's name.
  for (auto& a : agents)
    if (text::mentions(name, a.name))
      return a.name;
  // 2. Role keywords: the template's, or those of a custom system prompt.
  size_t best = 0;
  const agent_spec* pick = nullptr;
  for (auto& a : agents) {
    std::vector<std::string> kws;
    if (auto* t = find_template(a.name))
      kws = t->keywords;
    for (auto& k : text::keywords(a.system_prompt))
      kws.push_back(k);
    // The name decides (its leading verb most); the description, which
    // often repeats the whole goal, only breaks ties.
    size_t score = 0;
    auto name_words = text::keywords(name);
    for (size_t i = 0; i < name_words.size(); ++i)
      for (auto& k : kws)
        if (text::same_stem(name_words[i], k)) {
          score += i == 0 ? 300 : 200;
          break;
        }
    for (auto& w : text::keywords(description))
      for (auto& k : kws)
        if (text::same_stem(w, k)) {
          ++score;
          break;
        }
    if (score > best) {
      best = score;
      pick = &a;
    }
  }
  return pick ? pick->name : agents.front().name;
}

bool gate_matches(std::string_view gate, std::string_view name) {
  auto gate_words = text::keywords(gate);
  if (gate_words.empty())
    gate_words = text::words(gate);
  if (gate_words.empty())
    return false;
  for (auto& w : gate_words)
    if (!text::mentions(name, w))
      return false;
  return true;
}

json assign_tasks(const run_view& v) {
  json tasks = json::array();
  int n = 0;
  std::vector<std::string> ask_ids;
  for (auto& fact : v.ask_me_about) {
    auto id = "T" + std::to_string(++n);
    ask_ids.push_back(id);
    tasks.push_back(
        json{{"task_id", id},
             {"name", "Provide " + fact},
             {"description", "Human input: " + fact},
             {"kind", "human"},
             {"agent", ""},
             {"depends_on", json::array()},
             {"question",
              "Please provide the " + fact + ". It is needed for: "
                  + text::truncate(text::one_line(text::first_sentence(v.goal)),
                                   160)},
             {"wait_reason", "ask"}});
  }
  // Planned subtasks, renumbered after the human questions.
  std::map<std::string, std::string> id_of; // S-id -> T-id
  auto& planned = *v.planned;
  for (auto& s : planned)
    id_of[s.id] = "T" + std::to_string(++n);
  std::map<std::string, std::vector<std::string>> deps;
  if (v.planned_deps && v.planned_deps->is_object())
    for (auto& [id, list] : v.planned_deps->items())
      for (auto& d : list)
        if (d.is_string())
          deps[id].push_back(d.get<std::string>());
  std::vector<std::string> used_gates;
  std::vector<std::string> has_dependents;
  for (auto& s : planned) {
    json depends_on = json::array();
    for (auto& d : deps[s.id]) {
      depends_on.push_back(id_of[d]);
      has_dependents.push_back(id_of[d]);
    }
    if (depends_on.empty())
      for (auto& a : ask_ids)
        depends_on.push_back(a);
    std::string gate;
    for (auto& g : v.human_gates)
      if (gate_matches(g, s.name)) {
        gate = g;
        break;
      }
    json t{{"task_id", id_of[s.id]},
           {"name", s.name},
           {"description", s.description},
           {"depends_on", std::move(depends_on)}};
    if (!gate.empty()) {
      used_gates.push_back(gate);
      t["kind"] = "human";
      t["agent"] = "";
      t["question"] = "Human gate '" + gate + "': please complete '" + s.name
                      + "' (" + s.description + ") and submit the result.";
      t["wait_reason"] = "gate";
    } else {
      t["kind"] = "ai";
      t["agent"] = pick_agent(v.agents, s.name, s.description);
      t["question"] = "";
      t["wait_reason"] = "";
    }
    tasks.push_back(std::move(t));
  }
  // Gates no planned step matched still happen: after all other work.
  std::vector<std::string> sinks;
  for (auto& s : planned)
    if (std::find(has_dependents.begin(), has_dependents.end(), id_of[s.id])
        == has_dependents.end())
      sinks.push_back(id_of[s.id]);
  for (auto& g : v.human_gates) {
    if (std::find(used_gates.begin(), used_gates.end(), g) != used_gates.end())
      continue;
    auto id = "T" + std::to_string(++n);
    tasks.push_back(json{{"task_id", id},
                         {"name", text::capitalize(g)},
                         {"description", "Human gate: " + g},
                         {"kind", "human"},
                         {"agent", ""},
                         {"depends_on", sinks},
                         {"question", "Human gate '" + g
                                          + "': review the work so far and "
                                            "submit your decision or input."},
                         {"wait_reason", "gate"}});
  }
  return json{{"tasks", std::move(tasks)}};
}

} // namespace orchflow
