#include "transport/rafthttp/metrics.h"

#include <utility>

#include "transport/rafthttp/compat.h"

namespace raftkit::rafthttp {

namespace {

// etcd's bucket layouts: ExponentialBuckets(start, factor, count).
prometheus::Histogram::BucketBoundaries Exponential(double start, double factor, int count) {
  prometheus::Histogram::BucketBoundaries b;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor)
    b.push_back(v);
  return b;
}

const prometheus::Histogram::BucketBoundaries& RttBuckets() {
  static const auto b = Exponential(0.0001, 2, 16);
  return b;
}
const prometheus::Histogram::BucketBoundaries& SnapshotBuckets() {
  static const auto b = Exponential(0.1, 2, 10);
  return b;
}

template <class T>
prometheus::Family<T>& Build(prometheus::Registry& r, const char* name, const char* help) {
  if constexpr (std::is_same_v<T, prometheus::Counter>) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(r);
  } else if constexpr (std::is_same_v<T, prometheus::Gauge>) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(r);
  } else {
    return prometheus::BuildHistogram().Name(name).Help(help).Register(r);
  }
}

std::shared_ptr<prometheus::Registry> OrNew(std::shared_ptr<prometheus::Registry> r) {
  return r ? std::move(r) : std::make_shared<prometheus::Registry>();
}

}  // namespace

TransportMetrics::TransportMetrics(std::shared_ptr<prometheus::Registry> registry,
                                   uint64_t local_id)
    : registry_(OrNew(std::move(registry))),
      local_(local_id),
      active_peers_(
          Build<prometheus::Gauge>(*registry_, "etcd_network_active_peers",
                                   "Peers this member currently exchanges messages with")),
      disconnected_peers_(Build<prometheus::Counter>(*registry_,
                                                     "etcd_network_disconnected_peers_total",
                                                     "Times a peer went from active to inactive")),
      sent_bytes_(Build<prometheus::Counter>(*registry_, "etcd_network_peer_sent_bytes_total",
                                             "Bytes of Raft messages sent to each peer")),
      received_bytes_(Build<prometheus::Counter>(*registry_,
                                                 "etcd_network_peer_received_bytes_total",
                                                 "Bytes of Raft messages received from each peer")),
      sent_failures_(Build<prometheus::Counter>(*registry_, "etcd_network_peer_sent_failures_total",
                                                "Messages to each peer that could not be sent")),
      received_failures_(Build<prometheus::Counter>(
          *registry_, "etcd_network_peer_received_failures_total",
          "Messages from each peer that could not be received or processed")),
      rtt_(Build<prometheus::Histogram>(*registry_, "etcd_network_peer_round_trip_time_seconds",
                                        "Round trip times to each peer, from the prober")),
      snap_send_success_(Build<prometheus::Counter>(
          *registry_, "etcd_network_snapshot_send_success", "Snapshots sent successfully")),
      snap_send_inflight_(Build<prometheus::Gauge>(
          *registry_, "etcd_network_snapshot_send_inflights_total", "Snapshots being sent")),
      snap_send_failures_(Build<prometheus::Counter>(
          *registry_, "etcd_network_snapshot_send_failures", "Snapshot sends that failed")),
      snap_send_duration_(Build<prometheus::Histogram>(
          *registry_, "etcd_network_snapshot_send_total_duration_seconds",
          "Time taken by snapshot sends")),
      snap_recv_success_(Build<prometheus::Counter>(
          *registry_, "etcd_network_snapshot_receive_success", "Snapshots received successfully")),
      snap_recv_inflight_(Build<prometheus::Gauge>(
          *registry_, "etcd_network_snapshot_receive_inflights_total", "Snapshots being received")),
      snap_recv_failures_(Build<prometheus::Counter>(
          *registry_, "etcd_network_snapshot_receive_failures", "Snapshot receives that failed")),
      snap_recv_duration_(Build<prometheus::Histogram>(
          *registry_, "etcd_network_snapshot_receive_total_duration_seconds",
          "Time taken by snapshot receives")) {}

void TransportMetrics::SentBytes(uint64_t to, uint64_t n) {
  sent_bytes_.Add({{"To", FormatId(to)}}).Increment(static_cast<double>(n));
}
void TransportMetrics::ReceivedBytes(uint64_t from, uint64_t n) {
  received_bytes_.Add({{"From", FormatId(from)}}).Increment(static_cast<double>(n));
}
void TransportMetrics::SentFailure(uint64_t to) {
  sent_failures_.Add({{"To", FormatId(to)}}).Increment();
}
void TransportMetrics::ReceivedFailure(uint64_t from) {
  received_failures_.Add({{"From", FormatId(from)}}).Increment();
}
void TransportMetrics::RoundTrip(uint64_t to, double seconds) {
  rtt_.Add({{"To", FormatId(to)}}, RttBuckets()).Observe(seconds);
}
void TransportMetrics::PeerActive(uint64_t remote, bool active) {
  const prometheus::Labels l{{"Local", FormatId(local_)}, {"Remote", FormatId(remote)}};
  if (active) {
    active_peers_.Add(l).Increment();
  } else {
    active_peers_.Add(l).Decrement();
    disconnected_peers_.Add(l).Increment();
  }
}
void TransportMetrics::SnapshotSendStarted(uint64_t to) {
  snap_send_inflight_.Add({{"To", FormatId(to)}}).Increment();
}
void TransportMetrics::SnapshotSendFinished(uint64_t to, bool ok, double seconds) {
  const prometheus::Labels l{{"To", FormatId(to)}};
  snap_send_inflight_.Add(l).Decrement();
  if (ok) {
    snap_send_success_.Add(l).Increment();
    snap_send_duration_.Add(l, SnapshotBuckets()).Observe(seconds);
  } else {
    snap_send_failures_.Add(l).Increment();
  }
}
void TransportMetrics::SnapshotReceiveStarted(uint64_t from) {
  snap_recv_inflight_.Add({{"From", FormatId(from)}}).Increment();
}
void TransportMetrics::SnapshotReceiveFinished(uint64_t from, bool ok, double seconds) {
  const prometheus::Labels l{{"From", FormatId(from)}};
  snap_recv_inflight_.Add(l).Decrement();
  if (ok) {
    snap_recv_success_.Add(l).Increment();
    snap_recv_duration_.Add(l, SnapshotBuckets()).Observe(seconds);
  } else {
    snap_recv_failures_.Add(l).Increment();
  }
}
double TransportMetrics::sent_bytes(uint64_t to) {
  return sent_bytes_.Add({{"To", FormatId(to)}}).Value();
}
double TransportMetrics::received_bytes(uint64_t from) {
  return received_bytes_.Add({{"From", FormatId(from)}}).Value();
}

}  // namespace raftkit::rafthttp
