#include "events/event_store.hpp"
#include "events/types.hpp"
#include "projections/read_model.hpp"

#include <gtest/gtest.h>

#include <future>
#include <stdexcept>

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

std::unique_ptr<event_store> open_store(const std::string& dir) {
  auto store = event_store::open(dir);
  if (!store) // gtest reports the exception as this test's failure
    throw std::runtime_error("cannot open the store in " + dir);
  return std::move(*store);
}

/// A store and a read model that follows it, wired as in the server.
struct followed_store {
  explicit followed_store(const std::string& dir)
      : store(open_store(dir)), rm(*store) {
    EXPECT_FALSE(rm.load());
    store->set_commit_observer(
        [this](const std::vector<event_batch_ptr>& g) { rm.apply(g); });
    store->set_read_observer(
        [this](const std::string& id, const event_batch_ptr& evs) {
          rm.woken(id, *evs);
        });
  }

  std::unique_ptr<event_store> store;
  read_model rm;
};

TEST(ReadModelTest, ServesOwnersOnlyNewestFirst) {
  temp_dir dir;
  followed_store f{dir.str()};
  auto& rm = f.rm;
  seed(*f.store);
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
    followed_store f{dir.str()};
    seed(*f.store);
    live_list = f.rm.list_runs("acct_1", 10, 0);
    live_doc = document_of(f.rm, "run_1");
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

/// A run waiting for a human (passivated by the model), read back from the
/// log, then given its next event.
void wait_then_wake(event_store& s, read_model& rm, bool stale) {
  append(s, "run_0", 1,
         {make_event(ev::run_waiting_human, 30,
                     {{"waiting_tasks", json::array({"T1"})}})});
  auto doc = document_of(rm, "run_0");
  EXPECT_NE(doc.find("waiting_human"), std::string::npos);
  std::promise<event_batch_ptr> read;
  s.read_async("run_0", [&read](caf::expected<event_batch_ptr> evs) {
    ASSERT_TRUE(evs);
    read.set_value(*evs);
  });
  auto evs = read.get_future().get();
  ASSERT_EQ(evs->size(), 2u);
  if (stale) // as if the model saw an older read: it must not use it
    rm.woken("run_0", event_batch{evs->front()});
  append(s, "run_0", 2, {make_event(ev::run_resumed, 40, json::object())});
}

TEST(ReadModelTest, WokenRunFoldsItsNextEventLikeAReplay) {
  for (bool stale : {false, true}) {
    temp_dir dir;
    followed_store f{dir.str()};
    seed(*f.store);
    wait_then_wake(*f.store, f.rm, stale);
    auto live = document_of(f.rm, "run_0");
    EXPECT_NE(live.find("\"status\":\"running\""), std::string::npos) << live;
    read_model rebuilt{*f.store};
    ASSERT_FALSE(rebuilt.rebuild());
    EXPECT_EQ(document_of(rebuilt, "run_0"), live) << "stale=" << stale;
  }
}

} // namespace
} // namespace orchflow
