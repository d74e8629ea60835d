#pragma once

#include <map>
#include <string>
#include <vector>

namespace orchflow {

/// A dependency graph after validation, with notes on what was repaired.
struct validated_dag {
  /// For each node (in the given order), the ids it depends on.
  std::map<std::string, std::vector<std::string>> depends_on;
  /// One sentence per repair: unknown id dropped, self-edge removed, cycle
  /// broken.
  std::vector<std::string> notes;
};

/// Makes any proposed graph a DAG over `ids`: drops unknown ids and
/// duplicates, removes self-edges and breaks every cycle by removing the
/// edge that closes it (depth-first, in `ids` order, so the result is
/// deterministic). Real structure is kept: it never forces a chain.
validated_dag
validate_dag(const std::vector<std::string>& ids,
             const std::map<std::string, std::vector<std::string>>& proposed);

/// True if the graph has no cycle (every dependency must be in the graph).
bool is_acyclic(const std::map<std::string, std::vector<std::string>>& g);

} // namespace orchflow
