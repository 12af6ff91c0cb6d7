// The transport's Prometheus metrics, under etcd's names (namespace "etcd", subsystem "network") so
// that dashboards written for etcd work unchanged. Label values are member ids in etcd's hex form.
#pragma once

#include <cstdint>
#include <memory>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace raftkit::rafthttp {

/// Thread-safe (prometheus-cpp metrics are). Registered in the given registry, which must outlive
/// this object; with a null registry a private one is used (metrics still count, for stats).
class TransportMetrics {
 public:
  TransportMetrics(std::shared_ptr<prometheus::Registry> registry, uint64_t local_id);

  void SentBytes(uint64_t to, uint64_t n);
  void ReceivedBytes(uint64_t from, uint64_t n);
  void SentFailure(uint64_t to);
  void ReceivedFailure(uint64_t from);
  /// A measured round trip to `to` (the prober's), in seconds.
  void RoundTrip(uint64_t to, double seconds);
  /// A peer became active (+1) or inactive (-1); inactive transitions also count a disconnect.
  void PeerActive(uint64_t remote, bool active);

  void SnapshotSendStarted(uint64_t to);
  void SnapshotSendFinished(uint64_t to, bool ok, double seconds);
  void SnapshotReceiveStarted(uint64_t from);
  void SnapshotReceiveFinished(uint64_t from, bool ok, double seconds);

  [[nodiscard]] const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }
  /// Totals for the stats JSON.
  [[nodiscard]] double sent_bytes(uint64_t to);
  [[nodiscard]] double received_bytes(uint64_t from);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  const uint64_t local_;
  prometheus::Family<prometheus::Gauge>& active_peers_;
  prometheus::Family<prometheus::Counter>& disconnected_peers_;
  prometheus::Family<prometheus::Counter>& sent_bytes_;
  prometheus::Family<prometheus::Counter>& received_bytes_;
  prometheus::Family<prometheus::Counter>& sent_failures_;
  prometheus::Family<prometheus::Counter>& received_failures_;
  prometheus::Family<prometheus::Histogram>& rtt_;
  prometheus::Family<prometheus::Counter>& snap_send_success_;
  prometheus::Family<prometheus::Gauge>& snap_send_inflight_;
  prometheus::Family<prometheus::Counter>& snap_send_failures_;
  prometheus::Family<prometheus::Histogram>& snap_send_duration_;
  prometheus::Family<prometheus::Counter>& snap_recv_success_;
  prometheus::Family<prometheus::Gauge>& snap_recv_inflight_;
  prometheus::Family<prometheus::Counter>& snap_recv_failures_;
  prometheus::Family<prometheus::Histogram>& snap_recv_duration_;
};

}  // namespace raftkit::rafthttp
