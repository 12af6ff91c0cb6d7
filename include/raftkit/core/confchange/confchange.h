// Membership transitions (etcd: raft/confchange). Given the current configuration and progress,
// compute the configuration after a change, or say why the change is invalid. Pure: nothing is
// modified in place; the caller switches to the result.
//
// Three kinds of transition (thesis §4.1 and §4.3):
//   Simple     — at most one voter added or removed (any number of learner changes);
//   EnterJoint — arbitrary changes through a joint configuration C_old,new: the incoming half gets
//                the changes, the outgoing half keeps the old voters until LeaveJoint;
//   LeaveJoint — drop the outgoing half; learners_next become learners.
#pragma once

#include <span>
#include <string>

#include "raftkit/core/tracker/tracker.h"
#include "raftkit/raftpb/types.h"
#include "raftkit/util/status.h"

namespace raftkit::raft::confchange {

/// The outcome of a transition: the new configuration and the progress map that goes with it.
struct Changed {
  tracker::Config config;
  tracker::ProgressMap progress;
};

class Changer {
 public:
  /// `tracker` is read, never modified. `last_index` is the leader's last log index: new members
  /// start probing there.
  Changer(const tracker::ProgressTracker& tracker, Index last_index)
      : tracker_(tracker), last_index_(last_index) {}

  /// Enters a joint configuration applying `changes` to the incoming half. Fails if already joint
  /// or if there are no voters.
  [[nodiscard]] Result<Changed> EnterJoint(bool auto_leave,
                                           std::span<const raftpb::ConfChangeSingle> changes) const;
  /// Leaves the joint configuration. Fails if not joint.
  [[nodiscard]] Result<Changed> LeaveJoint() const;
  /// Applies changes that alter at most one voter. Fails in a joint config, if more than one voter
  /// would change, or if no voter would remain.
  [[nodiscard]] Result<Changed> Simple(std::span<const raftpb::ConfChangeSingle> changes) const;

 private:
  Result<Changed> CheckAndCopy() const;
  Status Apply(Changed* c, std::span<const raftpb::ConfChangeSingle> changes) const;
  void MakeVoter(Changed* c, NodeId id) const;
  void MakeLearner(Changed* c, NodeId id) const;
  void Remove(Changed* c, NodeId id) const;
  void InitProgress(Changed* c, NodeId id, bool is_learner) const;

  const tracker::ProgressTracker& tracker_;
  Index last_index_;
};

/// Checks the invariants of tracker::Config against a progress map; OK or a description.
Status CheckInvariants(const tracker::Config& cfg, const tracker::ProgressMap& progress);

/// Rebuilds the configuration described by `cs` from an empty tracker, through a sequence of
/// simple changes (and one EnterJoint for a joint ConfState), so that restoring a snapshot goes
/// through the same validated code paths as live changes.
[[nodiscard]] Result<Changed> Restore(const tracker::ProgressTracker& empty_tracker,
                                      Index last_index, const raftpb::ConfState& cs);

/// "ConfChangeAddNode(2) ConfChangeRemoveNode(3)"
std::string Describe(std::span<const raftpb::ConfChangeSingle> changes);

}  // namespace raftkit::raft::confchange
