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
#include <string_view>
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
  /// A stream this member dialed that stays silent this long is dropped and re-dialed (etcd's
  /// ConnReadTimeout); the streams it serves send a link heartbeat every third of it.
  std::chrono::milliseconds stream_read_timeout{5000};
  /// How long a pipeline POST may wait for its answer. etcd waits forever (a receiver blocking on a
  /// MsgProp without a leader holds a worker); raftkit gives up and reports the peer unreachable.
  std::chrono::milliseconds pipeline_response_timeout{30000};
  /// Period of the RTT and clock-drift probe of each peer (etcd: 4 s). Zero disables probing.
  std::chrono::milliseconds probe_interval{4000};
  /// A probe round trip above this is logged as a warning (at most every 30 s per peer); so is a
  /// clock difference above 1 s (etcd's threshold).
  std::chrono::milliseconds probe_rtt_warning{500};
  /// Largest message accepted on the pipeline and on the message stream.
  uint64_t max_message_bytes = uint64_t{512} << 20;
  /// Metrics go here (etcd's names); null keeps them private (still in Stats()).
  std::shared_ptr<prometheus::Registry> metrics;
  Logger* logger = nullptr;
};

/// Critical errors (etcd's ErrorC): today only "this member was removed from the cluster", seen as
/// a 403 answer to a POST or a 410 answer to a stream dial. Reported at most once per Transport,
/// on a transport thread: the handler must return quickly and must not call Stop() (hand the error
/// to another thread, as etcd's ErrorC is a channel). The server stops itself on it.
using CriticalErrorHandler = std::function<void(const Status&)>;

/// What a server needs from a transport (etcd's Transporter), so that tests can replace it
/// (NopTransporter, SnapTransporter in test_transporters.h). Transport is the real one.
class Transporter {
 public:
  virtual ~Transporter() = default;

  /// The routes to serve on this member's peer listener (an http::Server): /raft, /raft/stream/,
  /// /raft/snapshot, /raft/probing. They keep what they use alive, but the RaftNode must outlive
  /// the server serving them.
  [[nodiscard]] virtual std::vector<http::Route> Routes() = 0;
  /// Starts the per-peer machinery (nothing is sent before).
  virtual Status Start() = 0;
  /// Stops every peer: closes streams, drops what is queued, joins every thread, and makes served
  /// streams end. Idempotent. Not from a transport thread (a RaftNode or critical-error callback).
  virtual void Stop() = 0;

  /// Sends each message to its `to` (routed as spec §6; unknown ids and to == 0 are skipped).
  /// Never blocks: a full queue drops the message and reports it unreachable.
  virtual void Send(std::vector<raftpb::Message> msgs) = 0;
  /// Sends a snapshot through the snapshot channel (or inline, per SnapshotMode). The outcome goes
  /// to RaftNode::ReportSnapshot and to `snap.done`.
  virtual void SendSnapshot(OutgoingSnapshot snap) = 0;

  /// Adds a peer (streams, pipeline, prober); a no-op for a known peer. Replaces a remote of that
  /// id.
  virtual void AddPeer(NodeId id, std::vector<std::string> urls) = 0;
  virtual void RemovePeer(NodeId id) = 0;
  virtual void RemoveAllPeers() = 0;
  /// New URLs for a peer (the prober, pipeline and stream dials use them from now on).
  virtual void UpdatePeer(NodeId id, std::vector<std::string> urls) = 0;
  /// A pipeline-only remote for a member that is not (yet) a peer, to catch it up. A no-op when
  /// `id` is a peer or a remote already.
  virtual void AddRemote(NodeId id, std::vector<std::string> urls) = 0;

  /// When the peer became active; nullopt if it is not active (or unknown).
  [[nodiscard]] virtual std::optional<std::chrono::system_clock::time_point> ActiveSince(
      NodeId id) const = 0;
  [[nodiscard]] virtual size_t ActivePeers() const = 0;

  /// Test hooks (etcd's CutPeer/MendPeer, Pause/Resume): drop all traffic with a peer / with every
  /// peer (outgoing messages, and messages arriving on streams).
  virtual void CutPeer(NodeId id) = 0;
  virtual void MendPeer(NodeId id) = 0;
  virtual void Pause() = 0;
  virtual void Resume() = 0;

  virtual void OnCriticalError(CriticalErrorHandler handler) = 0;
  /// Per-peer stats as JSON (like etcd's leader stats): bytes, message counts, failures, probe
  /// latency, active since, stream state. The schema is in docs/formats/rafthttp.md.
  [[nodiscard]] virtual std::string StatsJson() const = 0;
};

class Transport final : public Transporter {
 public:
  /// Errors: kInvalidArgument for a zero id, a null raft, or TLS files that cannot be loaded.
  static Result<std::unique_ptr<Transport>> Create(TransportOptions options);
  ~Transport() override;  ///< Stop()s.

  [[nodiscard]] std::vector<http::Route> Routes() override;
  Status Start() override;
  void Stop() override;
  void Send(std::vector<raftpb::Message> msgs) override;
  void SendSnapshot(OutgoingSnapshot snap) override;
  void AddPeer(NodeId id, std::vector<std::string> urls) override;
  void RemovePeer(NodeId id) override;
  void RemoveAllPeers() override;
  void UpdatePeer(NodeId id, std::vector<std::string> urls) override;
  void AddRemote(NodeId id, std::vector<std::string> urls) override;
  [[nodiscard]] std::optional<std::chrono::system_clock::time_point> ActiveSince(
      NodeId id) const override;
  [[nodiscard]] size_t ActivePeers() const override;
  void CutPeer(NodeId id) override;
  void MendPeer(NodeId id) override;
  void Pause() override;
  void Resume() override;
  void OnCriticalError(CriticalErrorHandler handler) override;
  [[nodiscard]] std::string StatsJson() const override;

  /// Whether the stream of `type` ("message" or "msgapp") to `id` has an attached connection, i.e.
  /// whether messages to `id` travel over it (for tests and tools).
  [[nodiscard]] bool StreamAttached(NodeId id, std::string_view type) const;
  /// Whether our reader of `id`'s stream of `type` is connected.
  [[nodiscard]] bool StreamReading(NodeId id, std::string_view type) const;

  struct Impl;

 private:
  explicit Transport(std::shared_ptr<Impl> impl);
  // Shared with the routes' handlers, which may outlive this object while a server still runs.
  std::shared_ptr<Impl> impl_;
};

}  // namespace raftkit::rafthttp
