#pragma once

#include "events/event.hpp"
#include "events/event_store.hpp"
#include "projections/run_view.hpp"

#include <caf/error.hpp>

#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace orchflow {

/// A pre-serialized read of one run, safe to hand to any thread.
struct run_read {
  std::shared_ptr<const std::string> document;
  /// Null when not cached: derive it with tasks_of(document).
  std::shared_ptr<const std::string> tasks;
  std::string status;
  /// The run is passivated: its document is a row, read with
  /// stored_document() (disk I/O: not on an I/O thread).
  bool stored = false;
};

/// The `{"run_id","tasks":[...]}` body derived from a run document.
std::string tasks_of(const std::string& run_id, const std::string& document);

/// A webhook notification queued and not yet delivered or abandoned.
struct pending_webhook {
  std::string delivery_id;
  std::string run_id;
  std::string url;
  std::string body;
};

/// A registered LLM provider (its key sealed).
struct provider_record {
  std::string provider_id;
  std::string account_id;
  std::string kind;
  std::string label;
  std::string model;
  std::string base_url;
  std::string key_hint;
  std::string key_id;
  std::string nonce;
  std::string ciphertext;
  bool active = true;
  int64_t created_at = 0;
  /// Version of the provider's stream.
  uint64_t version = 0;
};

/// The read side: accounts by API-key hash, run documents, task lists and
/// per-account run lists, folded from the committed event feed.
///
/// `apply` runs on the event store's writer thread after every commit, so a
/// command acknowledged after its append is already visible to readers
/// (read-your-writes). Queries are thread-safe and never touch actors. Rows
/// are persisted to the store's projections column family with a
/// checkpoint; `load` restores them and folds whatever the log holds beyond
/// the checkpoint, so the model can always be rebuilt from the log.
class read_model {
public:
  explicit read_model(event_store& store);

  ~read_model();

  /// Restores persisted rows and catches up with the log. Call once at
  /// startup, before the store accepts appends.
  [[nodiscard]] caf::error load();

  /// Drops everything and rebuilds from the log alone.
  [[nodiscard]] caf::error rebuild();

  /// Folds committed groups (writer thread).
  void apply(const std::vector<event_batch_ptr>& groups);

  /// Takes note of a passivated run just read back from the log (writer
  /// thread): folds it now, while its actor starts, so that its next event
  /// needs neither a second read nor a refold.
  void woken(const std::string& run_id, const event_batch& events);

  // -- queries (thread-safe)
  // ---------------------------------------------------

  /// Returns the account owning the API key with this SHA-256 hash.
  std::optional<std::string> account_by_key_hash(const std::string& hash) const;

  /// Returns the run if it exists and belongs to `account`.
  std::optional<run_read> run(const std::string& run_id,
                              const std::string& account) const;

  /// Returns the status of a run, whoever owns it.
  std::optional<std::string> status_of(const std::string& run_id) const;

  /// Reads a passivated run's document from its row (renders the row from
  /// the log if start-up left it for later). Blocks on disk I/O.
  std::optional<std::string> stored_document(const std::string& run_id) const;

  /// Returns `{"runs", "total", "limit", "offset"}`, newest first. May read
  /// rows of passivated runs from disk.
  nlohmann::json list_runs(const std::string& account, size_t limit,
                           size_t offset) const;

  /// Returns a copy of the folded state of a run that is not terminal
  /// (used by recovery to spawn its actor without a second replay).
  std::optional<run_view> active_view(const std::string& run_id) const;

  /// Ids of all runs that are not terminal, oldest first.
  std::vector<std::string> active_runs() const;

  /// Number of runs that are not terminal.
  size_t active_count() const;

  /// Returns a provider, whoever owns it (callers check the owner).
  std::optional<provider_record> provider(const std::string& id) const;

  /// Returns `{"providers": [...]}` of an account, oldest first, without
  /// any key material but the hint.
  nlohmann::json list_providers(const std::string& account) const;

  /// Ids of the master keys the stored provider keys need.
  std::vector<std::string> provider_key_ids() const;

  /// Notifications queued but not yet delivered or abandoned.
  std::vector<pending_webhook> pending_webhooks() const;

  /// Version of the `webhooks` stream (for its single writer).
  uint64_t webhooks_version() const;

  /// Whether runs waiting for a human drop their folded state (default).
  void set_passivation(bool on) { passivate_ = on; }

  /// The global seq of the last event folded.
  uint64_t position() const;

private:
  /// A run's folded state and rendered strings: only while it is in memory
  /// (running, or ended and not yet written).
  struct run_live {
    std::shared_ptr<const std::string> document;
    std::shared_ptr<const std::string> tasks;
    std::shared_ptr<const std::string> summary;
    /// Present while the run is not terminal.
    std::unique_ptr<run_view> view;
    /// The cached strings are older than `view`: rendered on the next read,
    /// not on every commit (most commits are never read).
    bool dirty = false;
  };

  enum class run_status : uint8_t {
    pending,
    planning,
    running,
    waiting_human,
    completed,
    failed,
    cancelled,
  };

  /// One run. A passivated or ended run keeps only this (32 bytes, plus its
  /// id and map node): a million waiting runs fit in a few hundred MB.
  struct run_entry {
    std::unique_ptr<run_live> live;
    int64_t created_at = 0;
    /// The run's last event when it was passivated (tags cached copies).
    uint64_t passivated_seq = 0;
    /// The owning account, an index in owners_ (0: not known yet).
    uint32_t owner = 0;
    run_status status = run_status::pending;
    /// Waiting for a human with nothing in memory but this entry: its
    /// document is in the `d/` row and the next event refolds it.
    bool passivated = false;

    run_view* view() const { return live ? live->view.get() : nullptr; }

    run_live& hot() {
      if (!live)
        live = std::make_unique<run_live>();
      return *live;
    }

    bool has_document() const { return live && live->document; }

    bool terminal() const {
      return status == run_status::completed || status == run_status::failed
             || status == run_status::cancelled;
    }
  };

  static run_status status_from(std::string_view s);
  static std::string status_name(run_status s);

  struct account_entry {
    std::string account_id;
    std::string key_hash;
    /// The account's run ids (keys of runs_, stable), oldest first.
    std::vector<const std::string*> runs;
    /// This account's index in owners_ (0: none yet).
    uint32_t index = 0;
  };

  /// The index of `account` in owners_, added if new.
  uint32_t owner_index(const std::string& account);
  /// The account id at `index` ("" for 0).
  const std::string& owner_name(uint32_t index) const;
  /// True if `entry` belongs to `account`.
  bool owned_by(const run_entry& entry, const std::string& account) const;

  void fold(const event& e, std::vector<std::string>& touched_runs,
            std::vector<std::string>& touched_accounts);
  void fold_webhook(const event& e);
  /// Lists a newly known run under its account.
  void list_run(const std::string& id);
  void fold_provider(const event& e);
  void render(run_entry& entry) const;
  /// Renders `entry` if dirty; needs the exclusive lock.
  void refresh(run_entry& entry) const;
  /// Renders an ended run for its rows and lets it leave memory once they
  /// are written (writer thread).
  void retire(const std::string& id, run_entry& entry);
  /// Drops the folded state of a run waiting for a human (writer thread).
  void passivate(const std::string& id, run_entry& entry, bool with_document);
  /// Writes the rows of what changed (with the checkpoint) and then frees
  /// the documents of runs passivated meanwhile. Writer thread; no lock held.
  [[nodiscard]] caf::error flush_rows(const std::vector<std::string>& runs,
                                      const std::vector<std::string>& accounts,
                                      uint64_t checkpoint);
  /// Reads a passivated run's document row (no lock held).
  std::optional<run_read> read_passivated(const std::string& id,
                                          const std::string& status) const;
  std::vector<projection_write>
  rows_for(const std::vector<std::string>& runs,
           const std::vector<std::string>& accounts) const;
  caf::error catch_up();

  event_store& store_;
  mutable std::shared_mutex mtx_;
  /// Mutable: readers render dirty entries (under the exclusive lock).
  /// Hashes run ids without the map caching each hash in its node (a
  /// noexcept hasher): 16 bytes less per run, a million runs in mind.
  struct id_hash {
    size_t operator()(const std::string& id) const noexcept {
      return std::hash<std::string_view>{}(id);
    }
  };
  mutable std::unordered_map<std::string, run_entry, id_hash> runs_;
  std::unordered_map<std::string, account_entry> accounts_;
  /// Account ids by index (keys of accounts_, stable); [0] is unused.
  std::vector<const std::string*> owners_{nullptr};
  std::unordered_map<std::string, std::string> key_hashes_;
  std::map<std::string, pending_webhook> webhooks_;
  std::map<std::string, provider_record> providers_;
  std::vector<std::string> touched_providers_;
  /// Runs created since the last persist (their first, small row).
  std::unordered_set<std::string> created_runs_;
  /// Runs that went waiting_human in the group being applied.
  std::vector<std::string> waiting_runs_;
  /// Rows of runs passivated in the group being applied.
  std::vector<projection_write> passivated_rows_;
  /// Runs passivated since the last flush_rows.
  std::vector<std::string> parked_;
  /// Passivated runs read back by their actors recently, folded (writer
  /// thread only; a few, oldest dropped first).
  std::deque<std::pair<std::string, std::unique_ptr<run_view>>> woken_;
  static constexpr size_t woken_capacity = 32;
  /// Removes `run_id` from woken_; returns its view if `next_pseq` directly
  /// follows the events it folded.
  std::unique_ptr<run_view> take_woken(const std::string& run_id,
                                       uint64_t next_pseq);
  bool passivate_ = true;
  /// Documents of passivated runs read recently: a bounded LRU, so that
  /// clients polling a waiting run do not read its row every time.
  void cache_put(const std::string& id, uint64_t seq,
                 std::shared_ptr<const std::string> doc) const;
  std::shared_ptr<const std::string> cache_get(const std::string& id,
                                               uint64_t seq) const;
  void cache_drop(const std::string& id) const;
  mutable std::mutex cache_mtx_;
  struct cached_doc {
    std::string id;
    uint64_t seq;
    std::shared_ptr<const std::string> doc;
  };
  mutable std::list<cached_doc> cache_lru_;
  mutable std::unordered_map<std::string, decltype(cache_lru_)::iterator>
      cache_index_;
  static constexpr size_t cache_capacity = 4096;
  /// Webhook rows changed since the last persist (id -> still pending).
  std::map<std::string, bool> touched_webhooks_;
  uint64_t webhooks_version_ = 0;
  uint64_t position_ = 0;
};

} // namespace orchflow
