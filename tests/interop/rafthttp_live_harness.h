// The two sides of raftkit's live rafthttp interop test (rafthttp_live_test.cc):
//   * GoPeer: etcd 3.4's own Transport in a child process, tests/interop/rafthttp_peer/peer.go
//     ("rafthttp-peer"), driven over its stdin/stdout JSON-lines protocol (documented in peer.go);
//   * RaftkitSide: a raftkit Transport in this process, served on an http::Server on 127.0.0.1,
//     with a RecordingNode as its RaftNode.
// Plus what both sides must agree on: base64 (Go's StdEncoding), SHA-256 in hex, and the
// deterministic snapshot data pattern.
//
// Every wait is bounded (kWait unless stated) and reports a missing event as nullopt/false, never
// by hanging. Failures to start are reported with ADD_FAILURE and a null result.
#pragma once

#include <openssl/evp.h>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "raftkit/raftpb/types.h"
#include "raftkit/transport/http/server.h"
#include "raftkit/transport/rafthttp/transport.h"
#include "raftkit/util/status.h"

namespace raftkit::rafthttp::interop {

using json = nlohmann::json;

/// The cluster id of every member in these tests.
inline constexpr uint64_t kClusterId = 0x1000;
/// The longest wait for any one event.
inline constexpr std::chrono::milliseconds kWait{20000};

// ---------------------------------------------------------------------------------------------
// Shared encodings
// ---------------------------------------------------------------------------------------------

/// Standard base64 with padding (Go's base64.StdEncoding).
std::string Base64Encode(std::string_view in);
/// The inverse of Base64Encode; nullopt when `in` is not canonical padded base64.
std::optional<std::string> Base64Decode(std::string_view in);

/// Incremental SHA-256 (OpenSSL); HexDigest() once, lower-case hex as Go's hex.EncodeToString.
class Sha256 {
 public:
  Sha256();
  void Update(std::string_view data);
  std::string HexDigest();

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

/// The snapshot data both sides compute (peer.go's patternReader): byte i = (i*31 + seed) & 0xff.
char PatternByte(uint64_t i, uint64_t seed);
std::string Pattern(uint64_t size, uint64_t seed);
std::string PatternSha256(uint64_t size, uint64_t seed);

/// Polls `done` every 10 ms until it holds or `timeout` passes; returns its last value.
bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = kWait);

/// A fresh directory under $TMPDIR (or /tmp), removed recursively by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// The message of a Go "recv" or "snap" event, decoded (a test failure and {} if it is not).
raftpb::Message EventMessage(const json& ev);
/// The raw (re-marshalled by Go) bytes of that message.
std::string EventBytes(const json& ev);

// ---------------------------------------------------------------------------------------------
// The Go side
// ---------------------------------------------------------------------------------------------

/// rafthttp-peer as a child process. The destructor kills it (SIGKILL, by PID) unless Stop()
/// already ended it, reaps it, and joins the thread reading its events.
class GoPeer {
 public:
  /// Starts `binary` as member `id` with its snapshot directory `snap_dir`, listening on `listen`
  /// ("127.0.0.1:0" picks a port), and waits for its "ready" event. Null on failure.
  static std::unique_ptr<GoPeer> Start(const std::string& binary, uint64_t id,
                                       const std::string& snap_dir,
                                       const std::string& listen = "127.0.0.1:0");
  ~GoPeer();
  GoPeer(const GoPeer&) = delete;
  GoPeer& operator=(const GoPeer&) = delete;

  /// "http://127.0.0.1:<port>".
  [[nodiscard]] const std::string& url() const { return url_; }
  /// "127.0.0.1:<port>" of the listener (to start a successor on the same port).
  [[nodiscard]] std::string address() const { return url_.substr(url_.find("//") + 2); }

  /// Writes one command line. SIGPIPE must be ignored (a dead peer fails the write).
  void Command(const json& c);
  /// The "send" op with each message encoded by raftkit.
  void Send(const std::vector<raftpb::Message>& msgs);

  /// Removes and returns the first event, received so far or within `timeout`, matching `pred`;
  /// nullopt on timeout or when the peer's stdout ended without one.
  std::optional<json> Wait(const std::function<bool(const json&)>& pred,
                           std::chrono::milliseconds timeout = kWait);
  /// Wait for the first event named `name`.
  std::optional<json> WaitEvent(const std::string& name, std::chrono::milliseconds timeout = kWait);
  /// Wait for the first received message of `type` ("recv", or "snap" for MsgSnap).
  std::optional<json> WaitReceived(raftpb::MessageType type,
                                   std::chrono::milliseconds timeout = kWait);

  /// Whether the peer's transport reports member `id` active (the "status" op).
  bool Active(uint64_t id);
  /// The "stop" op: expects "stopped" and exit status 0 (test failures otherwise).
  void Stop();

 private:
  GoPeer() = default;
  bool Spawn(const std::vector<std::string>& args);
  void ReadEvents();
  /// Waits for the child; its wait status, or -1 if it was already reaped.
  int Reap();

  pid_t pid_ = -1;
  int in_fd_ = -1;
  int out_fd_ = -1;
  std::string url_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<json> events_;  ///< not yet taken by Wait, in arrival order
  bool eof_ = false;
};

// ---------------------------------------------------------------------------------------------
// The raftkit side
// ---------------------------------------------------------------------------------------------

struct ReceivedSnapshot {
  raftpb::Message message;
  uint64_t size = 0;   ///< bytes read from SnapshotData
  std::string sha256;  ///< of those bytes
};

/// A RaftNode that records every call; Take* methods remove what they return.
class RecordingNode : public RaftNode {
 public:
  Status Process(raftpb::Message m) override;
  /// Reads the whole data (hashing it) before recording the snapshot.
  Status ProcessSnapshot(raftpb::Message m, SnapshotData& data) override;
  bool IsIdRemoved(NodeId id) override;
  void ReportUnreachable(NodeId id) override;
  void ReportSnapshot(NodeId id, SnapshotStatus status) override;

  /// IsIdRemoved(id) is true from now on.
  void MarkRemoved(uint64_t id);

  /// The first processed message matching `pred`, waiting up to `timeout`.
  std::optional<raftpb::Message> TakeMessage(
      const std::function<bool(const raftpb::Message&)>& pred,
      std::chrono::milliseconds timeout = kWait);
  std::optional<raftpb::Message> TakeMessage(raftpb::MessageType type,
                                             std::chrono::milliseconds timeout = kWait);
  /// Waits (up to kWait) until `count` messages of `type` were processed; returns up to `count`
  /// of them in arrival order.
  std::vector<raftpb::Message> TakeMessages(raftpb::MessageType type, size_t count);
  /// The first snapshot ProcessSnapshot received, waiting up to kWait.
  std::optional<ReceivedSnapshot> TakeSnapshot();
  /// The first ReportSnapshot for `id`, waiting up to kWait (it is not removed).
  std::optional<SnapshotStatus> WaitSnapshotReport(uint64_t id);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<raftpb::Message> messages_;
  std::deque<ReceivedSnapshot> snapshots_;
  std::set<uint64_t> removed_;
  std::vector<uint64_t> unreachable_;
  std::vector<std::pair<uint64_t, SnapshotStatus>> snapshot_reports_;
};

/// A started raftkit Transport for one member, serving its Routes() on 127.0.0.1 (a free port).
/// The destructor stops the transport, then the server.
class RaftkitSide {
 private:
  RaftkitSide() = default;

  // Declared first so that they outlive the transport whose critical-error handler uses them.
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Status> critical_;

 public:
  /// Null (with a test failure) if the transport or the server cannot start.
  static std::unique_ptr<RaftkitSide> Start(uint64_t id,
                                            SnapshotMode mode = SnapshotMode::kSnapshotEndpoint);
  ~RaftkitSide();
  RaftkitSide(const RaftkitSide&) = delete;
  RaftkitSide& operator=(const RaftkitSide&) = delete;

  [[nodiscard]] std::string url() const { return server->url(); }
  /// Peer `id`'s entry of Transport::StatsJson()["peers"]; a null json when there is none.
  [[nodiscard]] json PeerStats(uint64_t id) const;
  /// Whether both streams with peer `id` are attached (we write) and reading (we dialed).
  [[nodiscard]] bool StreamsUp(uint64_t id) const;
  /// The first status given to the OnCriticalError handler, waiting up to kWait.
  std::optional<Status> WaitCritical();

  RecordingNode node;
  std::unique_ptr<Transport> transport;
  std::unique_ptr<http::Server> server;
};

}  // namespace raftkit::rafthttp::interop
