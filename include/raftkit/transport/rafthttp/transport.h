// Transport: Raft messages between members over HTTP, byte-compatible with etcd 3.4's rafthttp
// (spec: ../shared/spec/etcd-rafthttp-wire.md; our choices: docs/formats/rafthttp.md).
//
// Per remote member the transport keeps (etcd's vocabulary):
//   * two stream writers, "msgapp" (msgappv2 codec, MsgApp only) and "message" (every other type),
//     each attached when the remote dials GET /raft/stream/<type>/<our id> — a stream is created by
//     its receiver;
//   * two stream readers that dial the remote's stream endpoints, throttled to 10 dials a second;
//   * a pipeline: 4 workers POSTing one message each to /raft, used when no stream is attached;
//   * a snapshot sender (POST /raft/snapshot of the message followed by the streamed data), or the
//     pipeline for MsgSnap when talking to raftexample (SnapshotMode::kInline);
//   * a prober of GET /raft/probing every 4 s measuring round trip time and clock difference.
// Channel choice, queue sizes, drops and reports follow spec §6 exactly.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "raftkit/raftpb/types.h"
#include "raftkit/transport/http/server.h"
#include "raftkit/transport/http/tls.h"
#include "raftkit/util/ids.h"
#include "raftkit/util/logger.h"
#include "raftkit/util/status.h"

namespace prometheus {
class Registry;
}

namespace raftkit::rafthttp {

/// The fate of a snapshot sent to a follower (reported back to Raft).
enum class SnapshotStatus { kFinish, kFailure };

/// Streams the state bytes of a received snapshot from the request body. Read returns 0 at the
/// end; the data must be consumed (or the receive fails) before ProcessSnapshot returns.
class SnapshotData {
 public:
  virtual ~SnapshotData() = default;
  virtual Result<size_t> Read(char* buf, size_t capacity) = 0;
};

/// The narrow upward interface the server implements (etcd: rafthttp.Raft). Called from transport
/// threads, concurrently: implementations hand work to the Ready loop and return quickly, except
/// Process of a MsgProp, which may block while there is no leader (as etcd's does).
class RaftNode {
 public:
  virtual ~RaftNode() = default;
  /// Steps a received message into the local node. An error answers the pipeline POST with 500.
  virtual Status Process(raftpb::Message m) = 0;
  /// Receives a snapshot from POST /raft/snapshot: `m` is the MsgSnap (its snapshot.data as sent),
  /// `data` streams the state that followed it. OK means the data is durable and the message was
  /// stepped; an error answers 500.
  virtual Status ProcessSnapshot(raftpb::Message m, SnapshotData& data) = 0;
  /// Whether `id` was removed from the cluster (streams from it are answered 410).
  virtual bool IsIdRemoved(NodeId id) = 0;
  virtual void ReportUnreachable(NodeId id) = 0;
  virtual void ReportSnapshot(NodeId id, SnapshotStatus status) = 0;
};

/// A snapshot to send with SendSnapshot: the MsgSnap plus a source of its state bytes.
struct OutgoingSnapshot {
  raftpb::Message message;  ///< type MsgSnap; its snapshot.data is sent as is
  uint64_t data_size = 0;   ///< exactly this many bytes are read from `read`
  /// Fills up to `capacity` bytes; returns the count (0 only at the end).
  std::function<Result<size_t>(char* buf, size_t capacity)> read;
  /// Called once with the outcome (after ReportSnapshot), e.g. to close a file.
  std::function<void(bool ok)> done;
};

/// How MsgSnap travels. etcd serves POST /raft/snapshot; raftexample cannot (spec §8.1) and expects
/// MsgSnap inline on the pipeline with the whole state in snapshot.data. Both are always received.
enum class SnapshotMode { kSnapshotEndpoint, kInline };

struct TransportOptions {
  NodeId id;            ///< this member (non-zero)
  uint64_t cluster_id;  ///< compared with X-Etcd-Cluster-ID on every request
  /// This member's advertised peer URLs (sent as X-PeerURLs; may be empty, as raftexample does).
  std::vector<std::string> urls;
  RaftNode* raft = nullptr;  ///< required; must outlive the Transport
  SnapshotMode snapshot_mode = SnapshotMode::kSnapshotEndpoint;
  std::optional<http::TlsClientConfig> client_tls;  ///< for https peer URLs
  std::chrono::milliseconds dial_timeout{2000};
  /// Largest message accepted on the pipeline and on the message stream.
  uint64_t max_message_bytes = uint64_t{512} << 20;
  /// Metrics go here (etcd's names); null keeps them private (still in Stats()).
  std::shared_ptr<prometheus::Registry> metrics;
  Logger* logger = nullptr;
};

/// Critical errors (etcd's ErrorC): today only "this member was removed from the cluster", seen as
/// a 403/410 from a peer. The server stops itself on it.
using CriticalErrorHandler = std::function<void(const Status&)>;

class Transport {
 public:
  static Result<std::unique_ptr<Transport>> Create(TransportOptions options);
  ~Transport();  ///< Stop()s.

  /// The routes to serve on this member's peer listener (an http::Server): /raft, /raft/stream/,
  /// /raft/snapshot, /raft/probing. Valid while the Transport lives.
  [[nodiscard]] std::vector<http::Route> Routes();
  /// Starts the per-peer machinery (nothing is sent before).
  Status Start();
  /// Stops every peer: closes streams, drains nothing, joins every thread. Idempotent.
  void Stop();

  /// Sends each message to its `to` (routed as spec §6; unknown ids and to == 0 are skipped).
  /// Never blocks: a full queue drops the message and reports it unreachable.
  void Send(std::vector<raftpb::Message> msgs);
  /// Sends a snapshot through the snapshot channel (or inline, per SnapshotMode).
  void SendSnapshot(OutgoingSnapshot snap);

  void AddPeer(NodeId id, std::vector<std::string> urls);
  void RemovePeer(NodeId id);
  void RemoveAllPeers();
  void UpdatePeer(NodeId id, std::vector<std::string> urls);
  /// A pipeline-only remote for a member that is not (yet) a peer, to catch it up.
  void AddRemote(NodeId id, std::vector<std::string> urls);

  /// When the peer became active; nullopt if it is not active (or unknown).
  [[nodiscard]] std::optional<std::chrono::system_clock::time_point> ActiveSince(NodeId id) const;
  [[nodiscard]] size_t ActivePeers() const;

  /// Test hooks (etcd's CutPeer/MendPeer, Pause/Resume): drop all traffic to a peer / all traffic.
  void CutPeer(NodeId id);
  void MendPeer(NodeId id);
  void Pause();
  void Resume();

  void OnCriticalError(CriticalErrorHandler handler);
  /// Per-peer stats as JSON (like etcd's leader stats): bytes, failures, latency, active since.
  [[nodiscard]] std::string StatsJson() const;

 private:
  struct Impl;
  explicit Transport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace raftkit::rafthttp
