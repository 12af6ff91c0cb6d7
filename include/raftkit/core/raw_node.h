// RawNode: the Raft state machine with a Ready/Advance interface (etcd: raft.RawNode).
//
// The caller owns the loop (docs/ready_loop.md has the full contract):
//
//   for (;;) {
//     feed it: node.Tick() on a timer, node.Step(msg) for every message received,
//              node.Propose(...) / ReadIndex(...) / ... for client requests;
//     if (node.HasReady()) {
//       Ready rd = node.GetReady();
//       1. persist rd.snapshot (if any), rd.entries and rd.hard_state — durably if rd.must_sync;
//       2. send rd.messages (only after step 1 for everything they depend on);
//       3. apply rd.committed_entries (and ApplyConfChange for conf changes), serve rd.read_states;
//       node.Advance(rd);
//     }
//   }
//
// RawNode is not thread-safe: one thread drives it. It does no I/O, reads no clock and draws no
// hidden randomness; the same inputs (and Config::random_seed) give the same outputs.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "raftkit/core/config.h"
#include "raftkit/core/tracker/tracker.h"
#include "raftkit/core/types.h"
#include "raftkit/raftpb/types.h"
#include "raftkit/util/status.h"

namespace raftkit::raft {

class Raft;

/// A batch of work for the application. All fields are read-only snapshots.
struct Ready {
  /// Set when the leader or role changed since the last Ready. Need not be persisted.
  std::optional<SoftState> soft_state;
  /// Empty (IsEmpty()) when unchanged. Persist before sending messages.
  raftpb::HardState hard_state;
  /// Answers to ReadIndex requests.
  std::vector<ReadState> read_states;
  /// Entries to append to stable storage before sending messages.
  std::vector<raftpb::Entry> entries;
  /// A snapshot to persist and apply (IsEmpty() when none).
  raftpb::Snapshot snapshot;
  /// Entries that are committed and may be applied, in order. They were persisted by an earlier
  /// (or this) Ready.
  std::vector<raftpb::Entry> committed_entries;
  /// Messages to send after `entries` and `hard_state` are persisted. If one is a MsgSnap, report
  /// its fate with ReportSnapshot.
  std::vector<raftpb::Message> messages;
  /// Whether `hard_state` and `entries` must be written synchronously (fsync) before sending:
  /// true when entries were added or the term or vote changed (commit alone may be lazy).
  bool must_sync = false;

  /// Whether there is anything in it.
  [[nodiscard]] bool ContainsUpdates() const;
};

/// What the node looks like, for observers (etcd: raft.BasicStatus).
struct BasicStatus {
  NodeId id;
  raftpb::HardState hard_state;
  SoftState soft_state;
  Index applied;
  NodeId lead_transferee;
};

/// BasicStatus plus the configuration and, on a leader, every member's progress.
struct NodeStatus {
  BasicStatus basic;
  tracker::Config config;
  /// Only filled on the leader.
  tracker::ProgressMap progress;

  /// The JSON etcd's Status.MarshalJSON produces (ids in hex), for operators.
  [[nodiscard]] std::string ToJson() const;
};

class RawNode {
 public:
  /// Creates a node from `config` (validated; kInvalidArgument on a bad field). Restarts from the
  /// state in config.storage if there is any.
  static Result<std::unique_ptr<RawNode>> Create(const Config& config);
  ~RawNode();
  RawNode(const RawNode&) = delete;
  RawNode& operator=(const RawNode&) = delete;

  /// Sets up a brand-new cluster: appends one committed ConfChange(AddNode) entry per peer at term
  /// 1 (what raftexample and etcd do on first start) and applies them. Errors if storage is not
  /// empty or peers is empty. The caller persists the entries through the next Ready as usual.
  Status Bootstrap(const std::vector<Peer>& peers);

  /// Advances the logical clock by one tick (election and heartbeat timeouts are counted in ticks).
  void Tick();
  /// Advances only the election clock, for an idle group that skips heartbeats. Use with care.
  void TickQuiesced();
  /// Starts an election now (MsgHup).
  Status Campaign();
  /// Proposes data to be appended to the log. kProposalDropped if it cannot be (no leader known,
  /// forwarding disabled, leadership transfer in progress, uncommitted-size limit reached...).
  /// Acceptance does not mean it will commit: watch committed_entries.
  Status Propose(Bytes data);
  /// Proposes several payloads at once. They are appended together, in order, as one MsgProp, so
  /// the whole batch costs one round of replication messages instead of one per entry (what a
  /// server does with concurrent client requests). All or nothing: kProposalDropped drops every
  /// entry. An empty batch is kInvalidArgument.
  Status ProposeBatch(std::span<const Bytes> batch);
  /// Proposes a membership change (v1: stored as EntryConfChange).
  Status ProposeConfChange(const raftpb::ConfChange& cc);
  /// Proposes a membership change (v2: stored as EntryConfChangeV2; may use joint consensus).
  Status ProposeConfChange(const raftpb::ConfChangeV2& cc);
  /// Applies a committed conf change to the configuration; call it for each conf change entry in
  /// committed_entries, in order. Returns the new ConfState (to persist with the next snapshot).
  raftpb::ConfState ApplyConfChange(const raftpb::ConfChange& cc);
  raftpb::ConfState ApplyConfChange(const raftpb::ConfChangeV2& cc);
  /// Feeds a message received from a peer. kStepLocalMsg for local-only types;
  /// kStepPeerNotFound for a response from a node that is not a member; kInvalidArgument for a
  /// malformed message (a MsgProp without entries or with a term, a MsgReadIndex without exactly
  /// one entry or with a term, a MsgApp whose entries do not follow its index, a vote message
  /// without a term) — etcd would abort on those.
  Status Step(raftpb::Message m);

  /// Whether GetReady() would return something.
  [[nodiscard]] bool HasReady() const;
  /// The pending work. Every Ready must be followed by Advance(rd) before the next GetReady().
  Ready GetReady();
  /// Tells the node that `rd` was handled: entries persisted, committed entries applied.
  void Advance(const Ready& rd);

  /// The node's status (with progress when leader).
  [[nodiscard]] NodeStatus GetStatus() const;
  /// The cheap part of the status (no allocation of progress maps).
  [[nodiscard]] BasicStatus GetBasicStatus() const;

  /// Reports that the last message to `id` could not be delivered; the leader stops streaming to
  /// it and probes instead.
  void ReportUnreachable(NodeId id);
  /// Reports whether a snapshot sent to `id` was delivered and applied.
  void ReportSnapshot(NodeId id, SnapshotStatus status);
  /// Asks the leader to hand leadership to `transferee` (thesis §3.10). Any node may call it; a
  /// follower forwards the request to the leader.
  void TransferLeader(NodeId transferee);
  /// Requests a read index; the answer arrives in Ready::read_states with the same `rctx`, which
  /// should be unique per request.
  void ReadIndex(Bytes rctx);

  /// True on a leader whose log holds a configuration change (or, just after its election, any
  /// entry) not yet applied: a conf change proposed now would be turned into an empty entry, as
  /// etcd does. A caller that wants its change to take effect proposes it once this is false.
  [[nodiscard]] bool ConfChangePending() const;

  /// The state machine, for tests that need to look inside. Not part of the stable API.
  Raft& raft_for_testing() { return *raft_; }

 private:
  explicit RawNode(std::unique_ptr<Raft> r);

  std::unique_ptr<Raft> raft_;
  SoftState prev_soft_;
  raftpb::HardState prev_hard_;
};

/// Whether a Ready's HardState/entries must be fsynced (etcd's MustSync).
[[nodiscard]] bool MustSync(const raftpb::HardState& st, const raftpb::HardState& prev,
                            size_t num_entries);

/// The text form of a Ready used by scenario tests (etcd's DescribeReady layout).
std::string DescribeReady(const Ready& rd);

}  // namespace raftkit::raft
