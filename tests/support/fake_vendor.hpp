#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace orchflow::test {

/// A fake LLM vendor on 127.0.0.1 that speaks the real wire protocols of
/// OpenAI (and compatible servers), Anthropic, Gemini and Ollama. By default
/// it answers every call like a good model would (the built-in planner and
/// writer, wrapped in the vendor's response shape); scripted replies are
/// served first, in order. Every request is recorded.
class fake_vendor {
public:
  /// A scripted reply.
  struct reply {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    /// Raw body; if empty and status is 200, the default answer is sent.
    std::string body;
    /// Wait this long before answering.
    int delay_ms = 0;
    /// Close the connection without answering.
    bool drop = false;
    /// Replace the default answer's text (status 200 only).
    std::string text;
    /// Override the default answer's finish reason (e.g. "length").
    std::string finish;
  };

  /// A reply with a raw body (typically an error).
  static reply with(int status, std::string body,
                    std::vector<std::pair<std::string, std::string>> headers
                    = {}) {
    reply r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
  }

  /// One request as received.
  struct request {
    std::string method;
    std::string path;
    std::map<std::string, std::string> headers; // lowercase names
    nlohmann::json body;
    std::string raw_body;
    /// split, dependencies, execute, evaluate or finalize.
    std::string step;
  };

  fake_vendor();
  ~fake_vendor();

  uint16_t port() const { return port_; }

  /// Base URL to register for a provider kind.
  std::string base_url(const std::string& kind) const;

  /// Queues scripted replies (served before default answers).
  void script(std::vector<reply> replies);

  /// Answers every request matching `step` ("" = any) with `r` from now on.
  void always(reply r, std::string step = {});

  std::vector<request> requests() const;

  /// Number of requests for a step ("" = all).
  size_t count(const std::string& step = {}) const;

private:
  void serve();
  void handle(int fd);
  std::string answer(const request& req, const reply* r) const;

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  mutable std::mutex mtx_;
  std::deque<reply> script_;
  std::map<std::string, reply> always_;
  std::vector<request> requests_;
  std::vector<int> open_fds_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> workers_;
  std::thread thread_;
};

} // namespace orchflow::test
