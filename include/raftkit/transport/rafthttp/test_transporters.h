// Stand-ins for the Transport in tests of code built on it (etcd's nopTransporter and
// snapTransporter): one that does nothing, and one that captures the snapshots it is asked to send.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "raftkit/transport/rafthttp/transport.h"

namespace raftkit::rafthttp {

/// Accepts every call and does nothing; Routes() is empty, no peer is ever active, a snapshot's
/// `done` is called with false (it was not delivered).
class NopTransporter : public Transporter {
 public:
  [[nodiscard]] std::vector<http::Route> Routes() override { return {}; }
  Status Start() override { return Status::Ok(); }
  void Stop() override {}
  void Send(std::vector<raftpb::Message>) override {}
  void SendSnapshot(OutgoingSnapshot snap) override {
    if (snap.done) snap.done(false);
  }
  void AddPeer(NodeId, std::vector<std::string>) override {}
  void RemovePeer(NodeId) override {}
  void RemoveAllPeers() override {}
  void UpdatePeer(NodeId, std::vector<std::string>) override {}
  void AddRemote(NodeId, std::vector<std::string>) override {}
  [[nodiscard]] std::optional<std::chrono::system_clock::time_point> ActiveSince(
      NodeId) const override {
    return std::nullopt;
  }
  [[nodiscard]] size_t ActivePeers() const override { return 0; }
  void CutPeer(NodeId) override {}
  void MendPeer(NodeId) override {}
  void Pause() override {}
  void Resume() override {}
  void OnCriticalError(CriticalErrorHandler) override {}
  [[nodiscard]] std::string StatsJson() const override { return "{}"; }
};

/// A NopTransporter that reads every snapshot it is given to the end, calls its `done(true)`,
/// and queues the message and data for the test to take with Next().
class SnapTransporter : public NopTransporter {
 public:
  struct Sent {
    raftpb::Message message;
    std::string data;
  };

  void SendSnapshot(OutgoingSnapshot snap) override {
    Sent sent{snap.message, {}};
    bool ok = true;
    std::string buf(64 * 1024, '\0');
    while (sent.data.size() < snap.data_size && snap.read) {
      auto n = snap.read(buf.data(), buf.size());
      if (!n.ok() || n.value() == 0) {
        ok = false;
        break;
      }
      sent.data.append(buf.data(), n.value());
    }
    if (snap.done) snap.done(ok);
    std::lock_guard<std::mutex> g(mu_);
    sent_.push_back(std::move(sent));
    cv_.notify_all();
  }

  /// The oldest snapshot not taken yet, waiting up to `timeout` for one.
  std::optional<Sent> Next(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> l(mu_);
    if (!cv_.wait_for(l, timeout, [&] { return !sent_.empty(); })) return std::nullopt;
    Sent s = std::move(sent_.front());
    sent_.pop_front();
    return s;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Sent> sent_;
};

}  // namespace raftkit::rafthttp
