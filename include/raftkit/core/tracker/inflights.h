// The flow-control window of one follower in StateReplicate (etcd: tracker/inflights.go, with the
// byte budget of later etcd versions added).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "raftkit/util/ids.h"

namespace raftkit::raft::tracker {

/// A ring buffer of the MsgApps sent to a follower and not yet acknowledged. Each slot holds the
/// last index the message carried and its payload bytes. The window is full when it holds
/// `max_count` messages or at least `max_bytes` payload bytes (max_bytes == 0: no byte limit).
///
/// Invariant: the indexes in the window are strictly increasing from oldest to newest.
class Inflights {
 public:
  Inflights(size_t max_count, uint64_t max_bytes) : max_count_(max_count), max_bytes_(max_bytes) {}

  /// Records a message whose last entry has index `index` and whose entries carry `bytes` payload
  /// bytes. Panics if the window is full or `index` does not increase (a caller bug).
  void Add(Index index, uint64_t bytes);
  /// Frees every message with last index <= `to` (they were acknowledged).
  void FreeLE(Index to);
  /// Frees the oldest message (a heartbeat response lets one more message go out when full).
  void FreeFirstOne();
  /// Whether no more messages may be sent right now.
  [[nodiscard]] bool Full() const noexcept {
    return count_ == max_count_ || (max_bytes_ != 0 && bytes_ >= max_bytes_);
  }
  [[nodiscard]] size_t Count() const noexcept { return count_; }
  /// Payload bytes in flight.
  [[nodiscard]] uint64_t Bytes() const noexcept { return bytes_; }
  [[nodiscard]] size_t MaxCount() const noexcept { return max_count_; }
  [[nodiscard]] uint64_t MaxBytes() const noexcept { return max_bytes_; }
  /// Empties the window.
  void Reset() noexcept;

 private:
  struct Slot {
    Index index;
    uint64_t bytes = 0;
  };
  // Grows the buffer (doubling, capped at max_count_) so idle followers cost little memory.
  void Grow();

  size_t start_ = 0;  // position of the oldest message
  size_t count_ = 0;
  uint64_t bytes_ = 0;
  size_t max_count_;
  uint64_t max_bytes_;
  std::vector<Slot> buffer_;
};

}  // namespace raftkit::raft::tracker
