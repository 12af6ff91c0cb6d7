// The leader's view of the cluster: the active configuration, every member's Progress, and the
// votes of an ongoing election (etcd: tracker/tracker.go).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "raftkit/core/quorum/quorum.h"
#include "raftkit/core/tracker/progress.h"
#include "raftkit/raftpb/types.h"

namespace raftkit::raft::tracker {

/// A membership configuration.
///
/// Invariants (checked by confchange): learners and voters are disjoint; learners_next is empty
/// unless the config is joint, and every id in it is an outgoing voter; auto_leave implies joint.
struct Config {
  quorum::JointConfig voters;
  /// Leave the joint configuration automatically once it is applied (ConfChangeV2 with transition
  /// Auto or JointImplicit).
  bool auto_leave = false;
  quorum::IdSet learners;
  /// Outgoing voters that become learners when the joint configuration is left. (A voter cannot
  /// be a learner at the same time, so the demotion waits; thesis §4.3 and etcd's confchange.)
  quorum::IdSet learners_next;

  /// "voters=(1 2 3)&&(1 2) learners=(4) learners_next=(3) autoleave"
  [[nodiscard]] std::string String() const;

  friend bool operator==(const Config&, const Config&) = default;
};

class ProgressTracker {
 public:
  ProgressTracker(size_t max_inflight, uint64_t max_inflight_bytes)
      : max_inflight_(max_inflight), max_inflight_bytes_(max_inflight_bytes) {}

  Config config;
  ProgressMap progress;
  quorum::VoteMap votes;

  [[nodiscard]] size_t max_inflight() const noexcept { return max_inflight_; }
  [[nodiscard]] uint64_t max_inflight_bytes() const noexcept { return max_inflight_bytes_; }
  /// A fresh Progress with this tracker's window limits.
  [[nodiscard]] Progress NewProgress() const {
    return Progress(max_inflight_, max_inflight_bytes_);
  }

  /// The configuration as a ConfState (ids sorted).
  [[nodiscard]] raftpb::ConfState ConfState() const;
  /// Exactly one voter and not joint.
  [[nodiscard]] bool IsSingleton() const;
  /// The largest index a quorum of voters has replicated (by Match).
  [[nodiscard]] Index Committed() const;
  /// Calls f for every member in ascending id order.
  void Visit(const std::function<void(NodeId, Progress&)>& f);
  /// Whether a quorum of voters was recently active (learners do not count).
  [[nodiscard]] bool QuorumActive() const;
  /// Voter ids (both halves of a joint config), sorted.
  [[nodiscard]] std::vector<NodeId> VoterNodes() const;
  /// Learner ids, sorted.
  [[nodiscard]] std::vector<NodeId> LearnerNodes() const;

  /// Forgets all votes (a new election starts).
  void ResetVotes() { votes.clear(); }
  /// Records `id`'s vote unless it already voted in this election.
  void RecordVote(NodeId id, bool granted);
  struct Tally {
    size_t granted = 0;
    size_t rejected = 0;
    quorum::VoteResult result = quorum::VoteResult::kVotePending;
  };
  /// Counts the votes of voters (learners excluded) and decides the election.
  [[nodiscard]] Tally TallyVotes() const;

 private:
  size_t max_inflight_;
  uint64_t max_inflight_bytes_;
};

}  // namespace raftkit::raft::tracker
