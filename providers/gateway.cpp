#include "providers/gateway.hpp"

#include "providers/text.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <queue>
#include <random>
#include <thread>
#include <tuple>
#include <vector>

namespace orchflow {

namespace {

using clock_type = std::chrono::steady_clock;

int64_t ms_since(clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now()
                                                               - t)
      .count();
}

/// One call in flight.
struct job {
  llm_request req;
  std::function<void(llm_result)> done;
  llm_result result;
  clock_type::time_point started;
  clock_type::time_point attempt_started;
  /// A reply held back to simulate latency.
  std::optional<provider_reply> held;
};

using job_ptr = std::shared_ptr<job>;

struct timed {
  clock_type::time_point due;
  uint64_t order;
  job_ptr j;
  bool operator>(const timed& other) const {
    return std::tie(due, order) > std::tie(other.due, other.order);
  }
};

} // namespace

struct llm_gateway::impl {
  gateway_options opts;
  std::map<std::string, std::unique_ptr<llm_provider>> providers;
  std::mutex mtx;
  std::condition_variable cv;
  std::priority_queue<timed, std::vector<timed>, std::greater<>> queue;
  uint64_t order = 0;
  bool stopping = false;
  std::mt19937_64 rng{std::random_device{}()};
  std::thread thread;

  void schedule(job_ptr j, clock_type::time_point due) {
    // Gateway thread or submit (under mtx by caller).
    queue.push(timed{due, order++, std::move(j)});
  }

  void run() {
    std::unique_lock<std::mutex> guard{mtx};
    while (!stopping) {
      if (queue.empty()) {
        cv.wait(guard);
        continue;
      }
      auto due = queue.top().due;
      if (due > clock_type::now()) {
        cv.wait_until(guard, due);
        continue;
      }
      auto j = queue.top().j;
      queue.pop();
      guard.unlock();
      step(j);
      guard.lock();
    }
  }

  /// Runs one attempt, or delivers a held reply (gateway thread).
  void step(const job_ptr& j) {
    if (j->held) {
      auto r = std::move(*j->held);
      j->held.reset();
      handle(j, std::move(r));
      return;
    }
    j->attempt_started = clock_type::now();
    auto i = providers.find(j->req.provider);
    if (i == providers.end()) {
      provider_reply r;
      r.error = "no client for the provider '" + j->req.provider + "'";
      handle(j, std::move(r));
      return;
    }
    i->second->complete(j->req, [this, j](provider_reply r) {
      if (r.delay_ms > 0) {
        auto due = clock_type::now() + std::chrono::milliseconds{r.delay_ms};
        r.delay_ms = 0;
        j->held = std::move(r);
        std::lock_guard<std::mutex> guard{mtx};
        schedule(j, due);
        return;
      }
      handle(j, std::move(r));
    });
  }

  int64_t backoff(int attempt, int64_t hint) {
    auto cap = static_cast<int64_t>(opts.backoff_cap_ms);
    auto base = static_cast<int64_t>(opts.backoff_ms)
                << std::min(attempt - 1, 20);
    auto bound = std::min(cap, base);
    std::uniform_int_distribution<int64_t> dist{bound / 2,
                                                std::max<int64_t>(bound, 0)};
    auto delay = bound > 0 ? dist(rng) : 0;
    return std::min(cap, std::max(delay, hint));
  }

  void handle(const job_ptr& j, provider_reply r) {
    auto& res = j->result;
    res.attempts = j->req.transport_attempt;
    // Vendor text is untrusted bytes: make it valid UTF-8 once, here.
    text::sanitize_utf8(r.text);
    text::sanitize_utf8(r.error);
    if (r.ok) {
      res.ok = true;
      res.text = std::move(r.text);
      res.input_tokens = r.input_tokens;
      res.output_tokens = r.output_tokens;
      res.latency_ms = ms_since(j->started);
      j->done(std::move(res));
      return;
    }
    if (r.retryable && j->req.transport_attempt < opts.max_attempts) {
      res.failed_attempts.push_back(llm_attempt{j->req.transport_attempt,
                                                r.error, true,
                                                ms_since(j->attempt_started)});
      ++j->req.transport_attempt;
      // Replies may arrive on the transport's thread: rng and queue are
      // shared, so both are used under the lock.
      std::lock_guard<std::mutex> guard{mtx};
      auto delay = backoff(j->req.transport_attempt - 1, r.retry_after_ms);
      schedule(j, clock_type::now() + std::chrono::milliseconds{delay});
      cv.notify_one();
      return;
    }
    res.ok = false;
    res.error = std::move(r.error);
    res.retryable = r.retryable;
    res.latency_ms = ms_since(j->started);
    if (r.retryable && res.attempts > 1)
      res.error
          += " (gave up after " + std::to_string(res.attempts) + " attempts)";
    j->done(std::move(res));
  }
};

llm_gateway::llm_gateway(gateway_options opts) : impl_(new impl) {
  impl_->opts = opts;
  auto* self = impl_.get();
  impl_->thread = std::thread{[self] { self->run(); }};
}

llm_gateway::~llm_gateway() {
  stop();
}

void llm_gateway::stop() {
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable())
    impl_->thread.join();
}

void llm_gateway::add_provider(std::string kind,
                               std::unique_ptr<llm_provider> p) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->providers[std::move(kind)] = std::move(p);
}

void llm_gateway::submit(llm_request req,
                         std::function<void(llm_result)> done) {
  auto j = std::make_shared<job>();
  j->result.step = req.step;
  j->result.provider = req.provider;
  j->result.model = req.model;
  j->req = std::move(req);
  j->done = std::move(done);
  j->started = clock_type::now();
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    impl_->schedule(std::move(j), clock_type::now());
  }
  impl_->cv.notify_one();
}

} // namespace orchflow
