#pragma once

#include <rocksdb/options.h>

namespace orchflow {

/// The RocksDB options of the event store. Benchmarks open their raw
/// baselines with exactly these, so ratios compare like with like.
inline rocksdb::Options make_rocksdb_options() {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.create_missing_column_families = true;
  opts.IncreaseParallelism(2);
  // Recover to the last consistent point after a torn WAL tail (power loss);
  // refuse silently damaged WALs through the manifest's WAL tracking.
  opts.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  opts.track_and_verify_wals_in_manifest = true;
  opts.paranoid_checks = true;
  opts.manual_wal_flush = false;
  opts.keep_log_file_num = 4;
  return opts;
}

} // namespace orchflow
