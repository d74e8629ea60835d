#include "support/server_process.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <signal.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace orchflow::test {

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

server_process::server_process(std::string data_dir,
                               std::map<std::string, std::string> env)
    : data_dir_(std::move(data_dir)), env_(std::move(env)) {
  port_ = free_port();
  launch();
}

server_process::~server_process() {
  if (pid_ > 0)
    terminate();
}

void server_process::launch() {
  auto log_path = data_dir_ + ".log";
  pid_ = ::fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    for (auto& [k, v] : env_)
      ::setenv(k.c_str(), v.c_str(), 1);
    // Tests run fast retries; the production default backs off longer.
    ::setenv("ORCHFLOW_LLM_BACKOFF_MS", "20", 0);
    auto listen = "127.0.0.1:" + std::to_string(port_);
    ::execl(ORCHFLOW_BINARY, ORCHFLOW_BINARY, "--listen", listen.c_str(),
            "--data-dir", data_dir_.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    try {
      http_client c{port_};
      if (c.get("/health").status == 200)
        return;
    } catch (...) {
      // not listening yet
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("the server exited at start-up:\n" + log());
    }
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("the server did not become healthy:\n" + log());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void server_process::kill9() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

int server_process::terminate() {
  if (pid_ <= 0)
    return 0;
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 1000; ++i) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill9();
  return -1;
}

void server_process::restart() {
  if (pid_ > 0)
    terminate();
  launch();
}

std::string server_process::log() const {
  std::ifstream in{data_dir_ + ".log"};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string register_account(http_client& c, const std::string& name) {
  auto res = c.post("/api/v1/auth/register",
                    {{"name", name}, {"email", name + "@example.com"}});
  if (res.status != 201)
    throw std::runtime_error("registration failed: " + res.body);
  return res.json()["api_key"].get<std::string>();
}

nlohmann::json wait_status(http_client& c, const std::string& run_id,
                           const std::string& key,
                           const std::vector<std::string>& statuses,
                           int timeout_ms) {
  return wait_for(
      c, run_id, key,
      [&](const nlohmann::json& doc) {
        auto s = doc.value("status", std::string{});
        return std::find(statuses.begin(), statuses.end(), s) != statuses.end();
      },
      timeout_ms);
}

void expect_replay_equal(http_client& c, const std::string& run_id,
                         const std::string& key) {
  auto live = c.get("/api/v1/runs/" + run_id, key).json();
  ASSERT_TRUE(live.contains("last_event_seq"));
  auto seq = live["last_event_seq"].get<uint64_t>();
  auto replayed
      = c.get("/api/v1/runs/" + run_id + "?at_seq=" + std::to_string(seq), key)
            .json();
  EXPECT_EQ(live, replayed)
      << "live document differs from replay of run " << run_id;
}

} // namespace orchflow::test
