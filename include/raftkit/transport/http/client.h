// An HTTP/1.1 client on Boost.Beast: timeouts, a keep-alive pool for short requests, bodies
// streamed from a callback (chunked when the size is unknown), responses read incrementally (for
// long-lived streams), cancellation from another thread, and optional TLS.
//
// Threading model: a Client may be used by many threads at once; each call uses its own
// connection (taken from the pool or dialed) and does all of its I/O on the calling thread, with no
// background threads. Each connection has a private io_context that the calling thread runs while
// it waits, so every timeout is an asio timer and a cancellation is a close posted to that context.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "raftkit/transport/http/message.h"
#include "raftkit/transport/http/tls.h"
#include "raftkit/util/status.h"

namespace raftkit::http {

struct ClientOptions {
  /// TCP connect plus TLS handshake.
  std::chrono::milliseconds connect_timeout{2000};
  /// From the end of the request to the end of the response header.
  std::chrono::milliseconds response_header_timeout{10000};
  /// Longest pause of one read of a response body or one write of a request body. A stream whose
  /// server sends nothing for this long fails with kIoError.
  std::chrono::milliseconds idle_timeout{5000};
  /// Idle keep-alive connections kept per scheme://host:port; 0 disables reuse.
  size_t max_idle_per_host = 16;
  /// Largest body Do() accepts; a larger one fails with kInvalidArgument.
  uint64_t max_response_body = uint64_t{64} << 20;
  /// Largest response header.
  uint32_t max_header_bytes = 16 * 1024;
  /// Required for https URLs.
  std::optional<TlsClientConfig> tls;
};

/// Cancels the call it is passed to, from any thread: its blocking operations fail with kIoError
/// ("canceled") and its connection is closed, never reused. Once canceled, stays so. Pass a token
/// to one call at a time (a ResponseStream keeps it until destroyed); share it via shared_ptr so
/// that the canceling thread may outlive or predate the call.
class CancelToken {
 public:
  CancelToken() = default;
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  void Cancel();
  [[nodiscard]] bool canceled() const;

 private:
  friend class ClientConnection;
  // Installs `hook` to run (under the token's lock) on Cancel; false if already canceled.
  bool Arm(std::function<void()> hook);
  void Disarm();

  mutable std::mutex mu_;
  bool canceled_ = false;
  std::function<void()> hook_;
};

class ClientConnection;
class ClientPool;

/// A response whose body is read incrementally (Client::Open). Its methods, apart from Cancel(),
/// are for one thread at a time. It may outlive the Client that opened it.
class ResponseStream {
 public:
  ~ResponseStream();
  ResponseStream(const ResponseStream&) = delete;
  ResponseStream& operator=(const ResponseStream&) = delete;

  [[nodiscard]] int status() const noexcept { return status_; }
  [[nodiscard]] const Headers& headers() const noexcept { return headers_; }

  /// Blocks until some body bytes arrived (or the body ended) and copies up to `capacity` of them.
  /// Returns the count, 0 at the end of the body. kIoError on a connection error, an idle timeout,
  /// or Cancel(); kCorruption on a malformed body encoding.
  Result<size_t> Read(char* buf, size_t capacity);
  /// Reads the rest of the body; kInvalidArgument beyond `max_bytes`.
  Result<std::string> ReadAll(uint64_t max_bytes);
  /// Closes the connection from any thread; a blocked Read returns kIoError.
  void Cancel();

 private:
  friend class Client;
  ResponseStream(std::unique_ptr<ClientConnection> conn, std::shared_ptr<CancelToken> token,
                 std::shared_ptr<ClientPool> pool);

  // The pool is declared first so that it outlives the connection.
  std::shared_ptr<ClientPool> pool_;
  std::shared_ptr<CancelToken> token_;
  std::unique_ptr<ClientConnection> conn_;
  int status_ = 0;
  Headers headers_;
};

struct ClientStats {
  uint64_t dialed = 0;  ///< New connections made.
  uint64_t reused = 0;  ///< Requests sent on a pooled connection.
};

class Client {
 public:
  /// Errors: kInvalidArgument when the TLS files cannot be loaded.
  static Result<std::unique_ptr<Client>> Create(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Sends `request` and reads the whole response. The connection returns to the pool when both
  /// sides allow keep-alive. A request whose body is a string is retried once on a fresh
  /// connection when a pooled one turns out to be closed. Errors: kInvalidArgument (bad URL, https
  /// without TLS options, body too large), kIoError (connect, timeouts, cancellation, connection
  /// errors), kCorruption (malformed response).
  Result<Response> Do(const ClientRequest& request,
                      const std::shared_ptr<CancelToken>& cancel = nullptr);

  /// Sends `request` and returns once the response status and header arrived; the body is then read
  /// from the stream. Pass `cancel` to also cancel the send and the wait for the header; the
  /// stream's own Cancel() works in any case. Errors as for Do().
  Result<std::unique_ptr<ResponseStream>> Open(const ClientRequest& request,
                                               std::shared_ptr<CancelToken> cancel = nullptr);

  [[nodiscard]] ClientStats stats() const;

 private:
  explicit Client(ClientOptions options, std::shared_ptr<ClientPool> pool);
  Result<std::unique_ptr<ClientConnection>> Send(const ClientRequest& request, const Url& url,
                                                 const std::shared_ptr<CancelToken>& token,
                                                 Headers* header_out, int* status_out);

  ClientOptions options_;
  std::shared_ptr<ClientPool> pool_;
};

}  // namespace raftkit::http
