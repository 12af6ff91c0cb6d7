#include "transport/rafthttp/peer_status.h"

#include <algorithm>

#include "transport/rafthttp/compat.h"

namespace raftkit::rafthttp {

PeerStatus::PeerStatus(NodeId local, NodeId peer, Logger* logger, WallClock now)
    : local_(local),
      peer_(peer),
      logger_(logger != nullptr ? logger : &NullLogger()),
      now_(now ? std::move(now) : WallClock([] { return std::chrono::system_clock::now(); })) {}

bool PeerStatus::Activate() {
  std::lock_guard<std::mutex> g(mu_);
  if (active_) return false;
  active_ = true;
  since_ = now_();
  failures_ = 0;
  last_logged_failure_.clear();
  logger_->Infof("peer {} became active (local {})", FormatId(peer_.value()),
                 FormatId(local_.value()));
  return true;
}

bool PeerStatus::Deactivate(const FailureType& failure, const std::string& reason) {
  std::lock_guard<std::mutex> g(mu_);
  last_failure_ = failure.source + " " + failure.action + ": " + reason;
  ++failures_;
  if (active_) {
    active_ = false;
    since_ = {};
    logger_->Warnf("peer {} became inactive (local {}): {}", FormatId(peer_.value()),
                   FormatId(local_.value()), last_failure_);
    last_logged_failure_ = last_failure_;
    return true;
  }
  // Already inactive: a peer that is down fails ~10 times a second; log only what is new.
  if (last_failure_ != last_logged_failure_) {
    logger_->Warnf("peer {} is inactive (local {}): {}", FormatId(peer_.value()),
                   FormatId(local_.value()), last_failure_);
    last_logged_failure_ = last_failure_;
  }
  return false;
}

bool PeerStatus::active() const {
  std::lock_guard<std::mutex> g(mu_);
  return active_;
}

std::optional<std::chrono::system_clock::time_point> PeerStatus::active_since() const {
  std::lock_guard<std::mutex> g(mu_);
  if (!active_) return std::nullopt;
  return since_;
}

std::string PeerStatus::last_failure() const {
  std::lock_guard<std::mutex> g(mu_);
  return last_failure_;
}

uint64_t PeerStatus::failures_since_active() const {
  std::lock_guard<std::mutex> g(mu_);
  return failures_;
}

RateLimiter::RateLimiter(double rate, int burst, MonoClock now)
    : rate_(rate),
      burst_(std::max(1, burst)),
      now_(now ? std::move(now) : MonoClock([] { return std::chrono::steady_clock::now(); })),
      tokens_(burst_),
      last_(now_()) {}

void RateLimiter::RefillLocked(std::chrono::steady_clock::time_point now) const {
  if (now > last_) {
    const double secs = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + secs * rate_);
    last_ = now;
  }
}

bool RateLimiter::Allow() {
  std::lock_guard<std::mutex> g(mu_);
  RefillLocked(now_());
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

std::chrono::nanoseconds RateLimiter::Wait() const {
  std::lock_guard<std::mutex> g(mu_);
  RefillLocked(now_());
  if (tokens_ >= 1.0) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(static_cast<int64_t>((1.0 - tokens_) / rate_ * 1e9));
}

}  // namespace raftkit::rafthttp
