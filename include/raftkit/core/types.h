// Small value types shared by the core's public API.
#pragma once

#include <cstdint>
#include <string>

#include "raftkit/util/bytes.h"
#include "raftkit/util/ids.h"

namespace raftkit::raft {

/// The role of a node.
enum class StateType {
  kFollower = 0,
  kCandidate = 1,
  kLeader = 2,
  /// Asking for pre-votes (thesis §9.6) before it dares to become a candidate.
  kPreCandidate = 3,
};

/// "StateFollower", "StateCandidate", "StateLeader", "StatePreCandidate".
const char* Name(StateType s) noexcept;

/// How ReadIndex requests are confirmed (thesis §6.4).
enum class ReadOnlyOption {
  /// The leader confirms it is still leader with a round of heartbeats to a quorum before it
  /// answers. Linearizable without assumptions about clocks. The default.
  kSafe = 0,
  /// The leader answers at once, relying on its lease: with CheckQuorum on, no other leader can
  /// have been elected within an election timeout of the last quorum contact. Cheaper, but
  /// unsafe if clocks drift without bound. Requires CheckQuorum.
  kLeaseBased = 1,
};

/// Volatile state, reported in a Ready when it changes; need not be persisted.
struct SoftState {
  NodeId lead;  ///< kNoNode when no leader is known
  StateType raft_state = StateType::kFollower;

  friend bool operator==(const SoftState&, const SoftState&) = default;
};

/// The answer to a ReadIndex request: once the application has applied up to `index`, reads of
/// state covered by `request_ctx` are linearizable.
struct ReadState {
  Index index;
  Bytes request_ctx;

  friend bool operator==(const ReadState&, const ReadState&) = default;
};

/// The outcome of sending a snapshot, reported with RawNode::ReportSnapshot.
enum class SnapshotStatus { kFinish = 1, kFailure = 2 };

/// A member of the initial configuration, for RawNode::Bootstrap. `context` is stored in the
/// bootstrap ConfChange (raftexample and etcd put the peer URL there).
struct Peer {
  NodeId id;
  Bytes context;
};

}  // namespace raftkit::raft
