// An HTTP/1.1 server on Boost.Beast: keep-alive, routing by path prefix, bounded requests,
// long-lived chunked streaming responses, and optional TLS with mutual authentication.
//
// Threading model (docs/transport-http.md):
// - Socket I/O is asynchronous on an io_context served by `ServerOptions::io_threads` threads;
//   every connection's I/O is serialised on its own strand.
// - Each request's handler runs on a handler thread (a cached pool: a thread is reused when idle,
//   a new one is started otherwise; at most one handler per connection, so at most
//   `max_connections` threads). Handlers may therefore block: on a slow disk, on a queue, on a
//   long-lived stream. The request body reader and the response writer they receive are blocking
//   facades over the connection's asynchronous I/O and return an error once the connection is
//   gone (client closed it, a timeout fired, or Stop()).
// - A handler must return once its writer reports ClientGone(); Stop() waits for every handler.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "raftkit/transport/http/message.h"
#include "raftkit/transport/http/tls.h"
#include "raftkit/util/logger.h"
#include "raftkit/util/status.h"

namespace raftkit::http {

/// Limits and timeouts of a Server. The defaults suit a Raft peer listener.
struct ServerOptions {
  std::string address = "127.0.0.1";  ///< An IPv4 or IPv6 literal; "0.0.0.0" for all interfaces.
  uint16_t port = 0;                  ///< 0 picks a free port; see Server::port().
  int io_threads = 1;                 ///< Threads running the io_context (>= 1).
  /// Connections served at once. A connection accepted beyond this is closed at once, without a
  /// response, so a flood costs a file descriptor for an instant and no memory.
  size_t max_connections = 1024;
  /// Largest request line plus header fields; beyond it the answer is 431 and the connection
  /// closes.
  uint32_t max_header_bytes = 16 * 1024;
  /// Time a new connection has to complete the TLS handshake and send its first request header. A
  /// connection that opens and stays silent is closed when it expires.
  std::chrono::milliseconds read_header_timeout{5000};
  /// Time a kept-alive connection may wait for its next request header, and the longest pause
  /// between two pieces of a request body.
  std::chrono::milliseconds idle_timeout{60000};
  /// Longest time one write (a response, or one chunk of a stream) may take.
  std::chrono::milliseconds write_timeout{5000};
  std::optional<TlsServerConfig> tls;  ///< Set: serve https only.
  Logger* logger = nullptr;            ///< Connection-level problems at debug level; may be null.
};

/// Reads a request body piece by piece (BodyMode::kStreamed). Used only from the handler's thread.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  /// Blocks until some body bytes arrived and copies up to `capacity` of them into `buf`. Returns
  /// the count, 0 at the end of the body. Errors: kInvalidArgument when the body exceeds the
  /// route's limit or its chunked encoding is malformed; kIoError when the connection failed, timed
  /// out (idle_timeout between pieces) or the server is stopping.
  virtual Result<size_t> Read(char* buf, size_t capacity) = 0;
};

/// A request as a handler sees it. Valid until the handler returns.
struct ServerRequest {
  std::string method;  ///< As sent, e.g. "GET".
  std::string target;  ///< As sent, e.g. "/raft/stream/msgapp/1?x=y".
  std::string path;    ///< `target` without the query.
  Headers headers;
  /// The whole body when the route is BodyMode::kBuffered ("" otherwise).
  std::string body;
  /// The body reader when the route is BodyMode::kStreamed (null otherwise).
  BodyReader* body_reader = nullptr;
  uint64_t connection_id = 0;  ///< Unique per connection of this server; shows keep-alive reuse.
  std::string remote_address;  ///< "ip:port" of the client.
  bool tls = false;
};

/// How a handler answers: either one complete response (Respond) or a chunked stream
/// (StartStream, then Write as often as wanted). Used only from the handler's thread, except
/// ClientGone and WaitClientGone, which any thread may call.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  /// Sends a complete response (Content-Length set here) and waits until it is written. Only once,
  /// and not after StartStream. kIoError when the connection is gone or the write timed out.
  virtual Status Respond(Response response) = 0;
  /// Sends the status and headers of a chunked response ("Transfer-Encoding: chunked",
  /// "Connection: close") and flushes them. From then on, if the request body was read completely
  /// (always the case for a GET), the server watches the connection and ClientGone() turns true as
  /// soon as the client closes it; otherwise the hang-up shows at the next failing Write.
  virtual Status StartStream(int status, Headers headers) = 0;
  /// Sends `data` as one chunk and returns once it is handed to the kernel (flushed). Empty data
  /// sends nothing. kIoError when the client is gone or the write timed out (write_timeout).
  virtual Status Write(std::string_view data) = 0;
  /// Closes the connection at once without sending anything more, as Go's server does when a
  /// handler panics: a client that got no response yet sees the connection end without one. After
  /// it every Respond, StartStream and Write fails with kIoError; the handler should return.
  virtual void Abort() = 0;
  /// Whether the connection is known to be gone (client closed, error, timeout, Stop()).
  [[nodiscard]] virtual bool ClientGone() const = 0;
  /// Blocks until ClientGone() or `timeout`; returns ClientGone().
  virtual bool WaitClientGone(std::chrono::milliseconds timeout) = 0;
  /// Registers `callback` to run once when the connection goes (at once, on this thread, if it is
  /// already gone; otherwise on an io thread). It must be quick and must not call the writer: use
  /// it to wake a handler that waits on something else. Only one callback; a second replaces it.
  virtual void OnClientGone(std::function<void()> callback) = 0;
};

/// Runs on a handler thread. Returning without answering sends "200 OK" with an empty body (as Go's
/// net/http does); returning after StartStream ends the stream (the zero-length chunk) and closes
/// the connection. An exception escaping the handler is answered with 500 if nothing was sent yet,
/// and the connection is closed.
using Handler = std::function<void(ServerRequest& request, ResponseWriter& writer)>;

/// Answers the request of an AsyncHandler: call it once, from any thread. Copies share one answer;
/// calls after the first are ignored, and if every copy is destroyed unanswered the request is
/// answered 500 (so a lost continuation cannot hang the connection).
class Responder {
 public:
  explicit Responder(std::function<void(Response)> send);
  void operator()(Response response) const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

/// Runs on the connection's I/O thread, for requests whose whole work is asynchronous: it must not
/// block; it starts the work and returns, and `respond` answers later. `request` is valid only
/// during the call: copy what the continuation needs. The connection reads its next request only
/// after the answer is written.
using AsyncHandler = std::function<void(ServerRequest& request, Responder respond)>;

enum class BodyMode {
  kBuffered,  ///< The body is read whole (up to max_body_bytes) before the handler runs.
  kStreamed,  ///< The handler runs after the header; the body is read through
              ///< ServerRequest::body_reader.
};

/// One entry of the routing table.
struct Route {
  /// "/raft/stream/" matches every path starting with it; with `exact`, only the path itself. The
  /// longest matching pattern wins; no match answers 404.
  std::string pattern;
  bool exact = false;
  BodyMode body_mode = BodyMode::kBuffered;
  /// A larger declared Content-Length is answered 413 before the handler runs; a chunked body that
  /// grows beyond it is answered 413 (kBuffered) or fails the reader (kStreamed).
  uint64_t max_body_bytes = uint64_t{4} << 20;
  Handler handler;
  /// When set (with BodyMode::kBuffered), used instead of `handler`: no handler thread is involved,
  /// which saves two thread hand-offs per request.
  AsyncHandler async_handler = nullptr;
};

/// Counters for tests and metrics. A snapshot; the values move while the server runs.
struct ServerStats {
  uint64_t accepted = 0;            ///< Connections taken into service.
  uint64_t rejected = 0;            ///< Connections closed at once because of max_connections.
  uint64_t active_connections = 0;  ///< Connections currently in service.
  uint64_t handler_threads = 0;     ///< Handler threads started so far (the pool's size).
};

class Server {
 public:
  /// Binds, listens and starts serving `routes`. Errors: kInvalidArgument for bad options, routes
  /// or TLS files; kIoError when the address cannot be bound.
  static Result<std::unique_ptr<Server>> Start(ServerOptions options, std::vector<Route> routes);

  /// Stops (see Stop()).
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// The bound port (the one picked when ServerOptions::port was 0).
  [[nodiscard]] uint16_t port() const noexcept;
  /// "http://127.0.0.1:<port>" or "https://...", for clients and tests.
  [[nodiscard]] std::string url() const;
  [[nodiscard]] ServerStats stats() const;

  /// Closes the listener and every connection (streams end abruptly: clients see an error or EOF),
  /// waits for every running handler to return, then stops the io threads. Idempotent; must not be
  /// called from a handler.
  void Stop();

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace raftkit::http
