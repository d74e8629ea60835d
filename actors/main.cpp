// The orchflow server: parse the configuration, answer /health with 503
// while the engine recovers, then serve until SIGINT or SIGTERM.

#include "actors/engine.hpp"
#include "config/config.hpp"
#include "events/error.hpp"
#include "http/routes.hpp"
#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <thread>

namespace {

std::atomic<int> signalled{0};

void on_signal(int sig) {
  signalled = sig;
}

} // namespace

int main(int argc, char** argv) {
  using namespace orchflow;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--help") == 0
        || std::strcmp(argv[i], "-h") == 0) {
      std::cout << usage_text();
      return 0;
    }
  server_config cfg;
  try {
    cfg = load_config(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "orchflow: " << e.what() << "\n" << usage_text();
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(cfg.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v",
                      spdlog::pattern_time_type::utc);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  std::atomic<engine*> eng{nullptr};
  std::unique_ptr<http::server> srv_ptr;
  http::api routes{eng, cfg, [&srv_ptr](std::function<void()> f) {
                     srv_ptr->offload(std::move(f));
                   }};
  http::server_options sopts;
  sopts.host = cfg.listen_host;
  sopts.port = cfg.listen_port;
  sopts.threads = cfg.http_threads;
  sopts.max_body_bytes = cfg.max_body_bytes;
  sopts.timeout_s = cfg.http_timeout_s;
  srv_ptr = std::make_unique<http::server>(
      sopts, [&routes](http::request req, http::responder res) {
        routes.handle(std::move(req), std::move(res));
      });
  auto& srv = *srv_ptr;
  try {
    srv.start();
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
  spdlog::info("orchflow {} listening on {}:{} (data dir {}, provider {}, "
               "model {})",
               http::version(), cfg.listen_host, srv.port(), cfg.data_dir,
               cfg.default_provider, cfg.default_model);
  auto started = engine::start(cfg);
  if (!started) {
    spdlog::critical("cannot start: {}", render(started.error()));
    srv.stop();
    return 1;
  }
  eng = started->get();
  spdlog::info("recovery done; serving");
  while (signalled == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  spdlog::info("signal {} received; shutting down", signalled.load());
  srv.stop();
  eng = nullptr;
  started->reset();
  spdlog::info("bye");
  return 0;
}
