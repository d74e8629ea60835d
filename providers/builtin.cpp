#include "providers/builtin.hpp"

#include "events/json_util.hpp"
#include "providers/text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

namespace orchflow {

using nlohmann::json;

namespace {

// -- kinds of work ------------------------------------------------------------

/// Stage of a verb: 0 gather, 1 analyze, 2 create, 3 finish; -1 unknown.
int verb_stage(std::string_view verb) {
  static constexpr std::array<std::pair<std::string_view, int>, 96> table{{
      {"research", 0},   {"collect", 0},     {"gather", 0},
      {"find", 0},       {"investigate", 0}, {"survey", 0},
      {"study", 0},      {"explore", 0},     {"identify", 0},
      {"discover", 0},   {"interview", 0},   {"scan", 0},
      {"list", 0},       {"search", 0},      {"audit", 0},
      {"look", 0},       {"read", 0},        {"learn", 0},
      {"scout", 0},      {"map", 0},         {"analyze", 1},
      {"analyse", 1},    {"extract", 1},     {"compare", 1},
      {"evaluate", 1},   {"assess", 1},      {"define", 1},
      {"decide", 1},     {"choose", 1},      {"select", 1},
      {"prioritize", 1}, {"benchmark", 1},   {"summarize", 1},
      {"estimate", 1},   {"determine", 1},   {"outline", 1},
      {"categorize", 1}, {"segment", 1},     {"rank", 1},
      {"calculate", 1},  {"forecast", 1},    {"brainstorm", 1},
      {"understand", 1}, {"model", 1},       {"design", 2},
      {"plan", 2},       {"draft", 2},       {"write", 2},
      {"create", 2},     {"build", 2},       {"develop", 2},
      {"produce", 2},    {"propose", 2},     {"prepare", 2},
      {"implement", 2},  {"make", 2},        {"compose", 2},
      {"code", 2},       {"craft", 2},       {"generate", 2},
      {"set", 2},        {"establish", 2},   {"organize", 2},
      {"schedule", 2},   {"record", 2},      {"translate", 2},
      {"recommend", 2},  {"document", 2},    {"review", 3},
      {"edit", 3},       {"proofread", 3},   {"finalize", 3},
      {"polish", 3},     {"test", 3},        {"verify", 3},
      {"publish", 3},    {"launch", 3},      {"approve", 3},
      {"present", 3},    {"deliver", 3},     {"ship", 3},
      {"deploy", 3},     {"announce", 3},    {"refine", 3},
      {"get", 3},        {"obtain", 3},      {"secure", 3},
      {"confirm", 3},    {"sign", 3},        {"validate", 3},
      {"measure", 3},    {"track", 3},       {"ask", 0},
      {"contact", 0},    {"hire", 2},        {"run", 2},
  }};
  for (auto& [w, s] : table)
    if (w == verb)
      return s;
  return -1;
}

std::string first_word(std::string_view x) {
  auto ws = text::words(x);
  return ws.empty() ? std::string{} : ws.front();
}

constexpr std::string_view after_marker = " (after the previous steps)";

// -- splitting a goal into clauses -------------------------------------------

struct clause {
  std::string text;
  bool then = false;
};

std::vector<std::string> sentences(std::string_view goal) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < goal.size(); ++i) {
    char c = goal[i];
    bool end = c == '\n' || c == ';'
               || ((c == '.' || c == '!' || c == '?')
                   && (i + 1 == goal.size() || goal[i + 1] == ' '
                       || goal[i + 1] == '\n'));
    if (end) {
      if (auto t = text::trim(cur); !t.empty())
        out.push_back(t);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (auto t = text::trim(cur); !t.empty())
    out.push_back(t);
  return out;
}

std::vector<clause> clauses_of(const std::string& sentence) {
  // Split on commas and on "and then" / ", then"; "Plan and launch" stays.
  std::vector<clause> out;
  std::vector<std::string> parts;
  std::string cur;
  for (char c : sentence) {
    if (c == ',') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  std::vector<std::string> split;
  for (auto& p : parts) {
    // " and then " / " then " inside a part also separate clauses.
    std::string rest = p;
    for (;;) {
      auto low = text::lower(rest);
      auto i = low.find(" and then ");
      size_t skip = 10;
      if (i == std::string::npos) {
        i = low.find(" then ");
        skip = 6;
      }
      if (i == std::string::npos || i == 0)
        break;
      split.push_back(rest.substr(0, i));
      rest = "then " + rest.substr(i + skip);
    }
    split.push_back(rest);
  }
  for (auto& s : split) {
    auto t = text::trim(s);
    clause c;
    for (bool again = true; again;) {
      again = false;
      auto low = text::lower(t);
      for (std::string_view lead :
           {"and ", "then ", "also ", "finally ", "and finally ", "or "}) {
        if (low.rfind(lead, 0) == 0) {
          if (lead == "then " || lead == "finally ")
            c.then = true;
          t = text::trim(std::string_view{t}.substr(lead.size()));
          again = true;
          break;
        }
      }
    }
    if (t.empty())
      continue;
    c.text = t;
    out.push_back(std::move(c));
  }
  return out;
}

/// Clauses that start with a known verb; others extend the previous one.
std::vector<clause> actions_of(const std::vector<std::string>& sents) {
  std::vector<clause> out;
  for (auto& s : sents)
    for (auto& c : clauses_of(s)) {
      if (verb_stage(first_word(c.text)) >= 0 || out.empty()) {
        out.push_back(c);
      } else {
        out.back().text += ", " + c.text;
      }
    }
  // A leading clause without a verb is not an action.
  if (!out.empty() && verb_stage(first_word(out.front().text)) < 0)
    out.erase(out.begin());
  return out;
}

json subtask(int n, std::string name, std::string description) {
  return json{{"id", "S" + std::to_string(n)},
              {"name", text::truncate(name, 80)},
              {"description", std::move(description)}};
}

json fallback_plan(std::string_view goal) {
  auto topic = text::truncate(text::one_line(text::first_sentence(goal)), 200);
  if (!topic.empty() && (topic.back() == '.' || topic.back() == '!'))
    topic.pop_back();
  json xs = json::array();
  xs.push_back(subtask(1, "Research the subject",
                       "Collect the key facts, figures, examples and prior "
                       "work needed for: "
                           + topic));
  xs.push_back(subtask(2, "Identify the audience and requirements",
                       "Work out who the result is for, what they need, the "
                       "constraints and the success criteria for: "
                           + topic));
  xs.push_back(subtask(3, "Draft the deliverable",
                       "Produce a complete first version of: " + topic));
  xs.push_back(subtask(4, "Review and refine the result",
                       "Check the draft against the goal and the "
                       "requirements, fix gaps and polish it: "
                           + topic));
  return json{{"subtasks", std::move(xs)}};
}

} // namespace

std::optional<builtin_behavior> parse_builtin_model(std::string_view model) {
  if (model.rfind("builtin", 0) != 0)
    return std::nullopt;
  builtin_behavior b;
  auto rest = model.substr(7);
  if (rest.empty())
    return b;
  if (rest.front() != '-' && rest.front() != ':')
    return std::nullopt;
  rest.remove_prefix(1);
  while (!rest.empty()) {
    auto plus = rest.find('+');
    auto part = rest.substr(0, plus);
    rest = plus == std::string_view::npos ? std::string_view{}
                                          : rest.substr(plus + 1);
    auto dash = part.rfind('-');
    auto name = part.substr(0, dash);
    int64_t n = 0;
    if (dash != std::string_view::npos) {
      auto digits = part.substr(dash + 1);
      auto [p, ec]
          = std::from_chars(digits.data(), digits.data() + digits.size(), n);
      if (ec != std::errc{} || p != digits.data() + digits.size() || n < 0)
        return std::nullopt;
    }
    if (name == "down" && dash == std::string_view::npos)
      b.down = true;
    else if (name == "slow" && dash != std::string_view::npos)
      b.latency_ms = std::min<int64_t>(n, 600000);
    else if (name == "flaky" && dash != std::string_view::npos)
      b.flaky = static_cast<int>(std::min<int64_t>(n, 1000));
    else if (name == "error" && dash != std::string_view::npos)
      b.errors = static_cast<int>(std::min<int64_t>(n, 1000));
    else
      return std::nullopt;
  }
  return b;
}

json builtin_split(std::string_view goal) {
  auto sents = sentences(goal);
  std::vector<clause> actions;
  if (sents.size() > 1) {
    // The first sentence usually states the objective; the rest lists
    // the work. Use the rest when it holds enough actions.
    std::vector<std::string> tail(sents.begin() + 1, sents.end());
    actions = actions_of(tail);
  }
  if (actions.size() < 3)
    actions = actions_of(sents);
  if (actions.size() < 3)
    return fallback_plan(goal);
  while (actions.size() > 6) {
    // Merge the two last actions: plans stay at 6 steps at most.
    auto last = actions.back();
    actions.pop_back();
    actions.back().text += " and " + last.text;
  }
  auto objective
      = text::truncate(text::one_line(text::first_sentence(goal)), 200);
  json xs = json::array();
  int n = 0;
  for (auto& a : actions) {
    auto name = text::capitalize(text::one_line(a.text));
    auto desc = name + " as part of the goal: " + objective;
    if (a.then)
      desc += after_marker;
    xs.push_back(subtask(++n, name, desc));
  }
  return json{{"subtasks", std::move(xs)}};
}

json builtin_dependencies(const json& subtasks) {
  std::vector<std::pair<std::string, int>> staged; // (id, stage)
  int max_so_far = -1;
  if (subtasks.is_array())
    for (auto& s : subtasks) {
      if (!s.is_object() || !s.contains("id") || !s["id"].is_string())
        continue;
      auto name = get_string(s, "name");
      auto desc = get_string(s, "description");
      int stage = verb_stage(first_word(name));
      if (stage < 0)
        stage = 1;
      if (desc.find(after_marker) != std::string::npos)
        stage = std::max(stage, max_so_far + 1);
      max_so_far = std::max(max_so_far, stage);
      staged.emplace_back(s["id"].get<std::string>(), stage);
    }
  json deps = json::object();
  for (auto& [id, stage] : staged) {
    int below = -1;
    for (auto& [other, s] : staged)
      if (s < stage)
        below = std::max(below, s);
    json xs = json::array();
    if (below >= 0)
      for (auto& [other, s] : staged)
        if (s == below)
          xs.push_back(other);
    deps[id] = std::move(xs);
  }
  return json{{"dependencies", std::move(deps)}};
}

namespace {

std::string role_of(std::string_view system) {
  auto low = text::lower(system);
  for (auto [needle, role] :
       std::array<std::pair<std::string_view, std::string_view>, 6>{{
           {"research", "research"},
           {"software engineer", "coding"},
           {"data analyst", "analyst"},
           {"editor", "editor"},
           {"writer", "writer"},
           {"analy", "analyst"},
       }})
    if (low.find(needle) != std::string::npos)
      return std::string{role};
  return "generalist";
}

std::string bullets(const std::string& role,
                    const std::vector<std::string>& kws) {
  std::string out;
  auto kw = [&](size_t i) {
    return kws.empty() ? std::string{"the goal"} : kws[i % kws.size()];
  };
  if (role == "research") {
    out += "Key findings:\n";
    out += "1. " + text::capitalize(kw(0))
           + ": the leading options differ mostly in focus, audience and "
             "cadence; list them side by side before choosing.\n";
    out += "2. " + text::capitalize(kw(1))
           + ": recurring patterns are the strongest evidence; note each "
             "source and how recent it is.\n";
    out += "3. " + text::capitalize(kw(2))
           + ": gaps nobody covers well are the opportunity to target.\n";
    out += "Reasoning: facts above come from comparing the inputs and the "
           "goal; verify figures before publishing.\n";
  } else if (role == "analyst") {
    out += "Summary: " + text::capitalize(kw(0)) + " and " + kw(1)
           + " drive the outcome.\n";
    out += "Findings:\n- Pattern: " + kw(1)
           + " is consistent across the inputs.\n- Trend: demand around "
           + kw(2) + " is growing.\n";
    out += "Recommendations:\n1. Prioritize " + kw(0) + ".\n2. Measure " + kw(2)
           + " weekly and adjust.\n";
  } else if (role == "coding") {
    out += "Implementation plan for " + kw(0) + ":\n";
    out += "```\n// " + kw(0)
           + ": validate input, handle errors, log\n"
             "int run() {\n  // 1. load configuration\n  // 2. process "
           + kw(1) + "\n  // 3. report results\n  return 0;\n}\n```\n";
  } else if (role == "editor") {
    out += "Review:\n- Clarity: tighten the part about " + kw(0) + ".\n";
    out += "- Flow: move " + kw(1) + " before the details.\n";
    out += "- Consistency: align terms for " + kw(2) + " throughout.\n";
  } else {
    out += "Draft:\n";
    out += "- Opening: why " + kw(0) + " matters to the audience.\n";
    out += "- Body: " + text::capitalize(kw(1)) + ", then " + kw(2)
           + ", with one concrete example each.\n";
    out += "- Close: a clear next step.\n";
  }
  return out;
}

} // namespace

namespace {

/// The substance of a step's output: without the heading, the goal and
/// agent lines and the list of inputs it built on.
std::string substance(std::string_view body) {
  std::string out;
  bool in_inputs = false;
  size_t pos = 0;
  while (pos <= body.size()) {
    auto nl = body.find('\n', pos);
    auto line = body.substr(
        pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? body.size() + 1 : nl + 1;
    if (in_inputs) {
      if (line.empty())
        in_inputs = false;
      continue;
    }
    if (line.rfind("Building on earlier work:", 0) == 0) {
      in_inputs = true;
      continue;
    }
    if (line.rfind("# ", 0) == 0 || line.rfind("Goal: ", 0) == 0
        || line.rfind("Agent: ", 0) == 0
        || line.rfind("No earlier outputs", 0) == 0
        || (line.empty() && out.empty()))
      continue;
    out += line;
    out += '\n';
  }
  auto t = text::trim(out);
  return t.empty() ? text::trim(body) : t;
}

} // namespace

std::string builtin_execute(std::string_view system, std::string_view user) {
  auto goal = text::section(user, "Goal");
  auto task = text::section(user, "Your task");
  auto inputs = text::section(user, "Inputs");
  auto feedback = text::section(user, "Feedback on the previous attempt");
  auto name = text::trim(task.substr(0, task.find(':')));
  auto role = role_of(system);
  // Topic words: the task's name without its verb, then the goal's.
  std::vector<std::string> kws;
  auto add = [&](std::string_view from, bool skip_verb) {
    auto ws = text::keywords(from);
    for (size_t i = 0; i < ws.size(); ++i) {
      if (skip_verb && i == 0 && verb_stage(ws[i]) >= 0)
        continue;
      if (verb_stage(ws[i]) < 0
          && std::find(kws.begin(), kws.end(), ws[i]) == kws.end())
        kws.push_back(ws[i]);
    }
  };
  add(name, true);
  add(goal, false);
  std::string out = "# " + name + "\n\n";
  out += "Goal: " + text::truncate(text::one_line(goal), 300) + "\n";
  out += "Agent: " + role + " — "
         + text::truncate(text::first_sentence(system), 160) + "\n\n";
  if (inputs.empty() || inputs == "(none)") {
    out += "No earlier outputs were needed for this step.\n\n";
  } else {
    out += "Building on earlier work:\n";
    // Inputs arrive as <input task="T1" name="...">...</input> blocks.
    size_t pos = 0;
    while ((pos = inputs.find("<input", pos)) != std::string::npos) {
      auto head_end = inputs.find('>', pos);
      auto close = inputs.find("</input>", head_end);
      if (head_end == std::string::npos || close == std::string::npos)
        break;
      auto head = inputs.substr(pos, head_end - pos);
      auto nq = head.find("name=\"");
      std::string label = "input";
      if (nq != std::string::npos) {
        auto e = head.find('"', nq + 6);
        label = head.substr(nq + 6, e - nq - 6);
      }
      auto body = inputs.substr(head_end + 1, close - head_end - 1);
      out += "- " + label + ": " + text::truncate(text::one_line(body), 160)
             + "\n";
      pos = close + 8;
    }
    out += "\n";
  }
  out += bullets(role, kws);
  if (!feedback.empty() && feedback != "(none)")
    out += "\nAddressed reviewer feedback: "
           + text::truncate(text::one_line(feedback), 240) + "\n";
  return out;
}

json builtin_evaluate(std::string_view user, int flaky) {
  auto task = text::section(user, "Task");
  auto output = text::section(user, "Output to evaluate");
  // Strip the <input> wrapper.
  if (output.rfind("<input>", 0) == 0)
    output = output.substr(7);
  if (auto e = output.rfind("</input>"); e != std::string::npos)
    output = output.substr(0, e);
  output = text::trim(output);
  auto name = text::trim(task.substr(0, task.find(':')));
  int attempt = 1;
  auto att = text::section(user, "Attempt");
  std::from_chars(att.data(), att.data() + att.size(), attempt);
  auto kws = text::keywords(name);
  if (output.empty())
    return json{{"passed", false},
                {"score", 0.0},
                {"feedback", "The output is empty; write the complete result "
                             "of the task '"
                                 + name + "'."}};
  if (output.size() < 40)
    return json{{"passed", false},
                {"score", 0.2},
                {"feedback", "The output is too short to accomplish '" + name
                                 + "'; give a complete answer."}};
  size_t hits = 0;
  std::string missing;
  for (auto& k : kws) {
    if (text::mentions(output, k))
      ++hits;
    else if (missing.empty())
      missing = k;
  }
  if (!kws.empty() && hits == 0)
    return json{{"passed", false},
                {"score", 0.1},
                {"feedback", "The output is off-topic: it never addresses '"
                                 + name + "' (e.g. " + kws.front() + ")."}};
  if (attempt <= flaky)
    return json{
        {"passed", false},
        {"score", 0.4},
        {"feedback", "Builtin reviewer (flaky-" + std::to_string(flaky)
                         + ") rejects attempt " + std::to_string(attempt)
                         + " on purpose: expand the part about "
                         + (kws.empty() ? std::string{"the goal"} : kws.back())
                         + "."}};
  double coverage = kws.empty() ? 1.0 : double(hits) / double(kws.size());
  double score = std::min(0.95, 0.6 + 0.35 * coverage);
  score = static_cast<int>(score * 100) / 100.0;
  std::string fb = "The output addresses '" + name + "' using the goal";
  fb += missing.empty() ? "." : "; it could say more about " + missing + ".";
  return json{{"passed", true}, {"score", score}, {"feedback", fb}};
}

std::string builtin_finalize(std::string_view user) {
  auto goal = text::section(user, "Goal");
  auto outputs = text::section(user, "Task outputs");
  std::string out = "# Final result\n\nGoal: "
                    + text::truncate(text::one_line(goal), 400) + "\n\n";
  size_t pos = 0;
  int n = 0;
  while ((pos = outputs.find("<input", pos)) != std::string::npos) {
    auto head_end = outputs.find('>', pos);
    auto close = outputs.find("</input>", head_end);
    if (head_end == std::string::npos || close == std::string::npos)
      break;
    auto head = outputs.substr(pos, head_end - pos);
    std::string label = "Step";
    if (auto nq = head.find("name=\""); nq != std::string::npos) {
      auto e = head.find('"', nq + 6);
      label = head.substr(nq + 6, e - nq - 6);
    }
    auto body = outputs.substr(head_end + 1, close - head_end - 1);
    out += "## " + std::to_string(++n) + ". " + label + "\n"
           + text::truncate(substance(body), 700) + "\n\n";
    pos = close + 8;
  }
  out += "## Next steps\nWork through the sections above in order: human "
         "inputs first, then the findings, then the deliverables built on "
         "them.\n";
  return out;
}

void builtin_provider::complete(const llm_request& req,
                                std::function<void(provider_reply)> done) {
  provider_reply r;
  auto behavior = parse_builtin_model(req.model);
  if (!behavior) {
    r.error = "unknown builtin model '" + req.model
              + "' (use builtin, builtin-slow-MS, builtin-flaky-N, "
                "builtin-error-N or builtin-down)";
    done(std::move(r));
    return;
  }
  r.delay_ms = behavior->latency_ms;
  if (behavior->down) {
    r.error = "the builtin provider is down (model builtin-down)";
    done(std::move(r));
    return;
  }
  if (req.transport_attempt <= behavior->errors) {
    r.error = "the builtin provider is overloaded (simulated error "
              + std::to_string(req.transport_attempt) + " of "
              + std::to_string(behavior->errors) + ")";
    r.retryable = true;
    done(std::move(r));
    return;
  }
  if (req.step == "split") {
    r.text = builtin_split(text::section(req.user, "Goal")).dump(2);
  } else if (req.step == "dependencies") {
    auto subtasks
        = json::parse(text::section(req.user, "Subtasks"), nullptr, false);
    r.text = builtin_dependencies(subtasks).dump(2);
  } else if (req.step == "execute") {
    r.text = builtin_execute(req.system, req.user);
  } else if (req.step == "evaluate") {
    r.text = builtin_evaluate(req.user, behavior->flaky).dump();
  } else if (req.step == "finalize") {
    r.text = builtin_finalize(req.user);
  } else {
    r.error = "the builtin provider does not know the step '" + req.step + "'";
    done(std::move(r));
    return;
  }
  r.ok = true;
  // Rough token counts: about four characters per token.
  r.input_tokens
      = static_cast<int64_t>((req.system.size() + req.user.size() + 3) / 4);
  r.output_tokens = static_cast<int64_t>((r.text.size() + 3) / 4);
  done(std::move(r));
}

} // namespace orchflow
