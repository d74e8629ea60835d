#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <cctype>
#include <chrono>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "support/loopback.hpp"

namespace orchflow::test {

nlohmann::json http_result::json() const {
  auto j = nlohmann::json::parse(body, nullptr, false);
  return j.is_discarded() ? nlohmann::json{} : j;
}

namespace {

int open_socket(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    throw std::runtime_error("socket() failed");
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    auto n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

} // namespace

http_client::http_client(uint16_t port) : port_(port) {
  // nop: connects lazily
}

http_client::~http_client() {
  if (fd_ >= 0)
    ::close(fd_);
}

void http_client::connect() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = open_socket(port_);
  if (fd_ < 0)
    throw std::runtime_error("cannot connect to 127.0.0.1:"
                             + std::to_string(port_));
}

http_result
http_client::request(const std::string& method, const std::string& target,
                     const std::string& body, const std::string& api_key,
                     const std::map<std::string, std::string>& headers) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!api_key.empty())
    req += "X-API-Key: " + api_key + "\r\n";
  if (!body.empty() || method == "POST")
    req += "Content-Type: application/json\r\nContent-Length: "
           + std::to_string(body.size()) + "\r\n";
  for (auto& [k, v] : headers)
    req += k + ": " + v + "\r\n";
  req += "\r\n" + body;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (fd_ < 0)
      connect();
    // A server may answer (413) and close before reading all of the body:
    // read its answer even when sending failed halfway.
    send_all(fd_, req);
    std::string buf;
    char chunk[65536];
    size_t header_end = std::string::npos;
    http_result res;
    size_t content_length = 0;
    bool ok = false;
    for (;;) {
      if (header_end == std::string::npos) {
        header_end = buf.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          auto head = buf.substr(0, header_end);
          res.status = std::stoi(head.substr(9, 3));
          res.headers = parse_headers(head);
          content_length = std::stoul(res.headers["content-length"].empty()
                                          ? "0"
                                          : res.headers["content-length"]);
        }
      }
      if (header_end != std::string::npos
          && buf.size() >= header_end + 4 + content_length) {
        res.body = buf.substr(header_end + 4, content_length);
        ok = true;
        break;
      }
      auto n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0)
        break;
      buf.append(chunk, static_cast<size_t>(n));
    }
    if (!ok) {
      ::close(fd_);
      fd_ = -1;
      if (buf.empty())
        continue; // the server closed an idle keep-alive connection
      throw std::runtime_error("incomplete HTTP response");
    }
    if (lowercase(res.headers["connection"]) == "close") {
      ::close(fd_);
      fd_ = -1;
    }
    return res;
  }
  throw std::runtime_error("no HTTP response from 127.0.0.1:"
                           + std::to_string(port_));
}

std::string http_client::raw(uint16_t port, const std::string& bytes) {
  int fd = open_socket(port);
  if (fd < 0)
    throw std::runtime_error("cannot connect");
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  send_all(fd, bytes);
  std::string out;
  char chunk[4096];
  for (;;) {
    auto n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0)
      break;
    out.append(chunk, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

} // namespace orchflow::test
