#pragma once

#include <rocksdb/cache.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>

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
  // Memory stays bounded however long the log grows: indexes are
  // partitioned and their partitions live in the block cache (by default
  // every open table keeps its whole index in memory, ~2% of the data);
  // only the small top level is pinned. Whole cached indexes instead slowed
  // full replay by 60% (large index blocks evicted and re-read).
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(32 << 20, -1, false, 0.5);
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.pin_top_level_index_and_filter = true;
  opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return opts;
}

} // namespace orchflow
