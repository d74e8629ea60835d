#pragma once

#include "bench/common.hpp"

namespace orchflow::bench {

// Raw baselines (raw_bench.cpp).
int fsync_probe(const options& opts);
int rocks_append(const options& opts);
int scan_decode(const options& opts);
int scan_run(const options& opts);
int caf_spawn(const options& opts);
int caf_rtt(const options& opts);

// A bare Beast server with a fixed body (beast_hello.cpp).
int beast_hello(const options& opts);

// The LLM transport: raw libcurl, and the engine's path (llm_bench.cpp).
int curl_raw(const options& opts);
int engine_llm(const options& opts);

// The engine (engine_bench.cpp).
int engine_append(const options& opts);
int check_acks(const options& opts);
int gen_store(const options& opts);
int engine_recovery(const options& opts);
int e2e(const options& opts);

} // namespace orchflow::bench
