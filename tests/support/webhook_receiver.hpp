#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace orchflow::test {

/// A webhook endpoint on 127.0.0.1 that records every request and answers
/// with scripted statuses (then 200).
class webhook_receiver {
public:
  struct received {
    std::map<std::string, std::string> headers; // lowercase names
    std::string body;
    nlohmann::json json;
  };

  /// Listens on `port` (0: any free port).
  explicit webhook_receiver(std::vector<int> statuses = {}, uint16_t port = 0);
  ~webhook_receiver();

  uint16_t port() const { return port_; }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/hooks/orchflow";
  }

  std::vector<received> requests() const;

  /// Waits until at least `n` requests arrived; returns how many did.
  size_t wait_for(size_t n, int timeout_ms = 10000) const;

private:
  void serve();
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::vector<int> statuses_;
  mutable std::mutex mtx_;
  std::vector<received> requests_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

} // namespace orchflow::test
