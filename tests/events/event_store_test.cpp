#include "events/error.hpp"
#include "events/event_store.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "support/temp_dir.hpp"

namespace orchflow {
namespace {

using test::temp_dir;

caf::expected<event_batch_ptr> append_sync(event_store& s,
                                           const std::string& stream,
                                           uint64_t expected, int n,
                                           bool close = false) {
  std::promise<caf::expected<event_batch_ptr>> p;
  append_request req;
  req.stream = stream;
  req.expected_version = expected;
  for (int i = 0; i < n; ++i)
    req.events.push_back(make_event("test.happened", 1000 + i, {{"i", i}}));
  req.close_partition = close;
  req.done = [&p](caf::expected<event_batch_ptr> r) { p.set_value(r); };
  s.append(std::move(req));
  return p.get_future().get();
}

TEST(EventStoreTest, AssignsStreamPartitionAndGlobalSequences) {
  temp_dir dir;
  auto store = event_store::open(dir.str());
  ASSERT_TRUE(store);
  auto a = append_sync(**store, "run_x", 0, 2);
  ASSERT_TRUE(a);
  auto b = append_sync(**store, "run_x/T1", 0, 1);
  ASSERT_TRUE(b);
  auto c = append_sync(**store, "run_x", 2, 1);
  ASSERT_TRUE(c);
  EXPECT_EQ((**a)[1].seq, 2u);
  EXPECT_EQ((**b)[0].seq, 1u);
  EXPECT_EQ((**b)[0].pseq, 3u);
  EXPECT_EQ((**c)[0].pseq, 4u);
  EXPECT_EQ((**c)[0].global_seq, 4u);
  auto all = (*store)->read_partition("run_x");
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[2].stream, "run_x/T1");
}

TEST(EventStoreTest, StaleVersionIsAConflict) {
  temp_dir dir;
  auto store = event_store::open(dir.str());
  ASSERT_TRUE(store);
  ASSERT_TRUE(append_sync(**store, "run_x", 0, 1));
  auto r = append_sync(**store, "run_x", 0, 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ec::version_conflict);
  // Nothing was written by the failed append.
  EXPECT_EQ((*store)->read_partition("run_x")->size(), 1u);
}

TEST(EventStoreTest, ReleasedOrWokenRunsKeepTheirVersions) {
  // A passivated run's versions leave the writer's memory (release); a
  // wake reads them back (read_async). Either way the next appends are
  // checked against the log's real versions.
  temp_dir dir;
  auto store = event_store::open(dir.str());
  ASSERT_TRUE(store);
  ASSERT_TRUE(append_sync(**store, "run_x", 0, 2));
  ASSERT_TRUE(append_sync(**store, "run_x/T1", 0, 1));
  (*store)->release("run_x");
  EXPECT_EQ(append_sync(**store, "run_x/T1", 0, 1).error(),
            ec::version_conflict);
  auto t1 = append_sync(**store, "run_x/T1", 1, 1);
  ASSERT_TRUE(t1);
  EXPECT_EQ((**t1)[0].pseq, 4u);
  (*store)->release("run_x");
  std::promise<size_t> read;
  (*store)->read_async("run_x", [&read](caf::expected<event_batch_ptr> r) {
    read.set_value(r ? (*r)->size() : 0);
  });
  EXPECT_EQ(read.get_future().get(), 4u);
  EXPECT_EQ(append_sync(**store, "run_x", 1, 1).error(), ec::version_conflict);
  auto t2 = append_sync(**store, "run_x/T2", 0, 1); // a new stream
  ASSERT_TRUE(t2);
  EXPECT_EQ((**t2)[0].pseq, 5u);
  auto own = append_sync(**store, "run_x", 2, 1);
  ASSERT_TRUE(own);
  EXPECT_EQ((**own)[0].seq, 3u);
  EXPECT_EQ((**own)[0].pseq, 6u);
}

TEST(EventStoreTest, NewPartitionsAreTakenAtTheirWord) {
  // A run's creation skips the lookup for earlier events; its streams then
  // behave like any other.
  temp_dir dir;
  auto store = event_store::open(dir.str());
  ASSERT_TRUE(store);
  std::promise<caf::expected<event_batch_ptr>> p;
  append_request req;
  req.stream = "run_new";
  req.new_partition = true;
  req.events.push_back(make_event("test.happened", 1, {{"i", 0}}));
  req.done = [&p](caf::expected<event_batch_ptr> r) { p.set_value(r); };
  (*store)->append(std::move(req));
  auto created = p.get_future().get();
  ASSERT_TRUE(created);
  EXPECT_EQ((**created)[0].pseq, 1u);
  auto task = append_sync(**store, "run_new/T1", 0, 1);
  ASSERT_TRUE(task);
  EXPECT_EQ((**task)[0].pseq, 2u);
  EXPECT_EQ(append_sync(**store, "run_new", 0, 1).error(),
            ec::version_conflict);
}

TEST(EventStoreTest, ClosedRunRejectsTaskAppends) {
  temp_dir dir;
  auto store = event_store::open(dir.str());
  ASSERT_TRUE(store);
  ASSERT_TRUE(append_sync(**store, "run_x", 0, 1, true));
  auto r = append_sync(**store, "run_x/T1", 0, 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), ec::run_closed);
  // The run's own stream still accepts events (e.g. webhook bookkeeping).
  EXPECT_TRUE(append_sync(**store, "run_x", 1, 1));
}

TEST(EventStoreTest, ReopenRecoversVersionsAndGlobalOrder) {
  temp_dir dir;
  {
    auto store = event_store::open(dir.str());
    ASSERT_TRUE(store);
    ASSERT_TRUE(append_sync(**store, "run_x", 0, 3));
    ASSERT_TRUE(append_sync(**store, "run_y", 0, 2));
  }
  auto store = event_store::open(dir.str());
  ASSERT_TRUE(store);
  EXPECT_EQ((*store)->last_global_seq(), 5u);
  EXPECT_FALSE(append_sync(**store, "run_x", 2, 1));
  auto r = append_sync(**store, "run_x", 3, 1);
  ASSERT_TRUE(r);
  EXPECT_EQ((**r)[0].global_seq, 6u);
  EXPECT_EQ((**r)[0].pseq, 4u);
  auto global = (*store)->read_global(0, 100);
  ASSERT_TRUE(global);
  ASSERT_EQ(global->size(), 6u);
  for (size_t i = 0; i < global->size(); ++i)
    EXPECT_EQ((*global)[i].global_seq, i + 1);
  std::vector<std::string> partitions;
  ASSERT_FALSE((*store)->for_each_partition(
      [&](std::string_view p) { partitions.emplace_back(p); }));
  EXPECT_EQ(partitions, (std::vector<std::string>{"run_x", "run_y"}));
}

TEST(EventStoreTest, ConcurrentAppendsAreGroupCommittedInOrder) {
  temp_dir dir;
  auto store = event_store::open(dir.str());
  ASSERT_TRUE(store);
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < 8; ++w)
    writers.emplace_back([&, w] {
      auto stream = "run_" + std::to_string(w);
      for (int i = 0; i < 50; ++i)
        if (!append_sync(**store, stream, static_cast<uint64_t>(i), 1))
          ++failures;
    });
  for (auto& t : writers)
    t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ((*store)->last_global_seq(), 400u);
  for (int w = 0; w < 8; ++w) {
    auto evs = (*store)->read_partition("run_" + std::to_string(w));
    ASSERT_EQ(evs->size(), 50u);
    for (size_t i = 0; i < evs->size(); ++i)
      EXPECT_EQ((*evs)[i].seq, i + 1);
  }
}

TEST(EventStoreTest, ObserverSeesCommitsBeforeCallbacks) {
  temp_dir dir;
  auto store = event_store::open(dir.str());
  ASSERT_TRUE(store);
  std::atomic<uint64_t> observed{0};
  (*store)->set_commit_observer([&](const std::vector<event_batch_ptr>& gs) {
    for (auto& g : gs)
      for (auto& e : *g)
        observed = e.global_seq;
  });
  auto r = append_sync(**store, "run_x", 0, 2);
  ASSERT_TRUE(r);
  EXPECT_EQ(observed.load(), 2u);
}

TEST(EventStoreTest, ProjectionRowsAndCheckpointPersist) {
  temp_dir dir;
  {
    auto store = event_store::open(dir.str());
    ASSERT_TRUE(store);
    ASSERT_FALSE((*store)->write_projections(
        {{"r/run_a", std::string{"A"}}, {"r/run_b", std::string{"B"}}}, 7));
    ASSERT_FALSE((*store)->write_projections({{"r/run_a", std::nullopt}}, 8));
  }
  auto store = event_store::open(dir.str());
  ASSERT_TRUE(store);
  EXPECT_EQ((*store)->projection_checkpoint(), 8u);
  std::vector<std::string> keys;
  ASSERT_FALSE((*store)->scan_projections(
      "r/",
      [&](std::string_view k, std::string_view) { keys.emplace_back(k); }));
  EXPECT_EQ(keys, (std::vector<std::string>{"r/run_b"}));
}

} // namespace
} // namespace orchflow
