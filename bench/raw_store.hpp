#pragma once

// Opens an engine data directory with RocksDB directly (the raw baselines
// and the benchmark's own bookkeeping), with the engine's options and
// column families.

#include "events/rocksdb_options.hpp"

#include <rocksdb/db.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace orchflow::bench {

/// A RocksDB handle with the engine's column families; closes on scope exit.
struct raw_store {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*>
      cf; // default, events, global, projections

  ~raw_store() {
    for (auto* h : cf)
      db->DestroyColumnFamilyHandle(h);
  }

  /// Opens `dir` (creating it if `create`); nullptr with a message on
  /// stderr if that fails.
  static std::unique_ptr<raw_store> open(const std::string& dir, bool create,
                                         bool read_only = false) {
    auto o = make_rocksdb_options();
    o.create_if_missing = create;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs{
        {rocksdb::kDefaultColumnFamilyName, o},
        {"events", o},
        {"global", o},
        {"projections", o}};
    auto s = std::make_unique<raw_store>();
    rocksdb::DB* raw = nullptr;
    auto st = read_only ? rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions{o},
                                                       dir, cfs, &s->cf, &raw)
                        : rocksdb::DB::Open(rocksdb::DBOptions{o}, dir, cfs,
                                            &s->cf, &raw);
    if (!st.ok()) {
      std::cerr << "cannot open " << dir << ": " << st.ToString() << "\n";
      return nullptr;
    }
    s->db.reset(raw);
    return s;
  }
};

} // namespace orchflow::bench
