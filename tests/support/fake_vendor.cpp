#include "support/fake_vendor.hpp"

#include "providers/builtin.hpp"
#include "providers/text.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include "support/loopback.hpp"

namespace orchflow::test {

using nlohmann::json;

namespace {

/// The step of a prompt built from config/prompts.json.
std::string step_of(const std::string& user) {
  if (user.find("## Output to evaluate\n") != std::string::npos)
    return "evaluate";
  if (user.find("## Task outputs\n") != std::string::npos)
    return "finalize";
  if (user.find("## Your task\n") != std::string::npos)
    return "execute";
  if (user.find("## Subtasks\n") != std::string::npos)
    return "dependencies";
  return "split";
}

/// (system, user, model) of a request in any of the four protocols.
void read_prompt(const std::string& path, const json& b, std::string& system,
                 std::string& user, std::string& model) {
  auto str = [](const json& j, const char* k) {
    return j.is_object() && j.contains(k) && j[k].is_string()
               ? j[k].get<std::string>()
               : std::string{};
  };
  model = str(b, "model");
  if (path.find(":generateContent") != std::string::npos) {
    auto m = path.substr(path.find("/models/") + 8);
    model = m.substr(0, m.find(':'));
    try {
      system = b.at("systemInstruction").at("parts").at(0).at("text");
      user = b.at("contents").at(0).at("parts").at(0).at("text");
    } catch (...) {
    }
    return;
  }
  if (b.contains("system")) // anthropic
    system = str(b, "system");
  if (b.contains("messages") && b["messages"].is_array())
    for (auto& m : b["messages"]) {
      if (str(m, "role") == "system")
        system = str(m, "content");
      else if (str(m, "role") == "user")
        user = str(m, "content");
    }
}

/// What a good model would answer (the built-in provider's logic).
std::string default_text(const std::string& step, const std::string& system,
                         const std::string& user) {
  if (step == "split")
    return builtin_split(text::section(user, "Goal")).dump();
  if (step == "dependencies") {
    auto subtasks
        = json::parse(text::section(user, "Subtasks"), nullptr, false);
    // The list shape of the task_dependencies schema.
    json list = json::array();
    for (auto& [id, deps] :
         builtin_dependencies(subtasks)["dependencies"].items())
      list.push_back(json{{"id", id}, {"depends_on", deps}});
    return json{{"dependencies", list}}.dump();
  }
  if (step == "execute")
    return builtin_execute(system, user);
  if (step == "evaluate")
    return builtin_evaluate(user, 0).dump();
  return builtin_finalize(user);
}

} // namespace

fake_vendor::fake_vendor() {
  listen_fd_ = listen_loopback(0, 64, port_, "the fake vendor");
  thread_ = std::thread{[this] { serve(); }};
}

fake_vendor::~fake_vendor() {
  stop_ = true;
  thread_.join();
  {
    // Wake workers blocked on idle keep-alive connections.
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto fd : open_fds_)
      ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& w : workers_)
    w.join();
  ::close(listen_fd_);
}

std::string fake_vendor::base_url(const std::string& kind) const {
  auto root = "http://127.0.0.1:" + std::to_string(port_);
  if (kind == "gemini")
    return root + "/v1beta";
  if (kind == "ollama")
    return root;
  return root + "/v1";
}

void fake_vendor::script(std::vector<reply> replies) {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& r : replies)
    script_.push_back(std::move(r));
}

void fake_vendor::always(reply r, std::string step) {
  std::lock_guard<std::mutex> guard{mtx_};
  always_[step] = std::move(r);
}

std::vector<fake_vendor::request> fake_vendor::requests() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return requests_;
}

size_t fake_vendor::count(const std::string& step) const {
  std::lock_guard<std::mutex> guard{mtx_};
  size_t n = 0;
  for (auto& r : requests_)
    n += step.empty() || r.step == step;
  return n;
}

void fake_vendor::serve() {
  while (!stop_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 50) <= 0)
      continue;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0)
      continue;
    // One thread per connection: slow scripted answers must not block
    // parallel calls (bounded by the test's own request count).
    {
      std::lock_guard<std::mutex> guard{mtx_};
      open_fds_.push_back(fd);
    }
    workers_.emplace_back([this, fd] {
      handle(fd);
      std::lock_guard<std::mutex> guard{mtx_};
      open_fds_.erase(std::find(open_fds_.begin(), open_fds_.end(), fd));
      ::close(fd);
    });
  }
}

void fake_vendor::handle(int fd) {
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  for (;;) { // keep-alive: several requests per connection
    std::string buf;
    char chunk[16384];
    size_t head_end = std::string::npos;
    size_t length = 0;
    for (;;) {
      auto n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) {
        return;
      }
      buf.append(chunk, static_cast<size_t>(n));
      if (head_end == std::string::npos) {
        head_end = buf.find("\r\n\r\n");
        if (head_end != std::string::npos) {
          auto l = lowercase(buf.substr(0, head_end));
          if (auto cl = l.find("content-length:"); cl != std::string::npos)
            length = std::stoul(l.substr(cl + 15));
        }
      }
      if (head_end != std::string::npos && buf.size() >= head_end + 4 + length)
        break;
    }
    request req;
    auto head = buf.substr(0, head_end);
    auto line_end = head.find("\r\n");
    auto first = head.substr(0, line_end);
    req.method = first.substr(0, first.find(' '));
    auto p1 = first.find(' ') + 1;
    req.path = first.substr(p1, first.find(' ', p1) - p1);
    req.headers = parse_headers(head);
    req.raw_body = buf.substr(head_end + 4, length);
    req.body = json::parse(req.raw_body, nullptr, false);
    std::string system, user, model;
    read_prompt(req.path, req.body, system, user, model);
    req.step = step_of(user);
    reply r;
    bool scripted = false;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (!script_.empty()) {
        r = script_.front();
        script_.pop_front();
        scripted = true;
      } else if (auto i = always_.find(req.step); i != always_.end()) {
        r = i->second;
        scripted = true;
      } else if (auto j = always_.find(""); j != always_.end()) {
        r = j->second;
        scripted = true;
      }
      requests_.push_back(req);
    }
    if (r.delay_ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(r.delay_ms));
    if (r.drop) {
      return;
    }
    auto body = (r.status == 200 && r.body.empty())
                    ? answer(req, scripted ? &r : nullptr)
                    : r.body;
    std::string out = "HTTP/1.1 " + std::to_string(r.status)
                      + " Fake\r\nContent-Type: application/json\r\n"
                        "Content-Length: "
                      + std::to_string(body.size()) + "\r\n";
    for (auto& [k, v] : r.headers)
      out += k + ": " + v + "\r\n";
    out += "\r\n" + body;
    if (::send(fd, out.data(), out.size(), MSG_NOSIGNAL) <= 0) {
      return;
    }
  }
}

std::string fake_vendor::answer(const request& req, const reply* r) const {
  std::string system, user, model;
  read_prompt(req.path, req.body, system, user, model);
  auto text
      = r && !r->text.empty() ? r->text : default_text(req.step, system, user);
  auto in = static_cast<int64_t>((system.size() + user.size()) / 4);
  auto out = static_cast<int64_t>(text.size() / 4);
  auto finish = r ? r->finish : std::string{};
  if (req.path.find(":generateContent") != std::string::npos)
    return json{
        {"candidates",
         json::array({{{"content",
                        {{"role", "model"},
                         {"parts", json::array({{{"text", text}}})}}},
                       {"finishReason", finish.empty() ? "STOP" : finish},
                       {"index", 0}}})},
        {"usageMetadata",
         {{"promptTokenCount", in},
          {"candidatesTokenCount", out},
          {"totalTokenCount", in + out}}},
        {"modelVersion", model}}
        .dump();
  if (req.path.find("/messages") != std::string::npos)
    return json{{"id", "msg_fake"},
                {"type", "message"},
                {"role", "assistant"},
                {"model", model},
                {"content", json::array({{{"type", "text"}, {"text", text}}})},
                {"stop_reason", finish.empty() ? "end_turn" : finish},
                {"usage",
                 {{"input_tokens", in},
                  {"output_tokens", out},
                  {"cache_creation_input_tokens", 0},
                  {"cache_read_input_tokens", 0}}}}
        .dump();
  if (req.path.find("/api/chat") != std::string::npos)
    return json{{"model", model},
                {"message", {{"role", "assistant"}, {"content", text}}},
                {"done", true},
                {"done_reason", finish.empty() ? "stop" : finish},
                {"prompt_eval_count", in},
                {"eval_count", out}}
        .dump();
  return json{
      {"id", "chatcmpl-fake"},
      {"object", "chat.completion"},
      {"model", model},
      {"choices",
       json::array(
           {{{"index", 0},
             {"message",
              {{"role", "assistant"}, {"content", text}, {"refusal", nullptr}}},
             {"finish_reason", finish.empty() ? "stop" : finish}}})},
      {"usage",
       {{"prompt_tokens", in},
        {"completion_tokens", out},
        {"total_tokens", in + out}}}}
      .dump();
}

} // namespace orchflow::test
