#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace orchflow::test {

/// A response as the tests see it.
struct http_result {
  int status = 0;
  std::map<std::string, std::string> headers; // lowercase names
  std::string body;
  /// The body as JSON (null if it is not JSON).
  nlohmann::json json() const;
};

/// A minimal blocking HTTP/1.1 client over one keep-alive connection to
/// 127.0.0.1. Every call has a 30 s socket timeout.
class http_client {
public:
  explicit http_client(uint16_t port);
  ~http_client();

  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  http_result request(const std::string& method, const std::string& target,
                      const std::string& body = {},
                      const std::string& api_key = {},
                      const std::map<std::string, std::string>& headers = {});

  http_result get(const std::string& target, const std::string& key = {}) {
    return request("GET", target, {}, key);
  }

  http_result post(const std::string& target, const nlohmann::json& body,
                   const std::string& key = {}) {
    return request("POST", target, body.dump(), key);
  }

  /// Sends raw bytes on a new connection and returns the raw answer (until
  /// the server closes or 2 s pass).
  static std::string raw(uint16_t port, const std::string& bytes);

private:
  void connect();
  uint16_t port_;
  int fd_ = -1;
};

} // namespace orchflow::test
