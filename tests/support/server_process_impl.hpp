#pragma once

#include <chrono>
#include <thread>

namespace orchflow::test {

template<class Pred>
nlohmann::json wait_for(http_client& c, const std::string& run_id,
                        const std::string& key, Pred pred, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now()
                  + std::chrono::milliseconds(timeout_ms);
  nlohmann::json doc;
  for (;;) {
    auto res = c.get("/api/v1/runs/" + run_id, key);
    doc = res.json();
    if (res.status == 200 && pred(doc))
      return doc;
    if (std::chrono::steady_clock::now() > deadline)
      return doc;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

} // namespace orchflow::test
