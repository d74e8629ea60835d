// orchflow_bench MODE [--key value]...: one measurement, one JSON line.
// bench/run_all.py pairs the modes, alternates them and prints the table.

#include <spdlog/spdlog.h>

#include <cstring>
#include <functional>
#include <map>

#include "bench/modes.hpp"

int main(int argc, char** argv) {
  using namespace orchflow::bench;
  spdlog::set_level(spdlog::level::warn);
  std::map<std::string, std::function<int(const options&)>> modes{
      {"fsync", fsync_probe},
      {"rocks-append", rocks_append},
      {"scan-decode", scan_decode},
      {"scan-run", scan_run},
      {"caf-spawn", caf_spawn},
      {"caf-rtt", caf_rtt},
      {"beast-hello", beast_hello},
      {"curl-raw", curl_raw},
      {"engine-llm", engine_llm},
      {"engine-append", engine_append},
      {"check-acks", check_acks},
      {"gen-store", gen_store},
      {"engine-recovery", engine_recovery},
      {"e2e", e2e}};
  if (argc < 2 || modes.count(argv[1]) == 0) {
    std::cerr << "usage: orchflow_bench MODE [--key value]...\nmodes:";
    for (auto& [name, f] : modes)
      std::cerr << " " << name;
    std::cerr << "\n";
    return 2;
  }
  options opts;
  for (int i = 2; i < argc; ++i)
    opts.args.emplace_back(argv[i]);
  return modes[argv[1]](opts);
}
