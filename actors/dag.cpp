#include "actors/dag.hpp"

#include <algorithm>
#include <functional>
#include <set>

namespace orchflow {

validated_dag
validate_dag(const std::vector<std::string>& ids,
             const std::map<std::string, std::vector<std::string>>& proposed) {
  validated_dag result;
  std::set<std::string> known(ids.begin(), ids.end());
  for (auto& [id, deps] : proposed)
    if (known.count(id) == 0)
      result.notes.push_back("dependencies of unknown subtask " + id
                             + " dropped");
  for (auto& id : ids) {
    auto& out = result.depends_on[id];
    auto i = proposed.find(id);
    if (i == proposed.end())
      continue;
    for (auto& dep : i->second) {
      if (dep == id) {
        result.notes.push_back("self-dependency of " + id + " removed");
      } else if (known.count(dep) == 0) {
        result.notes.push_back("unknown dependency " + dep + " of " + id
                               + " dropped");
      } else if (std::find(out.begin(), out.end(), dep) == out.end()) {
        out.push_back(dep);
      }
    }
  }
  // Break cycles: DFS from each node in order; an edge to a node on the
  // stack closes a cycle and is removed.
  enum class mark { none, active, done };
  std::map<std::string, mark> marks;
  std::function<void(const std::string&)> visit = [&](const std::string& n) {
    marks[n] = mark::active;
    auto& deps = result.depends_on[n];
    for (auto it = deps.begin(); it != deps.end();) {
      auto m = marks[*it];
      if (m == mark::active) {
        result.notes.push_back("cycle broken: " + n + " no longer depends on "
                               + *it);
        it = deps.erase(it);
        continue;
      }
      if (m == mark::none)
        visit(*it);
      ++it;
    }
    marks[n] = mark::done;
  };
  for (auto& id : ids)
    if (marks[id] == mark::none)
      visit(id);
  return result;
}

bool is_acyclic(const std::map<std::string, std::vector<std::string>>& g) {
  std::map<std::string, int> state;
  std::function<bool(const std::string&)> visit = [&](const std::string& n) {
    state[n] = 1;
    if (auto i = g.find(n); i != g.end())
      for (auto& d : i->second) {
        if (state[d] == 1)
          return false;
        if (state[d] == 0 && !visit(d))
          return false;
      }
    state[n] = 2;
    return true;
  };
  for (auto& [n, deps] : g)
    if (state[n] == 0 && !visit(n))
      return false;
  return true;
}

} // namespace orchflow
