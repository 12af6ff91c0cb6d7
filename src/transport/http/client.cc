// GCC 12 reports Asio's std::atomic_thread_fence as unsupported under ThreadSanitizer (-Wtsan, an
// error with RAFTKIT_WERROR). Asio's ordering also goes through mutexes TSan does see, so the
// warning is silenced here, before any header brings in <atomic>.
#if defined(__SANITIZE_THREAD__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#include "raftkit/transport/http/client.h"

#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "transport/http/tls_context.h"

namespace raftkit::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

namespace {

// Size of one piece read from a BodySource.
constexpr size_t kUploadPiece = 64 * 1024;
// Room kept in each connection's read buffer (see ClientConnection's constructor).
constexpr size_t kReadBufferSize = 64 * 1024;

bool IsHttpError(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

}  // namespace

// ---- CancelToken ----

void CancelToken::Cancel() {
  std::lock_guard lock(mu_);
  canceled_ = true;
  if (hook_) hook_();
}

bool CancelToken::canceled() const {
  std::lock_guard lock(mu_);
  return canceled_;
}

bool CancelToken::Arm(std::function<void()> hook) {
  std::lock_guard lock(mu_);
  if (canceled_) return false;
  hook_ = std::move(hook);
  return true;
}

void CancelToken::Disarm() {
  std::lock_guard lock(mu_);
  hook_ = nullptr;
}

// One connection with its own io_context. Every operation starts an asynchronous Beast call and
// runs the io_context on the calling thread until that call completes, so timeouts are timers and
// a cancellation from another thread is a close posted to the context (the only thread-safe entry).
class ClientConnection {
 public:
  ClientConnection(const ClientOptions& opts, std::shared_ptr<ssl::context> ctx, std::string key)
      : opts_(opts), ctx_(std::move(ctx)), key_(std::move(key)) {
    // Beast reads at most the buffer's free capacity (and at least 512 bytes) per receive: without
    // room, a streamed body arrives in 512-byte receives, one system call (and timer) each.
    buffer_.reserve(kReadBufferSize);
  }

  ~ClientConnection() { DisarmToken(); }

  const std::string& key() const { return key_; }

  Status Dial(const Url& url) {
    tcp::resolver resolver(ioc_);
    tcp::resolver::results_type endpoints;
    beast::error_code ec = Run([&](auto done) {
      resolver.async_resolve(
          url.host, std::to_string(url.port),
          [&endpoints, done](const beast::error_code& e, tcp::resolver::results_type r) {
            endpoints = std::move(r);
            done(e);
          });
    });
    if (ec) return IoError("resolving " + url.host, ec);
    if (url.tls()) {
      tls_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc_, *ctx_);
    } else {
      tcp_ = std::make_unique<beast::tcp_stream>(ioc_);
    }
    Lowest().expires_after(opts_.connect_timeout);
    ec = Run([&](auto done) {
      Lowest().async_connect(endpoints,
                             [done](const beast::error_code& e, const auto&) { done(e); });
    });
    if (ec) return IoError("connecting to " + url.HostPort(), ec);
    // Requests and stream frames are written in pieces (header, body, chunk framing): without
    // TCP_NODELAY, Nagle's algorithm holds the last piece until the peer's delayed ACK (~40 ms).
    beast::error_code nd;
    Lowest().socket().set_option(net::ip::tcp::no_delay(true), nd);
    if (tls_) RAFTKIT_RETURN_IF_ERROR(Handshake(url));
    return Status::Ok();
  }

  // Cancellation: while armed, Cancel() on the token closes this connection.
  bool ArmToken(const std::shared_ptr<CancelToken>& token) {
    DisarmToken();
    if (!token) return true;
    token_ = token;
    return token->Arm([this] { net::post(ioc_, [this] { Abort(); }); });
  }

  void DisarmToken() {
    if (token_) token_->Disarm();
    token_.reset();
  }

  // Writes the request line, the header and the body.
  Status SendRequest(const ClientRequest& r, const Url& url) {
    beast::error_code ec;
    if (!r.body_source) {
      bhttp::request<bhttp::string_body> req;
      FillHeader(r, url, req);
      req.body() = r.body;
      req.prepare_payload();
      Lowest().expires_after(opts_.idle_timeout);
      ec = Run([&](auto done) {
        WithStream([&](auto& s) {
          bhttp::async_write(s, req, [done](const beast::error_code& e, size_t) { done(e); });
        });
      });
      if (ec) return Broken("writing request", ec);
      return Status::Ok();
    }
    bhttp::request<bhttp::empty_body> req;
    FillHeader(r, url, req);
    if (r.body_length) {
      req.content_length(*r.body_length);
    } else {
      req.chunked(true);
    }
    bhttp::request_serializer<bhttp::empty_body> sr(req);
    Lowest().expires_after(opts_.idle_timeout);
    ec = Run([&](auto done) {
      WithStream([&](auto& s) {
        bhttp::async_write_header(s, sr, [done](const beast::error_code& e, size_t) { done(e); });
      });
    });
    if (ec) return Broken("writing request header", ec);
    std::vector<char> piece(kUploadPiece);
    uint64_t sent = 0;
    for (;;) {
      auto n = r.body_source(piece.data(), piece.size());
      if (!n.ok()) {
        broken_ = true;
        return n.status();
      }
      if (*n == 0) break;
      sent += *n;
      if (r.body_length && sent > *r.body_length) {
        broken_ = true;
        return Status(ErrorCode::kInvalidArgument, "http: body source exceeded body_length");
      }
      const net::const_buffer data(piece.data(), *n);
      Lowest().expires_after(opts_.idle_timeout);
      ec = Run([&](auto done) {
        WithStream([&](auto& s) {
          auto cb = [done](const beast::error_code& e, size_t) { done(e); };
          if (r.body_length) {
            net::async_write(s, data, cb);
          } else {
            net::async_write(s, bhttp::make_chunk(data), cb);
          }
        });
      });
      if (ec) return Broken("writing request body", ec);
    }
    if (r.body_length && sent != *r.body_length) {
      broken_ = true;
      return Status(ErrorCode::kInvalidArgument, "http: body source ended before body_length");
    }
    if (!r.body_length) {
      Lowest().expires_after(opts_.idle_timeout);
      ec = Run([&](auto done) {
        WithStream([&](auto& s) {
          net::async_write(s, bhttp::make_chunk_last(),
                           [done](const beast::error_code& e, size_t) { done(e); });
        });
      });
      if (ec) return Broken("writing request body end", ec);
    }
    return Status::Ok();
  }

  Status ReadHeader(bool head_request, int* status, Headers* headers) {
    parser_.emplace();
    parser_->header_limit(opts_.max_header_bytes);
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (head_request) parser_->skip(true);
    Lowest().expires_after(opts_.response_header_timeout);
    const beast::error_code ec = Run([&](auto done) {
      WithStream([&](auto& s) {
        bhttp::async_read_header(s, buffer_, *parser_,
                                 [done](const beast::error_code& e, size_t) { done(e); });
      });
    });
    if (ec) return Broken("reading response header", ec);
    const auto& h = parser_->get();
    *status = static_cast<int>(h.result_int());
    headers_seen_ = true;
    for (const auto& f : h)
      headers->Add(std::string(f.name_string()), std::string(f.value()));
    return Status::Ok();
  }

  Result<size_t> ReadBody(char* buf, size_t capacity) {
    if (!parser_) return Status(ErrorCode::kInternal, "http: no response");
    if (capacity == 0) return size_t{0};
    while (!parser_->is_done()) {
      if (token_ && token_->canceled())
        return Broken("reading response body", net::error::operation_aborted);
      auto& body = parser_->get().body();
      body.data = buf;
      body.size = capacity;
      Lowest().expires_after(opts_.idle_timeout);
      beast::error_code ec = Run([&](auto done) {
        WithStream([&](auto& s) {
          bhttp::async_read_some(s, buffer_, *parser_,
                                 [done](const beast::error_code& e, size_t) { done(e); });
        });
      });
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) return Broken("reading response body", ec);
      const size_t got = capacity - parser_->get().body().size;
      if (got > 0) return got;
    }
    return size_t{0};
  }

  // Whether the connection may serve another request.
  bool Reusable() const {
    return !broken_ && parser_ && parser_->is_done() && parser_->get().keep_alive() &&
           !(token_ && token_->canceled());
  }

  // Detaches the cancel token; false if it was canceled meanwhile (then the connection must go:
  // a close may be queued on its context).
  bool PrepareReuse() {
    const bool canceled = token_ && (token_->Disarm(), token_->canceled());
    token_.reset();
    parser_.reset();
    headers_seen_ = false;
    return !canceled;
  }

  bool headers_seen() const { return headers_seen_; }

  // Whether an idle pooled connection is still open. Servers close idle keep-alive connections
  // after a while; such a connection reads as end of stream, or has bytes waiting (a TLS
  // close_notify: an HTTP/1.1 server never speaks first). Reusing it would fail the next request
  // before anything reached the server, yet a request that is not replayable could not be retried.
  bool StillOpen() {
    char byte = 0;
    const ssize_t n = ::recv(Lowest().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

 private:
  beast::tcp_stream& Lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *tcp_; }

  template <class F>
  void WithStream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(*tcp_);
    }
  }

  // Starts an operation through `start(done)` and runs the io_context here until `done` is called.
  template <class Start>
  beast::error_code Run(Start&& start) {
    beast::error_code result;
    bool finished = false;
    ioc_.restart();
    start([&result, &finished](const beast::error_code& ec) {
      result = ec;
      finished = true;
    });
    while (!finished) {
      if (ioc_.run_one() == 0) {
        if (!finished) result = net::error::operation_aborted;
        break;
      }
    }
    return result;
  }

  Status Handshake(const Url& url) {
    SSL* native = tls_->native_handle();
    beast::error_code ec;
    const auto address = net::ip::make_address(url.host, ec);
    const bool is_ip = !ec;
    // SNI carries names only (RFC 6066 forbids addresses).
    if (!is_ip) SSL_set_tlsext_host_name(native, url.host.c_str());
    if (opts_.tls && opts_.tls->verify_peer) {
      X509_VERIFY_PARAM* param = SSL_get0_param(native);
      const int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str())
                           : X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), 0);
      if (ok != 1)
        return Status(ErrorCode::kInvalidArgument, "tls: cannot verify host " + url.host);
    }
    (void)address;
    Lowest().expires_after(opts_.connect_timeout);
    ec = Run([&](auto done) {
      tls_->async_handshake(ssl::stream_base::client,
                            [done](const beast::error_code& e) { done(e); });
    });
    if (ec) return IoError("tls handshake with " + url.HostPort(), ec);
    return Status::Ok();
  }

  template <class Req>
  static void FillHeader(const ClientRequest& r, const Url& url, Req& req) {
    req.version(11);
    req.method_string(r.method);
    req.target(url.target);
    req.set(bhttp::field::host, url.HostPort());
    for (const auto& [name, value] : r.headers) {
      if (EqualsIgnoreCase(name, "Host") || EqualsIgnoreCase(name, "Content-Length") ||
          EqualsIgnoreCase(name, "Transfer-Encoding")) {
        continue;
      }
      req.insert(name, value);
    }
    req.keep_alive(true);
  }

  void Abort() {
    broken_ = true;
    beast::error_code ignored;
    if (tcp_ || tls_) {
      Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      Lowest().close();
    }
  }

  Status Broken(std::string_view what, const beast::error_code& ec) {
    broken_ = true;
    if (token_ && token_->canceled()) {
      return Status(ErrorCode::kIoError, fmt::format("http: {}: canceled", what));
    }
    if (IsHttpError(ec) && ec != bhttp::error::end_of_stream &&
        ec != bhttp::error::partial_message) {
      return Status(ErrorCode::kCorruption, fmt::format("http: {}: {}", what, ec.message()));
    }
    return IoError(what, ec);
  }

  static Status IoError(std::string_view what, const beast::error_code& ec) {
    return Status(ErrorCode::kIoError, fmt::format("http: {}: {}", what, ec.message()));
  }

  const ClientOptions& opts_;
  std::shared_ptr<ssl::context> ctx_;
  std::string key_;
  // Declared first so that it is destroyed last, after the streams that use it.
  net::io_context ioc_;
  std::unique_ptr<beast::tcp_stream> tcp_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser_;
  std::shared_ptr<CancelToken> token_;
  bool broken_ = false;
  bool headers_seen_ = false;
};

// Idle keep-alive connections by scheme://host:port, shared by a Client and its open streams.
class ClientPool {
 public:
  ClientPool(ClientOptions options, std::shared_ptr<ssl::context> context)
      : opts(std::move(options)), ctx(std::move(context)) {}

  std::unique_ptr<ClientConnection> Take(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = idle_.find(key);
    while (it != idle_.end() && !it->second.empty()) {
      auto conn = std::move(it->second.back());
      it->second.pop_back();
      if (conn->StillOpen()) return conn;  // closed by the server meanwhile: dropped
    }
    return nullptr;
  }

  void Put(std::unique_ptr<ClientConnection> conn) {
    if (!conn->Reusable() || !conn->PrepareReuse()) return;
    std::lock_guard lock(mu_);
    auto& list = idle_[conn->key()];
    if (list.size() < opts.max_idle_per_host) list.push_back(std::move(conn));
  }

  const ClientOptions opts;
  const std::shared_ptr<ssl::context> ctx;
  std::atomic<uint64_t> dialed{0};
  std::atomic<uint64_t> reused{0};

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<ClientConnection>>> idle_;
};

// ---- ResponseStream ----

ResponseStream::ResponseStream(std::unique_ptr<ClientConnection> conn,
                               std::shared_ptr<CancelToken> token, std::shared_ptr<ClientPool> pool)
    : pool_(std::move(pool)), token_(std::move(token)), conn_(std::move(conn)) {}

ResponseStream::~ResponseStream() {
  if (conn_) pool_->Put(std::move(conn_));
}

Result<size_t> ResponseStream::Read(char* buf, size_t capacity) {
  return conn_->ReadBody(buf, capacity);
}

Result<std::string> ResponseStream::ReadAll(uint64_t max_bytes) {
  std::string out;
  char piece[16 * 1024];
  for (;;) {
    auto n = Read(piece, sizeof piece);
    if (!n.ok()) return n.status();
    if (*n == 0) return out;
    if (out.size() + *n > max_bytes) {
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("http: response body exceeds {} bytes", max_bytes));
    }
    out.append(piece, *n);
  }
}

void ResponseStream::Cancel() {
  token_->Cancel();
}

// ---- Client ----

Client::Client(ClientOptions options, std::shared_ptr<ClientPool> pool)
    : options_(std::move(options)), pool_(std::move(pool)) {}

Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  std::shared_ptr<ssl::context> ctx;
  if (options.tls) {
    auto made = internal::MakeClientContext(*options.tls);
    if (!made.ok()) return made.status();
    ctx = std::move(made.value());
  }
  auto pool = std::make_shared<ClientPool>(options, std::move(ctx));
  return std::unique_ptr<Client>(new Client(std::move(options), std::move(pool)));
}

ClientStats Client::stats() const {
  return ClientStats{pool_->dialed.load(), pool_->reused.load()};
}

Result<std::unique_ptr<ClientConnection>> Client::Send(const ClientRequest& request, const Url& url,
                                                       const std::shared_ptr<CancelToken>& token,
                                                       Headers* header_out, int* status_out) {
  if (url.tls() && !pool_->ctx) {
    return Status(ErrorCode::kInvalidArgument, "http: https URL but no TLS options");
  }
  const std::string key = fmt::format("{}://{}", url.scheme, url.HostPort());
  // A pooled connection may have been closed by the server meanwhile; a request that can be
  // replayed (its body is a string) then gets one more try on a fresh connection — only when a
  // duplicate is harmless: the failure may also have come after the server acted on it (a member
  // killed while answering), and a write applied twice or reported as refused is a lie to the
  // caller.
  const bool safe_method = request.method == "GET" || request.method == "HEAD" ||
                           request.method == "OPTIONS" || request.method == "TRACE";
  const bool replayable = !request.body_source && (safe_method || request.replayable);
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<ClientConnection> conn = attempt == 0 ? pool_->Take(key) : nullptr;
    const bool reused = conn != nullptr;
    if (!conn) conn = std::make_unique<ClientConnection>(pool_->opts, pool_->ctx, key);
    if (!conn->ArmToken(token)) return Status(ErrorCode::kIoError, "http: canceled");
    if (!reused) {
      pool_->dialed.fetch_add(1, std::memory_order_relaxed);
      RAFTKIT_RETURN_IF_ERROR(conn->Dial(url));
    } else {
      pool_->reused.fetch_add(1, std::memory_order_relaxed);
    }
    Status st = conn->SendRequest(request, url);
    if (st.ok()) {
      *header_out = Headers();
      st = conn->ReadHeader(request.method == "HEAD", status_out, header_out);
    }
    if (st.ok()) return conn;
    const bool canceled = token && token->canceled();
    if (reused && replayable && !canceled && st.code() == ErrorCode::kIoError &&
        !conn->headers_seen()) {
      continue;
    }
    return st;
  }
}

Result<Response> Client::Do(const ClientRequest& request,
                            const std::shared_ptr<CancelToken>& cancel) {
  auto url = ParseUrl(request.url);
  if (!url.ok()) return url.status();
  Response response;
  auto conn = Send(request, *url, cancel, &response.headers, &response.status);
  if (!conn.ok()) return conn.status();
  char piece[16 * 1024];
  for (;;) {
    auto n = (*conn)->ReadBody(piece, sizeof piece);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    if (response.body.size() + *n > options_.max_response_body) {
      return Status(ErrorCode::kInvalidArgument, fmt::format("http: response body exceeds {} bytes",
                                                             options_.max_response_body));
    }
    response.body.append(piece, *n);
  }
  pool_->Put(std::move(conn.value()));
  return response;
}

Result<std::unique_ptr<ResponseStream>> Client::Open(const ClientRequest& request,
                                                     std::shared_ptr<CancelToken> cancel) {
  auto url = ParseUrl(request.url);
  if (!url.ok()) return url.status();
  if (!cancel) cancel = std::make_shared<CancelToken>();
  Headers headers;
  int status = 0;
  auto conn = Send(request, *url, cancel, &headers, &status);
  if (!conn.ok()) return conn.status();
  std::unique_ptr<ResponseStream> stream(
      new ResponseStream(std::move(conn.value()), std::move(cancel), pool_));
  stream->status_ = status;
  stream->headers_ = std::move(headers);
  return stream;
}

}  // namespace raftkit::http
