#include "support/webhook_receiver.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include "support/loopback.hpp"

namespace orchflow::test {

webhook_receiver::webhook_receiver(std::vector<int> statuses, uint16_t port)
    : statuses_(std::move(statuses)) {
  listen_fd_ = listen_loopback(port, 16, port_, "the webhook receiver");
  thread_ = std::thread{[this] { serve(); }};
}

webhook_receiver::~webhook_receiver() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::vector<webhook_receiver::received> webhook_receiver::requests() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return requests_;
}

size_t webhook_receiver::wait_for(size_t n, int timeout_ms) const {
  auto deadline = std::chrono::steady_clock::now()
                  + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (requests_.size() >= n || std::chrono::steady_clock::now() > deadline)
        return requests_.size();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void webhook_receiver::serve() {
  while (!stop_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 50) <= 0)
      continue;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0)
      continue;
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    std::string buf;
    char chunk[4096];
    size_t head_end = std::string::npos;
    size_t length = 0;
    for (;;) {
      auto n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0)
        break;
      buf.append(chunk, static_cast<size_t>(n));
      if (head_end == std::string::npos) {
        head_end = buf.find("\r\n\r\n");
        if (head_end != std::string::npos) {
          auto lower = lowercase(buf.substr(0, head_end));
          auto cl = lower.find("content-length:");
          if (cl != std::string::npos)
            length = std::stoul(lower.substr(cl + 15));
        }
      }
      if (head_end != std::string::npos && buf.size() >= head_end + 4 + length)
        break;
    }
    if (head_end == std::string::npos) {
      ::close(fd);
      continue;
    }
    received r;
    r.headers = parse_headers(std::string_view{buf}.substr(0, head_end));
    r.body = buf.substr(head_end + 4, length);
    r.json = nlohmann::json::parse(r.body, nullptr, false);
    int status = 200;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (requests_.size() < statuses_.size())
        status = statuses_[requests_.size()];
      requests_.push_back(std::move(r));
    }
    auto reply
        = "HTTP/1.1 " + std::to_string(status)
          + " Scripted\r\nContent-Length: 0\r\nConnection: close\r\n"
          + (status / 100 == 3 ? "Location: http://127.0.0.1:1/\r\n" : "")
          + "\r\n";
    ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
    ::close(fd);
  }
}

} // namespace orchflow::test
