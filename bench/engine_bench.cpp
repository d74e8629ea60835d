// The engine's side of each pair (see raw_bench.cpp for the baselines).
//
//   engine-append   --runs R: R actors, each appending one event at a time
//                   and waiting for its durable ack (the run-actor pattern)
//   gen-store       --runs R: a store of R runs (~100 events each) waiting
//                   for a human, written through the engine's own store
//   engine-recovery open + replay + ready on a gen-store directory, then
//                   resume waiting runs (answer their human task) one by one
//   e2e             --seconds S: whole workflows per second, builtin provider
//                   at zero latency, one human gate answered by the bench

#include "actors/context.hpp"
#include "actors/engine.hpp"
#include "actors/scheduler.hpp"
#include "events/event_store.hpp"
#include "events/rocksdb_options.hpp"
#include "events/types.hpp"
#include "projections/read_model.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <rocksdb/db.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <filesystem>
#include <future>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <unistd.h>

#include "bench/common.hpp"
#include "bench/modes.hpp"
#include "bench/raw_store.hpp"

namespace orchflow::bench {

using nlohmann::json;

// -- engine-append ------------------------------------------------------------

namespace {

/// A fresh store whose commits a read model folds, as in the server. The
/// read model is declared first: it outlives the store's writer thread.
struct followed_store {
  std::unique_ptr<read_model> reads;
  std::unique_ptr<event_store> store;
};

std::optional<followed_store> open_followed(const std::string& dir,
                                            store_options so = {}) {
  std::filesystem::remove_all(dir);
  auto store = event_store::open(dir, so);
  if (!store)
    return std::nullopt;
  followed_store f;
  f.store = std::move(*store);
  f.reads = std::make_unique<read_model>(*f.store);
  if (f.reads->load())
    return std::nullopt;
  auto* reads = f.reads.get();
  f.store->set_commit_observer(
      [reads](const std::vector<event_batch_ptr>& g) { reads->apply(g); });
  return f;
}

struct writer_state {
  event_store* store = nullptr;
  std::string stream;
  /// 0 until run.created is written: the projections fold a real run.
  uint64_t version = 0;
  std::vector<int64_t>* latencies = nullptr;
  clock_type::time_point sent;
  clock_type::time_point deadline;
  std::promise<void>* done = nullptr;
  /// Prints "stream version" to stdout after every acknowledgement.
  bool print_acks = false;
};

using writer_actor = caf::stateful_actor<writer_state>;

void append_next(writer_actor* self) {
  auto& st = self->state;
  if (clock_type::now() >= st.deadline) {
    st.done->set_value();
    self->quit();
    return;
  }
  append_request req;
  req.stream = st.stream;
  req.expected_version = st.version;
  if (st.version == 0)
    req.events.push_back(make_event(ev::run_created, 1763890000000,
                                    {{"run_id", st.stream},
                                     {"account_id", "acct_bench"},
                                     {"task", "Benchmark the append path."}}));
  else
    req.events.push_back(
        make_event(ev::llm_call_completed, 1763890000000,
                   sample_payload(static_cast<int>(st.version))));
  auto hdl = caf::actor_cast<caf::actor>(self);
  req.done = [hdl](caf::expected<event_batch_ptr> r) {
    caf::anon_send(hdl, static_cast<bool>(r));
  };
  st.sent = clock_type::now();
  st.store->append(std::move(req));
}

caf::behavior writer(writer_actor* self, event_store* store, std::string stream,
                     std::vector<int64_t>* latencies,
                     clock_type::time_point deadline, std::promise<void>* done,
                     bool print_acks) {
  self->state = {store, std::move(stream), 0,    latencies,
                 {},    deadline,          done, print_acks};
  append_next(self);
  return {[self](bool ok) {
    if (!ok) {
      self->state.done->set_value();
      self->quit();
      return;
    }
    self->state.latencies->push_back(micros_since(self->state.sent));
    ++self->state.version;
    if (self->state.print_acks) {
      // One write per line (atomic on a pipe): whatever a reader got was
      // acknowledged, even if the process is killed right after.
      auto line = self->state.stream + " " + std::to_string(self->state.version)
                  + "\n";
      if (::write(1, line.data(), line.size()) < 0)
        self->state.print_acks = false;
    }
    append_next(self);
  }};
}

} // namespace

int engine_append(const options& opts) {
  auto dir = opts.get("dir", "/tmp/orchflow-bench-append");
  auto runs = opts.num("runs", 1);
  auto ms = opts.num("ms", 3000);
  auto print_acks = opts.num("print-acks", 0) != 0;
  // The projections see every commit, as in the server.
  auto followed = open_followed(dir);
  if (!followed)
    return 1;
  auto& store = followed->store;
  caf::actor_system_config cfg;
  tune_scheduler(cfg, 2);
  caf::actor_system sys{cfg};
  std::vector<std::vector<int64_t>> lat(static_cast<size_t>(runs));
  std::vector<std::promise<void>> done(static_cast<size_t>(runs));
  auto deadline = clock_type::now() + std::chrono::milliseconds(ms);
  auto t0 = clock_type::now();
  for (int64_t r = 0; r < runs; ++r)
    sys.spawn(writer, store.get(), "run_bench" + std::to_string(r), &lat[r],
              deadline, &done[r], print_acks);
  for (auto& d : done)
    d.get_future().wait();
  auto secs = seconds_since(t0);
  std::vector<int64_t> all;
  for (auto& l : lat)
    all.insert(all.end(), l.begin(), l.end());
  auto n = static_cast<double>(all.size());
  store.reset();
  std::filesystem::remove_all(dir);
  report({{"mode", "engine-append"},
          {"runs", runs},
          {"events_per_s", n / secs},
          {"p50_us", quantile(all, 0.5)},
          {"p99_us", quantile(all, 0.99)}});
  return 0;
}

// -- check-acks
// ----------------------------------------------------------------

/// Reads "stream version" lines (acknowledged appends of engine-append
/// --print-acks, killed with SIGKILL) from stdin and checks that the store,
/// reopened, holds every one of them.
int check_acks(const options& opts) {
  auto dir = opts.get("dir", "/tmp/orchflow-bench-append");
  std::map<std::string, uint64_t> acked;
  int64_t lines = 0;
  std::string stream;
  uint64_t version = 0;
  while (std::cin >> stream >> version) {
    auto& v = acked[stream];
    v = std::max(v, version);
    ++lines;
  }
  auto t0 = clock_type::now();
  auto store = event_store::open(dir);
  if (!store) {
    std::cerr << render(store.error()) << "\n";
    return 1;
  }
  auto open_s = seconds_since(t0);
  int64_t missing = 0;
  int64_t beyond = 0;
  for (auto& [s, v] : acked) {
    auto events = (*store)->read_partition(s);
    if (!events)
      return 1;
    uint64_t stored = events->empty() ? 0 : events->back().seq;
    if (stored < v)
      missing += static_cast<int64_t>(v - stored);
    else
      beyond += static_cast<int64_t>(stored - v);
  }
  report({{"mode", "check-acks"},
          {"acked", lines},
          {"streams", acked.size()},
          {"missing", missing},
          {"unacked_but_stored", beyond},
          {"open_s", open_s}});
  return missing == 0 ? 0 : 1;
}

// -- gen-store
// --------------------------------------------------------------------

namespace {

/// The data of run.created for a benchmark run on the builtin provider.
json run_data(std::string account, std::string goal, json agents,
              std::string gate) {
  return json{{"account_id", std::move(account)},
              {"task", std::move(goal)},
              {"agents", std::move(agents)},
              {"ask_me_about", json::array()},
              {"human_gates", json::array({std::move(gate)})},
              {"require_approval", false},
              {"webhook_url", nullptr},
              {"metadata", json::object()},
              {"provider", "builtin"},
              {"model", "builtin"},
              {"provider_id", nullptr}};
}

json agent(const char* name, const char* prompt) {
  return json{{"name", name}, {"system_prompt", prompt}, {"model", nullptr}};
}

/// The events of one run that planned 6 AI tasks, ran them (three needed a
/// retry, three needed two), and now waits at a human gate: ~99 events.
/// `light`: the gate comes first (the AI tasks depend on it), so the run
/// waits right after planning: 9 events.
std::vector<std::pair<std::string, event_batch>>
run_history(const std::string& id, int64_t ts, bool light) {
  std::vector<std::pair<std::string, event_batch>> out;
  auto e = [&](const char* type, json data) {
    return make_event(type, ts, std::move(data));
  };
  json tasks = json::array();
  json subtasks = json::array();
  for (int t = 1; t <= 6; ++t) {
    auto name = "Research part " + std::to_string(t) + " of the launch plan";
    subtasks.push_back(json{{"id", "S" + std::to_string(t)},
                            {"name", name},
                            {"description", name + " as part of the goal"}});
    tasks.push_back(
        json{{"task_id", "T" + std::to_string(t)},
             {"name", name},
             {"description", name + " as part of the goal"},
             {"kind", "ai"},
             {"agent", "research"},
             {"depends_on", light ? json::array({"T7"}) : json::array()},
             {"question", ""},
             {"wait_reason", ""}});
  }
  tasks.push_back(json{
      {"task_id", "T7"},
      {"name", "Founder review"},
      {"description", "Human gate: founder review"},
      {"kind", "human"},
      {"agent", ""},
      {"depends_on", light ? json::array()
                           : json::array({"T1", "T2", "T3", "T4", "T5", "T6"})},
      {"question", "Review the plan."},
      {"wait_reason", "gate"}});
  event_batch head{
      e(ev::run_created,
        [&] {
          auto d = run_data(
              "acct_bench",
              "Plan and launch a faceless YouTube channel about "
              "AI tools for freelancers.",
              json::array({agent("research", "You are an expert research "
                                             "analyst.")}),
              "founder review");
          d["run_id"] = id;
          return d;
        }()),
      e(ev::run_planning_started, json::object()),
      e(ev::llm_call_completed, sample_payload(1)),
      e(ev::run_subtasks_planned, {{"subtasks", subtasks}}),
      e(ev::llm_call_completed, sample_payload(2)),
      e(ev::run_dependencies_inferred, {{"depends_on", json::object()}}),
      e(ev::run_agents_assigned, {{"tasks", tasks}})};
  out.emplace_back(id, std::move(head));
  for (int t = 1; t <= 6 && !light; ++t) {
    event_batch evs;
    int attempts = t <= 3 ? 3 : 2;
    for (int a = 1; a <= attempts; ++a) {
      evs.push_back(e(ev::task_started, {{"attempt", a}}));
      evs.push_back(e(ev::llm_call_completed, sample_payload(a)));
      evs.push_back(e(ev::task_output_produced,
                      {{"attempt", a}, {"output", sample_payload(a)["text"]}}));
      evs.push_back(e(ev::llm_call_completed, sample_payload(a + 1)));
      bool passed = a == attempts;
      evs.push_back(e(ev::task_evaluated, {{"attempt", a},
                                           {"passed", passed},
                                           {"score", passed ? 0.9 : 0.3},
                                           {"feedback", "More detail."}}));
      if (!passed)
        evs.push_back(e(ev::task_retry_scheduled,
                        {{"attempt", a}, {"feedback", "More detail."}}));
    }
    evs.push_back(
        e(ev::task_completed, {{"output", sample_payload(t)["text"]}}));
    out.emplace_back(id + "/T" + std::to_string(t), std::move(evs));
  }
  out.emplace_back(id + "/T7", event_batch{e(ev::task_waiting_human,
                                             {{"question", "Review the plan."},
                                              {"reason", "gate"}})});
  out.emplace_back(id,
                   event_batch{e(ev::run_waiting_human,
                                 {{"waiting_tasks", json::array({"T7"})}})});
  return out;
}

} // namespace

int gen_store(const options& opts) {
  auto dir = opts.get("dir", "/tmp/orchflow-bench-store");
  auto runs = opts.num("runs", 10000);
  auto light = opts.num("light", 0) != 0;
  store_options so;
  so.sync = false; // bulk load; the benchmark measures reading it back
  auto followed = open_followed(dir, so);
  if (!followed)
    return 1;
  auto& store = followed->store;
  // The account owning the runs, so the server can serve them.
  std::promise<void> acct;
  append_request a;
  a.stream = "acct_bench";
  a.events.push_back(make_event(
      ev::account_registered, 1763890000000,
      {{"account_id", "acct_bench"}, {"key_hash", opts.get("key-hash", "")}}));
  a.done = [&acct](caf::expected<event_batch_ptr>) { acct.set_value(); };
  store->append(std::move(a));
  acct.get_future().wait();
  int64_t events = 0;
  auto t0 = clock_type::now();
  for (int64_t base = 0; base < runs; base += 250) {
    std::promise<void> chunk;
    auto last = std::min(runs, base + 250);
    std::map<std::string, uint64_t> versions;
    for (int64_t r = base; r < last; ++r) {
      char id[32];
      std::snprintf(id, sizeof(id), "run_bench%08lld",
                    static_cast<long long>(r));
      for (auto& [stream, evs] : run_history(id, 1763890000000 + r, light)) {
        append_request req;
        req.stream = stream;
        req.expected_version = versions[stream];
        versions[stream] += evs.size();
        events += static_cast<int64_t>(evs.size());
        req.events = std::move(evs);
        store->append(std::move(req));
      }
    }
    append_request fence;
    fence.stream = "bench_fence";
    fence.expected_version = static_cast<uint64_t>(base / 250);
    fence.events.push_back(make_event("bench.fence", 0, json::object()));
    fence.done
        = [&chunk](caf::expected<event_batch_ptr>) { chunk.set_value(); };
    store->append(std::move(fence));
    chunk.get_future().wait();
  }
  auto secs = seconds_since(t0);
  if (store->flush())
    return 1;
  store.reset();
  report({{"mode", "gen-store"},
          {"runs", runs},
          {"events", events},
          {"seconds", secs}});
  return 0;
}

// -- engine-recovery
// -------------------------------------------------------------

namespace {

/// Waits for one command's answer.
class wait_sink : public reply_sink {
public:
  void send(int status, std::string body) override {
    std::lock_guard<std::mutex> guard{mtx_};
    status_ = status;
    body_ = std::move(body);
    cv_.notify_all();
  }

  int wait() {
    std::unique_lock<std::mutex> guard{mtx_};
    cv_.wait(guard, [this] { return status_ != 0; });
    return status_;
  }

  const std::string& body() const { return body_; }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  int status_ = 0;
  std::string body_;
};

} // namespace

int engine_recovery(const options& opts) {
  server_config cfg;
  cfg.data_dir = opts.get("dir", "/tmp/orchflow-bench-store");
  cfg.passivate_waiting_runs = opts.num("passivate", 1) != 0;
  auto resumes = opts.num("resumes", 200);
  if (opts.num("replay", 0) != 0) {
    // Forget every projection row: recovery must replay the whole log.
    auto store = raw_store::open(cfg.data_dir, false);
    if (!store)
      return 1;
    store->db->DeleteRange(rocksdb::WriteOptions{}, store->cf[3], "",
                           "\xff\xff");
  }
  auto rss0 = rss_bytes();
  auto t0 = clock_type::now();
  auto eng = engine::start(cfg);
  if (!eng) {
    std::cerr << render(eng.error()) << "\n";
    return 1;
  }
  auto start_s = seconds_since(t0);
  auto active = (*eng)->reads().active_count();
  // Ready: every recovered run answers; probe the last one spawned.
  auto runs = (*eng)->reads().active_runs();
  if (runs.empty()) // passivated: every waiting run is a resume candidate
    for (int64_t i = 0; i < static_cast<int64_t>(active); ++i) {
      char id[32];
      std::snprintf(id, sizeof(id), "run_bench%08lld",
                    static_cast<long long>(i));
      runs.emplace_back(id);
    }
  // Let spawned actors settle (and passivate, if they do) before measuring.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto resident = (*eng)->resident_runs();
  auto rss1 = rss_bytes();
  // Resume waiting runs one at a time: the human answers their gate.
  std::vector<int64_t> lat;
  std::mt19937 rng{42};
  for (int64_t i = 0; i < resumes && !runs.empty(); ++i) {
    auto k = rng() % runs.size();
    auto id = runs[k];
    runs.erase(runs.begin() + static_cast<long>(k));
    auto sink = std::make_shared<wait_sink>();
    auto t = clock_type::now();
    (*eng)->complete_task(id, "T7", "Approved.", sink);
    if (sink->wait() != 200)
      return 1;
    lat.push_back(micros_since(t));
    // The answer lets the run finish (synthesis, final events). Measure the
    // next resume on an idle engine, not against this run's last steps.
    auto settle = clock_type::now() + std::chrono::seconds(5);
    while (clock_type::now() < settle) {
      auto status = (*eng)->reads().status_of(id).value_or("");
      if (status == "completed" || status == "failed")
        break;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  eng->reset();
  report({{"mode", "engine-recovery"},
          {"runs", active},
          {"start_s", start_s},
          {"resident_runs", resident},
          {"rss_mb", static_cast<double>(rss1 - rss0) / 1e6},
          {"resume_p50_us", quantile(lat, 0.5)},
          {"resume_p99_us", quantile(lat, 0.99)}});
  return 0;
}

// -- e2e
// ------------------------------------------------------------------------

int e2e(const options& opts) {
  server_config cfg;
  cfg.data_dir = opts.get("dir", "/tmp/orchflow-bench-e2e");
  auto ms = opts.num("ms", 5000);
  auto window = opts.num("concurrency", 64);
  std::filesystem::remove_all(cfg.data_dir);
  auto eng = engine::start(cfg);
  if (!eng)
    return 1;
  auto& e = **eng;
  // An account for the runs.
  auto reg = std::make_shared<wait_sink>();
  e.register_account({"Bench", "bench@example.com"}, reg);
  reg->wait();
  auto account = json::parse(reg->body())["account_id"].get<std::string>();
  auto spec_data = run_data(
      account,
      "Research 5 competitors, extract pricing, compare positioning, design "
      "the offer, then write the launch announcement.",
      json::array({agent("research", "You are an expert research analyst."),
                   agent("writer", "You are a professional content writer.")}),
      "final approval");
  int64_t completed = 0;
  int64_t failed = 0;
  int64_t started = 0;
  std::set<std::string> in_flight;
  std::set<std::string> answered;
  auto deadline = clock_type::now() + std::chrono::milliseconds(ms);
  auto t0 = clock_type::now();
  while (clock_type::now() < deadline) {
    while (static_cast<int64_t>(in_flight.size()) < window) {
      auto sink = std::make_shared<wait_sink>();
      e.create_run({spec_data}, sink);
      if (sink->wait() != 202)
        return 1;
      in_flight.insert(json::parse(sink->body())["run_id"].get<std::string>());
      ++started;
    }
    for (auto it = in_flight.begin(); it != in_flight.end();) {
      auto status = e.reads().status_of(*it).value_or("");
      if (status == "completed" || status == "failed") {
        (status == "completed" ? completed : failed) += 1;
        answered.erase(*it);
        it = in_flight.erase(it);
        continue;
      }
      if (status == "waiting_human" && answered.insert(*it).second) {
        // The benchmark is the human: it answers the gate at once.
        auto read = e.reads().run(*it, account);
        auto text = !read ? std::optional<std::string>{}
                    : read->stored
                        ? e.reads().stored_document(*it)
                        : std::optional<std::string>{*read->document};
        if (!text) {
          answered.erase(*it);
          ++it;
          continue;
        }
        auto doc = json::parse(*text);
        for (auto& t : doc["waiting_tasks"])
          e.complete_task(*it, t.get<std::string>(), "Approved.",
                          std::make_shared<wait_sink>());
      }
      ++it;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  auto secs = seconds_since(t0);
  auto all = started;
  eng->reset();
  std::filesystem::remove_all(cfg.data_dir);
  report({{"mode", "e2e"},
          {"started", all},
          {"completed", completed},
          {"failed", failed},
          {"workflows_per_s", static_cast<double>(completed) / secs}});
  return failed == 0 ? 0 : 1;
}

} // namespace orchflow::bench
