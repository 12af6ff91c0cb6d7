// The Raft state machine (etcd: raft.go). Internal to the core: applications use RawNode.
//
// One Raft object is one member. It reacts to three inputs — Tick() (logical time), Step(msg)
// (messages from peers and local requests), and the application's Advance() of a Ready — and
// produces outputs into `msgs`, `read_states` and the log's unstable part, which RawNode packages
// as a Ready. It never blocks, sleeps, reads a clock or does I/O.
//
// Fields are public so the core's tests can set up and inspect situations directly, as etcd's
// tests do; nothing outside src/core and tests/ sees this header.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/raft_log.h"
#include "core/read_only.h"
#include "raftkit/core/confchange/confchange.h"
#include "raftkit/core/config.h"
#include "raftkit/core/raw_node.h"
#include "raftkit/core/tracker/tracker.h"
#include "raftkit/core/types.h"
#include "raftkit/raftpb/types.h"
#include "raftkit/util/logger.h"
#include "raftkit/util/rand.h"

namespace raftkit::raft {

/// Why an election is started.
enum class CampaignType {
  kPreElection,  ///< first phase when pre-vote is on: ask without incrementing the term
  kElection,     ///< a normal election
  kTransfer,     ///< leadership transfer: skips pre-vote and the lease (thesis §3.10)
};

/// The context of vote requests of a leadership transfer: lets them through a follower's lease.
inline constexpr std::string_view kCampaignTransferContext = "CampaignTransfer";

class Raft {
 public:
  /// Builds a member from an already validated config (Config::Validate()). Panics if the storage
  /// is unreadable or inconsistent, or if both config.peers and a stored ConfState are given.
  explicit Raft(const Config& c);

  /// Handles one message (local or from a peer). Returns kProposalDropped when a proposal cannot
  /// be accepted; every other outcome shows up in msgs / the log / the state.
  Status Step(raftpb::Message m);
  /// One logical clock tick: election timeout for followers and candidates, heartbeat (and
  /// CheckQuorum / transfer timeout) for the leader.
  void Tick();

  // --- role transitions (thesis §3.4, Figure 3.3) ---
  void BecomeFollower(Term term, NodeId lead);
  void BecomeCandidate();
  void BecomePreCandidate();
  void BecomeLeader();
  void Campaign(CampaignType t);

  // --- called through RawNode ---
  /// The application handled `rd`: its entries and snapshot are persisted and its committed
  /// entries applied. Moves the applied cursor, stabilizes the unstable log, and (leader) starts
  /// the automatic exit from a joint configuration once it is applied.
  void Advance(const Ready& rd);
  /// Applies a committed conf change; returns the resulting ConfState.
  raftpb::ConfState ApplyConfChange(const raftpb::ConfChangeV2& cc);

  [[nodiscard]] SoftState GetSoftState() const { return SoftState{lead, state}; }
  [[nodiscard]] raftpb::HardState GetHardState() const;
  /// Whether this node may become leader: it is a voter in the current configuration.
  [[nodiscard]] bool Promotable() const;
  /// Whether this node may start an election: it is promotable, or it is a voter that was removed
  /// by the configuration it applied last (thesis §4.2.2: it may still be needed, see
  /// removed_voter). A removed voter always campaigns through a pre-vote round.
  [[nodiscard]] bool CanCampaign() const { return Promotable() || removed_voter; }
  [[nodiscard]] bool HasLeader() const { return lead != kNoNode; }
  [[nodiscard]] bool PastElectionTimeout() const {
    return election_elapsed >= randomized_election_timeout;
  }
  void ResetRandomizedElectionTimeout();

  // --- state (see etcd's raft struct for the same fields) ---
  NodeId id;
  Term term;
  NodeId vote;
  std::vector<ReadState> read_states;
  RaftLog log;
  uint64_t max_msg_size;
  uint64_t max_uncommitted_size;
  tracker::ProgressTracker prs;
  StateType state = StateType::kFollower;
  /// Whether this node is a learner in the current configuration.
  bool is_learner = false;
  /// Set when a configuration change removed this node while it was a voter. The members of the
  /// new configuration decide elections with the configuration they have *applied*; those that
  /// have not yet learned that the change committed still need votes of the old configuration,
  /// and the removed voter may hold the longest log (so it would refuse to vote for them). It
  /// therefore keeps the right to campaign (without counting its own vote) until it rejoins a
  /// configuration or stops. Not in etcd 3.4 (docs/etcd-deviations.md #10).
  bool removed_voter = false;
  /// Outgoing messages, in the order they were produced.
  std::vector<raftpb::Message> msgs;
  NodeId lead;
  /// Target of a leadership transfer in progress (kNoNode when none; thesis §3.10).
  NodeId lead_transferee;
  /// Invariant: no conf change may be proposed while applied < pending_conf_index, which is at
  /// least the index of the latest conf change in the log (one change at a time; thesis §4.1).
  Index pending_conf_index;
  /// What etcd 3.4 would hold in pending_conf_index (it does not move it past the automatic leave
  /// entry). Only used to report deviation #5 to the conformance runner (core/deviations.h).
  Index pending_conf_index_etcd;
  /// Payload bytes of uncommitted entries appended by this leader; reset on term change.
  uint64_t uncommitted_size = 0;
  ReadOnly read_only;
  /// Ticks since the last election timeout (leader/candidate), or since the last valid message
  /// from the leader (follower).
  int election_elapsed = 0;
  /// Ticks since the last heartbeat (leader only).
  int heartbeat_elapsed = 0;
  bool check_quorum;
  bool pre_vote;
  int heartbeat_timeout;
  int election_timeout;
  /// Drawn from [election_timeout, 2 * election_timeout) on every role change.
  int randomized_election_timeout = 0;
  bool disable_proposal_forwarding;
  /// MsgReadIndex requests that arrived before this leader committed an entry of its term; they
  /// are answered once it has (thesis §6.4: the read index must be at least the leader's first
  /// commit in its term).
  std::vector<raftpb::Message> pending_read_index_messages;

  Logger& logger() { return *logger_; }

  // --- internals exposed for tests ---
  void Send(raftpb::Message m);
  void SendAppend(NodeId to);
  bool MaybeSendAppend(NodeId to, bool send_if_empty);
  void SendHeartbeat(NodeId to, Bytes ctx);
  void BcastAppend();
  void BcastHeartbeat();
  void BcastHeartbeatWithCtx(const Bytes& ctx);
  bool MaybeCommit();
  void Reset(Term t);
  bool AppendEntry(std::vector<raftpb::Entry> es);
  void TickElection();
  void TickHeartbeat();
  /// Records a vote from `from` and returns the tally.
  tracker::ProgressTracker::Tally Poll(NodeId from, raftpb::MessageType t, bool granted);
  void HandleAppendEntries(const raftpb::Message& m);
  void HandleHeartbeat(const raftpb::Message& m);
  void HandleSnapshot(const raftpb::Message& m);
  bool Restore(const raftpb::Snapshot& s);
  raftpb::ConfState SwitchToConfig(tracker::Config cfg, tracker::ProgressMap progress);
  /// Switches to the configuration a ConfState describes (start-up, snapshot restore).
  void SwitchToConfState(const raftpb::ConfState& cs);
  void LoadState(const raftpb::HardState& hs);
  void SendTimeoutNow(NodeId to);
  void AbortLeaderTransfer() { lead_transferee = kNoNode; }
  bool CommittedEntryInCurrentTerm() const;
  raftpb::Message ResponseToReadIndexReq(const raftpb::Message& req, Index read_index);
  bool IncreaseUncommittedSize(const std::vector<raftpb::Entry>& ents);
  void ReduceUncommittedSize(const std::vector<raftpb::Entry>& ents);

 private:
  Status StepLeader(raftpb::Message& m);
  Status StepCandidate(raftpb::Message& m);
  Status StepFollower(raftpb::Message& m);
  /// Handles the term of an incoming message (thesis §3.3: a higher term makes us a follower).
  /// Returns false when the message must be ignored.
  bool HandleMessageTerm(const raftpb::Message& m);
  void HandleVoteRequest(const raftpb::Message& m);
  Status HandleProposal(raftpb::Message& m);
  void HandleReadIndex(raftpb::Message& m);
  void HandleAppendResponse(const raftpb::Message& m, tracker::Progress& pr);
  void HandleHeartbeatResponse(const raftpb::Message& m, tracker::Progress& pr);
  void HandleTransferLeader(const raftpb::Message& m, tracker::Progress& pr);
  void ReleasePendingReadIndexMessages();
  void SendReadIndexResponse(raftpb::Message m);
  bool HasUnappliedConfChanges() const;

  Logger* logger_;
  Rand rand_;
};

}  // namespace raftkit::raft
