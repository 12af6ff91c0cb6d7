// Pending ReadIndex requests on the leader (etcd: read_only.go; thesis §6.4).
//
// In ReadOnlySafe mode a request records the commit index at arrival, then waits until a quorum
// has acknowledged a heartbeat carrying the request's context: at that point the leader knows it
// was still the leader when the request arrived, and the recorded index is safe to read at.
// Acknowledging a later request confirms all earlier ones too (they are answered in order).
#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "raftkit/core/quorum/quorum.h"
#include "raftkit/core/types.h"
#include "raftkit/raftpb/types.h"

namespace raftkit::raft {

struct ReadIndexStatus {
  raftpb::Message req;  ///< the MsgReadIndex (entries[0].data is the context)
  Index index;          ///< the commit index when it arrived
  quorum::VoteMap acks;
};

class ReadOnly {
 public:
  explicit ReadOnly(ReadOnlyOption option) : option_(option) {}

  [[nodiscard]] ReadOnlyOption option() const noexcept { return option_; }
  /// Records a request that arrived when the commit index was `index`. A duplicate context is
  /// ignored (the first request with it stays).
  void AddRequest(Index index, raftpb::Message m);
  /// Records that `id` acknowledged the heartbeat with `context`; returns the acks so far, or
  /// nullptr if no request has that context.
  const quorum::VoteMap* RecvAck(NodeId id, std::string_view context);
  /// Dequeues and returns the request with `context` and every request queued before it. Empty if
  /// no request has that context.
  std::vector<ReadIndexStatus> Advance(std::string_view context);
  /// The context of the newest pending request ("" when none).
  [[nodiscard]] std::string LastPendingRequestCtx() const;
  [[nodiscard]] size_t PendingCount() const noexcept { return queue_.size(); }

 private:
  ReadOnlyOption option_;
  std::map<std::string, ReadIndexStatus, std::less<>> pending_;
  std::deque<std::string> queue_;  // contexts in arrival order
};

}  // namespace raftkit::raft
