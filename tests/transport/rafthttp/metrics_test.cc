// The transport exports etcd's metric names, so etcd dashboards work on raftkit.
#include "transport/rafthttp/metrics.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <sstream>

namespace raftkit::rafthttp {
namespace {

std::string Exposition(prometheus::Registry& r) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, r.Collect());
  return out.str();
}

TEST(TransportMetricsTest, UsesEtcdsNamesAndHexIdLabels) {
  auto reg = std::make_shared<prometheus::Registry>();
  TransportMetrics m(reg, 1);
  m.SentBytes(0x2a, 100);
  m.SentBytes(0x2a, 50);
  m.ReceivedBytes(3, 7);
  m.SentFailure(0x2a);
  m.ReceivedFailure(3);
  m.RoundTrip(0x2a, 0.0003);
  m.PeerActive(0x2a, true);
  m.PeerActive(0x2a, false);
  m.SnapshotSendStarted(0x2a);
  m.SnapshotSendFinished(0x2a, true, 0.5);
  m.SnapshotReceiveStarted(3);
  m.SnapshotReceiveFinished(3, false, 1.0);
  const std::string text = Exposition(*reg);
  for (const char* want : {
           "etcd_network_peer_sent_bytes_total{To=\"2a\"} 150",
           "etcd_network_peer_received_bytes_total{From=\"3\"} 7",
           "etcd_network_peer_sent_failures_total{To=\"2a\"} 1",
           "etcd_network_peer_received_failures_total{From=\"3\"} 1",
           "etcd_network_peer_round_trip_time_seconds_bucket{To=\"2a\",le=\"0.0004\"} 1",
           "etcd_network_active_peers{Local=\"1\",Remote=\"2a\"} 0",
           "etcd_network_disconnected_peers_total{Local=\"1\",Remote=\"2a\"} 1",
           "etcd_network_snapshot_send_success{To=\"2a\"} 1",
           "etcd_network_snapshot_send_inflights_total{To=\"2a\"} 0",
           "etcd_network_snapshot_receive_failures{From=\"3\"} 1",
           "etcd_network_snapshot_send_total_duration_seconds_bucket{To=\"2a\",le=\"0.8\"} 1",
       }) {
    EXPECT_NE(text.find(want), std::string::npos) << "missing: " << want << "\n" << text;
  }
  EXPECT_EQ(m.sent_bytes(0x2a), 150);
  EXPECT_EQ(m.received_bytes(3), 7);
}

TEST(TransportMetricsTest, WorksWithoutARegistry) {
  TransportMetrics m(nullptr, 1);
  m.SentBytes(2, 10);
  EXPECT_EQ(m.sent_bytes(2), 10);
  EXPECT_NE(m.registry(), nullptr);
}

}  // namespace
}  // namespace raftkit::rafthttp
