#include "actors/workflow.hpp"
#include "events/error.hpp"
#include "events/types.hpp"

#include <gtest/gtest.h>

namespace orchflow {
namespace {

using nlohmann::json;

TEST(WorkflowTest, SubtaskAnswersAreRepaired) {
  auto fenced
      = parse_subtasks("Sure! Here is the plan:\n```json\n{\"subtasks\":"
                       " [{\"id\":\"S1\",\"name\":\"A\"},"
                       "{\"id\":\"S2\",\"name\":\"B\"},"
                       "{\"id\":\"S3\",\"name\":\"C\"},]}\n```");
  ASSERT_TRUE(fenced) << render(fenced.error());
  EXPECT_EQ(fenced->size(), 3u);
  EXPECT_EQ((*fenced)[2].description, "C");
  auto bare = parse_subtasks("[\"one\", \"two\", \"three\", \"four\", "
                             "\"five\", \"six\", \"seven\"]");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->size(), 6u);
  EXPECT_EQ((*bare)[5].name, "six and seven");
  EXPECT_EQ((*bare)[0].id, "S1");
  EXPECT_FALSE(parse_subtasks("{\"subtasks\":[{\"name\":\"only\"}]}"));
  EXPECT_FALSE(parse_subtasks("I cannot help with that."));
}

TEST(WorkflowTest, DependencyAnswersInSeveralShapes) {
  auto a = parse_dependencies("{\"dependencies\":{\"S2\":[\"S1\"]}}");
  EXPECT_EQ(a["S2"], std::vector<std::string>{"S1"});
  auto b = parse_dependencies("[{\"id\":\"S3\",\"depends_on\":[\"S1\"]}]");
  EXPECT_EQ(b["S3"], std::vector<std::string>{"S1"});
  EXPECT_TRUE(parse_dependencies("no idea").empty());
}

TEST(WorkflowTest, EvaluationAnswers) {
  auto e = parse_evaluation("{\"passed\": false, \"score\": 3, \"feedback\": "
                            "\"too thin\"}");
  EXPECT_FALSE(e.passed);
  EXPECT_EQ(e.score, 1.0);
  EXPECT_EQ(e.feedback, "too thin");
  EXPECT_FALSE(parse_evaluation("Verdict: FAIL, it misses the point").passed);
  EXPECT_TRUE(parse_evaluation("Looks good to me").passed);
}

std::vector<agent_spec> agents() {
  return {{"research", "You are an expert research analyst.", std::nullopt},
          {"analyst", "You are a senior data analyst.", std::nullopt},
          {"writer", "You are a professional content writer.", std::nullopt}};
}

TEST(WorkflowTest, RoutingByNameThenKeywordsThenFirst) {
  auto xs = agents();
  EXPECT_EQ(pick_agent(xs, "Research competitors", ""), "research");
  EXPECT_EQ(pick_agent(xs, "Compare pricing", "analyze the data"), "analyst");
  EXPECT_EQ(pick_agent(xs, "Draft the blog post", ""), "writer");
  EXPECT_EQ(pick_agent(xs, "Zzz", "qqq"), "research");
  std::vector<agent_spec> custom{{"seo",
                                  "You optimize pages for search "
                                  "engines.",
                                  std::nullopt},
                                 {"writer", "", std::nullopt}};
  EXPECT_EQ(pick_agent(custom, "Improve search ranking", ""), "seo");
}

TEST(WorkflowTest, GatesMatchByStem) {
  EXPECT_TRUE(gate_matches("approve", "Approval of the final draft"));
  EXPECT_TRUE(gate_matches("legal approval", "Get legal approval"));
  EXPECT_FALSE(gate_matches("legal approval", "Approve the budget"));
  EXPECT_FALSE(gate_matches("founder review", "Research competitors"));
}

run_view planned_run() {
  run_view v;
  v.run_id = "run_x";
  v.goal = "Launch a podcast";
  v.agents = agents();
  v.ask_me_about = {"brand voice"};
  v.human_gates = {"legal approval", "founder review"};
  v.planned = std::vector<planned_subtask>{
      {"S1", "Research competing podcasts", "find shows"},
      {"S2", "Get legal approval", "check claims"},
      {"S3", "Draft the launch plan", "write it"}};
  v.planned_deps = json{{"S1", json::array()},
                        {"S2", json::array({"S1"})},
                        {"S3", json::array({"S1"})}};
  return v;
}

TEST(WorkflowTest, AssignmentAddsHumanTasksAndGates) {
  auto tasks = assign_tasks(planned_run())["tasks"];
  ASSERT_EQ(tasks.size(), 5u);
  EXPECT_EQ(tasks[0]["task_id"], "T1");
  EXPECT_EQ(tasks[0]["kind"], "human");
  EXPECT_EQ(tasks[0]["wait_reason"], "ask");
  EXPECT_EQ(tasks[1]["agent"], "research");
  EXPECT_EQ(tasks[1]["depends_on"], json::array({"T1"})); // roots wait
  EXPECT_EQ(tasks[2]["kind"], "human");                   // matched gate
  EXPECT_EQ(tasks[2]["depends_on"], json::array({"T2"}));
  EXPECT_EQ(tasks[3]["agent"], "writer");
  // The unmatched gate comes after every sink.
  EXPECT_EQ(tasks[4]["name"], "Founder review");
  EXPECT_EQ(tasks[4]["depends_on"], json::array({"T3", "T4"}));
}

task_view running_task(int attempts, int eval_failures) {
  task_view t;
  t.id = "T2";
  t.name = "Draft";
  t.state = "running";
  t.attempts = attempts;
  t.eval_failures = eval_failures;
  t.pending_output = "the draft";
  return t;
}

llm_result verdict(bool passed) {
  llm_result r;
  r.step = "evaluate";
  r.ok = true;
  r.attempts = 1;
  r.text = json{
      {"passed", passed},
      {"score", passed ? 0.9 : 0.1},
      {"feedback",
       "fb"}}.dump();
  return r;
}

std::vector<std::string> types(const event_batch& evs) {
  std::vector<std::string> out;
  for (auto& e : evs)
    out.push_back(e.type);
  return out;
}

TEST(WorkflowTest, EvaluationOutcomes) {
  task_context ctx;
  ctx.eval_max_retries = 2;
  EXPECT_EQ(types(decide_evaluation(ctx, running_task(1, 0), verdict(true), 1)),
            (std::vector<std::string>{ev::llm_call_completed,
                                      ev::task_evaluated, ev::task_completed}));
  EXPECT_EQ(
      types(decide_evaluation(ctx, running_task(1, 0), verdict(false), 1)),
      (std::vector<std::string>{ev::llm_call_completed, ev::task_evaluated,
                                ev::task_retry_scheduled, ev::task_started}));
  auto esc = decide_evaluation(ctx, running_task(3, 2), verdict(false), 1);
  EXPECT_EQ(types(esc), (std::vector<std::string>{
                            ev::llm_call_completed, ev::task_evaluated,
                            ev::task_escalated, ev::task_waiting_human}));
  EXPECT_EQ(esc.back().data["draft"], "the draft");
  ctx.require_approval = true;
  auto appr = decide_evaluation(ctx, running_task(1, 0), verdict(true), 1);
  EXPECT_EQ(appr.back().type, ev::task_waiting_human);
  EXPECT_EQ(appr.back().data["reason"], "approval");
}

TEST(WorkflowTest, StartAndHumanInput) {
  task_view human;
  human.kind = "human";
  human.question = "Voice?";
  EXPECT_EQ(types(decide_task_start(human, 1)),
            std::vector<std::string>{ev::task_waiting_human});
  auto t = running_task(1, 0);
  EXPECT_TRUE(decide_task_start(t, 1).empty()); // only evaluation missing
  t.pending_output.reset();
  auto restart = decide_task_start(t, 1);
  ASSERT_EQ(restart.size(), 1u);
  EXPECT_EQ(restart[0].data["attempt"], 2); // a new attempt
  auto wrong = decide_human_input(t, "x", 1);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error(), ec::wrong_state);
  t.state = "waiting_human";
  auto ok = decide_human_input(t, "x", 1);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->back().type, ev::task_completed);
}

TEST(WorkflowTest, ReadyTasksAndContext) {
  auto v = planned_run();
  auto tasks = assign_tasks(v);
  auto e = make_event(ev::run_agents_assigned, 1, tasks);
  e.stream = "run_x";
  apply(v, e);
  EXPECT_EQ(ready_tasks(v), std::vector<std::string>{"T1"});
  v.tasks[0].state = "completed";
  v.tasks[0].output = "calm";
  v.tasks[1].state = "completed";
  v.tasks[1].output = "shows";
  EXPECT_EQ(ready_tasks(v), (std::vector<std::string>{"T3", "T4"}));
  auto ctx = make_task_context(v, *v.find_task("T4"), 2);
  ASSERT_EQ(ctx.inputs.size(), 2u); // its dependency and the human answer
  EXPECT_EQ(std::get<0>(ctx.inputs[0]), "T1");
  auto req = execute_request(ctx, *v.find_task("T4"));
  EXPECT_NE(req.user.find("calm"), std::string::npos);
  EXPECT_NE(req.user.find("Launch a podcast"), std::string::npos);
  EXPECT_NE(req.system.find("content writer"), std::string::npos);
}

} // namespace
} // namespace orchflow
