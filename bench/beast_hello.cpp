// A bare Beast HTTP server answering every request with one fixed body of
// --bytes bytes: the ceiling the engine's GET /runs/{id} is compared with.
// With --openai 1 the body is an OpenAI chat completion: the vendor that the
// LLM transport benchmarks (curl-raw, engine-llm) call.
// Same shape as the engine's server (async session per connection,
// keep-alive), without routing, auth or projections.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <memory>
#include <thread>

#include "bench/modes.hpp"

namespace orchflow::bench {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

class hello_session : public std::enable_shared_from_this<hello_session> {
public:
  hello_session(tcp::socket&& s, const std::string& body)
      : stream_(std::move(s)), body_(body) {}

  void run() { read(); }

private:
  void read() {
    req_ = {};
    bhttp::async_read(
        stream_, buffer_, req_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec)
            return;
          self->write();
        });
  }

  void write() {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
        bhttp::status::ok, req_.version());
    res->set(bhttp::field::content_type, "application/json");
    res->keep_alive(req_.keep_alive());
    res->body() = body_;
    res->prepare_payload();
    bhttp::async_write(
        stream_, *res,
        [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
          if (!ec && res->keep_alive())
            self->read();
        });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> req_;
  const std::string& body_;
};

void accept(tcp::acceptor& acc, net::io_context& ioc, const std::string& body) {
  acc.async_accept(
      net::make_strand(ioc),
      [&acc, &ioc, &body](beast::error_code ec, tcp::socket s) {
        if (!ec)
          std::make_shared<hello_session>(std::move(s), body)->run();
        accept(acc, ioc, body);
      });
}

} // namespace

int beast_hello(const options& opts) {
  auto port = static_cast<unsigned short>(opts.num("port", 8090));
  auto bytes = static_cast<size_t>(opts.num("bytes", 2200));
  auto body = std::string(bytes, 'x');
  if (opts.num("openai", 0) != 0) {
    // An OpenAI chat completion whose answer fills the body to `bytes`.
    std::string head = R"({"id":"chatcmpl-bench","object":"chat.completion",)"
                       R"("model":"gpt-4o-mini","choices":[{"index":0,)"
                       R"("message":{"role":"assistant","content":")";
    std::string tail = R"("},"finish_reason":"stop"}],"usage":)"
                       R"({"prompt_tokens":120,"completion_tokens":60,)"
                       R"("total_tokens":180}})";
    auto fill = bytes > head.size() + tail.size()
                    ? bytes - head.size() - tail.size()
                    : 1;
    body = head + std::string(fill, 'x') + tail;
  }
  net::io_context ioc{1};
  tcp::acceptor acc{ioc, {net::ip::make_address("127.0.0.1"), port}};
  accept(acc, ioc, body);
  std::cout << "listening" << std::endl;
  ioc.run();
  return 0;
}

} // namespace orchflow::bench
