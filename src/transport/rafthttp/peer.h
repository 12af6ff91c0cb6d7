// One remote member as the transport sees it (etcd's peer and remote): the stream writers that
// serve its GETs, the stream readers that dial it, the pipeline, the prober, and the queues that
// hand received messages to Raft. The Transport (transport.cc) owns these and routes to them.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "raftkit/raftpb/types.h"
#include "raftkit/transport/http/client.h"
#include "raftkit/transport/http/server.h"
#include "raftkit/transport/rafthttp/transport.h"
#include "raftkit/util/ids.h"
#include "raftkit/util/logger.h"
#include "transport/rafthttp/compat.h"
#include "transport/rafthttp/metrics.h"
#include "transport/rafthttp/peer_status.h"
#include "transport/rafthttp/url_picker.h"

namespace raftkit::rafthttp {

/// What every peer shares with the transport. Outlives the peers.
struct PeerContext {
  NodeId local;
  uint64_t cluster_id = 0;
  std::vector<std::string> local_urls;
  RaftNode* raft = nullptr;
  TransportMetrics* metrics = nullptr;
  Logger* logger = nullptr;
  http::Client* pipeline_client = nullptr;  ///< keep-alive pool: pipeline POSTs and probes
  http::Client* stream_client = nullptr;    ///< no reuse; idle timeout = stream read timeout
  http::Client* snapshot_client = nullptr;  ///< long response wait (the receiver fsyncs)
  std::chrono::milliseconds heartbeat_interval{1667};
  std::chrono::milliseconds pipeline_response_timeout{30000};
  std::chrono::milliseconds probe_interval{4000};
  std::chrono::milliseconds probe_rtt_warning{500};
  uint64_t max_message_bytes = uint64_t{512} << 20;
  /// Raises the critical "member removed" error (latched by the transport).
  std::function<void(const Status&)> critical;
  /// Transport-wide Pause().
  const std::atomic<bool>* paused = nullptr;
};

/// Marks `peer` active / inactive and keeps the active-peers metric in step.
void MarkActive(const PeerContext& ctx, PeerStatus& status, NodeId peer);
void MarkInactive(const PeerContext& ctx, PeerStatus& status, NodeId peer,
                  const FailureType& failure, const std::string& reason);

/// The headers every request to a peer carries (spec §3.2); `to` adds X-Raft-To (streams).
http::Headers PeerRequestHeaders(const PeerContext& ctx, std::optional<NodeId> to);

/// The outcome of a non-success answer to a POST, as etcd's checkPostResponse classifies it; a
/// 403 also raises the critical error.
Status CheckPostAnswer(const PeerContext& ctx, NodeId to, const http::Response& response);

/// A bounded multi-producer queue. Either one consumer takes everything at once with PopAll (one
/// lock and at most one wake-up per batch, not per item), or several take one item each with Pop.
/// Close() wakes every consumer.
template <class T>
class BoundedQueue {
 public:
  enum class Consumers { kOne, kMany };
  BoundedQueue(size_t capacity, Consumers consumers) : capacity_(capacity), consumers_(consumers) {}
  /// False when full or closed.
  bool TryPush(T v) {
    std::lock_guard<std::mutex> g(mu_);
    if (closed_ || q_.size() >= capacity_) return false;
    q_.push_back(std::move(v));
    // A single consumer sleeps only on an empty queue, so only the first push must wake it.
    if (consumers_ == Consumers::kMany || q_.size() == 1) cv_.notify_one();
    return true;
  }
  /// Waits for an item and takes it; nullopt once closed.
  std::optional<T> Pop() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return closed_ || !q_.empty(); });
    if (closed_) return std::nullopt;
    T v = std::move(q_.front());
    q_.pop_front();
    return v;
  }
  /// Pushes what fits of `items` (in order) and returns how many did not fit.
  size_t PushAll(std::vector<T>* items) {
    std::lock_guard<std::mutex> g(mu_);
    if (closed_) return items->size();
    const bool was_empty = q_.empty();
    size_t dropped = 0;
    for (auto& v : *items) {
      if (q_.size() >= capacity_) {
        ++dropped;
        continue;
      }
      q_.push_back(std::move(v));
    }
    if (was_empty && !q_.empty()) cv_.notify_one();
    return dropped;
  }
  /// Waits for items and moves all of them into `*out` (emptied first); false once closed.
  bool PopAll(std::deque<T>* out) {
    out->clear();
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return closed_ || !q_.empty(); });
    if (closed_) return false;
    out->swap(q_);
    return true;
  }
  /// Wakes the consumer and drops what is queued; returns what was dropped.
  std::deque<T> Close() {
    std::lock_guard<std::mutex> g(mu_);
    closed_ = true;
    cv_.notify_all();
    return std::exchange(q_, {});
  }
  size_t size() const {
    std::lock_guard<std::mutex> g(mu_);
    return q_.size();
  }

 private:
  const size_t capacity_;
  const Consumers consumers_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> q_;
  bool closed_ = false;
};

/// Counters for the stats JSON (etcd's follower counts).
struct PeerCounters {
  std::atomic<uint64_t> sent{0};     ///< messages handed to a connection
  std::atomic<uint64_t> failed{0};   ///< messages whose send failed
  std::atomic<uint64_t> dropped{0};  ///< messages dropped at a full queue or while cut
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> received_dropped{0};  ///< dropped at a full receive queue
};

/// The pipeline to one member (spec §4.1): kWorkers threads POSTing one message each from a queue
/// of kQueue. Also used by remotes.
class Pipeline {
 public:
  static constexpr int kWorkers = 4;
  static constexpr size_t kQueue = 64;

  /// Failures are reported to Raft (ReportUnreachable, and ReportSnapshot for a MsgSnap), for
  /// remotes too, as etcd's do. `counters` may be null.
  Pipeline(const PeerContext& ctx, NodeId to, UrlPicker* picker, PeerStatus* status,
           PeerCounters* counters);
  ~Pipeline();  ///< Stop()s.
  /// False when the queue is full (the caller drops and reports).
  bool TrySend(raftpb::Message m);
  void Stop();
  [[nodiscard]] size_t queued() const { return queue_.size(); }

 private:
  void Work(int worker);
  void Post(const raftpb::Message& m, const std::shared_ptr<http::CancelToken>& token);

  const PeerContext& ctx_;
  const NodeId to_;
  UrlPicker* picker_;
  PeerStatus* status_;
  PeerCounters* counters_;
  BoundedQueue<raftpb::Message> queue_{kQueue, BoundedQueue<raftpb::Message>::Consumers::kMany};
  std::mutex mu_;
  bool stopping_ = false;
  std::vector<std::shared_ptr<http::CancelToken>> tokens_;
  std::vector<std::thread> workers_;
};

/// The probe results (etcd's probing status).
struct ProbeStats {
  uint64_t probes = 0;
  uint64_t failures = 0;
  double last_rtt_ms = 0;
  double min_rtt_ms = 0;
  double max_rtt_ms = 0;
  double sum_rtt_ms = 0;
  double sum_sq_rtt_ms = 0;
  double clock_diff_ms = 0;
  bool healthy = false;
};

class Peer {
 public:
  Peer(const PeerContext& ctx, NodeId id, std::vector<std::string> urls);
  ~Peer();  ///< Stop()s.

  /// Starts the readers, pipeline, prober and receive queues.
  void Start();
  /// Ends every thread of this peer and makes served streams return. Idempotent.
  void Stop();

  /// Routes `m` (spec §6) without blocking; drops and reports when the chosen queue is full.
  void Send(raftpb::Message m);
  /// Serves a stream GET from this peer on the calling handler thread until the connection is
  /// replaced, fails, or the peer stops.
  void ServeStream(StreamType type, http::ResponseWriter& writer);

  void UpdateUrls(std::vector<std::string> urls);
  void Cut();
  void Mend();

  [[nodiscard]] NodeId id() const { return id_; }
  [[nodiscard]] PeerStatus& status() { return status_; }
  [[nodiscard]] UrlPicker& picker() { return picker_; }
  [[nodiscard]] bool StreamAttached(StreamType type) const;
  [[nodiscard]] bool StreamReading(StreamType type) const;
  /// This peer's part of the stats JSON.
  [[nodiscard]] std::string StatsJson() const;

 private:
  class StreamWriter;
  class StreamReader;

  void Prober();
  void Dispatch(BoundedQueue<raftpb::Message>* queue);
  /// Hands messages that arrived on a stream to the receive queues (dropping what does not fit).
  void Received(std::vector<raftpb::Message>* msgs);
  void Drop(const raftpb::Message& m, std::string_view why);
  [[nodiscard]] bool Paused() const;

  const PeerContext& ctx_;
  const NodeId id_;
  UrlPicker picker_;
  PeerStatus status_;
  PeerCounters counters_;
  std::atomic<bool> cut_{false};
  std::unique_ptr<StreamWriter> msgapp_writer_;
  std::unique_ptr<StreamWriter> message_writer_;
  std::unique_ptr<StreamReader> msgapp_reader_;
  std::unique_ptr<StreamReader> message_reader_;
  std::unique_ptr<Pipeline> pipeline_;
  BoundedQueue<raftpb::Message> props_{4096, BoundedQueue<raftpb::Message>::Consumers::kOne};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  bool stopping_ = false;
  std::atomic<bool> running_{false};  ///< started and not stopping (read by Send without mu_)
  ProbeStats probe_;
  std::vector<std::thread> threads_;
  // The prober's request in flight; Stop() cancels it, so that removing a peer that does not
  // answer does not wait out the HTTP timeouts (the Ready loop calls RemovePeer).
  std::shared_ptr<http::CancelToken> probe_cancel_ = std::make_shared<http::CancelToken>();
};

/// A member that is not a peer yet (learned from X-PeerURLs): pipeline only (etcd's remote).
class Remote {
 public:
  Remote(const PeerContext& ctx, NodeId id, std::vector<std::string> urls);
  /// Drops silently when the pipeline is full (as etcd's remote does).
  void Send(raftpb::Message m);
  void Stop() { pipeline_.Stop(); }

 private:
  const PeerContext& ctx_;
  const NodeId id_;
  UrlPicker picker_;
  PeerStatus status_;
  Pipeline pipeline_;
};

/// The path of the stream of `type` that `dialer` reads: /raft/stream/<type>/<dialer>.
std::string StreamPath(StreamType type, NodeId dialer);

/// Parses an RFC 3339 time as Go's time.RFC3339Nano writes it ("2026-11-22T08:33:17.33867339Z",
/// or with a ±hh:mm offset). nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view s);

}  // namespace raftkit::rafthttp
