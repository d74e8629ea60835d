// The only file that includes Beast (besides beast_src.cpp).

#include "http/server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <optional>
#include <stdexcept>
#include <thread>

namespace orchflow::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::string error_body(const std::string& code, const std::string& detail) {
  return nlohmann::json{{"detail", detail}, {"code", code}}.dump();
}

const char* reason_of(int status) {
  return bhttp::obsolete_reason(static_cast<bhttp::status>(status)).data();
}

/// Rejects framing that request smugglers use: both Transfer-Encoding and
/// Content-Length, any transfer coding but a single "chunked", several
/// Content-Length headers. Returns an error sentence or nothing.
std::optional<std::string>
check_framing(const bhttp::request_parser<bhttp::string_body>& p) {
  auto& h = p.get();
  auto te = h.count(bhttp::field::transfer_encoding);
  auto cl = h.count(bhttp::field::content_length);
  if (te > 0 && cl > 0)
    return "A request must not carry both Transfer-Encoding and "
           "Content-Length.";
  if (cl > 1)
    return "A request must carry at most one Content-Length.";
  if (te > 1)
    return "A request must carry at most one Transfer-Encoding.";
  if (te == 1) {
    auto v = h[bhttp::field::transfer_encoding];
    if (!beast::iequals(v, "chunked"))
      return "Only 'Transfer-Encoding: chunked' is accepted.";
  }
  return std::nullopt;
}

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket&& socket, const server_options& opts, const handler& h)
      : stream_(std::move(socket)), opts_(opts), handler_(h) {
    // nop
  }

  void run() {
    net::dispatch(
        stream_.get_executor(),
        beast::bind_front_handler(&session::do_read, shared_from_this()));
  }

  void close() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      self->stream_.close();
    });
  }

private:
  void do_read() {
    parser_.emplace();
    parser_->header_limit(8 * 1024);
    parser_->body_limit(opts_.max_body_bytes);
    stream_.expires_after(std::chrono::seconds(opts_.timeout_s));
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec)
      return fail_read(ec);
    if (auto problem = check_framing(*parser_))
      return reject(400, "bad_request", *problem);
    if (parser_->content_length()
        && *parser_->content_length() > opts_.max_body_bytes)
      return reject(413, "payload_too_large",
                    "The request body exceeds the limit of "
                        + std::to_string(opts_.max_body_bytes) + " bytes.");
    bhttp::async_read(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

  void fail_read(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof
        || ec == beast::error::timeout || ec == net::error::operation_aborted
        || ec == net::error::connection_reset)
      return do_close();
    if (ec == bhttp::error::body_limit)
      return reject(413, "payload_too_large",
                    "The request body exceeds the limit of "
                        + std::to_string(opts_.max_body_bytes) + " bytes.");
    if (ec == bhttp::error::header_limit)
      return reject(431, "headers_too_large",
                    "The request headers exceed 8 KiB.");
    return reject(400, "bad_request",
                  "The request is not valid HTTP/1.1: " + ec.message() + ".");
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec)
      return fail_read(ec);
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    request r;
    r.method = std::string{req.method_string()};
    r.target = std::string{req.target()};
    r.body = std::move(req.body());
    if (auto i = req.find("x-api-key"); i != req.end()) {
      r.api_key = std::string{i->value()};
      r.has_api_key = true;
    }
    if (auto i = req.find(bhttp::field::content_type); i != req.end())
      r.content_type = std::string{i->value()};
    // The connection waits for this answer before reading the next request.
    stream_.expires_never();
    auto self = shared_from_this();
    auto answered = std::make_shared<std::atomic<bool>>(false);
    handler_(std::move(r), [self, answered](response res) {
      if (answered->exchange(true))
        return;
      net::post(self->stream_.get_executor(),
                [self, res = std::move(res)]() mutable {
                  self->write(std::move(res), !self->keep_alive_);
                });
    });
  }

  void reject(int status, const std::string& code, const std::string& detail) {
    response res;
    res.status = status;
    res.body = error_body(code, detail);
    write(std::move(res), true, true);
  }

  void write(response res, bool close, bool linger = false) {
    auto msg = std::make_shared<bhttp::response<bhttp::string_body>>();
    msg->version(version_ == 10 ? 10 : 11);
    msg->result(static_cast<unsigned>(res.status));
    msg->reason(reason_of(res.status));
    msg->set(bhttp::field::server, "orchflow");
    msg->set(bhttp::field::content_type, res.content_type);
    for (auto& [k, v] : res.headers)
      msg->set(k, v);
    msg->keep_alive(!close);
    msg->body() = std::move(res.body);
    msg->prepare_payload();
    stream_.expires_after(std::chrono::seconds(opts_.timeout_s));
    bhttp::async_write(stream_, *msg,
                       [self = shared_from_this(), msg, close,
                        linger](beast::error_code ec, std::size_t) {
                         if (linger && !ec)
                           return self->linger_close();
                         if (ec || close)
                           return self->do_close();
                         self->do_read();
                       });
  }

  void do_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  /// Closes after an error answer without resetting the connection: the
  /// client may still be sending the body we refused, and closing with
  /// unread data would make its kernel drop our answer. Reads and discards
  /// up to 4 MiB for at most 2 s first.
  void linger_close() {
    do_close();
    if (drained_ > 4 * 1024 * 1024)
      return;
    stream_.expires_after(std::chrono::seconds(2));
    stream_.async_read_some(
        net::buffer(scratch_),
        [self = shared_from_this()](beast::error_code ec, std::size_t n) {
          self->drained_ += n;
          if (!ec)
            self->linger_close();
        });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  const server_options& opts_;
  const handler& handler_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  std::array<char, 16384> scratch_;
  size_t drained_ = 0;
};

} // namespace

struct server::impl {
  server_options opts;
  handler h;
  net::thread_pool blocking{2};
  net::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};
  uint16_t bound_port = 0;

  void do_accept() {
    acceptor->async_accept(net::make_strand(ioc), [this](beast::error_code ec,
                                                         tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted)
          return;
      } else {
        std::make_shared<session>(std::move(socket), opts, h)->run();
      }
      if (!stopped)
        do_accept();
    });
  }
};

server::server(server_options opts, handler h) : impl_(new impl) {
  impl_->opts = std::move(opts);
  impl_->h = std::move(h);
}

server::~server() {
  stop();
}

void server::start() {
  auto& i = *impl_;
  beast::error_code ec;
  auto addr = net::ip::make_address(i.opts.host, ec);
  if (ec)
    throw std::runtime_error("invalid listen address '" + i.opts.host
                             + "': " + ec.message());
  tcp::endpoint ep{addr, i.opts.port};
  i.acceptor.emplace(net::make_strand(i.ioc));
  i.acceptor->open(ep.protocol(), ec);
  if (!ec)
    i.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    i.acceptor->bind(ep, ec);
  if (!ec)
    i.acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + i.opts.host + ":"
                             + std::to_string(i.opts.port) + ": "
                             + ec.message());
  i.bound_port = i.acceptor->local_endpoint().port();
  i.do_accept();
  for (int k = 0; k < std::max(1, i.opts.threads); ++k)
    i.threads.emplace_back([this] { impl_->ioc.run(); });
}

uint16_t server::port() const {
  return impl_->bound_port;
}

void server::stop() {
  auto& i = *impl_;
  if (i.stopped.exchange(true))
    return;
  if (i.acceptor)
    net::post(i.acceptor->get_executor(), [this] {
      beast::error_code ec;
      impl_->acceptor->close(ec);
    });
  i.ioc.stop();
  for (auto& t : i.threads)
    t.join();
  i.threads.clear();
  i.blocking.join();
}

void server::offload(std::function<void()> f) {
  net::post(impl_->blocking, std::move(f));
}

} // namespace orchflow::http
