// TEST-ONLY. Bugs planted on purpose to prove that the simulator (tests/sim) catches them. They are
// compiled in only when RAFTKIT_PLANTED_BUGS is defined, which only the raftkit_core_planted
// target does; raftkit_core (what everything else links) contains none of them: Is() is a
// constant false there and the buggy branches are removed by the compiler.
#pragma once

namespace raftkit::raft::planted {

enum class Bug {
  kNone = 0,
  /// Commit an entry of an earlier term once a majority stores it (thesis Figure 3.7 / §3.6.2).
  kCommitPreviousTermByCount,
  /// Grant votes without the election restriction (candidate's log at least as up to date).
  kVoteWithoutLogCheck,
  /// Heartbeats carry the leader's commit index even when the follower's log may differ there.
  kHeartbeatCommitUncapped,
  /// ReadIndex in safe mode answered at once, without confirming leadership with a quorum.
  kReadIndexWithoutQuorum,
  /// A follower appends after a matching prefix without removing conflicting entries.
  kKeepConflictingEntries,
  /// A multi-member ConfChangeV2 applied as a series of simple changes (no joint consensus).
  kMultiVoterChangeWithoutJoint,
};

#ifdef RAFTKIT_PLANTED_BUGS
/// The bug in effect for the whole process (kNone by default).
Bug& Active();
inline bool Is(Bug b) {
  return Active() == b;
}
#else
constexpr bool Is(Bug /*b*/) {
  return false;
}
#endif

}  // namespace raftkit::raft::planted
