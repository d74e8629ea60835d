// The only file that includes curl.

#include "providers/http_transport.hpp"

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <thread>

namespace orchflow {

namespace {

using clock_type = std::chrono::steady_clock;

/// State of one transfer, owned by the transport thread.
struct transfer {
  http_call call;
  std::function<void(http_outcome)> done;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  http_outcome out;
  bool too_large = false;
  clock_type::time_point started;
  char errbuf[CURL_ERROR_SIZE] = {0};
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<transfer*>(user);
  auto len = size * n;
  if (t->out.body.size() + len > t->call.max_response_bytes) {
    t->too_large = true;
    return 0; // aborts the transfer
  }
  t->out.body.append(data, len);
  return len;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<transfer*>(user);
  auto len = size * n;
  std::string line{data, len};
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    auto name = line.substr(0, colon);
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto value = line.substr(colon + 1);
    auto b = value.find_first_not_of(" \t");
    auto e = value.find_last_not_of(" \t\r\n");
    t->out.headers[name]
        = b == std::string::npos ? std::string{} : value.substr(b, e - b + 1);
  }
  return len;
}

struct curl_global {
  curl_global() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

} // namespace

struct http_transport::impl {
  CURLM* multi = nullptr;
  std::mutex mtx;
  std::deque<std::unique_ptr<transfer>> incoming;
  std::atomic<bool> stopping{false};
  std::thread thread;
  /// Transfers in flight, by easy handle (transport thread only).
  std::map<CURL*, std::unique_ptr<transfer>> running;

  void start(std::unique_ptr<transfer> t) {
    auto* easy = curl_easy_init();
    t->easy = easy;
    t->started = clock_type::now();
    for (auto& h : t->call.headers)
      t->headers = curl_slist_append(t->headers, h.c_str());
    curl_easy_setopt(easy, CURLOPT_URL, t->call.url.c_str());
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     t->call.connect_timeout_ms);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, t->call.timeout_ms);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "orchflow/0.1");
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->errbuf);
    if (t->call.method == "POST") {
      curl_easy_setopt(easy, CURLOPT_POST, 1L);
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, t->call.body.data());
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(t->call.body.size()));
    } else if (t->call.method != "GET") {
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, t->call.method.c_str());
    }
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, t.get());
    curl_multi_add_handle(multi, easy);
    running.emplace(easy, std::move(t));
  }

  void finish(CURL* easy, CURLcode code) {
    auto i = running.find(easy);
    if (i == running.end())
      return;
    auto t = std::move(i->second);
    running.erase(i);
    curl_multi_remove_handle(multi, easy);
    auto& out = t->out;
    out.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         clock_type::now() - t->started)
                         .count();
    if (code == CURLE_OK) {
      out.transport_ok = true;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &out.status);
    } else {
      out.timed_out = code == CURLE_OPERATION_TIMEDOUT;
      if (t->too_large)
        out.error = "the response exceeded "
                    + std::to_string(t->call.max_response_bytes) + " bytes";
      else
        out.error = t->errbuf[0] != '\0' ? std::string{t->errbuf}
                                         : curl_easy_strerror(code);
      out.body.clear();
    }
    curl_slist_free_all(t->headers);
    curl_easy_cleanup(easy);
    t->done(std::move(out));
  }

  void run() {
    while (!stopping) {
      {
        std::deque<std::unique_ptr<transfer>> batch;
        {
          std::lock_guard<std::mutex> guard{mtx};
          batch.swap(incoming);
        }
        for (auto& t : batch)
          start(std::move(t));
      }
      int still = 0;
      curl_multi_perform(multi, &still);
      int left = 0;
      while (auto* msg = curl_multi_info_read(multi, &left))
        if (msg->msg == CURLMSG_DONE)
          finish(msg->easy_handle, msg->data.result);
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
    for (auto& [easy, t] : running) {
      curl_multi_remove_handle(multi, easy);
      curl_slist_free_all(t->headers);
      curl_easy_cleanup(easy);
    }
    running.clear();
  }
};

http_transport::http_transport() : impl_(new impl) {
  static curl_global init;
  impl_->multi = curl_multi_init();
  auto* self = impl_.get();
  impl_->thread = std::thread{[self] { self->run(); }};
}

http_transport::~http_transport() {
  impl_->stopping = true;
  curl_multi_wakeup(impl_->multi);
  impl_->thread.join();
  curl_multi_cleanup(impl_->multi);
}

void http_transport::submit(http_call call,
                            std::function<void(http_outcome)> done) {
  auto t = std::make_unique<transfer>();
  t->call = std::move(call);
  t->done = std::move(done);
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    impl_->incoming.push_back(std::move(t));
  }
  curl_multi_wakeup(impl_->multi);
}

} // namespace orchflow
