#include "actors/dag.hpp"
#include "config/templates.hpp"
#include "providers/builtin.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace orchflow {
namespace {

using nlohmann::json;

// Every goal quoted in the product documents (seeds).
const std::vector<std::string> seed_goals = {
    "Plan and launch a faceless YouTube channel about AI tools for "
    "freelancers. Research 5 competing channels, extract content patterns, "
    "define our positioning, design a 30-day content plan, and produce a "
    "launch checklist.",
    "Plan and launch a faceless YouTube channel about AI tools for "
    "freelancers. Research 5 competing channels, extract their content "
    "patterns, define our positioning, decide the branding direction, design "
    "a 30-day content plan, and produce a launch checklist.",
    "Plan and launch a faceless YouTube channel about AI tools for "
    "freelancers.",
    "Create a blog post about AI",
    "Research 5 competitors, extract pricing, compare positioning, then "
    "propose our launch strategy.",
    "Research competitors, compare pricing, then draft our launch strategy.",
    "Research competitors and draft a launch strategy.",
};

std::map<std::string, std::vector<std::string>> deps_of(const json& plan) {
  auto d = builtin_dependencies(plan["subtasks"])["dependencies"];
  std::map<std::string, std::vector<std::string>> out;
  for (auto& [k, v] : d.items())
    out[k] = v.get<std::vector<std::string>>();
  return out;
}

TEST(BuiltinTest, EverySeedGoalGetsThreeToSixSubtasksAndADag) {
  for (auto& goal : seed_goals) {
    auto plan = builtin_split(goal);
    auto& xs = plan["subtasks"];
    EXPECT_GE(xs.size(), 3u) << goal;
    EXPECT_LE(xs.size(), 6u) << goal;
    std::set<std::string> names;
    for (auto& s : xs) {
      EXPECT_FALSE(s["name"].get<std::string>().empty());
      names.insert(s["name"].get<std::string>());
    }
    EXPECT_EQ(names.size(), xs.size()) << "duplicate names for " << goal;
    EXPECT_TRUE(is_acyclic(deps_of(plan))) << goal;
  }
}

TEST(BuiltinTest, IndependentPartsAreNotChained) {
  auto plan = builtin_split(seed_goals[1]);
  ASSERT_EQ(plan["subtasks"].size(), 6u);
  EXPECT_EQ(plan["subtasks"][0]["name"], "Research 5 competing channels");
  auto deps = deps_of(plan);
  // The research step gathers; three analysis steps build on it in
  // parallel; creation steps build on the analysis.
  EXPECT_TRUE(deps["S1"].empty());
  EXPECT_EQ(deps["S2"], std::vector<std::string>{"S1"});
  EXPECT_EQ(deps["S3"], std::vector<std::string>{"S1"});
  EXPECT_EQ(deps["S4"], std::vector<std::string>{"S1"});
  EXPECT_EQ(deps["S5"], (std::vector<std::string>{"S2", "S3", "S4"}));
  // Simple goals still get parallel branches.
  auto simple = deps_of(builtin_split("Create a blog post about AI"));
  EXPECT_TRUE(simple["S1"].empty());
  EXPECT_TRUE(simple["S2"].empty());
  EXPECT_EQ(simple["S3"], (std::vector<std::string>{"S1", "S2"}));
}

TEST(BuiltinTest, ThenForcesOrder) {
  auto plan = builtin_split(seed_goals[4]);
  ASSERT_EQ(plan["subtasks"].size(), 4u);
  auto deps = deps_of(plan);
  EXPECT_EQ(deps["S4"], (std::vector<std::string>{"S2", "S3"}));
}

std::string execute_prompt(const std::string& inputs) {
  auto& t = prompt_for("execute");
  return fill(t.user, {{"goal", "Launch a cooking podcast"},
                       {"task_name", "Research competing podcasts"},
                       {"task_description", "Find the top shows"},
                       {"inputs", inputs},
                       {"feedback", "(none)"},
                       {"attempt", "1"}});
}

TEST(BuiltinTest, OutputUsesGoalAgentAndInputs) {
  auto out = builtin_execute(
      find_template("research")->system_prompt,
      execute_prompt("<input task=\"T1\" name=\"Provide audience\">\nBusy "
                     "parents\n</input>\n"));
  EXPECT_NE(out.find("Launch a cooking podcast"), std::string::npos);
  EXPECT_NE(out.find("research"), std::string::npos);
  EXPECT_NE(out.find("Busy parents"), std::string::npos);
  EXPECT_NE(out.find("Research competing podcasts"), std::string::npos);
}

std::string evaluate_prompt(const std::string& output, int attempt) {
  auto& t = prompt_for("evaluate");
  return fill(t.user, {{"goal", "Launch a cooking podcast"},
                       {"task_name", "Research competing podcasts"},
                       {"task_description", "Find the top shows"},
                       {"output", output},
                       {"attempt", std::to_string(attempt)}});
}

TEST(BuiltinTest, EvaluationFailsEmptyAndOffTopicOutputs) {
  EXPECT_FALSE(builtin_evaluate(evaluate_prompt("", 1), 0)["passed"]);
  auto off = builtin_evaluate(
      evaluate_prompt("The weather in Lisbon is mild all year round, with "
                      "sunny days and cool evenings.",
                      1),
      0);
  EXPECT_FALSE(off["passed"]);
  EXPECT_NE(off["feedback"].get<std::string>().find("off-topic"),
            std::string::npos);
  auto good = builtin_evaluate(
      evaluate_prompt("The top competing podcasts in cooking are A, B and C; "
                      "research shows weekly episodes win.",
                      1),
      0);
  EXPECT_TRUE(good["passed"]);
}

TEST(BuiltinTest, FlakyModelFailsTheFirstAttempts) {
  auto text = std::string{"Competing podcasts research: A, B and C lead."};
  EXPECT_FALSE(builtin_evaluate(evaluate_prompt(text, 1), 2)["passed"]);
  EXPECT_FALSE(builtin_evaluate(evaluate_prompt(text, 2), 2)["passed"]);
  EXPECT_TRUE(builtin_evaluate(evaluate_prompt(text, 3), 2)["passed"]);
}

TEST(BuiltinTest, ModelNamesParse) {
  EXPECT_TRUE(parse_builtin_model("builtin"));
  auto b = parse_builtin_model("builtin-slow-200+flaky-1+error-2");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->latency_ms, 200);
  EXPECT_EQ(b->flaky, 1);
  EXPECT_EQ(b->errors, 2);
  EXPECT_TRUE(parse_builtin_model("builtin-down")->down);
  EXPECT_FALSE(parse_builtin_model("builtin-fast"));
  EXPECT_FALSE(parse_builtin_model("builtin-slow-x"));
  EXPECT_FALSE(parse_builtin_model("gpt-4o"));
}

TEST(BuiltinTest, ProviderErrorsThenSucceeds) {
  builtin_provider p;
  llm_request req;
  req.step = "finalize";
  req.model = "builtin-error-2";
  req.user = "## Goal\nX\n\n## Task outputs\n";
  for (int attempt = 1; attempt <= 3; ++attempt) {
    req.transport_attempt = attempt;
    provider_reply got;
    p.complete(req, [&](provider_reply r) { got = std::move(r); });
    EXPECT_EQ(got.ok, attempt == 3) << attempt;
    EXPECT_EQ(got.retryable, attempt < 3);
  }
  req.model = "builtin-down";
  provider_reply got;
  p.complete(req, [&](provider_reply r) { got = std::move(r); });
  EXPECT_FALSE(got.ok);
  EXPECT_FALSE(got.retryable);
}

} // namespace
} // namespace orchflow

#include "providers/text.hpp"

namespace orchflow {
namespace {

TEST(TextTest, TruncateNeverSplitsACharacter) {
  std::string s = "ééééé"; // two bytes each
  for (size_t n = 1; n < s.size(); ++n) {
    auto t = text::truncate(s, n);
    auto copy = t;
    text::sanitize_utf8(copy);
    EXPECT_EQ(copy, t) << n;
  }
}

TEST(TextTest, SanitizeReplacesInvalidSequences) {
  std::string bad = "ok \xC0\xAF \xED\xA0\x80 \x80 end\xF0\x9F";
  text::sanitize_utf8(bad);
  EXPECT_FALSE(nlohmann::json(bad).dump().empty()); // would throw if invalid
  EXPECT_EQ(bad.rfind("ok ", 0), 0u);
  // One replacement character per byte that starts no valid sequence.
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(bad, "ok " + r + r + " " + r + r + r + " " + r + " end" + r + r);
  std::string beyond = "a\xF5\x80\x80\x80";
  text::sanitize_utf8(beyond);
  EXPECT_EQ(beyond, "a" + r + r + r + r);
  std::string good = "héllo 🎉";
  auto copy = good;
  text::sanitize_utf8(copy);
  EXPECT_EQ(copy, good);
}

} // namespace
} // namespace orchflow
