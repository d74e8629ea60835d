// The only file that talks to RocksDB (besides benchmarks' baselines).

#include "events/event_store.hpp"

#include "events/codec.hpp"
#include "events/error.hpp"
#include "events/rocksdb_options.hpp"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace orchflow {

namespace {

/// Options of scans that read what no request asks for again soon (start-up,
/// rebuilds, whole partitions then held in memory): they leave the block
/// cache alone.
rocksdb::ReadOptions bulk_read() {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  return ro;
}

constexpr const char* events_cf_name = "events";
constexpr const char* global_cf_name = "global";
constexpr const char* projections_cf_name = "projections";
constexpr const char* checkpoint_key = "\x01checkpoint";

caf::error to_error(const rocksdb::Status& st, const char* what) {
  return caf::make_error(ec::storage_failure,
                         std::string{what} + " failed: " + st.ToString());
}

std::string upper_bound_of(std::string_view prefix) {
  // Smallest key greater than every key starting with `prefix`.
  std::string bound{prefix};
  while (!bound.empty()) {
    auto& c = bound.back();
    if (static_cast<unsigned char>(c) != 0xFF) {
      ++c;
      return bound;
    }
    bound.pop_back();
  }
  return bound; // empty: no bound
}

} // namespace

struct event_store::impl {
  std::string dir;
  store_options opts;
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::ColumnFamilyHandle* events_cf = nullptr;
  rocksdb::ColumnFamilyHandle* global_cf = nullptr;
  rocksdb::ColumnFamilyHandle* projections_cf = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;

  // -- queue (guarded by mtx) -------------------------------------------------
  std::mutex mtx;
  std::condition_variable cv;
  std::deque<append_request> queue;
  /// Partition reads queued behind the appends (read_async).
  std::deque<std::pair<std::string,
                       std::function<void(caf::expected<event_batch_ptr>)>>>
      reads;
  bool stopping = false;
  std::thread writer;
  commit_observer observer;
  read_observer reader;

  // -- writer-thread state ----------------------------------------------------
  std::atomic<uint64_t> global_seq{0};
  /// What the writer knows of a partition: its last pseq (once `loaded`)
  /// and the versions of its streams. `complete`: every stream is cached
  /// (runs, read whole), so a stream missing here is a new one.
  struct partition_state {
    uint64_t pseq = 0;
    bool loaded = false;
    bool complete = false;
    std::unordered_map<std::string, uint64_t> streams;
  };
  /// Partitions with appends in this process, until closed or released.
  std::unordered_map<std::string, partition_state> partitions;
  /// Partitions to forget (release), queued for the writer thread.
  std::vector<std::string> releases;
  /// Runs closed recently. Only their own task actors could still append
  /// (work in flight when the run ended), and those stop within moments:
  /// the most recent closes suffice, bounded so memory stays flat.
  std::unordered_set<std::string> closed_partitions;
  std::deque<std::string> closed_order;
  static constexpr size_t closed_capacity = 65536;
  std::atomic<uint64_t> checkpoint{0};

  ~impl() {
    {
      std::lock_guard<std::mutex> guard{mtx};
      stopping = true;
    }
    cv.notify_all();
    if (writer.joinable())
      writer.join();
    for (auto* h : handles)
      db->DestroyColumnFamilyHandle(h);
    handles.clear();
    if (db)
      db->Close();
  }

  /// Loads the last pseq of a partition and the version of `stream` into
  /// the caches (writer thread only). Reads backwards from the partition's
  /// end until it finds the stream, so long single-stream partitions
  /// (accounts, webhooks) cost one read.
  caf::error load_versions(const std::string& partition,
                           const std::string& stream) {
    auto& part = partitions[partition];
    bool have_stream = part.streams.count(stream) != 0;
    if (part.loaded && have_stream)
      return caf::none;
    if (part.complete) {
      part.streams[stream] = 0; // every stream of it is cached: new one
      return caf::none;
    }
    if (partition.rfind("run_", 0) == 0)
      return load_run_partition(partition, part);
    auto prefix = partition + '\0';
    rocksdb::Slice lb{prefix};
    rocksdb::ReadOptions ro;
    ro.iterate_lower_bound = &lb;
    std::unique_ptr<rocksdb::Iterator> it{db->NewIterator(ro, events_cf)};
    uint64_t pseq = 0;
    uint64_t version = 0;
    bool found = false;
    for (it->SeekForPrev(partition_key(partition, UINT64_MAX)); it->Valid();
         it->Prev()) {
      auto val = it->value();
      auto ev = decode_event_header(partition, {val.data(), val.size()});
      if (!ev)
        return std::move(ev.error());
      if (pseq == 0)
        pseq = ev->pseq;
      if (ev->stream == stream) {
        version = ev->seq;
        found = true;
        break;
      }
      if (have_stream)
        break;
    }
    if (!it->status().ok())
      return to_error(it->status(), "reading a partition");
    if (!part.loaded) {
      part.pseq = pseq;
      part.loaded = true;
    }
    if (!have_stream)
      part.streams[stream] = found ? version : 0;
    return caf::none;
  }

  /// Caches every stream of a run's partition (runs are small; their task
  /// streams appear one by one, and must not each cost a scan).
  caf::error load_run_partition(const std::string& partition,
                                partition_state& part) {
    uint64_t pseq = 0;
    auto err = scan(
        partition, 0, SIZE_MAX,
        [&](event&& e) {
          pseq = e.pseq;
          part.streams[e.stream] = e.seq;
        },
        false);
    if (err)
      return err;
    part.pseq = pseq;
    part.loaded = true;
    part.complete = true;
    return caf::none;
  }

  /// Caches the versions of a run partition just read whole (a run woken
  /// from the log appends next: that must not cost a second scan).
  void remember_run_partition(const std::string& partition,
                              const event_batch& evs) {
    if (partition.rfind("run_", 0) != 0 || evs.empty()
        || closed_partitions.count(partition) != 0)
      return;
    auto& part = partitions[partition];
    if (part.complete)
      return;
    for (auto& e : evs)
      part.streams[e.stream] = e.seq;
    part.pseq = evs.back().pseq;
    part.loaded = true;
    part.complete = true;
  }

  void run_writer() {
    std::vector<append_request> group;
    std::deque<std::pair<std::string,
                         std::function<void(caf::expected<event_batch_ptr>)>>>
        to_read;
    std::vector<std::string> to_release;
    for (;;) {
      {
        std::unique_lock<std::mutex> guard{mtx};
        cv.wait(guard, [&] {
          return stopping || !queue.empty() || !reads.empty()
                 || !releases.empty();
        });
        if (queue.empty() && reads.empty() && stopping)
          return;
        to_release.swap(releases);
        while (!queue.empty() && group.size() < opts.max_group) {
          group.emplace_back(std::move(queue.front()));
          queue.pop_front();
        }
        // Only reads queued before these appends were taken may run after
        // them; later ones wait for the next round (never see less).
        if (queue.empty())
          to_read.swap(reads);
      }
      if (!group.empty())
        commit(group);
      group.clear();
      // Forgetting is always safe: the next append reloads from the log.
      for (auto& p : to_release)
        partitions.erase(p);
      to_release.clear();
      for (auto& [partition, done] : to_read) {
        auto evs = read(partition);
        if (!evs) {
          done(std::move(evs.error()));
          continue;
        }
        remember_run_partition(partition, *evs);
        auto ptr = std::make_shared<const event_batch>(std::move(*evs));
        // The observer after `done`: the woken run's actor starts at once.
        done(ptr);
        if (reader)
          reader(partition, ptr);
      }
      to_read.clear();
    }
  }

  /// Decodes the events of `partition` with pseq > `after` (at most
  /// `limit`) and hands each to `f` (without their data unless `with_data`).
  /// Thread-safe.
  caf::error scan(std::string_view partition, uint64_t after, size_t limit,
                  const std::function<void(event&&)>& f,
                  bool with_data = true) const;

  caf::expected<event_batch> read(std::string_view partition,
                                  uint64_t after = 0,
                                  size_t limit = SIZE_MAX) const;

  void commit(std::vector<append_request>& group) {
    rocksdb::WriteBatch wb;
    std::vector<std::optional<caf::error>> errors(group.size());
    std::vector<std::shared_ptr<event_batch>> staged(group.size());
    // Snapshot of touched cache entries for rollback on a failed write.
    std::unordered_map<std::string, uint64_t> old_versions;
    std::unordered_map<std::string, uint64_t> old_pseqs;
    auto old_global = global_seq.load();
    auto next_global = old_global;
    std::vector<std::string> closing;
    for (size_t i = 0; i < group.size(); ++i) {
      auto& req = group[i];
      std::string partition{partition_of(req.stream)};
      if (req.stream.size() > partition.size()
          && closed_partitions.count(partition) != 0) {
        errors[i] = caf::make_error(ec::run_closed,
                                    "run " + partition + " is already over");
        continue;
      }
      if (req.new_partition && partitions.count(partition) == 0) {
        auto& fresh = partitions[partition];
        fresh.loaded = true;
        fresh.complete = true;
      }
      if (auto err = load_versions(partition, req.stream)) {
        errors[i] = std::move(err);
        continue;
      }
      auto& part = partitions[partition];
      auto& version = part.streams[req.stream];
      if (version != req.expected_version) {
        errors[i] = caf::make_error(
            ec::version_conflict,
            "stream " + req.stream + " is at version " + std::to_string(version)
                + ", writer expected " + std::to_string(req.expected_version));
        continue;
      }
      auto& pseq = part.pseq;
      old_versions.emplace(req.stream, version);
      old_pseqs.emplace(partition, pseq);
      auto batch = std::make_shared<event_batch>(std::move(req.events));
      for (auto& e : *batch) {
        e.stream = req.stream;
        e.seq = ++version;
        e.pseq = ++pseq;
        e.global_seq = ++next_global;
        auto key = partition_key(partition, e.pseq);
        wb.Put(events_cf, key, encode_event(e));
        wb.Put(global_cf, be64(e.global_seq), key);
      }
      staged[i] = std::move(batch);
      if (req.close_partition)
        closing.push_back(partition);
    }
    if (wb.Count() > 0) {
      rocksdb::WriteOptions wo;
      wo.sync = opts.sync;
      auto st = db->Write(wo, &wb);
      if (!st.ok()) {
        spdlog::error("event store: append failed: {}", st.ToString());
        for (auto& [k, v] : old_versions)
          partitions[std::string{partition_of(k)}].streams[k] = v;
        for (auto& [k, v] : old_pseqs)
          partitions[k].pseq = v;
        for (size_t i = 0; i < group.size(); ++i)
          if (!errors[i])
            errors[i] = to_error(st, "appending events");
        staged.assign(group.size(), nullptr);
        closing.clear();
      } else {
        global_seq = next_global;
      }
    }
    for (auto& p : closing) {
      if (closed_partitions.insert(p).second) {
        closed_order.push_back(p);
        if (closed_order.size() > closed_capacity) {
          closed_partitions.erase(closed_order.front());
          closed_order.pop_front();
        }
      }
      // The run is over: its versions are no longer needed in memory.
      partitions.erase(p);
    }
    std::vector<event_batch_ptr> committed;
    for (auto& b : staged)
      if (b)
        committed.emplace_back(b);
    if (!committed.empty() && observer)
      observer(committed);
    for (size_t i = 0; i < group.size(); ++i) {
      if (!group[i].done)
        continue;
      if (errors[i])
        group[i].done(std::move(*errors[i]));
      else
        group[i].done(event_batch_ptr{staged[i]});
    }
  }
};

event_store::event_store(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {
  // nop
}

event_store::~event_store() = default;

caf::expected<std::unique_ptr<event_store>>
event_store::open(const std::string& dir, store_options opts) {
  auto ptr = std::make_unique<impl>();
  ptr->dir = dir;
  ptr->opts = opts;
  auto options = make_rocksdb_options();
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs{
      {rocksdb::kDefaultColumnFamilyName,
       rocksdb::ColumnFamilyOptions{options}},
      {events_cf_name, rocksdb::ColumnFamilyOptions{options}},
      {global_cf_name, rocksdb::ColumnFamilyOptions{options}},
      {projections_cf_name, rocksdb::ColumnFamilyOptions{options}},
  };
  rocksdb::DB* raw = nullptr;
  auto st = rocksdb::DB::Open(rocksdb::DBOptions{options}, dir, cfs,
                              &ptr->handles, &raw);
  if (!st.ok())
    return to_error(st, ("opening the data directory " + dir).c_str());
  ptr->db.reset(raw);
  ptr->events_cf = ptr->handles[1];
  ptr->global_cf = ptr->handles[2];
  ptr->projections_cf = ptr->handles[3];
  // Last global sequence number: the last key of the global index.
  {
    std::unique_ptr<rocksdb::Iterator> it{
        ptr->db->NewIterator(rocksdb::ReadOptions{}, ptr->global_cf)};
    it->SeekToLast();
    if (it->Valid())
      ptr->global_seq = read_be64({it->key().data(), it->key().size()});
    if (!it->status().ok())
      return to_error(it->status(), "reading the global index");
  }
  {
    std::string val;
    auto s = ptr->db->Get(rocksdb::ReadOptions{}, ptr->projections_cf,
                          checkpoint_key, &val);
    if (s.ok())
      ptr->checkpoint = read_be64(val);
    else if (!s.IsNotFound())
      return to_error(s, "reading the projections' checkpoint");
  }
  auto* self = ptr.get();
  ptr->writer = std::thread{[self] { self->run_writer(); }};
  return std::unique_ptr<event_store>{new event_store(std::move(ptr))};
}

void event_store::append(append_request req) {
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    impl_->queue.emplace_back(std::move(req));
  }
  impl_->cv.notify_one();
}

caf::error event_store::impl::scan(std::string_view partition, uint64_t after,
                                   size_t limit,
                                   const std::function<void(event&&)>& f,
                                   bool with_data) const {
  auto start = partition_key(partition, after + 1);
  auto bound = upper_bound_of(std::string{partition} + '\0');
  rocksdb::Slice ub{bound};
  // A partition is read whole and then lives in memory (a woken run, a
  // refold, a rendered document): its blocks are not worth caching.
  auto ro = bulk_read();
  ro.iterate_upper_bound = &ub;
  std::unique_ptr<rocksdb::Iterator> it{db->NewIterator(ro, events_cf)};
  size_t n = 0;
  for (it->Seek(start); it->Valid() && n < limit; it->Next(), ++n) {
    auto val = it->value();
    auto bytes = std::string_view{val.data(), val.size()};
    auto ev = with_data ? decode_event(partition, bytes)
                        : decode_event_header(partition, bytes);
    if (!ev)
      return std::move(ev.error());
    f(std::move(*ev));
  }
  if (!it->status().ok())
    return to_error(it->status(), "reading a run's events");
  return caf::none;
}

caf::expected<event_batch> event_store::impl::read(std::string_view partition,
                                                   uint64_t after,
                                                   size_t limit) const {
  event_batch result;
  if (auto err = scan(partition, after, limit,
                      [&](event&& e) { result.emplace_back(std::move(e)); }))
    return err;
  return result;
}

void event_store::read_async(
    std::string partition,
    std::function<void(caf::expected<event_batch_ptr>)> done) {
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    impl_->reads.emplace_back(std::move(partition), std::move(done));
  }
  impl_->cv.notify_one();
}

void event_store::set_commit_observer(commit_observer f) {
  impl_->observer = std::move(f);
}

void event_store::set_read_observer(read_observer f) {
  impl_->reader = std::move(f);
}

void event_store::release(std::string partition) {
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    impl_->releases.emplace_back(std::move(partition));
  }
  impl_->cv.notify_one();
}

caf::error
event_store::write_projections(const std::vector<projection_write>& rows,
                               uint64_t checkpoint) {
  rocksdb::WriteBatch wb;
  for (auto& row : rows) {
    if (row.value)
      wb.Put(impl_->projections_cf, row.key, *row.value);
    else
      wb.Delete(impl_->projections_cf, row.key);
  }
  wb.Put(impl_->projections_cf, checkpoint_key, be64(checkpoint));
  auto st = impl_->db->Write(rocksdb::WriteOptions{}, &wb);
  if (!st.ok())
    return to_error(st, "writing projections");
  impl_->checkpoint = checkpoint;
  return caf::none;
}

caf::expected<event_batch>
event_store::read_partition(std::string_view partition, uint64_t after,
                            size_t limit) const {
  return impl_->read(partition, after, limit);
}

caf::expected<event_batch> event_store::read_global(uint64_t after,
                                                    size_t limit) const {
  event_batch result;
  std::unique_ptr<rocksdb::Iterator> it{
      impl_->db->NewIterator(rocksdb::ReadOptions{}, impl_->global_cf)};
  std::string val;
  for (it->Seek(be64(after + 1)); it->Valid() && result.size() < limit;
       it->Next()) {
    auto pkey = it->value();
    auto st
        = impl_->db->Get(rocksdb::ReadOptions{}, impl_->events_cf, pkey, &val);
    if (!st.ok())
      return to_error(st, "reading the global log");
    std::string_view pk{pkey.data(), pkey.size()};
    auto partition = pk.substr(0, pk.find('\0'));
    auto ev = decode_event(partition, val);
    if (!ev)
      return std::move(ev.error());
    result.emplace_back(std::move(*ev));
  }
  if (!it->status().ok())
    return to_error(it->status(), "reading the global log");
  return result;
}

caf::error event_store::scan_global_index(
    uint64_t after,
    const std::function<void(uint64_t, std::string_view)>& f) const {
  std::unique_ptr<rocksdb::Iterator> it{
      impl_->db->NewIterator(bulk_read(), impl_->global_cf)};
  for (it->Seek(be64(after + 1)); it->Valid(); it->Next()) {
    std::string_view key{it->key().data(), it->key().size()};
    std::string_view pkey{it->value().data(), it->value().size()};
    f(read_be64(key), pkey.substr(0, pkey.find('\0')));
  }
  if (!it->status().ok())
    return to_error(it->status(), "reading the global index");
  return caf::none;
}

caf::error event_store::flush() {
  rocksdb::FlushOptions fo;
  for (auto* h : impl_->handles) {
    auto st = impl_->db->Flush(fo, h);
    if (!st.ok())
      return to_error(st, "flushing");
  }
  return caf::none;
}

uint64_t event_store::last_global_seq() const {
  return impl_->global_seq.load();
}

caf::error event_store::put_projection(std::string_view key,
                                       std::string_view value) {
  auto st = impl_->db->Put(rocksdb::WriteOptions{}, impl_->projections_cf,
                           rocksdb::Slice{key.data(), key.size()},
                           rocksdb::Slice{value.data(), value.size()});
  if (!st.ok())
    return to_error(st, "writing a projection row");
  return caf::none;
}

caf::expected<std::optional<std::string>>
event_store::get_projection(std::string_view key) const {
  std::string val;
  auto st = impl_->db->Get(rocksdb::ReadOptions{}, impl_->projections_cf,
                           rocksdb::Slice{key.data(), key.size()}, &val);
  if (st.IsNotFound())
    return std::optional<std::string>{};
  if (!st.ok())
    return to_error(st, "reading a projection");
  return std::optional<std::string>{std::move(val)};
}

caf::error event_store::scan_projections(
    std::string_view prefix,
    const std::function<void(std::string_view, std::string_view)>& f) const {
  auto bound = upper_bound_of(prefix);
  rocksdb::Slice ub{bound};
  auto ro = bulk_read();
  if (!bound.empty())
    ro.iterate_upper_bound = &ub;
  std::unique_ptr<rocksdb::Iterator> it{
      impl_->db->NewIterator(ro, impl_->projections_cf)};
  for (it->Seek(rocksdb::Slice{prefix.data(), prefix.size()}); it->Valid();
       it->Next())
    f({it->key().data(), it->key().size()},
      {it->value().data(), it->value().size()});
  if (!it->status().ok())
    return to_error(it->status(), "scanning projections");
  return caf::none;
}

uint64_t event_store::projection_checkpoint() const {
  return impl_->checkpoint.load();
}

caf::error event_store::for_each_partition(
    const std::function<void(std::string_view)>& f) const {
  std::unique_ptr<rocksdb::Iterator> it{
      impl_->db->NewIterator(bulk_read(), impl_->events_cf)};
  it->SeekToFirst();
  while (it->Valid()) {
    std::string_view key{it->key().data(), it->key().size()};
    auto partition = std::string{key.substr(0, key.find('\0'))};
    f(partition);
    auto next = upper_bound_of(partition + '\0');
    it->Seek(next);
  }
  if (!it->status().ok())
    return to_error(it->status(), "listing runs");
  return caf::none;
}

const std::string& event_store::dir() const {
  return impl_->dir;
}

} // namespace orchflow
