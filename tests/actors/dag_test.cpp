#include "actors/dag.hpp"

#include <gtest/gtest.h>

namespace orchflow {
namespace {

using graph = std::map<std::string, std::vector<std::string>>;

TEST(DagTest, DropsUnknownIdsSelfEdgesAndDuplicates) {
  auto dag = validate_dag(
      {"S1", "S2", "S3"},
      {{"S1", {"S1", "S9"}}, {"S2", {"S1", "S1"}}, {"S7", {"S1"}}});
  EXPECT_TRUE(dag.depends_on["S1"].empty());
  EXPECT_EQ(dag.depends_on["S2"], std::vector<std::string>{"S1"});
  EXPECT_TRUE(dag.depends_on["S3"].empty());
  EXPECT_EQ(dag.notes.size(), 3u);
}

TEST(DagTest, BreaksCyclesKeepingTheRest) {
  auto dag = validate_dag(
      {"S1", "S2", "S3", "S4"},
      {{"S1", {"S3"}}, {"S2", {"S1"}}, {"S3", {"S2"}}, {"S4", {"S1", "S2"}}});
  EXPECT_TRUE(is_acyclic(dag.depends_on));
  // Only one edge of the three-cycle is removed.
  size_t edges = 0;
  for (auto& [k, v] : dag.depends_on)
    edges += v.size();
  EXPECT_EQ(edges, 4u);
  EXPECT_EQ(dag.depends_on["S4"], (std::vector<std::string>{"S1", "S2"}));
}

TEST(DagTest, KeepsParallelStructure) {
  auto dag = validate_dag({"S1", "S2", "S3"}, {{"S3", {"S1", "S2"}}});
  EXPECT_TRUE(dag.notes.empty());
  EXPECT_TRUE(dag.depends_on["S1"].empty());
  EXPECT_TRUE(dag.depends_on["S2"].empty());
}

TEST(DagTest, DetectsCycles) {
  EXPECT_FALSE(is_acyclic(graph{{"a", {"b"}}, {"b", {"a"}}}));
  EXPECT_TRUE(is_acyclic(graph{{"a", {"b"}}, {"b", {}}}));
}

} // namespace
} // namespace orchflow
