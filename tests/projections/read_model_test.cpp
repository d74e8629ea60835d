#include "events/event_store.hpp"
#include "events/types.hpp"
#include "projections/read_model.hpp"

#include <gtest/gtest.h>

#include <future>

#include "support/temp_dir.hpp"

namespace orchflow {
namespace {

using nlohmann::json;
using test::temp_dir;

void append(event_store& s, const std::string& stream, uint64_t expected,
            event_batch evs) {
  std::promise<void> p;
  append_request req;
  req.stream = stream;
  req.expected_version = expected;
  req.events = std::move(evs);
  req.done = [&p](caf::expected<event_batch_ptr> r) {
    EXPECT_TRUE(r);
    p.set_value();
  };
  s.append(std::move(req));
  p.get_future().get();
}

void seed(event_store& s) {
  append(s, "acct_1", 0,
         {make_event(ev::account_registered, 1,
                     {{"account_id", "acct_1"}, {"key_hash", "h1"}})});
  for (int i = 0; i < 3; ++i) {
    auto id = "run_" + std::to_string(i);
    append(s, id, 0,
           {make_event(ev::run_created, 10 + i,
                       {{"run_id", id},
                        {"account_id", "acct_1"},
                        {"task", "goal " + std::to_string(i)}})});
  }
  append(s, "run_1", 1,
         {make_event(ev::run_cancelled, 20, {{"reason", "test"}})});
}

TEST(ReadModelTest, ServesOwnersOnlyNewestFirst) {
  temp_dir dir;
  auto store = event_store::open(dir.str());
  ASSERT_TRUE(store);
  read_model rm{**store};
  ASSERT_FALSE(rm.load());
  (*store)->set_commit_observer(
      [&](const std::vector<event_batch_ptr>& g) { rm.apply(g); });
  seed(**store);
  EXPECT_EQ(rm.account_by_key_hash("h1"), "acct_1");
  EXPECT_FALSE(rm.account_by_key_hash("h2"));
  EXPECT_TRUE(rm.run("run_0", "acct_1"));
  EXPECT_FALSE(rm.run("run_0", "acct_2"));
  auto list = rm.list_runs("acct_1", 2, 0);
  EXPECT_EQ(list["total"], 3);
  ASSERT_EQ(list["runs"].size(), 2u);
  EXPECT_EQ(list["runs"][0]["run_id"], "run_2");
  EXPECT_EQ(list["runs"][1]["status"], "cancelled");
  EXPECT_EQ(rm.active_runs(), (std::vector<std::string>{"run_0", "run_2"}));
}

/// The document of a run, from memory or from its row.
std::string document_of(const read_model& rm, const std::string& id) {
  auto r = rm.run(id, "acct_1");
  if (!r)
    return {};
  return r->stored ? rm.stored_document(id).value_or("") : *r->document;
}

TEST(ReadModelTest, ReloadAndRebuildMatchLiveModel) {
  temp_dir dir;
  json live_list;
  std::string live_doc;
  {
    auto store = event_store::open(dir.str());
    ASSERT_TRUE(store);
    read_model rm{**store};
    ASSERT_FALSE(rm.load());
    (*store)->set_commit_observer(
        [&](const std::vector<event_batch_ptr>& g) { rm.apply(g); });
    seed(**store);
    live_list = rm.list_runs("acct_1", 10, 0);
    live_doc = document_of(rm, "run_1");
    ASSERT_FALSE(live_doc.empty());
  }
  auto store = event_store::open(dir.str());
  ASSERT_TRUE(store);
  read_model loaded{**store};
  ASSERT_FALSE(loaded.load());
  EXPECT_EQ(loaded.list_runs("acct_1", 10, 0), live_list);
  EXPECT_EQ(document_of(loaded, "run_1"), live_doc);
  EXPECT_EQ(loaded.account_by_key_hash("h1"), "acct_1");
  read_model rebuilt{**store};
  ASSERT_FALSE(rebuilt.rebuild());
  EXPECT_EQ(rebuilt.list_runs("acct_1", 10, 0), live_list);
  EXPECT_EQ(document_of(rebuilt, "run_1"), live_doc);
  EXPECT_EQ(rebuilt.active_runs(), loaded.active_runs());
}

} // namespace
} // namespace orchflow
