// Raw baselines: what this machine can do without the engine, measured with
// the engine's own RocksDB options and event encoding.
//
//   fsync        write 300 B + fdatasync, sequentially
//   rocks-append RocksDB synced appends: --writers W, --batch B events/write
//   scan-decode  prefix scan of a store + decode of every event
//   caf-spawn    bare CAF actors: spawn --n N, resident bytes per actor
//   caf-rtt      CAF request/response round trips between two actors

#include "events/codec.hpp"
#include "events/rocksdb_options.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <fcntl.h>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unistd.h>

#include "bench/common.hpp"
#include "bench/modes.hpp"
#include "bench/raw_store.hpp"

namespace orchflow::bench {

using nlohmann::json;

namespace {

/// Scans read as the engine's do: whole partitions, once, not cached.
rocksdb::ReadOptions scan_options() {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  return ro;
}

std::string sample_event_bytes(const std::string& run, uint64_t seq) {
  auto e = make_event("llm.call_completed", 1763890000000,
                      sample_payload(static_cast<int>(seq)));
  e.stream = run + "/T1";
  e.seq = seq;
  e.pseq = seq;
  e.global_seq = seq;
  return encode_event(e);
}

} // namespace

int fsync_probe(const options& opts) {
  auto dir = opts.get("dir", "/tmp");
  auto ops = opts.num("ops", 2000);
  auto path = dir + "/fsync-probe.bin";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::string block(300, 'x');
  std::vector<int64_t> lat;
  auto t0 = clock_type::now();
  for (int64_t i = 0; i < ops; ++i) {
    auto t = clock_type::now();
    if (::write(fd, block.data(), block.size()) < 0 || ::fdatasync(fd) != 0)
      return 1;
    lat.push_back(micros_since(t));
  }
  auto secs = seconds_since(t0);
  ::close(fd);
  std::filesystem::remove(path);
  report({{"mode", "fsync"},
          {"ops_per_s", ops / secs},
          {"p50_us", quantile(lat, 0.5)},
          {"p99_us", quantile(lat, 0.99)}});
  return 0;
}

int rocks_append(const options& opts) {
  auto dir = opts.get("dir", "/tmp/orchflow-bench-rocks");
  auto writers = opts.num("writers", 1);
  auto batch = opts.num("batch", 1);
  auto seconds = static_cast<double>(opts.num("ms", 3000)) / 1000.0;
  std::filesystem::remove_all(dir);
  auto store = raw_store::open(dir, true);
  if (!store)
    return 1;
  auto& db = store->db;
  auto& handles = store->cf;
  std::atomic<uint64_t> global{0};
  std::atomic<int64_t> events{0};
  std::mutex mtx;
  std::vector<int64_t> lat;
  auto t0 = clock_type::now();
  std::vector<std::thread> threads;
  for (int64_t w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      std::vector<int64_t> mine;
      auto run = "run_bench" + std::to_string(w);
      uint64_t seq = 0;
      rocksdb::WriteOptions wo;
      wo.sync = true;
      while (seconds_since(t0) < seconds) {
        rocksdb::WriteBatch wb;
        for (int64_t i = 0; i < batch; ++i) {
          auto key = partition_key(run, ++seq);
          wb.Put(handles[1], key, sample_event_bytes(run, seq));
          wb.Put(handles[2], be64(++global), key);
        }
        auto t = clock_type::now();
        if (!db->Write(wo, &wb).ok())
          return;
        mine.push_back(micros_since(t));
        events += batch;
      }
      std::lock_guard<std::mutex> guard{mtx};
      lat.insert(lat.end(), mine.begin(), mine.end());
    });
  for (auto& t : threads)
    t.join();
  auto secs = seconds_since(t0);
  store.reset();
  std::filesystem::remove_all(dir);
  report({{"mode", "rocks-append"},
          {"writers", writers},
          {"batch", batch},
          {"events_per_s", static_cast<double>(events) / secs},
          {"p50_us", quantile(lat, 0.5)},
          {"p99_us", quantile(lat, 0.99)}});
  return 0;
}

int scan_decode(const options& opts) {
  auto dir = opts.get("dir", "");
  auto t0 = clock_type::now();
  auto store = raw_store::open(dir, false, true);
  if (!store)
    return 1;
  auto& db = store->db;
  auto& handles = store->cf;
  auto open_s = seconds_since(t0);
  auto t1 = clock_type::now();
  int64_t n = 0;
  std::unique_ptr<rocksdb::Iterator> it{
      db->NewIterator(scan_options(), handles[1])};
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key{it->key().data(), it->key().size()};
    auto ev = decode_event(key.substr(0, key.find('\0')),
                           {it->value().data(), it->value().size()});
    if (!ev)
      return 1;
    ++n;
  }
  auto secs = seconds_since(t1);
  it.reset();
  report({{"mode", "scan-decode"},
          {"events", n},
          {"open_s", open_s},
          {"events_per_s", static_cast<double>(n) / secs}});
  return 0;
}

int scan_run(const options& opts) {
  // What resuming one suspended run costs at the least: read and decode its
  // events, then one synced write (the command's event).
  auto dir = opts.get("dir", "");
  auto runs = opts.num("runs", 10000);
  auto samples = opts.num("samples", 200);
  auto store = raw_store::open(dir, false);
  if (!store)
    return 1;
  auto& db = store->db;
  auto& handles = store->cf;
  std::vector<int64_t> lat;
  uint64_t seed = 42;
  for (int64_t i = 0; i < samples; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    char id[32];
    std::snprintf(id, sizeof(id), "run_bench%08lld",
                  static_cast<long long>((seed >> 33) % runs));
    auto t = clock_type::now();
    std::string prefix = std::string{id} + '\0';
    std::string bound = std::string{id} + '\1';
    rocksdb::Slice ub{bound};
    auto ro = scan_options();
    ro.iterate_upper_bound = &ub;
    std::unique_ptr<rocksdb::Iterator> it{db->NewIterator(ro, handles[1])};
    uint64_t last = 0;
    for (it->Seek(prefix); it->Valid(); it->Next()) {
      auto ev = decode_event(id, {it->value().data(), it->value().size()});
      if (!ev)
        return 1;
      last = ev->pseq;
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    db->Put(wo, handles[1], partition_key(id, last + 1),
            sample_event_bytes(id, last + 1));
    lat.push_back(micros_since(t));
  }
  report({{"mode", "scan-run"},
          {"p50_us", quantile(lat, 0.5)},
          {"p99_us", quantile(lat, 0.99)}});
  return 0;
}

namespace {

struct small_state {
  std::string run_id;
  std::string status;
  std::vector<std::string> waiting;
  int version = 0;
};

} // namespace

int caf_spawn(const options& opts) {
  auto n = opts.num("n", 100000);
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", size_t{2});
  caf::actor_system sys{cfg};
  std::vector<caf::actor> actors;
  actors.reserve(static_cast<size_t>(n));
  auto before = rss_bytes();
  auto t0 = clock_type::now();
  for (int64_t i = 0; i < n; ++i)
    actors.push_back(sys.spawn([](caf::event_based_actor*) -> caf::behavior {
      return {[](int x) { return x; }};
    }));
  auto spawn_s = seconds_since(t0);
  auto after = rss_bytes();
  // The same with a small state (a waiting run's bookkeeping).
  std::vector<caf::actor> stateful;
  stateful.reserve(static_cast<size_t>(n));
  auto before2 = rss_bytes();
  for (int64_t i = 0; i < n; ++i)
    stateful.push_back(
        sys.spawn([](caf::stateful_actor<small_state>* self) -> caf::behavior {
          self->state.run_id = "run_0123456789abcdefghij";
          self->state.status = "waiting_human";
          return {[](int x) { return x; }};
        }));
  auto after2 = rss_bytes();
  for (auto& a : actors)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  for (auto& a : stateful)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  actors.clear();
  stateful.clear();
  report({{"mode", "caf-spawn"},
          {"n", n},
          {"spawn_us", spawn_s * 1e6 / static_cast<double>(n)},
          {"bytes_per_actor",
           static_cast<double>(after - before) / static_cast<double>(n)},
          {"bytes_per_stateful_actor",
           static_cast<double>(after2 - before2) / static_cast<double>(n)}});
  return 0;
}

int caf_rtt(const options& opts) {
  auto n = opts.num("n", 200000);
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", size_t{2});
  caf::actor_system sys{cfg};
  auto echo = sys.spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](int x) { return x + 1; }};
  });
  caf::scoped_actor self{sys};
  auto t0 = clock_type::now();
  int x = 0;
  for (int64_t i = 0; i < n; ++i)
    self->request(echo, caf::infinite, x)
        .receive([&](int y) { x = y; }, [](caf::error&) {});
  auto secs = seconds_since(t0);
  caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
  report({{"mode", "caf-rtt"},
          {"n", n},
          {"round_trips_per_s", static_cast<double>(n) / secs}});
  return 0;
}

} // namespace orchflow::bench
