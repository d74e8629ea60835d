#include "events/types.hpp"
#include "projections/run_view.hpp"

#include <gtest/gtest.h>

namespace orchflow {
namespace {

using nlohmann::json;

event at(std::string stream, uint64_t seq, uint64_t pseq, std::string type,
         json data) {
  auto e = make_event(std::move(type), 1000 + static_cast<int64_t>(pseq),
                      std::move(data));
  e.stream = std::move(stream);
  e.seq = seq;
  e.pseq = pseq;
  e.global_seq = pseq;
  return e;
}

event_batch history() {
  return {
      at("run_a", 1, 1, ev::run_created,
         {{"run_id", "run_a"},
          {"account_id", "acct_1"},
          {"task", "Write a post"},
          {"agents", json::array({{{"name", "writer"},
                                   {"system_prompt", "You write."},
                                   {"model", nullptr}}})},
          {"require_approval", false}}),
      at("run_a", 2, 2, ev::run_planning_started, json::object()),
      at("run_a", 3, 3, ev::run_agents_assigned,
         {{"tasks", json::array({{{"task_id", "T1"},
                                  {"name", "Provide voice"},
                                  {"kind", "human"},
                                  {"agent", ""},
                                  {"depends_on", json::array()},
                                  {"question", "Voice?"}},
                                 {{"task_id", "T2"},
                                  {"name", "Draft"},
                                  {"kind", "ai"},
                                  {"agent", "writer"},
                                  {"depends_on", json::array({"T1"})}}})}}),
      at("run_a/T1", 1, 4, ev::task_waiting_human,
         {{"question", "Voice?"}, {"reason", "ask"}}),
      at("run_a", 4, 5, ev::run_waiting_human,
         {{"waiting_tasks", json::array({"T1"})}}),
  };
}

TEST(RunViewTest, FoldsStatusTasksAndSequences) {
  run_view v;
  apply_all(v, history());
  EXPECT_EQ(v.status, "waiting_human");
  EXPECT_EQ(v.version, 4u);
  EXPECT_EQ(v.last_event_seq, 5u);
  ASSERT_EQ(v.tasks.size(), 2u);
  EXPECT_EQ(v.tasks[0].state, "waiting_human");
  EXPECT_EQ(v.tasks[0].version, 1u);
  EXPECT_EQ(v.tasks[1].state, "pending");
  auto doc = render_run(v);
  EXPECT_EQ(doc["waiting_tasks"], json::array({"T1"}));
  EXPECT_EQ(doc["subtasks"]["T2"]["agent"], "writer");
  EXPECT_TRUE(doc["subtasks"]["T1"]["agent"].is_null());
  EXPECT_EQ(doc["created_at"], "1970-01-01T00:00:01.001Z");
}

TEST(RunViewTest, CountsLlmUsageAndRetries) {
  run_view v;
  apply_all(v, history());
  apply(v, at("run_a/T1", 2, 6, ev::task_completed, {{"output", "bold"}}));
  apply(v, at("run_a/T2", 1, 7, ev::task_started, {{"attempt", 1}}));
  apply(v, at("run_a/T2", 2, 8, ev::llm_call_completed,
              {{"input_tokens", 10}, {"output_tokens", 5}}));
  apply(v, at("run_a/T2", 3, 9, ev::task_output_produced, {{"output", "d1"}}));
  apply(v, at("run_a/T2", 4, 10, ev::task_evaluated,
              {{"passed", false}, {"score", 0.2}, {"feedback", "more"}}));
  apply(v, at("run_a/T2", 5, 11, ev::task_retry_scheduled,
              {{"feedback", "more"}}));
  apply(v, at("run_a/T2", 6, 12, ev::task_started, {{"attempt", 2}}));
  auto& t = v.tasks[1];
  EXPECT_EQ(t.attempts, 2);
  EXPECT_EQ(t.eval_failures, 1);
  EXPECT_EQ(t.retry_feedback, "more");
  EXPECT_FALSE(t.pending_output);
  EXPECT_EQ(v.usage.llm_calls, 1);
  EXPECT_EQ(v.usage.input_tokens, 10);
  EXPECT_EQ(v.tasks[0].output, "bold");
}

TEST(RunViewTest, CancellationEndsOpenTasks) {
  run_view v;
  apply_all(v, history());
  apply(v, at("run_a", 5, 6, ev::run_cancelled, {{"reason", "x"}}));
  EXPECT_EQ(v.status, "cancelled");
  EXPECT_EQ(v.tasks[0].state, "cancelled");
  EXPECT_EQ(v.tasks[1].state, "cancelled");
  EXPECT_TRUE(v.terminal());
}

TEST(RunViewTest, MalformedEventsChangeNothingButSequences) {
  run_view v;
  apply_all(v, history());
  auto before = render_run(v);
  apply(v, at("run_a", 5, 6, "run.unknown_future_event", json::array({1})));
  apply(v, at("run_a/T9", 1, 7, ev::task_completed, json("garbage")));
  auto after = render_run(v);
  before.erase("last_event_seq");
  after.erase("last_event_seq");
  before.erase("updated_at");
  after.erase("updated_at");
  EXPECT_EQ(before, after);
}

} // namespace
} // namespace orchflow
