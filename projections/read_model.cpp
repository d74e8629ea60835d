#include "projections/read_model.hpp"

#include "events/error.hpp"
#include "events/json_util.hpp"
#include "events/time.hpp"
#include "events/types.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <thread>

namespace orchflow {

using nlohmann::json;

namespace {

constexpr std::string_view run_prefix = "r/";
constexpr std::string_view account_prefix = "a/";
constexpr std::string_view webhook_prefix = "w/";
constexpr std::string_view provider_prefix = "p/";
constexpr std::string_view document_prefix = "d/";

nlohmann::json to_json(const provider_record& p) {
  return nlohmann::json{{"provider_id", p.provider_id},
                        {"account_id", p.account_id},
                        {"provider", p.kind},
                        {"label", p.label},
                        {"model", p.model},
                        {"base_url", p.base_url},
                        {"key_hint", p.key_hint},
                        {"key_id", p.key_id},
                        {"nonce", p.nonce},
                        {"ciphertext", p.ciphertext},
                        {"active", p.active},
                        {"created_at", p.created_at},
                        {"version", p.version}};
}

provider_record provider_from_json(const nlohmann::json& j) {
  provider_record p;
  p.provider_id = get_string(j, "provider_id");
  p.account_id = get_string(j, "account_id");
  p.kind = get_string(j, "provider");
  p.label = get_string(j, "label");
  p.model = get_string(j, "model");
  p.base_url = get_string(j, "base_url");
  p.key_hint = get_string(j, "key_hint");
  p.key_id = get_string(j, "key_id");
  p.nonce = get_string(j, "nonce");
  p.ciphertext = get_string(j, "ciphertext");
  p.active = get_bool(j, "active", true);
  p.created_at = get_int(j, "created_at");
  p.version = static_cast<uint64_t>(get_int(j, "version"));
  return p;
}
constexpr std::string_view webhooks_version_key = "m/webhooks_version";

bool is_run(std::string_view partition) {
  return partition.rfind("run_", 0) == 0;
}

bool is_account(std::string_view partition) {
  return partition.rfind("acct_", 0) == 0;
}

void push_unique(std::vector<std::string>& xs, std::string_view x) {
  if (std::find(xs.begin(), xs.end(), x) == xs.end())
    xs.emplace_back(x);
}

} // namespace

read_model::read_model(event_store& store) : store_(store) {
  // nop
}

read_model::~read_model() = default;

read_model::run_status read_model::status_from(std::string_view s) {
  if (s == "planning")
    return run_status::planning;
  if (s == "running")
    return run_status::running;
  if (s == "waiting_human")
    return run_status::waiting_human;
  if (s == "completed")
    return run_status::completed;
  if (s == "failed")
    return run_status::failed;
  if (s == "cancelled")
    return run_status::cancelled;
  return run_status::pending;
}

std::string read_model::status_name(run_status s) {
  switch (s) {
  case run_status::pending:
    return "pending";
  case run_status::planning:
    return "planning";
  case run_status::running:
    return "running";
  case run_status::waiting_human:
    return "waiting_human";
  case run_status::completed:
    return "completed";
  case run_status::failed:
    return "failed";
  case run_status::cancelled:
    return "cancelled";
  }
  return "pending";
}

uint32_t read_model::owner_index(const std::string& account) {
  if (account.empty())
    return 0;
  auto i = accounts_.try_emplace(account).first;
  if (i->second.index == 0) {
    i->second.index = static_cast<uint32_t>(owners_.size());
    owners_.push_back(&i->first);
  }
  return i->second.index;
}

const std::string& read_model::owner_name(uint32_t index) const {
  static const std::string none;
  return index == 0 || index >= owners_.size() ? none : *owners_[index];
}

bool read_model::owned_by(const run_entry& entry,
                          const std::string& account) const {
  return entry.owner != 0 && owner_name(entry.owner) == account;
}

void read_model::render(run_entry& entry) const {
  auto* vp = entry.view();
  if (vp == nullptr)
    return;
  auto& v = *vp;
  auto& live = *entry.live;
  entry.status = status_from(v.status);
  live.document = std::make_shared<const std::string>(dump_safe(render_run(v)));
  live.tasks = std::make_shared<const std::string>(dump_safe(render_tasks(v)));
  live.summary
      = std::make_shared<const std::string>(dump_safe(render_summary(v)));
  live.dirty = false;
  if (v.terminal())
    live.view.reset();
}

caf::error read_model::flush_rows(const std::vector<std::string>& runs,
                                  const std::vector<std::string>& accounts,
                                  uint64_t checkpoint) {
  // Rows are built by the writer thread, the only one that mutates.
  auto rows = rows_for(runs, accounts);
  for (auto& row : passivated_rows_)
    rows.push_back(std::move(row));
  passivated_rows_.clear();
  touched_webhooks_.clear();
  touched_providers_.clear();
  created_runs_.clear();
  auto parked = std::move(parked_);
  parked_.clear();
  // Most commits change no row: the checkpoint then stays behind, and a
  // restart refolds the few events after it (active runs are refolded from
  // the log anyway). Writing it every commit would double the writes.
  if (rows.empty())
    return caf::none;
  if (auto err = store_.write_projections(rows, checkpoint))
    return err; // passivated runs keep their documents in memory
  if (parked.empty())
    return caf::none;
  // Passivated documents are durable rows now: free the memory.
  std::unique_lock<std::shared_mutex> guard{mtx_};
  for (auto& id : parked)
    if (auto& entry = runs_[id]; entry.passivated && !entry.view())
      entry.live.reset();
  return caf::none;
}

void read_model::retire(const std::string& id, run_entry& entry) {
  if (!entry.view())
    return;
  entry.passivated_seq = entry.view()->last_event_seq;
  render(entry); // drops the view of an ended run
  entry.passivated = true;
  cache_drop(id);
  parked_.push_back(id); // its strings go once its rows are written
}

void read_model::passivate(const std::string& id, run_entry& entry,
                           bool with_document) {
  auto* view = entry.view();
  if (view == nullptr || view->status != "waiting_human")
    return;
  auto seq = view->last_event_seq;
  if (with_document) {
    render(entry);
    passivated_rows_.push_back(
        {std::string{document_prefix} + id, *entry.live->document});
  } else {
    // At start-up: no rendering of thousands of documents; the first read
    // renders from the log and keeps the row (read_passivated).
    passivated_rows_.push_back(
        {std::string{document_prefix} + id, std::nullopt});
  }
  passivated_rows_.push_back(
      {std::string{run_prefix} + id,
       dump_safe(json{{"owner", owner_name(entry.owner)},
                      {"status", status_name(entry.status)},
                      {"created_at", entry.created_at},
                      {"passivated", true},
                      {"seq", seq}})});
  parked_.push_back(id);
  entry.passivated_seq = seq;
  // The strings stay until the rows are written (see apply): readers in
  // between must find the document somewhere.
  entry.live->view.reset();
  entry.live->dirty = false;
  entry.passivated = true;
}

std::string tasks_of(const std::string& run_id, const std::string& document) {
  auto j = json::parse(document, nullptr, false);
  json tasks = json::array();
  if (auto& subtasks = get_json(j, "subtasks"); subtasks.is_object())
    for (auto& [tid, t] : subtasks.items())
      tasks.push_back(t);
  return dump_safe(json{{"run_id", run_id}, {"tasks", std::move(tasks)}});
}

std::optional<run_read>
read_model::read_passivated(const std::string& id,
                            const std::string& status) const {
  auto key = std::string{document_prefix} + id;
  auto doc = store_.get_projection(key);
  if (!doc)
    return std::nullopt;
  if (!*doc) {
    // Not rendered since start-up: refold from the log once, keep the row.
    auto events = store_.read_partition(id);
    if (!events)
      return std::nullopt;
    run_view v;
    apply_all(v, *events);
    *doc = dump_safe(render_run(v));
    (void)store_.put_projection(key, **doc);
  }
  // The task list is derived on demand (tasks_of): most reads want the
  // document only.
  return run_read{std::make_shared<const std::string>(std::move(**doc)),
                  nullptr, status};
}

void read_model::refresh(run_entry& entry) const {
  if (entry.live && entry.live->dirty && entry.live->view)
    render(entry);
}

void read_model::list_run(const std::string& id) {
  auto i = runs_.find(id);
  accounts_[owner_name(i->second.owner)].runs.push_back(&i->first);
}

void read_model::fold_webhook(const event& e) {
  if (e.type == ev::webhook_queued) {
    pending_webhook w;
    w.delivery_id = get_string(e.data, "delivery_id");
    w.run_id = std::string{partition_of(e.stream)};
    w.url = get_string(e.data, "url");
    w.body = dump_safe(get_json(e.data, "payload"));
    touched_webhooks_[w.delivery_id] = true;
    webhooks_[w.delivery_id] = std::move(w);
  } else if (e.stream == ev::webhooks_stream) {
    webhooks_version_ = e.seq;
    touched_webhooks_[""] = false; // persist the version
    if (e.type == ev::webhook_delivered || e.type == ev::webhook_abandoned) {
      auto id = get_string(e.data, "delivery_id");
      webhooks_.erase(id);
      touched_webhooks_[id] = false;
    }
  }
}

void read_model::fold_provider(const event& e) {
  auto id = std::string{partition_of(e.stream)};
  if (e.type == ev::provider_registered) {
    auto p = provider_from_json(e.data);
    p.provider_id = id;
    p.active = true;
    p.created_at = e.ts;
    p.version = e.seq;
    providers_[id] = std::move(p);
  } else if (auto i = providers_.find(id); i != providers_.end()) {
    i->second.version = e.seq;
    if (e.type == ev::provider_deactivated)
      i->second.active = false;
  }
  push_unique(touched_providers_, id);
}

void read_model::fold(const event& e, std::vector<std::string>& touched_runs,
                      std::vector<std::string>& touched_accounts) {
  fold_webhook(e);
  auto partition = std::string{partition_of(e.stream)};
  if (partition.rfind("prv_", 0) == 0) {
    fold_provider(e);
    return;
  }
  if (is_account(partition)) {
    if (e.type == ev::account_registered) {
      auto& acct = accounts_[partition];
      acct.account_id = partition;
      auto hash = get_string(e.data, "key_hash");
      if (!hash.empty())
        key_hashes_[hash] = partition;
      acct.key_hash = hash;
      push_unique(touched_accounts, partition);
    }
    return;
  }
  if (!is_run(partition))
    return;
  auto& entry = runs_[partition];
  if (e.type == ev::run_created && e.pseq == 1) {
    entry.owner = owner_index(get_string(e.data, "account_id"));
    entry.created_at = e.ts;
    entry.hot().view = std::make_unique<run_view>();
    list_run(partition);
    created_runs_.insert(partition);
  }
  if (entry.view() && e.pseq <= entry.view()->last_event_seq)
    return; // folded already, by a reload from the log in this group
  if (!entry.view()) {
    // An event for a passivated or ended run: refold it from its events
    // just read by its woken actor, else from the log (which holds this
    // event, and the rest of its group, already).
    if (auto view = take_woken(partition, e.pseq)) {
      orchflow::apply(*view, e);
      entry.hot().view = std::move(view);
    } else if (auto events = store_.read_partition(partition)) {
      auto& live = entry.hot();
      live.view = std::make_unique<run_view>();
      apply_all(*live.view, *events);
    } else {
      spdlog::error("projection: cannot reload run {}: {}", partition,
                    orchflow::render(events.error()));
      return;
    }
    entry.passivated = false;
    cache_drop(partition);
  } else {
    orchflow::apply(*entry.view(), e);
  }
  entry.status = status_from(entry.view()->status);
  entry.live->dirty = true;
  if (e.type == ev::run_waiting_human)
    push_unique(waiting_runs_, partition);
  push_unique(touched_runs, partition);
}

std::vector<projection_write>
read_model::rows_for(const std::vector<std::string>& runs,
                     const std::vector<std::string>& accounts) const {
  std::vector<projection_write> rows;
  rows.reserve(runs.size() + accounts.size());
  // A run's row is written when it is created (small: it is refolded from
  // the log at start while active) and once more when it ends (with its
  // document: terminal runs are served without replay).
  for (auto& id : runs) {
    auto i = runs_.find(id);
    if (i == runs_.end())
      continue;
    auto& entry = i->second;
    bool ended = entry.terminal() && entry.has_document();
    bool created = created_runs_.count(id) != 0;
    if (!ended && !created)
      continue;
    json row{{"owner", owner_name(entry.owner)},
             {"status", status_name(entry.status)},
             {"created_at", entry.created_at}};
    if (ended) {
      // Like a passivated run: the document is its own row, read on demand.
      rows.push_back(
          {std::string{document_prefix} + id, *entry.live->document});
      row["passivated"] = true;
      row["seq"] = entry.passivated_seq;
    }
    rows.push_back({std::string{run_prefix} + id, dump_safe(row)});
  }
  for (auto& id : touched_providers_)
    if (auto i = providers_.find(id); i != providers_.end())
      rows.push_back(
          {std::string{provider_prefix} + id, dump_safe(to_json(i->second))});
  for (auto& [id, pending] : touched_webhooks_) {
    if (id.empty()) {
      rows.push_back({std::string{webhooks_version_key},
                      std::to_string(webhooks_version_)});
      continue;
    }
    auto i = webhooks_.find(id);
    if (pending && i != webhooks_.end())
      rows.push_back({std::string{webhook_prefix} + id,
                      dump_safe(json{{"run_id", i->second.run_id},
                                     {"url", i->second.url},
                                     {"body", i->second.body}})});
    else
      rows.push_back({std::string{webhook_prefix} + id, std::nullopt});
  }
  for (auto& id : accounts) {
    json row{{"account_id", id}};
    if (auto i = accounts_.find(id); i != accounts_.end())
      row["key_hash"] = i->second.key_hash;
    rows.push_back({std::string{account_prefix} + id, dump_safe(row)});
  }
  return rows;
}

void read_model::woken(const std::string& run_id, const event_batch& events) {
  {
    // Only runs without a view here need one (the writer thread is the only
    // one adding views, but readers render entries).
    std::shared_lock<std::shared_mutex> guard{mtx_};
    auto i = runs_.find(run_id);
    if (i == runs_.end() || i->second.view())
      return;
  }
  for (auto i = woken_.begin(); i != woken_.end(); ++i)
    if (i->first == run_id) {
      woken_.erase(i);
      break;
    }
  auto view = std::make_unique<run_view>();
  apply_all(*view, events);
  woken_.emplace_back(run_id, std::move(view));
  if (woken_.size() > woken_capacity)
    woken_.pop_front();
}

std::unique_ptr<run_view> read_model::take_woken(const std::string& run_id,
                                                 uint64_t next_pseq) {
  for (auto i = woken_.begin(); i != woken_.end(); ++i)
    if (i->first == run_id) {
      auto view = std::move(i->second);
      woken_.erase(i);
      // Usable only if nothing was appended between the read and `next`.
      if (view->last_event_seq + 1 == next_pseq)
        return view;
      return nullptr;
    }
  return nullptr;
}

void read_model::apply(const std::vector<event_batch_ptr>& groups) {
  std::vector<std::string> touched_runs;
  std::vector<std::string> touched_accounts;
  uint64_t last = 0;
  {
    std::unique_lock<std::shared_mutex> guard{mtx_};
    for (auto& group : groups)
      for (auto& e : *group) {
        fold(e, touched_runs, touched_accounts);
        last = std::max(last, e.global_seq);
      }
    // Ended runs are rendered now and leave memory; others render on read.
    for (auto& id : touched_runs)
      if (auto& entry = runs_[id]; entry.terminal())
        retire(id, entry);
    if (passivate_)
      for (auto& id : waiting_runs_)
        passivate(id, runs_[id], true);
    waiting_runs_.clear();
    position_ = std::max(position_, last);
  }
  if (auto err = flush_rows(touched_runs, touched_accounts, last))
    spdlog::warn("projection rows not persisted (rebuilt on restart): {}",
                 orchflow::render(err));
}

caf::error read_model::load() {
  std::unique_lock<std::shared_mutex> guard{mtx_};
  std::vector<std::pair<uint64_t, std::string>> created; // (ts, id)
  auto err = store_.scan_projections(
      account_prefix, [&](std::string_view key, std::string_view val) {
        auto row = json::parse(val, nullptr, false);
        auto id = std::string{key.substr(account_prefix.size())};
        accounts_[id].account_id = id;
        auto hash = get_string(row, "key_hash");
        if (!hash.empty())
          key_hashes_[hash] = id;
        accounts_[id].key_hash = hash;
      });
  if (err)
    return err;
  err = store_.scan_projections(
      run_prefix, [&](std::string_view key, std::string_view val) {
        auto row = json::parse(val, nullptr, false);
        auto id = std::string{key.substr(run_prefix.size())};
        auto& entry = runs_[id];
        entry.owner = owner_index(get_string(row, "owner"));
        entry.status = status_from(get_string(row, "status"));
        entry.created_at = get_int(row, "created_at");
        created.emplace_back(entry.created_at, id);
        entry.passivated = get_bool(row, "passivated");
        entry.passivated_seq = static_cast<uint64_t>(get_int(row, "seq"));
        auto doc_text = get_string(row, "document");
        if (doc_text.empty())
          return; // active (refolded below) or passivated (read on demand)
        auto doc = json::parse(doc_text, nullptr, false);
        auto& live = entry.hot();
        live.document = std::make_shared<const std::string>(doc_text);
        json tasks = json::array();
        if (auto& subtasks = get_json(doc, "subtasks"); subtasks.is_object())
          for (auto& [tid, t] : subtasks.items())
            tasks.push_back(t);
        live.tasks = std::make_shared<const std::string>(
            json{{"run_id", id}, {"tasks", std::move(tasks)}}.dump());
        live.summary = std::make_shared<const std::string>(json{
            {"run_id", id},
            {"status", status_name(entry.status)},
            {"task", get_json(doc, "task")},
            {"created_at", get_json(doc, "created_at")},
            {"updated_at", get_json(doc, "updated_at")}}.dump());
      });
  if (err)
    return err;
  err = store_.scan_projections(
      webhook_prefix, [&](std::string_view key, std::string_view val) {
        auto row = json::parse(val, nullptr, false);
        pending_webhook w;
        w.delivery_id = std::string{key.substr(webhook_prefix.size())};
        w.run_id = get_string(row, "run_id");
        w.url = get_string(row, "url");
        w.body = get_string(row, "body");
        webhooks_[w.delivery_id] = std::move(w);
      });
  if (err)
    return err;
  err = store_.scan_projections(
      provider_prefix, [&](std::string_view, std::string_view val) {
        auto p = provider_from_json(json::parse(val, nullptr, false));
        if (!p.provider_id.empty())
          providers_[p.provider_id] = std::move(p);
      });
  if (err)
    return err;
  if (auto v = store_.get_projection(webhooks_version_key); v && *v)
    webhooks_version_ = std::stoull(**v);
  std::stable_sort(created.begin(), created.end());
  for (auto& [ts, id] : created) {
    list_run(id);
  }
  position_ = store_.projection_checkpoint();
  guard.unlock();
  return catch_up();
}

caf::error read_model::catch_up() {
  // Fold whatever the log holds past the checkpoint, then make sure every
  // run that is not over has its folded state in memory.
  std::unique_lock<std::shared_mutex> guard{mtx_};
  std::vector<std::string> touched_runs;
  std::vector<std::string> touched_accounts;
  std::set<std::string> rebuilt;
  auto checkpoint = position_;
  // Which partitions changed after the checkpoint, in order of their first
  // change: read from the global index alone, so that every event is
  // decoded once, when its partition is refolded.
  std::vector<std::string> changed;
  auto err = store_.scan_global_index(
      checkpoint, [&](uint64_t seq, std::string_view partition) {
        position_ = seq;
        if (rebuilt.insert(std::string{partition}).second)
          changed.emplace_back(partition);
      });
  if (err)
    return err;
  // Deliveries after the runs that queued them.
  std::stable_partition(changed.begin(), changed.end(),
                        [](auto& p) { return p != ev::webhooks_stream; });
  // Refold the changed runs on two threads (reading and decoding their
  // events is most of a recovery), then merge in order on this one.
  struct refolded {
    std::unique_ptr<run_view> view;
    std::vector<event> queued;
    caf::error err;
  };
  std::vector<refolded> folded(changed.size());
  auto work = [&](size_t first) {
    for (size_t i = first; i < changed.size(); i += 2) {
      if (!is_run(changed[i]))
        continue;
      auto events = store_.read_partition(changed[i]);
      if (!events) {
        folded[i].err = std::move(events.error());
        continue;
      }
      folded[i].view = std::make_unique<run_view>();
      apply_all(*folded[i].view, *events);
      for (auto& x : *events)
        if (x.type == ev::webhook_queued && x.global_seq > checkpoint)
          folded[i].queued.push_back(std::move(x));
    }
  };
  {
    std::thread helper{work, 1};
    work(0);
    helper.join();
  }
  for (size_t i = 0; i < changed.size(); ++i) {
    auto& partition = changed[i];
    if (!is_run(partition)) {
      auto events = store_.read_partition(partition);
      if (!events)
        return std::move(events.error());
      for (auto& e : *events)
        if (e.global_seq > checkpoint)
          fold(e, touched_runs, touched_accounts);
      continue;
    }
    if (folded[i].err)
      return std::move(folded[i].err);
    // Refolded whole: idempotent whatever part of it the persisted row
    // already reflected.
    auto& entry = runs_[partition];
    bool known = entry.owner != 0;
    auto& live = entry.hot();
    live.view = std::move(folded[i].view);
    for (auto& x : folded[i].queued)
      fold_webhook(x);
    entry.owner = owner_index(live.view->account_id);
    entry.created_at = live.view->created_at;
    entry.status = status_from(live.view->status);
    live.dirty = true;
    entry.passivated = false;
    if (!known) {
      list_run(partition);
      created_runs_.insert(partition);
    }
    touched_runs.push_back(partition); // `changed` holds each once
  }
  for (auto& [id, entry] : runs_) {
    if (entry.view() || entry.passivated || entry.terminal())
      continue;
    auto events = store_.read_partition(id);
    if (!events)
      return std::move(events.error());
    auto& live = entry.hot();
    live.view = std::make_unique<run_view>();
    apply_all(*live.view, *events);
    entry.status = status_from(live.view->status);
    live.dirty = true;
  }
  for (auto& id : touched_runs)
    if (auto& entry = runs_[id]; entry.terminal())
      retire(id, entry);
  // Runs that only wait for humans are passivated at start, too: recovery
  // spawns no actor for them and keeps no folded state.
  if (passivate_)
    for (auto& [id, entry] : runs_)
      if (entry.view() && entry.view()->status == "waiting_human")
        passivate(id, entry, false);
  auto pos = position_;
  guard.unlock();
  return flush_rows(touched_runs, touched_accounts, pos);
}

caf::error read_model::rebuild() {
  {
    std::unique_lock<std::shared_mutex> guard{mtx_};
    webhooks_.clear();
    webhooks_version_ = 0;
    providers_.clear();
    runs_.clear();
    accounts_.clear();
    owners_.assign(1, nullptr);
    key_hashes_.clear();
    position_ = 0;
  }
  return catch_up();
}

std::optional<std::string>
read_model::account_by_key_hash(const std::string& hash) const {
  std::shared_lock<std::shared_mutex> guard{mtx_};
  auto i = key_hashes_.find(hash);
  if (i == key_hashes_.end())
    return std::nullopt;
  return i->second;
}

void read_model::cache_put(const std::string& id, uint64_t seq,
                           std::shared_ptr<const std::string> doc) const {
  std::lock_guard<std::mutex> guard{cache_mtx_};
  if (auto i = cache_index_.find(id); i != cache_index_.end()) {
    cache_lru_.erase(i->second);
    cache_index_.erase(i);
  }
  cache_lru_.push_front(cached_doc{id, seq, std::move(doc)});
  cache_index_[id] = cache_lru_.begin();
  if (cache_lru_.size() > cache_capacity) {
    cache_index_.erase(cache_lru_.back().id);
    cache_lru_.pop_back();
  }
}

std::shared_ptr<const std::string> read_model::cache_get(const std::string& id,
                                                         uint64_t seq) const {
  std::lock_guard<std::mutex> guard{cache_mtx_};
  auto i = cache_index_.find(id);
  if (i == cache_index_.end() || i->second->seq != seq)
    return nullptr; // absent, or a copy of an older state
  cache_lru_.splice(cache_lru_.begin(), cache_lru_, i->second);
  return i->second->doc;
}

void read_model::cache_drop(const std::string& id) const {
  std::lock_guard<std::mutex> guard{cache_mtx_};
  if (auto i = cache_index_.find(id); i != cache_index_.end()) {
    cache_lru_.erase(i->second);
    cache_index_.erase(i);
  }
}

std::optional<std::string>
read_model::stored_document(const std::string& run_id) const {
  std::string status;
  uint64_t seq = 0;
  {
    std::shared_lock<std::shared_mutex> guard{mtx_};
    auto i = runs_.find(run_id);
    if (i == runs_.end())
      return std::nullopt;
    if (i->second.has_document()) // woken meanwhile
      return *i->second.live->document;
    status = status_name(i->second.status);
    seq = i->second.passivated_seq;
  }
  auto read = read_passivated(run_id, status);
  if (!read)
    return std::nullopt;
  // Tagged with the state it was read for: a copy read just before the
  // run moved on is never served for its later state.
  cache_put(run_id, seq, read->document);
  return *read->document;
}

std::optional<run_read> read_model::run(const std::string& run_id,
                                        const std::string& account) const {
  {
    std::shared_lock<std::shared_mutex> guard{mtx_};
    auto i = runs_.find(run_id);
    if (i == runs_.end() || !owned_by(i->second, account))
      return std::nullopt;
    auto& entry = i->second;
    if (entry.has_document() && !entry.live->dirty)
      return run_read{entry.live->document, entry.live->tasks,
                      status_name(entry.status)};
    if (entry.passivated) {
      if (auto doc = cache_get(run_id, entry.passivated_seq))
        return run_read{doc, nullptr, status_name(entry.status)};
      return run_read{nullptr, nullptr, status_name(entry.status), true};
    }
  }
  // Changed since its last read: render once, for every later reader.
  std::unique_lock<std::shared_mutex> guard{mtx_};
  auto i = runs_.find(run_id);
  if (i == runs_.end() || !owned_by(i->second, account))
    return std::nullopt;
  auto& entry = i->second;
  refresh(entry);
  if (!entry.has_document())
    return std::nullopt;
  return run_read{entry.live->document, entry.live->tasks,
                  status_name(entry.status)};
}

std::optional<std::string>
read_model::status_of(const std::string& run_id) const {
  std::shared_lock<std::shared_mutex> guard{mtx_};
  auto i = runs_.find(run_id);
  if (i == runs_.end() || i->second.owner == 0)
    return std::nullopt;
  return status_name(i->second.status);
}

json read_model::list_runs(const std::string& account, size_t limit,
                           size_t offset) const {
  json runs = json::array();
  size_t total = 0;
  // Passivated runs' rows are read after the lock is released: disk I/O
  // under it would stall the writer thread.
  std::vector<std::pair<size_t, std::string>> stored; // (index, status)
  std::vector<std::string> ids;
  {
    std::shared_lock<std::shared_mutex> guard{mtx_};
    if (auto i = accounts_.find(account); i != accounts_.end()) {
      auto& list = i->second.runs;
      total = list.size();
      for (size_t k = offset; k < total && runs.size() < limit; ++k) {
        auto& id = *list[total - 1 - k]; // newest first
        auto r = runs_.find(id);
        if (r == runs_.end())
          continue;
        if (auto* view = r->second.view()) {
          runs.push_back(render_summary(*view));
        } else if (r->second.live && r->second.live->summary) {
          runs.push_back(json::parse(*r->second.live->summary, nullptr, false));
        } else if (r->second.passivated) {
          stored.emplace_back(runs.size(), status_name(r->second.status));
          ids.push_back(id);
          runs.push_back(nullptr);
        }
      }
    }
  }
  for (size_t n = 0; n < stored.size(); ++n) {
    auto& [index, status] = stored[n];
    // Renders the row if start-up left it for later.
    auto read = read_passivated(ids[n], status);
    auto j = read ? json::parse(*read->document, nullptr, false) : json{};
    runs[index] = json{{"run_id", ids[n]},
                       {"status", status},
                       {"task", get_json(j, "task")},
                       {"created_at", get_json(j, "created_at")},
                       {"updated_at", get_json(j, "updated_at")}};
  }
  return json{{"runs", std::move(runs)},
              {"total", total},
              {"limit", limit},
              {"offset", offset}};
}

std::optional<run_view>
read_model::active_view(const std::string& run_id) const {
  std::shared_lock<std::shared_mutex> guard{mtx_};
  auto i = runs_.find(run_id);
  if (i == runs_.end() || !i->second.view())
    return std::nullopt;
  return *i->second.view();
}

std::vector<std::string> read_model::active_runs() const {
  std::shared_lock<std::shared_mutex> guard{mtx_};
  std::vector<std::pair<int64_t, std::string>> active;
  for (auto& [id, entry] : runs_)
    if (entry.view() && !entry.view()->terminal())
      active.emplace_back(entry.created_at, id);
  std::sort(active.begin(), active.end()); // oldest first
  std::vector<std::string> result;
  for (auto& [ts, id] : active)
    result.push_back(id);
  return result;
}

size_t read_model::active_count() const {
  std::shared_lock<std::shared_mutex> guard{mtx_};
  size_t n = 0;
  for (auto& [id, entry] : runs_)
    if (entry.owner != 0 && !entry.terminal())
      ++n;
  return n;
}

std::optional<provider_record>
read_model::provider(const std::string& id) const {
  std::shared_lock<std::shared_mutex> guard{mtx_};
  auto i = providers_.find(id);
  if (i == providers_.end())
    return std::nullopt;
  return i->second;
}

json read_model::list_providers(const std::string& account) const {
  std::shared_lock<std::shared_mutex> guard{mtx_};
  std::vector<const provider_record*> mine;
  for (auto& [id, p] : providers_)
    if (p.account_id == account)
      mine.push_back(&p);
  std::stable_sort(mine.begin(), mine.end(), [](auto* a, auto* b) {
    return a->created_at < b->created_at;
  });
  json xs = json::array();
  for (auto* p : mine)
    xs.push_back(json{
        {"provider_id", p->provider_id},
        {"provider", p->kind},
        {"label", p->label},
        {"model", p->model},
        {"base_url", p->base_url.empty() ? json(nullptr) : json(p->base_url)},
        {"active", p->active},
        {"created_at", format_rfc3339(p->created_at)},
        {"key_hint", p->key_hint}});
  return json{{"providers", std::move(xs)}};
}

std::vector<std::string> read_model::provider_key_ids() const {
  std::shared_lock<std::shared_mutex> guard{mtx_};
  std::vector<std::string> ids;
  for (auto& [id, p] : providers_)
    if (!p.key_id.empty()
        && std::find(ids.begin(), ids.end(), p.key_id) == ids.end())
      ids.push_back(p.key_id);
  return ids;
}

std::vector<pending_webhook> read_model::pending_webhooks() const {
  std::shared_lock<std::shared_mutex> guard{mtx_};
  std::vector<pending_webhook> out;
  for (auto& [id, w] : webhooks_)
    out.push_back(w);
  return out;
}

uint64_t read_model::webhooks_version() const {
  std::shared_lock<std::shared_mutex> guard{mtx_};
  return webhooks_version_;
}

uint64_t read_model::position() const {
  std::shared_lock<std::shared_mutex> guard{mtx_};
  return position_;
}

} // namespace orchflow
