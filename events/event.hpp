#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace orchflow {

/// One immutable fact in the log. Streams are named `<partition>` or
/// `<partition>/<sub>`: a run's own stream is `run_x`, its tasks write
/// `run_x/T1`, and all of them share the partition `run_x`, whose events are
/// numbered 1..n in commit order (`pseq`). Every event also has a position
/// in the one global order (`global_seq`).
struct event {
  /// The stream this event belongs to.
  std::string stream;
  /// Position in the stream, from 1.
  uint64_t seq = 0;
  /// Position in the partition (the run), from 1.
  uint64_t pseq = 0;
  /// Position in the global log, from 1.
  uint64_t global_seq = 0;
  /// Dotted past-tense name, e.g. `run.created`.
  std::string type;
  /// Schema version of `data` for this type; old versions upcast on read.
  uint16_t v = 1;
  /// When the writer decided it, in ms since the epoch (captured, not read
  /// again on replay).
  int64_t ts = 0;
  /// The payload.
  nlohmann::json data;
};

using event_batch = std::vector<event>;

/// Committed events shared between threads and actors; never mutated.
using event_batch_ptr = std::shared_ptr<const event_batch>;

/// Returns the partition of a stream: the part before the first '/'.
inline std::string_view partition_of(std::string_view stream) {
  return stream.substr(0, stream.find('/'));
}

/// Returns a new, not yet appended event.
inline event make_event(std::string type, int64_t ts, nlohmann::json data,
                        uint16_t v = 1) {
  event e;
  e.type = std::move(type);
  e.v = v;
  e.ts = ts;
  e.data = std::move(data);
  return e;
}

} // namespace orchflow
