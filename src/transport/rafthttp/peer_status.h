// Per-peer health as the transport sees it (etcd's peerStatus), and the token bucket that throttles
// stream re-dials. Status changes are logged once, on the transition, not on every failure.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "raftkit/util/ids.h"
#include "raftkit/util/logger.h"

namespace raftkit::rafthttp {

using WallClock = std::function<std::chrono::system_clock::time_point()>;
using MonoClock = std::function<std::chrono::steady_clock::time_point()>;

/// Which channel failed doing what, e.g. {"pipeline", "write"} or {"stream msgapp", "dial"}.
struct FailureType {
  std::string source;
  std::string action;
};

/// Thread-safe. A peer starts inactive.
class PeerStatus {
 public:
  PeerStatus(NodeId local, NodeId peer, Logger* logger = nullptr, WallClock now = nullptr);

  /// A message got through: the peer is active (logged when it was not). True when it was not.
  bool Activate();
  /// A send or dial failed. Logged at WARN when the peer was active, or when the failure differs
  /// from the last one logged; a repeat of the same failure is only counted. True when the peer
  /// was active.
  bool Deactivate(const FailureType& failure, const std::string& reason);

  [[nodiscard]] bool active() const;
  /// When the peer last became active; nullopt while inactive (etcd's ActiveSince zero time).
  [[nodiscard]] std::optional<std::chrono::system_clock::time_point> active_since() const;
  /// "<source> <action>: <reason>" of the latest failure ("" if none yet).
  [[nodiscard]] std::string last_failure() const;
  /// Failures since the peer was last active (for stats).
  [[nodiscard]] uint64_t failures_since_active() const;

 private:
  const NodeId local_;
  const NodeId peer_;
  Logger* logger_;
  WallClock now_;
  mutable std::mutex mu_;
  bool active_ = false;
  std::chrono::system_clock::time_point since_{};
  std::string last_failure_;
  std::string last_logged_failure_;
  uint64_t failures_ = 0;
};

/// A token bucket: `rate` tokens per second, at most `burst` saved. Thread-safe.
class RateLimiter {
 public:
  RateLimiter(double rate, int burst, MonoClock now = nullptr);
  /// Takes a token if one is available now.
  bool Allow();
  /// How long until a token will be available (zero if one is).
  [[nodiscard]] std::chrono::nanoseconds Wait() const;

 private:
  void RefillLocked(std::chrono::steady_clock::time_point now) const;
  const double rate_;
  const double burst_;
  MonoClock now_;
  mutable std::mutex mu_;
  mutable double tokens_;
  mutable std::chrono::steady_clock::time_point last_;
};

}  // namespace raftkit::rafthttp
