// Helpers for the HTTP layer tests: a temporary directory, throwaway TLS material generated with
// the openssl CLI, a raw TCP client for byte-level tests, and a one-shot latch.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

namespace raftkit::http::testing {

/// A fresh directory under $TMPDIR (or /tmp), removed with its content on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// PEM files of a throwaway CA, a server certificate for 127.0.0.1/localhost and a client
/// certificate, all signed by that CA, plus a second CA nobody uses (for "unknown CA" tests).
struct TlsFiles {
  std::string ca_cert;
  std::string server_cert, server_key;
  std::string client_cert, client_key;
  std::string other_ca_cert;
};

/// Generates TlsFiles in `dir` with the openssl CLI (EC P-256, valid one day). Aborts the test
/// binary on failure.
TlsFiles GenerateTlsFiles(const TempDir& dir);

/// A blocking TCP client for byte-level tests; every receive gives up after `timeout`.
class RawConn {
 public:
  explicit RawConn(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~RawConn();
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  [[nodiscard]] bool connected() const { return fd_ >= 0; }
  /// Sends all of `data`; false on error.
  bool Send(const std::string& data);
  /// Receives until the peer closes, an error, the timeout, or `max` bytes.
  std::string ReceiveAll(size_t max = 1 << 20);
  /// Waits up to the timeout for the peer to close; true if it did (EOF or reset).
  bool WaitClosed();

 private:
  int fd_ = -1;
};

/// A one-shot event: Set() once, Wait() from any thread.
class Latch {
 public:
  void Set();
  /// True if Set() happened within `timeout`.
  bool Wait(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  [[nodiscard]] bool IsSet();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

}  // namespace raftkit::http::testing
