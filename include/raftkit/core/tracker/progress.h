// What a leader knows about one follower's log (etcd: tracker/progress.go), and the per-follower
// state machine Probe -> Replicate -> Snapshot that paces replication (thesis §3.5, §5.x; etcd's
// design doc raft/design.md).
#pragma once

#include <map>
#include <string>

#include "raftkit/core/tracker/inflights.h"
#include "raftkit/util/ids.h"

namespace raftkit::raft::tracker {

enum class StateType {
  /// The leader does not know where the follower's log ends: it sends at most one MsgApp per
  /// heartbeat interval and waits for the answer (probe_sent).
  kProbe = 0,
  /// The follower is known to be in sync: the leader streams MsgApps optimistically, bounded by the
  /// inflight window.
  kReplicate = 1,
  /// The follower needs a snapshot: nothing is sent until the snapshot is reported done or failed.
  kSnapshot = 2,
};

/// "StateProbe", "StateReplicate", "StateSnapshot".
const char* Name(StateType s) noexcept;

struct Progress {
  Progress(size_t max_inflight, uint64_t max_inflight_bytes)
      : inflights(max_inflight, max_inflight_bytes) {}

  /// Highest index known to be replicated on the follower. Invariant: match < next.
  Index match;
  /// Next index to send.
  Index next;
  StateType state = StateType::kProbe;
  /// In StateSnapshot: the index of the snapshot being sent. 0 otherwise.
  Index pending_snapshot;
  /// Whether the follower was heard from since the last CheckQuorum round. A newly added
  /// follower counts as active so that CheckQuorum does not fire before it could answer.
  bool recent_active = false;
  /// In StateProbe: a probe is outstanding, do not send another until it is answered or the next
  /// heartbeat response arrives.
  bool probe_sent = false;
  Inflights inflights;
  bool is_learner = false;

  /// Moves to `state`, clearing probe_sent, pending_snapshot and the window.
  void ResetState(StateType s);
  /// Enter StateProbe. From StateSnapshot, next resumes after the snapshot (if it is ahead).
  void BecomeProbe();
  /// Enter StateReplicate with next = match + 1.
  void BecomeReplicate();
  /// Enter StateSnapshot waiting for a snapshot at `snapshot_index`.
  void BecomeSnapshot(Index snapshot_index);
  /// The follower acknowledged `n`: raises match (and next) if `n` is newer. Returns whether
  /// match moved; a newer ack also answers an outstanding probe.
  bool MaybeUpdate(Index n);
  /// In StateReplicate, entries up to `n` were sent: next = n + 1.
  void OptimisticUpdate(Index n) { next = n + 1; }
  /// The follower rejected a MsgApp at index `rejected`, its log ending at `match_hint`. Returns
  /// false if the rejection is stale (already superseded); otherwise lowers next and returns true.
  bool MaybeDecrTo(Index rejected, Index match_hint);
  /// Whether sending is paused (probe outstanding, window full, or waiting for a snapshot).
  [[nodiscard]] bool IsPaused() const;

  /// "StateReplicate match=5 next=6 learner paused pendingSnap=3 inactive inflight=2[full]"
  [[nodiscard]] std::string String() const;
};

/// Progress of every member, in ascending id order.
using ProgressMap = std::map<NodeId, Progress>;

/// One "<id>: <progress>" line per member.
std::string ToString(const ProgressMap& m);

}  // namespace raftkit::raft::tracker
