// Configuration of one Raft node (etcd: raft.Config).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "raftkit/core/storage.h"
#include "raftkit/core/types.h"
#include "raftkit/util/logger.h"
#include "raftkit/util/status.h"

namespace raftkit::raft {

struct Config {
  /// This node's id. Must not be 0.
  NodeId id;

  /// Ticks without hearing from a leader before a follower campaigns. The actual timeout is drawn
  /// uniformly from [election_tick, 2 * election_tick) after every state change (thesis §3.4).
  /// Must be greater than heartbeat_tick; 10 * heartbeat_tick is a good choice.
  int election_tick = 10;
  /// Ticks between the leader's heartbeats.
  int heartbeat_tick = 1;

  /// The node's log and state. Not owned; must outlive the RawNode.
  Storage* storage = nullptr;
  /// The last index the application has applied, when restarting. Committed entries up to it are
  /// not handed out again.
  Index applied;

  /// Upper bound on the encoded size of the entries in one MsgApp (at least one entry is always
  /// sent). 0 means one entry per message; kNoLimit means no limit.
  uint64_t max_size_per_msg = 1024 * 1024;
  /// Upper bound on the size of Ready::committed_entries. 0 means "same as max_size_per_msg".
  uint64_t max_committed_size_per_ready = 0;
  /// Upper bound on the payload bytes of uncommitted entries in the leader's log; proposals beyond
  /// it are dropped (kProposalDropped). 0 means no limit. A proposal larger than the limit is still
  /// accepted when nothing is uncommitted, so progress is always possible.
  uint64_t max_uncommitted_entries_size = 0;
  /// Maximum number of unacknowledged MsgApps per follower in the replicate state. Must be > 0.
  size_t max_inflight_msgs = 256;
  /// Maximum payload bytes of unacknowledged MsgApps per follower. 0 means no byte limit. (Not in
  /// etcd 3.4; the same as later etcd versions' MaxInflightBytes.)
  uint64_t max_inflight_bytes = 0;

  /// The leader steps down when it has not heard from a quorum within an election timeout, and
  /// followers ignore vote requests while they have a leader (the lease; thesis §6.2, §9.6).
  bool check_quorum = false;
  /// Run a pre-vote round before incrementing the term (thesis §9.6), so that a partitioned node
  /// rejoining does not disrupt the cluster.
  bool pre_vote = false;
  ReadOnlyOption read_only_option = ReadOnlyOption::kSafe;
  /// Followers drop proposals instead of forwarding them to the leader.
  bool disable_proposal_forwarding = false;

  /// Seed of the randomized election timeout. Different nodes should use different seeds (the
  /// default mixes in the node id); the same seed replays the same timeouts.
  uint64_t random_seed = 0;
  /// Where the core reports what it does. Not owned; nullptr means no logging.
  Logger* logger = nullptr;

  /// The initial voters and learners, for tests only: a real cluster starts from
  /// RawNode::Bootstrap or from the ConfState in storage. Must be empty when storage has one.
  std::vector<NodeId> peers;
  std::vector<NodeId> learners;

  /// Checks the configuration; on success returns a copy with defaults filled in
  /// (max_uncommitted_entries_size 0 -> kNoLimit, max_committed_size_per_ready 0 ->
  /// max_size_per_msg). Errors are kInvalidArgument with a message naming the field.
  [[nodiscard]] Result<Config> Validate() const;
};

}  // namespace raftkit::raft
