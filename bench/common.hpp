#pragma once

// Shared helpers of the benchmark programs: timing, percentiles, resident
// memory, and the one-line JSON result every mode prints.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace orchflow::bench {

using clock_type = std::chrono::steady_clock;

inline double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

inline int64_t micros_since(clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now()
                                                               - t)
      .count();
}

/// The q-quantile (0..1) of `xs` (sorted in place).
inline double quantile(std::vector<int64_t>& xs, double q) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto i = static_cast<size_t>(q * static_cast<double>(xs.size() - 1));
  return static_cast<double>(xs[i]);
}

/// Resident set size of this process in bytes.
inline int64_t rss_bytes() {
  std::ifstream in{"/proc/self/statm"};
  int64_t pages = 0;
  int64_t resident = 0;
  in >> pages >> resident;
  return resident * 4096;
}

/// Command-line options as `--key value`.
struct options {
  std::vector<std::string> args;

  std::string get(const std::string& key, std::string fallback) const {
    for (size_t i = 0; i + 1 < args.size(); ++i)
      if (args[i] == "--" + key)
        return args[i + 1];
    return fallback;
  }

  int64_t num(const std::string& key, int64_t fallback) const {
    auto v = get(key, "");
    return v.empty() ? fallback : std::stoll(v);
  }
};

/// Prints the result of a mode as one JSON line.
inline void report(const nlohmann::json& result) {
  std::cout << result.dump() << std::endl;
}

/// A realistic ~300-byte event payload (an LLM call record).
inline nlohmann::json sample_payload(int i) {
  return nlohmann::json{
      {"step", "execute"},
      {"provider", "builtin"},
      {"model", "builtin"},
      {"attempt", 1},
      {"outcome", "ok"},
      {"latency_ms", 12},
      {"input_tokens", 420 + i % 7},
      {"output_tokens", 180},
      {"text", "Key findings: the leading options differ mostly in focus, "
               "audience and cadence; list them side by side before choosing. "
               "Recurring patterns are the strongest evidence."}};
}

} // namespace orchflow::bench
