// The LLM transport pair, both calling a local server that answers like
// OpenAI's chat completions (beast-hello --openai 1), with keep-alive:
//
//   curl-raw    --url U --window W: W easy handles on one curl multi, each
//               POSTing the engine's own request bytes again as soon as its
//               answer is in (the ceiling of libcurl on this machine)
//   engine-llm  --url U --window W: W calls in flight through the engine's
//               gateway thread, OpenAI client (builder and parser) and
//               curl-multi transport thread

#include "providers/gateway.hpp"
#include "providers/http_transport.hpp"
#include "providers/vendor_provider.hpp"
#include "providers/vendors.hpp"

#include <curl/curl.h>

#include <condition_variable>
#include <mutex>

#include "bench/common.hpp"
#include "bench/modes.hpp"

namespace orchflow::bench {

namespace {

/// One execute-step request, as a run's task sends it.
llm_request sample_request() {
  llm_request req;
  req.step = "execute";
  req.provider = "openai";
  req.account_id = "acct_bench";
  req.model = "gpt-4o-mini";
  req.system = "You are an expert research analyst.";
  req.user = "Research part 1 of the launch plan: list five competitors of a "
             "faceless YouTube channel about AI tools for freelancers, with "
             "their pricing and positioning, as a short markdown table.";
  return req;
}

vendor_target local_target(const std::string& url) {
  return vendor_target{"openai", "sk-bench-not-a-real-key", url};
}

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

} // namespace

int curl_raw(const options& opts) {
  auto url = opts.get("url", "http://127.0.0.1:8090/v1");
  auto window = static_cast<size_t>(opts.num("window", 1));
  auto ms = opts.num("ms", 3000);
  // The very bytes the engine sends.
  auto call = build_vendor_call(local_target(url), sample_request());
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  struct slot {
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    std::string body;
    clock_type::time_point sent;
  };
  std::vector<slot> slots(window);
  auto start = [&](slot& s) {
    s.body.clear();
    s.sent = clock_type::now();
    curl_multi_add_handle(multi, s.easy);
  };
  for (auto& s : slots) {
    s.easy = curl_easy_init();
    for (auto& h : call.headers)
      s.headers = curl_slist_append(s.headers, h.c_str());
    curl_easy_setopt(s.easy, CURLOPT_URL, call.url.c_str());
    curl_easy_setopt(s.easy, CURLOPT_HTTPHEADER, s.headers);
    curl_easy_setopt(s.easy, CURLOPT_POSTFIELDS, call.body.c_str());
    curl_easy_setopt(s.easy, CURLOPT_POSTFIELDSIZE,
                     static_cast<long>(call.body.size()));
    curl_easy_setopt(s.easy, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(s.easy, CURLOPT_WRITEDATA, &s.body);
    curl_easy_setopt(s.easy, CURLOPT_PRIVATE, &s);
    curl_easy_setopt(s.easy, CURLOPT_NOSIGNAL, 1L);
    start(s);
  }
  std::vector<int64_t> lat;
  int64_t failed = 0;
  auto t0 = clock_type::now();
  auto deadline = t0 + std::chrono::milliseconds(ms);
  int running = static_cast<int>(window);
  while (running > 0) {
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE)
        continue;
      slot* s = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &s);
      long status = 0;
      curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      if (m->data.result != CURLE_OK || status != 200)
        ++failed;
      else
        lat.push_back(micros_since(s->sent));
      curl_multi_remove_handle(multi, m->easy_handle);
      if (clock_type::now() < deadline) {
        start(*s);
        ++running;
      }
    }
    if (running > 0)
      curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  auto secs = seconds_since(t0);
  for (auto& s : slots) {
    curl_easy_cleanup(s.easy);
    curl_slist_free_all(s.headers);
  }
  curl_multi_cleanup(multi);
  curl_global_cleanup();
  auto n = static_cast<double>(lat.size());
  report({{"mode", "curl-raw"},
          {"window", window},
          {"calls_per_s", n / secs},
          {"failed", failed},
          {"p50_us", quantile(lat, 0.5)},
          {"p99_us", quantile(lat, 0.99)}});
  return failed == 0 ? 0 : 1;
}

int engine_llm(const options& opts) {
  auto url = opts.get("url", "http://127.0.0.1:8090/v1");
  auto window = opts.num("window", 1);
  auto ms = opts.num("ms", 3000);
  http_transport transport;
  llm_gateway gateway{gateway_options{}};
  gateway.add_provider(
      "openai", std::make_unique<vendor_provider>(
                    "openai", transport,
                    [url](const llm_request&) -> caf::expected<vendor_target> {
                      return local_target(url);
                    },
                    vendor_limits{}));
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<int64_t> lat;
  int64_t failed = 0;
  int64_t in_flight = 0;
  auto t0 = clock_type::now();
  auto deadline = t0 + std::chrono::milliseconds(ms);
  // Runs on the gateway thread: records the answer, sends the next call.
  std::function<void()> send_one = [&] {
    auto sent = clock_type::now();
    gateway.submit(sample_request(), [&, sent](llm_result r) {
      std::lock_guard<std::mutex> guard{mtx};
      if (r.ok && !r.text.empty())
        lat.push_back(micros_since(sent));
      else
        ++failed;
      if (clock_type::now() < deadline) {
        send_one();
        return;
      }
      --in_flight;
      cv.notify_all();
    });
  };
  {
    std::lock_guard<std::mutex> guard{mtx};
    in_flight = window;
  }
  for (int64_t i = 0; i < window; ++i)
    send_one();
  std::unique_lock<std::mutex> guard{mtx};
  cv.wait(guard, [&] { return in_flight == 0; });
  auto secs = seconds_since(t0);
  auto n = static_cast<double>(lat.size());
  report({{"mode", "engine-llm"},
          {"window", window},
          {"calls_per_s", n / secs},
          {"failed", failed},
          {"p50_us", quantile(lat, 0.5)},
          {"p99_us", quantile(lat, 0.99)}});
  guard.unlock();
  gateway.stop();
  return failed == 0 ? 0 : 1;
}

} // namespace orchflow::bench
