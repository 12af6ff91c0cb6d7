// GCC 12 reports Asio's std::atomic_thread_fence as unsupported under ThreadSanitizer (-Wtsan, an
// error with RAFTKIT_WERROR). Asio's ordering also goes through mutexes TSan does see, so the
// warning is silenced here, before any header brings in <atomic>.
#if defined(__SANITIZE_THREAD__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#include "raftkit/transport/http/server.h"

#include <array>
#include <atomic>
#include <condition_variable>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "transport/http/handler_pool.h"
#include "transport/http/tls_context.h"

namespace raftkit::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

namespace {

// What Stop() needs from a connection, whatever its stream type.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Closes the connection from any thread (posted to the connection's strand).
  virtual void Close() = 0;
};

// How long a connection that is being closed after an error response keeps reading (and
// discarding) what the client still sends, so that the kernel does not answer it with a reset that
// could destroy the response before the client has read it.
constexpr std::chrono::milliseconds kLingerTimeout{1000};
// Room made in a connection's read buffer before a request body is read: Beast receives at most the
// free capacity (at least 512 bytes), so a small buffer turns a large body into many receives.
constexpr size_t kBodyReadSize = 64 * 1024;

bool IsParseError(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, std::vector<Route> routes)
      : opts_(std::move(options)),
        routes_(std::move(routes)),
        logger_(opts_.logger != nullptr ? opts_.logger : &NullLogger()),
        pool_(opts_.max_connections),
        work_(net::make_work_guard(ioc_)),
        acceptor_(net::make_strand(ioc_)) {}

  ~Impl() { Stop(); }

  Status Listen();
  void Run();
  void Stop();
  ServerStats stats() const;

  const ServerOptions& opts() const { return opts_; }
  Logger& logger() { return *logger_; }
  internal::HandlerPool& pool() { return pool_; }
  uint16_t port() const { return port_; }
  const Route* FindRoute(std::string_view path) const;

  // Runs `answer` on an io thread. Answers of asynchronous handlers arrive from other threads,
  // often many at once (one Raft batch completes many requests): they are queued, and one task
  // drains the queue, so a burst costs one wake-up of an io thread instead of one each.
  void PostAnswer(std::function<void()> answer) {
    bool post = false;
    {
      std::lock_guard lock(answers_mu_);
      answers_.push_back(std::move(answer));
      post = !drain_posted_;
      drain_posted_ = true;
    }
    if (post) net::post(ioc_, [this] { DrainAnswers(); });
  }
  void DrainAnswers() {
    std::vector<std::function<void()>> batch;
    {
      std::lock_guard lock(answers_mu_);
      batch.swap(answers_);
      drain_posted_ = false;
    }
    for (auto& a : batch)
      a();
  }

  // Adds a connection to the registry; false once Stop() began (the caller drops it).
  bool Register(uint64_t id, const std::shared_ptr<SessionBase>& s);
  void Unregister(uint64_t id);

  std::shared_ptr<ssl::context> tls_ctx_;

 private:
  void Accept();
  void OnAccept(const beast::error_code& ec, tcp::socket socket);

  const ServerOptions opts_;
  const std::vector<Route> routes_;
  Logger* logger_;

  mutable std::mutex mu_;
  bool stopping_ = false;                                    // guarded by mu_
  std::map<uint64_t, std::weak_ptr<SessionBase>> sessions_;  // guarded by mu_
  // Queued answers hold connections: declared after the registry, so destroyed before it.
  std::mutex answers_mu_;
  std::vector<std::function<void()>> answers_;  // guarded by answers_mu_
  bool drain_posted_ = false;                   // guarded by answers_mu_
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> rejected_{0};
  uint64_t next_id_ = 1;  // acceptor strand only
  std::once_flag stop_once_;

  internal::HandlerPool pool_;
  // Declared after the registry: destroying the io_context destroys the connections whose
  // handlers it still holds, and they unregister themselves.
  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  tcp::acceptor acceptor_;
  std::unique_ptr<net::steady_timer> retry_timer_;
  uint16_t port_ = 0;
  std::vector<std::thread> threads_;
};

namespace {

// One connection. All socket work runs on the connection's strand; the handler thread reaches it
// through Blocking(), which posts an operation to the strand and waits for its completion.
template <class Stream>
class Session final : public SessionBase,
                      public std::enable_shared_from_this<Session<Stream>>,
                      private BodyReader,
                      private ResponseWriter {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... Args>
  Session(Server::Impl* srv, uint64_t id, std::string remote, Args&&... args)
      : srv_(srv), id_(id), remote_(std::move(remote)), stream_(std::forward<Args>(args)...) {}

  ~Session() override { srv_->Unregister(id_); }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        self->Lowest().expires_after(self->srv_->opts().read_header_timeout);
        self->stream_.async_handshake(ssl::stream_base::server,
                                      [self](const beast::error_code& ec) {
                                        if (ec) {
                                          self->Debug("tls handshake", ec);
                                          self->DoClose();
                                          return;
                                        }
                                        self->ReadHeader();
                                      });
      } else {
        self->ReadHeader();
      }
    });
  }

  void Close() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->DoClose(); });
  }

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void Debug(std::string_view what, const beast::error_code& ec) {
    RAFTKIT_LOG(srv_->logger(), LogLevel::kDebug, "http: connection {} from {}: {}: {}", id_,
                remote_, what, ec.message());
  }

  // ---- strand: reading a request ----

  void ReadHeader() {
    if (closed_) return;
    string_parser_.reset();
    stream_parser_.reset();
    header_parser_.emplace();
    header_parser_->header_limit(srv_->opts().max_header_bytes);
    // The route's limit is checked once the path is known (OnHeader). Not boost::none: Beast
    // 1.74 compares a Content-Length against an empty optional as "greater".
    header_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    Lowest().expires_after(first_request_ ? srv_->opts().read_header_timeout
                                          : srv_->opts().idle_timeout);
    bhttp::async_read_header(stream_, buffer_, *header_parser_,
                             [self = this->shared_from_this()](const beast::error_code& ec,
                                                               size_t) { self->OnHeader(ec); });
  }

  void OnHeader(const beast::error_code& ec) {
    if (ec == bhttp::error::header_limit)
      return SendSimple(431, "request header too large\n", true);
    if (ec && IsParseError(ec)) {
      Debug("malformed request", ec);
      return SendSimple(400, "malformed request\n", true);
    }
    if (ec) {
      if (ec != bhttp::error::end_of_stream) Debug("reading request header", ec);
      return DoClose();
    }
    first_request_ = false;
    const auto& h = header_parser_->get();
    req_ = ServerRequest{};
    req_.method = std::string(h.method_string());
    req_.target = std::string(h.target());
    req_.path = req_.target.substr(0, req_.target.find('?'));
    for (const auto& f : h)
      req_.headers.Add(std::string(f.name_string()), std::string(f.value()));
    req_.connection_id = id_;
    req_.remote_address = remote_;
    req_.tls = kTls;
    keep_alive_ = h.keep_alive();
    body_done_ = header_parser_->is_done();

    route_ = srv_->FindRoute(req_.path);
    if (route_ == nullptr) return SendSimple(404, "404 page not found\n", !body_done_);
    const auto length = header_parser_->content_length();
    if (length && *length > route_->max_body_bytes) {
      return SendSimple(413, "request body too large\n", true);
    }
    if (route_->body_mode == BodyMode::kStreamed) {
      if (!body_done_) {
        stream_parser_.emplace(std::move(*header_parser_));
        stream_parser_->body_limit(route_->max_body_bytes);
        buffer_.reserve(kBodyReadSize);
      }
      req_.body_reader = this;  // reads 0 at once when there is no body
      return Dispatch();
    }
    if (body_done_) return Dispatch();
    string_parser_.emplace(std::move(*header_parser_));
    string_parser_->body_limit(route_->max_body_bytes);
    buffer_.reserve(kBodyReadSize);
    Lowest().expires_after(srv_->opts().idle_timeout);
    bhttp::async_read(
        stream_, buffer_, *string_parser_,
        [self = this->shared_from_this()](const beast::error_code& e, size_t) { self->OnBody(e); });
  }

  void OnBody(const beast::error_code& ec) {
    if (ec == bhttp::error::body_limit) return SendSimple(413, "request body too large\n", true);
    if (ec && IsParseError(ec)) return SendSimple(400, "malformed request body\n", true);
    if (ec) {
      Debug("reading request body", ec);
      return DoClose();
    }
    req_.body = std::move(string_parser_->get().body());
    body_done_ = true;
    Dispatch();
  }

  void Dispatch() {
    responded_ = false;
    streaming_ = false;
    aborted_ = false;
    if (route_->async_handler) return DispatchAsync();
    if (!srv_->pool().Submit([self = this->shared_from_this()] { self->RunHandler(); })) {
      DoClose();
    }
  }

  // An AsyncHandler runs here, on the strand; its answer comes back through the strand.
  void DispatchAsync() {
    // Nothing else holds the connection while the answer is awaited: it holds itself until the
    // answer is written or the connection closes. The Responder holds it weakly, so an answer
    // that comes after the connection (or the whole server) is gone goes nowhere.
    auto self = this->shared_from_this();
    pending_self_ = self;
    std::weak_ptr<Session> weak = self;
    Responder respond([weak](Response r) {
      auto s = weak.lock();
      if (!s) return;
      s->srv_->PostAnswer([s, r = std::move(r)]() mutable {
        // On an io thread now: handing over to the connection's strand costs no wake-up.
        net::post(s->stream_.get_executor(),
                  [s, r = std::move(r)]() mutable { s->WriteAsyncResponse(std::move(r)); });
      });
    });
    try {
      route_->async_handler(req_, std::move(respond));
    } catch (const std::exception& e) {
      RAFTKIT_LOG(srv_->logger(), LogLevel::kWarn, "http: handler for {} threw: {}", req_.path,
                  e.what());
      keep_alive_ = false;  // the 500 of the destroyed Responder goes out, then the connection ends
    }
  }

  void WriteAsyncResponse(Response response) {
    pending_self_.reset();  // the caller's pointer keeps this alive from here
    if (closed_) return;
    PrepareResponse(std::move(response));
    Lowest().expires_after(srv_->opts().write_timeout);
    bhttp::async_write(stream_, res_,
                       [self = this->shared_from_this()](const beast::error_code& ec, size_t) {
                         if (ec) return self->DoClose();
                         self->AfterResponse();
                       });
  }

  // res_ from `response`: the server's framing, no body where none is allowed.
  void PrepareResponse(Response response) {
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(response.status));
    CopyHeaders(response.headers, res_);
    const int s = response.status;
    if (s == 204 || s == 304 || (s >= 100 && s < 200)) response.body.clear();  // no body allowed
    res_.body() = std::move(response.body);
    res_.keep_alive(keep_alive_ && body_done_);
    res_.prepare_payload();
    // A response that cannot have a body has no length either (RFC 9110 §8.6; Go sends none).
    if (s == 204 || s == 304 || (s >= 100 && s < 200)) res_.erase(bhttp::field::content_length);
  }

  // An answer the server gives by itself (errors, 404); `close` ends the connection after it.
  void SendSimple(int status, std::string_view body, bool close) {
    if (closed_) return;
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(status));
    res_.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    res_.set("X-Content-Type-Options", "nosniff");
    res_.body() = std::string(body);
    res_.keep_alive(keep_alive_ && !close);
    res_.prepare_payload();
    Lowest().expires_after(srv_->opts().write_timeout);
    bhttp::async_write(
        stream_, res_,
        [self = this->shared_from_this(), close](const beast::error_code& ec, size_t) {
          if (ec) return self->DoClose();
          if (close || !self->keep_alive_) return self->LingerClose();
          self->ReadHeader();
        });
  }

  // ---- strand: ending a connection ----

  // Sends FIN, then discards input until the client closes too or kLingerTimeout passes.
  void LingerClose() {
    if (closed_) return;
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    Lowest().expires_after(kLingerTimeout);
    // After a stream the hang-up watch is still reading and already discards what arrives: a
    // second read on the same socket would be two concurrent reads (undefined in Beast).
    if (!watching_) Drain();
  }

  void Drain() {
    Lowest().async_read_some(net::buffer(scratch_), [self = this->shared_from_this()](
                                                        const beast::error_code& ec, size_t) {
      if (ec) return self->DoClose();
      self->Drain();
    });
  }

  void DoClose() {
    const auto keep = std::move(pending_self_);  // released last, after every member access
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().close();
    MarkGone();
  }

  void MarkGone() {
    std::function<void()> callback;
    {
      std::lock_guard lock(gone_mu_);
      if (gone_) return;
      gone_ = true;
      callback = std::move(on_gone_);
    }
    gone_cv_.notify_all();
    if (callback) callback();
  }

  // Runs after a streaming response's header went out: any completion of this read means the
  // client closed the connection or broke it (it has nothing more to send on a stream), so the
  // writer learns at once rather than at its next write.
  void WatchForHangup() {
    watching_ = true;
    Lowest().async_read_some(net::buffer(scratch_), [self = this->shared_from_this()](
                                                        const beast::error_code& ec, size_t) {
      if (ec) return self->DoClose();
      self->WatchForHangup();
    });
  }

  void AfterResponse() {
    req_ = ServerRequest{};
    if (closed_) return;
    if (streaming_ || !keep_alive_ || !body_done_) return LingerClose();
    ReadHeader();
  }

  // ---- handler thread ----

  template <class Op>
  beast::error_code Blocking(Op&& op) {
    std::promise<beast::error_code> done;
    auto result = done.get_future();
    net::post(stream_.get_executor(),
              [&op, &done] { op([&done](const beast::error_code& ec) { done.set_value(ec); }); });
    return result.get();
  }

  void RunHandler() {
    try {
      route_->handler(req_, *this);
    } catch (const std::exception& e) {
      RAFTKIT_LOG(srv_->logger(), LogLevel::kWarn, "http: handler for {} threw: {}", req_.path,
                  e.what());
      keep_alive_ = false;
      if (!responded_ && !streaming_ && !aborted_) {
        (void)Respond(Response{500, {}, "internal server error\n"});
      }
    }
    if (streaming_) {
      if (!ClientGone()) {
        (void)Blocking([this](auto done) {
          Lowest().expires_after(srv_->opts().write_timeout);
          net::async_write(stream_, bhttp::make_chunk_last(),
                           [done](const beast::error_code& ec, size_t) { done(ec); });
        });
      }
    } else if (!responded_ && !aborted_) {
      (void)Respond(Response{});
    }
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->AfterResponse(); });
  }

  static void CopyHeaders(const Headers& from, bhttp::fields& to) {
    for (const auto& [name, value] : from) {
      if (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
          EqualsIgnoreCase(name, "Connection")) {
        continue;  // framing is the server's business
      }
      to.insert(name, value);
    }
  }

  Status Respond(Response response) override {
    if (responded_ || streaming_) {
      return Status(ErrorCode::kInvalidArgument, "http: the response was already started");
    }
    responded_ = true;
    const beast::error_code ec = Blocking([this, &response](auto done) {
      if (closed_) return done(net::error::not_connected);
      PrepareResponse(std::move(response));
      Lowest().expires_after(srv_->opts().write_timeout);
      bhttp::async_write(stream_, res_, [done](const beast::error_code& e, size_t) { done(e); });
    });
    if (ec) return Status(ErrorCode::kIoError, "http: writing response: " + ec.message());
    return Status::Ok();
  }

  Status StartStream(int status, Headers headers) override {
    if (responded_ || streaming_) {
      return Status(ErrorCode::kInvalidArgument, "http: the response was already started");
    }
    streaming_ = true;
    const beast::error_code ec = Blocking([this, status, &headers](auto done) {
      if (closed_) return done(net::error::not_connected);
      stream_res_ = {};
      stream_res_.version(11);
      stream_res_.result(static_cast<unsigned>(status));
      CopyHeaders(headers, stream_res_);
      stream_res_.chunked(true);
      stream_res_.keep_alive(false);
      serializer_.emplace(stream_res_);
      Lowest().expires_after(srv_->opts().write_timeout);
      bhttp::async_write_header(stream_, *serializer_,
                                [this, done](const beast::error_code& e, size_t) {
                                  if (!e && body_done_) {
                                    // Reads never time out while the stream lives; writes do.
                                    Lowest().expires_never();
                                    WatchForHangup();
                                  }
                                  done(e);
                                });
    });
    if (ec) return Status(ErrorCode::kIoError, "http: writing stream header: " + ec.message());
    return Status::Ok();
  }

  Status Write(std::string_view data) override {
    if (!streaming_) return Status(ErrorCode::kInvalidArgument, "http: Write before StartStream");
    if (data.empty()) return Status::Ok();  // an empty chunk would end the body
    if (ClientGone()) return Status(ErrorCode::kIoError, "http: client gone");
    const beast::error_code ec = Blocking([this, data](auto done) {
      if (closed_) return done(net::error::not_connected);
      Lowest().expires_after(srv_->opts().write_timeout);
      net::async_write(stream_, bhttp::make_chunk(net::const_buffer(data.data(), data.size())),
                       [done](const beast::error_code& e, size_t) { done(e); });
    });
    if (ec) return Status(ErrorCode::kIoError, "http: writing stream: " + ec.message());
    return Status::Ok();
  }

  void Abort() override {
    aborted_ = true;
    keep_alive_ = false;
    (void)Blocking([this](auto done) {
      DoClose();
      done(beast::error_code{});
    });
  }

  bool ClientGone() const override {
    std::lock_guard lock(gone_mu_);
    return gone_;
  }

  bool WaitClientGone(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(gone_mu_);
    return gone_cv_.wait_for(lock, timeout, [&] { return gone_; });
  }

  void OnClientGone(std::function<void()> callback) override {
    {
      std::lock_guard lock(gone_mu_);
      if (!gone_) {
        on_gone_ = std::move(callback);
        return;
      }
    }
    if (callback) callback();
  }

  Result<size_t> Read(char* buf, size_t capacity) override {
    if (capacity == 0) return size_t{0};
    for (;;) {
      bool done_now = false;
      size_t got = 0;
      const beast::error_code ec = Blocking([&, this](auto done) {
        if (body_done_ || !stream_parser_) {
          done_now = true;
          return done(beast::error_code{});
        }
        if (closed_) return done(net::error::not_connected);
        auto& body = stream_parser_->get().body();
        body.data = buf;
        body.size = capacity;
        Lowest().expires_after(srv_->opts().idle_timeout);
        bhttp::async_read_some(stream_, buffer_, *stream_parser_,
                               [&, this, done](beast::error_code e, size_t) {
                                 if (e == bhttp::error::need_buffer) e = {};
                                 got = capacity - stream_parser_->get().body().size;
                                 if (!e && stream_parser_->is_done()) body_done_ = true;
                                 done(e);
                               });
      });
      if (ec == bhttp::error::body_limit) {
        return Status(ErrorCode::kInvalidArgument, "http: request body exceeds the route's limit");
      }
      if (ec && IsParseError(ec)) {
        return Status(ErrorCode::kInvalidArgument, "http: malformed request body: " + ec.message());
      }
      if (ec) return Status(ErrorCode::kIoError, "http: reading request body: " + ec.message());
      if (done_now || got > 0) return got;
      // Only chunk framing was parsed; keep reading.
    }
  }

  Server::Impl* const srv_;
  const uint64_t id_;
  const std::string remote_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::array<char, 1024> scratch_{};

  // Strand state (the handler thread touches it only inside Blocking, or between Dispatch and
  // AfterResponse, which the pool's lock and the strand order).
  bool closed_ = false;
  std::shared_ptr<Session> pending_self_;  // while an AsyncHandler's answer is awaited
  bool watching_ = false;  // WatchForHangup's read is pending (it runs until the connection ends)
  bool first_request_ = true;
  bool keep_alive_ = false;
  bool body_done_ = false;
  const Route* route_ = nullptr;
  ServerRequest req_;
  std::optional<bhttp::request_parser<bhttp::empty_body>> header_parser_;
  std::optional<bhttp::request_parser<bhttp::string_body>> string_parser_;
  std::optional<bhttp::request_parser<bhttp::buffer_body>> stream_parser_;
  bhttp::response<bhttp::string_body> res_;
  bhttp::response<bhttp::empty_body> stream_res_;
  std::optional<bhttp::response_serializer<bhttp::empty_body>> serializer_;

  // Handler-thread state.
  bool responded_ = false;
  bool streaming_ = false;
  bool aborted_ = false;  ///< the handler called Abort()

  mutable std::mutex gone_mu_;
  std::condition_variable gone_cv_;
  bool gone_ = false;              // guarded by gone_mu_
  std::function<void()> on_gone_;  // guarded by gone_mu_
};

}  // namespace

// ---- Responder ----

struct Responder::State {
  std::function<void(Response)> send;
  std::atomic<bool> answered{false};
  ~State() {
    if (!answered.exchange(true)) send(Response{500, {}, "internal server error\n"});
  }
};

Responder::Responder(std::function<void(Response)> send) : state_(std::make_shared<State>()) {
  state_->send = std::move(send);
}

void Responder::operator()(Response response) const {
  if (!state_->answered.exchange(true)) state_->send(std::move(response));
}

// ---- Server::Impl ----

const Route* Server::Impl::FindRoute(std::string_view path) const {
  const Route* best = nullptr;
  for (const Route& r : routes_) {
    const bool match = r.exact ? path == r.pattern : path.starts_with(r.pattern);
    if (match && (best == nullptr || r.pattern.size() > best->pattern.size())) best = &r;
  }
  return best;
}

Status Server::Impl::Listen() {
  beast::error_code ec;
  const auto address = net::ip::make_address(opts_.address, ec);
  if (ec) {
    return Status(ErrorCode::kInvalidArgument, "http: bad listen address " + opts_.address);
  }
  const tcp::endpoint endpoint(address, opts_.port);
  auto fail = [&](std::string_view what) {
    return Status(ErrorCode::kIoError,
                  fmt::format("http: {} {}:{}: {}", what, opts_.address, opts_.port, ec.message()));
  };
  if (acceptor_.open(endpoint.protocol(), ec); ec) return fail("open");
  if (acceptor_.set_option(net::socket_base::reuse_address(true), ec); ec)
    return fail("setsockopt");
  if (acceptor_.bind(endpoint, ec); ec) return fail("bind");
  if (acceptor_.listen(net::socket_base::max_listen_connections, ec); ec) return fail("listen");
  port_ = acceptor_.local_endpoint(ec).port();
  if (ec) return fail("local endpoint");
  return Status::Ok();
}

void Server::Impl::Run() {
  net::dispatch(acceptor_.get_executor(), [this] { Accept(); });
  const int n = opts_.io_threads < 1 ? 1 : opts_.io_threads;
  for (int i = 0; i < n; ++i)
    threads_.emplace_back([this] { ioc_.run(); });
}

void Server::Impl::Accept() {
  acceptor_.async_accept(
      net::make_strand(ioc_),
      [this](const beast::error_code& ec, tcp::socket socket) { OnAccept(ec, std::move(socket)); });
}

void Server::Impl::OnAccept(const beast::error_code& ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // Typically EMFILE: back off briefly instead of spinning on the error.
    RAFTKIT_LOG(*logger_, LogLevel::kWarn, "http: accept: {}", ec.message());
    retry_timer_ = std::make_unique<net::steady_timer>(acceptor_.get_executor());
    retry_timer_->expires_after(std::chrono::milliseconds(50));
    retry_timer_->async_wait([this](const beast::error_code& e) {
      if (!e && acceptor_.is_open()) Accept();
    });
    return;
  }
  size_t active = 0;
  {
    std::lock_guard lock(mu_);
    active = sessions_.size();
  }
  if (active >= opts_.max_connections) {
    // Refused before any allocation: the flood costs one accept and one close.
    rejected_.fetch_add(1, std::memory_order_relaxed);
    beast::error_code ignored;
    socket.close(ignored);
    return Accept();
  }
  // Responses and stream frames go out in pieces; see the client for why Nagle must be off.
  beast::error_code nd;
  socket.set_option(tcp::no_delay(true), nd);
  beast::error_code ep_ec;
  const auto remote = socket.remote_endpoint(ep_ec);
  std::string remote_str =
      ep_ec ? std::string("?") : fmt::format("{}:{}", remote.address().to_string(), remote.port());
  const uint64_t id = next_id_++;
  std::shared_ptr<SessionBase> base;
  if (tls_ctx_) {
    auto s = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
        this, id, std::move(remote_str), std::move(socket), *tls_ctx_);
    if (Register(id, s)) s->Start();
  } else {
    auto s = std::make_shared<Session<beast::tcp_stream>>(this, id, std::move(remote_str),
                                                          std::move(socket));
    if (Register(id, s)) s->Start();
  }
  Accept();
}

bool Server::Impl::Register(uint64_t id, const std::shared_ptr<SessionBase>& s) {
  std::lock_guard lock(mu_);
  if (stopping_) return false;
  sessions_.emplace(id, s);
  accepted_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void Server::Impl::Unregister(uint64_t id) {
  std::lock_guard lock(mu_);
  sessions_.erase(id);
}

ServerStats Server::Impl::stats() const {
  ServerStats s;
  s.accepted = accepted_.load(std::memory_order_relaxed);
  s.rejected = rejected_.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(mu_);
    s.active_connections = sessions_.size();
  }
  s.handler_threads = pool_.threads();
  return s;
}

void Server::Impl::Stop() {
  std::call_once(stop_once_, [this] {
    std::vector<std::shared_ptr<SessionBase>> live;
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      for (auto& [id, weak] : sessions_) {
        if (auto s = weak.lock()) live.push_back(std::move(s));
      }
    }
    std::promise<void> closed;
    net::post(acceptor_.get_executor(), [this, &closed] {
      beast::error_code ignored;
      acceptor_.close(ignored);
      if (retry_timer_) retry_timer_->cancel();
      closed.set_value();
    });
    if (!threads_.empty()) closed.get_future().wait();
    for (auto& s : live)
      s->Close();
    live.clear();
    // Handlers see their connection gone and return; their last posts still need the io threads.
    pool_.Shutdown();
    work_.reset();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(mu_);
        if (sessions_.empty()) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ioc_.stop();
    for (auto& t : threads_)
      t.join();
    threads_.clear();
  });
}

// ---- Server ----

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  Stop();
}

Result<std::unique_ptr<Server>> Server::Start(ServerOptions options, std::vector<Route> routes) {
  if (options.max_connections == 0) {
    return Status(ErrorCode::kInvalidArgument, "http: max_connections must be positive");
  }
  for (const Route& r : routes) {
    if (r.pattern.empty() || r.pattern[0] != '/' || (!r.handler && !r.async_handler)) {
      return Status(ErrorCode::kInvalidArgument,
                    "http: a route needs a pattern starting with '/' and a handler");
    }
    if (r.async_handler && r.body_mode != BodyMode::kBuffered) {
      return Status(ErrorCode::kInvalidArgument,
                    "http: an asynchronous handler needs BodyMode::kBuffered");
    }
  }
  std::shared_ptr<ssl::context> ctx;
  if (options.tls) {
    auto made = internal::MakeServerContext(*options.tls);
    if (!made.ok()) return made.status();
    ctx = std::move(made.value());
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(routes));
  impl->tls_ctx_ = std::move(ctx);
  RAFTKIT_RETURN_IF_ERROR(impl->Listen());
  impl->Run();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

uint16_t Server::port() const noexcept {
  return impl_->port();
}

std::string Server::url() const {
  const std::string& a = impl_->opts().address;
  const std::string host = a.find(':') != std::string::npos ? "[" + a + "]" : a;
  return fmt::format("{}://{}:{}", impl_->tls_ctx_ ? "https" : "http", host, impl_->port());
}

ServerStats Server::stats() const {
  return impl_->stats();
}

void Server::Stop() {
  impl_->Stop();
}

}  // namespace raftkit::http
