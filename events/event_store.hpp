#pragma once

#include "events/event.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orchflow {

/// Knobs of the event store; the defaults are what production uses.
struct store_options {
  /// Sync the WAL before acknowledging an append. Turning this off trades
  /// durability for speed and exists only for benchmarks' baselines.
  bool sync = true;
  /// Upper bound of appends folded into one synced write (group commit).
  size_t max_group = 1024;
};

/// Called on the writer thread once the append is durable (or failed). Must
/// be quick and must not block: typically it sends a CAF message.
using append_callback = std::function<void(caf::expected<event_batch_ptr>)>;

/// One atomic append of one or more events to one stream.
struct append_request {
  /// Target stream, e.g. `run_x` or `run_x/T1`.
  std::string stream;
  /// The stream's current version as the writer knows it (0 if new). A
  /// mismatch fails the append with `ec::version_conflict`: a bug, since
  /// every stream has exactly one writer.
  uint64_t expected_version = 0;
  /// Events to append; seq, pseq and global_seq are assigned by the store.
  event_batch events;
  /// When true, the partition accepts no further appends to its sub-streams
  /// (`run_x/...`) once this append committed: a terminal run runs nothing.
  bool close_partition = false;
  /// The caller vouches that the partition has no events yet (an id it
  /// just drew at random and checked unknown): the store does not look.
  bool new_partition = false;
  append_callback done;
};

/// Observes every committed group, in global order, on the writer thread,
/// before any append callback of that group runs.
using commit_observer
    = std::function<void(const std::vector<event_batch_ptr>&)>;

/// Observes every partition read by read_async, on the writer thread,
/// right after `done` ran (before anything else the writer does).
using read_observer
    = std::function<void(const std::string&, const event_batch_ptr&)>;

/// A write to the projections column family.
struct projection_write {
  std::string key;
  /// nullopt deletes the key.
  std::optional<std::string> value;
};

/// The durable, append-only event log on RocksDB.
///
/// Appends are queued and written by one internal writer thread that folds
/// everything queued meanwhile into one WriteBatch and one synced write
/// (group commit): no caller ever blocks on disk I/O to append. Reads are
/// thread-safe and do block on I/O; call them from I/O or startup threads,
/// never from CAF scheduler threads.
///
/// The store also hosts the projections' column family, so that read models
/// live in the same database and can be rebuilt from the log.
class event_store {
public:
  // -- constructors, destructors, and assignment operators -------------------

  /// Opens (or creates) the store in `dir` and starts the writer thread.
  [[nodiscard]] static caf::expected<std::unique_ptr<event_store>>
  open(const std::string& dir, store_options opts = {});

  /// Drains the queue, stops the writer thread and closes the database.
  ~event_store();

  event_store(const event_store&) = delete;
  event_store& operator=(const event_store&) = delete;

  // -- writing ---------------------------------------------------------------

  /// Queues an append. Thread-safe; returns immediately. `req.done` runs on
  /// the writer thread after the group's synced write.
  void append(append_request req);

  /// Reads a partition on the writer thread, after every append queued
  /// before this call committed; `done` runs there (it must only hand the
  /// events on). For waking a passivated run without blocking an actor.
  void read_async(std::string partition,
                  std::function<void(caf::expected<event_batch_ptr>)> done);

  /// Installs the observer of committed groups. Call before the first append.
  void set_commit_observer(commit_observer f);

  /// Installs the observer of read_async's reads. Call before the first one.
  void set_read_observer(read_observer f);

  /// Lets the writer forget what it caches of `partition` (its stream
  /// versions) until its next append or read: for runs that leave memory
  /// (passivated), so that a million waiting runs cost the writer nothing.
  void release(std::string partition);

  /// Writes projection rows and the projections' checkpoint (the global seq
  /// they reflect) in one batch, without sync: projections can be rebuilt.
  [[nodiscard]] caf::error
  write_projections(const std::vector<projection_write>& rows,
                    uint64_t checkpoint);

  // -- reading ---------------------------------------------------------------

  /// Returns up to `limit` events of `partition` with pseq > `after`.
  [[nodiscard]] caf::expected<event_batch>
  read_partition(std::string_view partition, uint64_t after = 0,
                 size_t limit = SIZE_MAX) const;

  /// Returns up to `limit` events with global_seq > `after`, in global order.
  [[nodiscard]] caf::expected<event_batch> read_global(uint64_t after,
                                                       size_t limit) const;

  /// Calls `f(global_seq, partition)` for every event after `after`, in
  /// global order, without reading the events themselves.
  [[nodiscard]] caf::error scan_global_index(
      uint64_t after,
      const std::function<void(uint64_t, std::string_view)>& f) const;

  /// Flushes memtables to table files (so the next open replays no WAL).
  [[nodiscard]] caf::error flush();

  /// Returns the global seq of the last committed event (0 if none).
  uint64_t last_global_seq() const;

  /// Writes one derived row (no checkpoint change, no sync): for rows that
  /// only cache what the log already says. Thread-safe.
  [[nodiscard]] caf::error put_projection(std::string_view key,
                                          std::string_view value);

  /// Returns a projection row, or nullopt if absent.
  [[nodiscard]] caf::expected<std::optional<std::string>>
  get_projection(std::string_view key) const;

  /// Calls `f(key, value)` for every projection row starting with `prefix`.
  [[nodiscard]] caf::error scan_projections(
      std::string_view prefix,
      const std::function<void(std::string_view, std::string_view)>& f) const;

  /// Returns the projections' checkpoint (0 if never written).
  uint64_t projection_checkpoint() const;

  /// Calls `f(partition)` once for every partition, in key order.
  [[nodiscard]] caf::error
  for_each_partition(const std::function<void(std::string_view)>& f) const;

  /// The data directory.
  const std::string& dir() const;

  struct impl;

private:
  explicit event_store(std::unique_ptr<impl> ptr);

  std::unique_ptr<impl> impl_;
};

} // namespace orchflow
