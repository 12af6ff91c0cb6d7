// Construction, role transitions, sending, ticking, configuration and snapshot restore. Message
// handling (Step) is in raft_step.cc.
#include "core/raft.h"
#include "core/deviations.h"
#include "core/log.h"
#include "core/planted_bugs.h"

#include <algorithm>

#include <fmt/format.h>

#include "raftkit/raftpb/codec.h"
#include "raftkit/raftpb/describe.h"
#include "raftkit/util/panic.h"

namespace raftkit::raft {

using raftpb::Entry;
using raftpb::EntryType;
using raftpb::Message;
using raftpb::MessageType;

const char* Name(StateType s) noexcept {
  switch (s) {
    case StateType::kFollower:
      return "StateFollower";
    case StateType::kCandidate:
      return "StateCandidate";
    case StateType::kLeader:
      return "StateLeader";
    case StateType::kPreCandidate:
      return "StatePreCandidate";
  }
  return "StateType(?)";
}

namespace {

Logger& LoggerOf(const Config& c) {
  return c.logger != nullptr ? *c.logger : NullLogger();
}

// Mixes the node id into the seed so that nodes configured with the same seed (the default 0)
// still draw different election timeouts.
uint64_t SeedFor(const Config& c) {
  return c.random_seed ^ (c.id.value() * 0x9e3779b97f4a7c15ULL);
}

std::string JoinHex(const std::vector<NodeId>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    out += fmt::format("{:x}", ids[i]);
  }
  return out;
}

}  // namespace

Raft::Raft(const Config& c)
    : id(c.id),
      log(*c.storage, LoggerOf(c), c.max_committed_size_per_ready),
      max_msg_size(c.max_size_per_msg),
      max_uncommitted_size(c.max_uncommitted_entries_size),
      prs(c.max_inflight_msgs, c.max_inflight_bytes),
      read_only(c.read_only_option),
      check_quorum(c.check_quorum),
      pre_vote(c.pre_vote),
      heartbeat_timeout(c.heartbeat_tick),
      election_timeout(c.election_tick),
      disable_proposal_forwarding(c.disable_proposal_forwarding),
      logger_(&LoggerOf(c)),
      rand_(SeedFor(c)) {
  auto init = c.storage->GetInitialState();
  RAFTKIT_CHECK(init.ok(), "storage GetInitialState failed: {}", init.status().ToString());
  raftpb::HardState hs = init->hard_state;
  raftpb::ConfState cs = init->conf_state;
  if (!c.peers.empty() || !c.learners.empty()) {
    // Test-only shortcut for setting up the initial configuration.
    RAFTKIT_CHECK(cs.voters.empty() && cs.learners.empty(),
                  "cannot specify both Config.peers/learners and a ConfState in storage");
    cs.voters = c.peers;
    cs.learners = c.learners;
  }

  SwitchToConfState(cs);
  if (!hs.IsEmpty()) LoadState(hs);
  if (c.applied > Index(0)) log.AppliedTo(c.applied);
  BecomeFollower(term, kNoNode);

  RAFT_INFO(
      "newRaft {:x} [peers: [{}], term: {}, commit: {}, applied: {}, lastindex: {}, "
      "lastterm: {}]",
      id, JoinHex(prs.VoterNodes()), term, log.committed(), log.applied(), log.LastIndex(),
      log.LastTerm());
}

raftpb::HardState Raft::GetHardState() const {
  raftpb::HardState hs;
  hs.term = term;
  hs.vote = vote;
  hs.commit = log.committed();
  return hs;
}

bool Raft::Promotable() const {
  auto it = prs.progress.find(id);
  return it != prs.progress.end() && !it->second.is_learner;
}

void Raft::ResetRandomizedElectionTimeout() {
  const auto spread = static_cast<uint64_t>(election_timeout);
  randomized_election_timeout = election_timeout + static_cast<int>(rand_.Uniform(spread));
}

// ---------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------

void Raft::Send(Message m) {
  m.from = id;
  const bool vote_family = m.type == MessageType::MsgVote || m.type == MessageType::MsgVoteResp ||
                           m.type == MessageType::MsgPreVote ||
                           m.type == MessageType::MsgPreVoteResp;
  if (vote_family) {
    // Vote messages carry the term they are about, set by the caller: the campaign term for
    // requests, the request's term for grants (so a pre-candidate recognises them).
    RAFTKIT_CHECK(m.term != Term(0), "term should be set when sending {}", raftpb::Name(m.type));
  } else {
    RAFTKIT_CHECK(m.term == Term(0), "term should not be set when sending {} (was {})",
                  raftpb::Name(m.type), m.term);
    // Proposals and read-index requests are forwarded to the leader like local messages: no term,
    // so they are never rejected as stale.
    if (m.type != MessageType::MsgProp && m.type != MessageType::MsgReadIndex) m.term = term;
  }
  msgs.push_back(std::move(m));
}

void Raft::SendAppend(NodeId to) {
  MaybeSendAppend(to, true);
}

bool Raft::MaybeSendAppend(NodeId to, bool send_if_empty) {
  tracker::Progress& pr = prs.progress.at(to);
  if (pr.IsPaused()) return false;
  // Fast path of the "send more if there is more" loops: nothing new to send.
  if (!send_if_empty && pr.next > log.LastIndex()) return false;

  Message m;
  m.to = to;
  Result<Term> prev_term = log.TermAt(pr.next - 1);
  Result<std::vector<Entry>> ents = log.EntriesFrom(pr.next, max_msg_size);
  // Nothing to send (no new entries, or they are compacted) and an empty message is not wanted:
  // a snapshot, if needed, waits for the next SendAppend (e.g. on a heartbeat response).
  if ((!ents.ok() || ents->empty()) && !send_if_empty) return false;

  if (!prev_term.ok() || !ents.ok()) {
    // The entries the follower needs are compacted: send a snapshot instead (thesis §5.1).
    if (!pr.recent_active) {
      RAFT_DEBUG("ignore sending snapshot to {:x} since it is not recently active", to);
      return false;
    }
    Result<raftpb::Snapshot> snap = log.GetSnapshot();
    if (!snap.ok()) {
      if (snap.code() == ErrorCode::kSnapshotTemporarilyUnavailable) {
        RAFT_DEBUG(
            "{:x} failed to send snapshot to {:x} because snapshot is temporarily "
            "unavailable",
            id, to);
        return false;
      }
      RAFTKIT_PANIC("storage GetSnapshot failed: {}", snap.status().ToString());
    }
    RAFTKIT_CHECK(!snap->IsEmpty(), "need non-empty snapshot");
    m.type = MessageType::MsgSnap;
    const Index sindex = snap->metadata.index;
    const Term sterm = snap->metadata.term;
    m.snapshot = std::move(snap).value();
    RAFT_DEBUG(
        "{:x} [firstindex: {}, commit: {}] sent snapshot[index: {}, term: {}] to {:x} "
        "[{}]",
        id, log.FirstIndex(), log.committed(), sindex, sterm, to, pr.String());
    pr.BecomeSnapshot(sindex);
    RAFT_DEBUG("{:x} paused sending replication messages to {:x} [{}]", id, to, pr.String());
  } else {
    m.type = MessageType::MsgApp;
    m.index = pr.next - 1;
    m.log_term = *prev_term;
    m.entries = std::move(ents).value();
    m.commit = log.committed();
    if (!m.entries.empty()) {
      switch (pr.state) {
        case tracker::StateType::kReplicate: {
          // Optimistic: assume delivery and move on (thesis §10.2.1 pipelining).
          const Index last = m.entries.back().index;
          uint64_t bytes = 0;
          for (const Entry& e : m.entries)
            bytes += e.PayloadSize();
          pr.OptimisticUpdate(last);
          pr.inflights.Add(last, bytes);
          break;
        }
        case tracker::StateType::kProbe:
          pr.probe_sent = true;
          break;
        default:
          RAFTKIT_PANIC("{:x} is sending append in unhandled state {}", id,
                        tracker::Name(pr.state));
      }
    }
  }
  Send(std::move(m));
  return true;
}

void Raft::SendHeartbeat(NodeId to, Bytes ctx) {
  // The commit index sent is capped at what the follower is known to hold: a follower must never
  // commit an index it may not have (its log could still differ there).
  Message m;
  m.to = to;
  m.type = MessageType::MsgHeartbeat;
  m.commit = planted::Is(planted::Bug::kHeartbeatCommitUncapped)
                 ? log.committed()
                 : Min(prs.progress.at(to).match, log.committed());
  m.context = std::move(ctx);
  Send(std::move(m));
}

void Raft::BcastAppend() {
  for (auto& [pid, pr] : prs.progress) {
    if (pid != id) SendAppend(pid);
  }
}

void Raft::BcastHeartbeat() {
  const std::string last_ctx = read_only.LastPendingRequestCtx();
  BcastHeartbeatWithCtx(last_ctx.empty() ? Bytes() : Bytes(last_ctx));
}

void Raft::BcastHeartbeatWithCtx(const Bytes& ctx) {
  for (auto& [pid, pr] : prs.progress) {
    if (pid != id) SendHeartbeat(pid, ctx);
  }
}

void Raft::SendTimeoutNow(NodeId to) {
  Message m;
  m.to = to;
  m.type = MessageType::MsgTimeoutNow;
  Send(std::move(m));
}

// ---------------------------------------------------------------------------------------------
// Log and commit
// ---------------------------------------------------------------------------------------------

bool Raft::MaybeCommit() {
  return log.MaybeCommit(prs.Committed(), term);
}

bool Raft::AppendEntry(std::vector<Entry> es) {
  const Index li = log.LastIndex();
  for (size_t i = 0; i < es.size(); ++i) {
    es[i].term = term;
    es[i].index = li + 1 + i;
  }
  if (!IncreaseUncommittedSize(es)) {
    RAFT_DEBUG(
        "{:x} appending new entries to log would exceed uncommitted entry size limit; "
        "dropping proposal",
        id);
    return false;
  }
  const Index last = log.Append(es);
  // A leader that is not a member of its configuration (a removed voter) has no progress of its
  // own.
  if (auto self = prs.progress.find(id); self != prs.progress.end()) self->second.MaybeUpdate(last);
  // The caller broadcasts; a single-voter cluster commits right here.
  MaybeCommit();
  return true;
}

bool Raft::IncreaseUncommittedSize(const std::vector<Entry>& ents) {
  uint64_t s = 0;
  for (const Entry& e : ents)
    s += e.PayloadSize();
  // With nothing uncommitted any proposal is accepted, however large, so progress is possible.
  if (uncommitted_size > 0 && uncommitted_size + s > max_uncommitted_size) return false;
  uncommitted_size += s;
  return true;
}

void Raft::ReduceUncommittedSize(const std::vector<Entry>& ents) {
  if (uncommitted_size == 0) return;  // followers do not track it
  uint64_t s = 0;
  for (const Entry& e : ents)
    s += e.PayloadSize();
  // The estimate may undercount (entries from earlier terms), never overcount: saturate at 0.
  uncommitted_size = s > uncommitted_size ? 0 : uncommitted_size - s;
}

bool Raft::CommittedEntryInCurrentTerm() const {
  return log.ZeroTermOnErrCompacted(log.TermAt(log.committed())) == term;
}

void Raft::LoadState(const raftpb::HardState& hs) {
  RAFTKIT_CHECK(hs.commit <= log.LastIndex(), "{:x} state.commit {} is out of range [{}, {}]", id,
                hs.commit, log.committed(), log.LastIndex());
  // A stored snapshot proves everything up to its index committed, even if the HardState written
  // with it did not reach the disk (etcd 3.4 panics here; docs/etcd-deviations.md #11).
  if (hs.commit < log.committed()) deviation::Note(11);  // etcd 3.4 panics
  log.set_committed(Max(hs.commit, log.committed()));
  term = hs.term;
  vote = hs.vote;
}

// ---------------------------------------------------------------------------------------------
// Role transitions
// ---------------------------------------------------------------------------------------------

void Raft::Reset(Term t) {
  if (term != t) {
    term = t;
    vote = kNoNode;
  }
  lead = kNoNode;
  election_elapsed = 0;
  heartbeat_elapsed = 0;
  ResetRandomizedElectionTimeout();
  AbortLeaderTransfer();
  prs.ResetVotes();
  const Index last = log.LastIndex();
  for (auto& [pid, pr] : prs.progress) {
    const bool learner = pr.is_learner;
    pr = prs.NewProgress();
    pr.next = last + 1;
    pr.is_learner = learner;
    if (pid == id) pr.match = last;
  }
  pending_conf_index = Index(0);
  pending_conf_index_etcd = Index(0);
  uncommitted_size = 0;
  read_only = ReadOnly(read_only.option());
}

void Raft::BecomeFollower(Term t, NodeId leader) {
  Reset(t);
  lead = leader;
  state = StateType::kFollower;
  RAFT_INFO("{:x} became follower at term {}", id, term);
}

void Raft::BecomeCandidate() {
  RAFTKIT_CHECK(state != StateType::kLeader, "invalid transition [leader -> candidate]");
  Reset(term + 1);
  vote = id;
  state = StateType::kCandidate;
  RAFT_INFO("{:x} became candidate at term {}", id, term);
}

void Raft::BecomePreCandidate() {
  RAFTKIT_CHECK(state != StateType::kLeader, "invalid transition [leader -> pre-candidate]");
  // A pre-candidate changes neither its term nor its vote (thesis §9.6): only its role, so that
  // losing the pre-vote leaves no trace.
  prs.ResetVotes();
  lead = kNoNode;
  state = StateType::kPreCandidate;
  RAFT_INFO("{:x} became pre-candidate at term {}", id, term);
}

void Raft::BecomeLeader() {
  RAFTKIT_CHECK(state != StateType::kFollower, "invalid transition [follower -> leader]");
  Reset(term);
  lead = id;
  state = StateType::kLeader;
  // The leader trivially replicates to itself.
  if (auto self = prs.progress.find(id); self != prs.progress.end()) {
    self->second.BecomeReplicate();
  } else {
    // Leading a configuration we are not part of (removed while campaigning, or a removed voter
    // that campaigned): etcd 3.4 dereferences the missing progress and crashes.
    deviation::Note(10);
  }
  // There may be a conf change in the uncommitted tail: be conservative and refuse new ones until
  // everything up to here is applied (cheaper than scanning the log).
  pending_conf_index = log.LastIndex();
  pending_conf_index_etcd = pending_conf_index;

  // An empty entry of the new term lets the leader commit everything before it (thesis §3.6.2,
  // §6.4: also needed before serving reads).
  std::vector<Entry> empty(1);
  RAFTKIT_CHECK(AppendEntry(empty), "empty entry was dropped");
  // The empty entry does not count against the uncommitted quota, so that one proposal larger
  // than the quota is still accepted when the tail is otherwise empty.
  ReduceUncommittedSize(empty);
  RAFT_INFO("{:x} became leader at term {}", id, term);
}

void Raft::Campaign(CampaignType t) {
  if (!CanCampaign()) {
    // Callers check; this is a last line of defence.
    RAFT_WARN("{:x} is unpromotable; campaign() should have been called", id);
  }
  Term vote_term;
  MessageType vote_msg;
  if (t == CampaignType::kPreElection) {
    BecomePreCandidate();
    vote_msg = MessageType::MsgPreVote;
    // Pre-votes ask about the next term without moving to it.
    vote_term = term + 1;
  } else {
    BecomeCandidate();
    vote_msg = MessageType::MsgVote;
    vote_term = term;
  }
  if (Poll(id, raftpb::VoteResponseType(vote_msg), true).result == quorum::VoteResult::kVoteWon) {
    // Our own vote is a quorum: a single-voter cluster.
    if (t == CampaignType::kPreElection) {
      Campaign(CampaignType::kElection);
    } else {
      BecomeLeader();
    }
    return;
  }
  for (NodeId voter : prs.config.voters.IDs()) {
    if (voter == id) continue;
    RAFT_INFO("{:x} [logterm: {}, index: {}] sent {} request to {:x} at term {}", id,
              log.LastTerm(), log.LastIndex(), raftpb::Name(vote_msg), voter, term);
    Message m;
    m.term = vote_term;
    m.to = voter;
    m.type = vote_msg;
    m.index = log.LastIndex();
    m.log_term = log.LastTerm();
    if (t == CampaignType::kTransfer) m.context = Bytes(kCampaignTransferContext);
    Send(std::move(m));
  }
}

tracker::ProgressTracker::Tally Raft::Poll(NodeId from, MessageType t, bool granted) {
  if (granted) {
    RAFT_INFO("{:x} received {} from {:x} at term {}", id, raftpb::Name(t), from, term);
  } else {
    RAFT_INFO("{:x} received {} rejection from {:x} at term {}", id, raftpb::Name(t), from, term);
  }
  prs.RecordVote(from, granted);
  return prs.TallyVotes();
}

// ---------------------------------------------------------------------------------------------
// Ticks
// ---------------------------------------------------------------------------------------------

void Raft::Tick() {
  if (state == StateType::kLeader) {
    TickHeartbeat();
  } else {
    TickElection();
  }
}

void Raft::TickElection() {
  ++election_elapsed;
  if (CanCampaign() && PastElectionTimeout()) {
    election_elapsed = 0;
    Message m;
    m.from = id;
    m.type = MessageType::MsgHup;
    (void)Step(std::move(m));
  }
}

void Raft::TickHeartbeat() {
  ++heartbeat_elapsed;
  ++election_elapsed;
  if (election_elapsed >= election_timeout) {
    election_elapsed = 0;
    if (check_quorum) {
      Message m;
      m.from = id;
      m.type = MessageType::MsgCheckQuorum;
      (void)Step(std::move(m));
    }
    // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
    if (state == StateType::kLeader && lead_transferee != kNoNode) AbortLeaderTransfer();
  }
  if (state != StateType::kLeader) return;  // CheckQuorum may have deposed us
  if (heartbeat_elapsed >= heartbeat_timeout) {
    heartbeat_elapsed = 0;
    Message m;
    m.from = id;
    m.type = MessageType::MsgBeat;
    (void)Step(std::move(m));
  }
}

// ---------------------------------------------------------------------------------------------
// Ready bookkeeping
// ---------------------------------------------------------------------------------------------

void Raft::Advance(const Ready& rd) {
  // What the application has applied: the last committed entry handed out, or the snapshot.
  Index applied_cursor;
  if (!rd.committed_entries.empty()) {
    applied_cursor = rd.committed_entries.back().index;
  } else if (rd.snapshot.metadata.index > Index(0)) {
    applied_cursor = rd.snapshot.metadata.index;
  }
  if (applied_cursor > Index(0)) {
    const Index old_applied = log.applied();
    log.AppliedTo(applied_cursor);
    // Leave the joint configuration once the entry that entered it is applied — exactly once: the
    // first Advance that crosses pending_conf_index does it and moves pending_conf_index past the
    // leave entry (etcd 3.4 re-appended it when the apply was split across Readies; see
    // docs/etcd-deviations.md).
    const bool leave_now = prs.config.auto_leave && old_applied <= pending_conf_index &&
                           applied_cursor >= pending_conf_index && state == StateType::kLeader;
    if (!leave_now && prs.config.auto_leave && applied_cursor >= pending_conf_index_etcd &&
        state == StateType::kLeader) {
      deviation::Note(5);  // etcd 3.4 would append another leave entry here
    }
    if (leave_now) {
      std::vector<Entry> leave(1);
      leave[0].type = EntryType::EntryConfChangeV2;
      leave[0].data = Bytes(raftpb::Encode(raftpb::ConfChangeV2{}));
      const bool appended = AppendEntry(std::move(leave));
      // If the uncommitted quota refused it, the next Advance that applies up to the new
      // pending_conf_index tries again.
      pending_conf_index = log.LastIndex();
      if (!appended) pending_conf_index_etcd = pending_conf_index;
      if (appended) {
        RAFT_INFO("initiating automatic transition out of joint configuration {}",
                  prs.config.String());
      }
    }
  }
  ReduceUncommittedSize(rd.committed_entries);

  if (!rd.entries.empty()) {
    const Entry& e = rd.entries.back();
    log.StableTo(e.index, e.term);
  }
  if (!rd.snapshot.IsEmpty()) log.StableSnapTo(rd.snapshot.metadata.index);
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

raftpb::ConfState Raft::ApplyConfChange(const raftpb::ConfChangeV2& cc) {
  if (planted::Is(planted::Bug::kMultiVoterChangeWithoutJoint) && cc.changes.size() > 1 &&
      !prs.config.voters.IsJoint()) {
    raftpb::ConfState cs;
    for (const raftpb::ConfChangeSingle& one : cc.changes) {
      auto r = confchange::Changer(prs, log.LastIndex()).Simple(std::span(&one, 1));
      RAFTKIT_CHECK(r.ok(), "planted: {}", r.status().ToString());
      cs = SwitchToConfig(std::move(r->config), std::move(r->progress));
    }
    return cs;
  }
  confchange::Changer changer(prs, log.LastIndex());
  Result<confchange::Changed> r = [&]() -> Result<confchange::Changed> {
    if (cc.LeaveJoint()) return changer.LeaveJoint();
    bool auto_leave = false;
    if (cc.EnterJoint(&auto_leave)) return changer.EnterJoint(auto_leave, cc.changes);
    return changer.Simple(cc.changes);
  }();
  // A committed conf change that cannot be applied means the replicated log is inconsistent with
  // the configuration rules: nothing sensible can continue.
  RAFTKIT_CHECK(r.ok(), "applying conf change {}: {}", raftpb::ConfChangesToString(cc.changes),
                r.status().ToString());
  return SwitchToConfig(std::move(r->config), std::move(r->progress));
}

void Raft::SwitchToConfState(const raftpb::ConfState& cs) {
  // Rebuilt through the same validated transitions as live changes (confchange::Restore); a
  // ConfState that cannot be rebuilt, or comes out different, means corrupted state.
  auto restored = confchange::Restore(prs, log.LastIndex(), cs);
  RAFTKIT_CHECK(restored.ok(), "unable to restore config {}: {}", raftpb::DescribeConfState(cs),
                restored.status().ToString());
  const raftpb::ConfState got =
      SwitchToConfig(std::move(restored->config), std::move(restored->progress));
  RAFTKIT_CHECK(raftpb::Equivalent(cs, got), "ConfStates not equivalent: {} vs {}",
                raftpb::DescribeConfState(cs), raftpb::DescribeConfState(got));
}

raftpb::ConfState Raft::SwitchToConfig(tracker::Config cfg, tracker::ProgressMap progress) {
  const bool prs_was_empty = prs.progress.empty();
  const bool was_member = prs.progress.contains(id);
  prs.config = std::move(cfg);
  prs.progress = std::move(progress);
  RAFT_INFO("{:x} switched to configuration {}", id, prs.config.String());
  raftpb::ConfState cs = prs.ConfState();
  auto self = prs.progress.find(id);
  const bool present = self != prs.progress.end();
  const bool was_voter = !prs_was_empty && was_member && !is_learner;
  is_learner = present && self->second.is_learner;
  if (present) {
    removed_voter = false;
  } else if (was_voter) {
    removed_voter = true;
  }

  if ((!present || is_learner) && state == StateType::kLeader) {
    // This leader was removed or demoted. It keeps leading until it steps down through the normal
    // mechanisms (it cannot win an election any more); proposals to it are dropped (StepLeader).
    return cs;
  }
  if (state != StateType::kLeader || cs.voters.empty()) return cs;

  if (MaybeCommit()) {
    // The new quorum may commit more: tell everyone.
    BcastAppend();
  } else {
    // Probe new members now rather than waiting for the next heartbeat or proposal.
    for (auto& [pid, pr] : prs.progress)
      MaybeSendAppend(pid, false);
  }
  // A transfer to a member that is gone cannot complete.
  if (lead_transferee != kNoNode && !prs.progress.contains(lead_transferee)) AbortLeaderTransfer();
  return cs;
}

// ---------------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------------

bool Raft::Restore(const raftpb::Snapshot& s) {
  if (s.metadata.index <= log.committed()) return false;
  if (state != StateType::kFollower) {
    // Defence in depth: only followers receive snapshots (StepCandidate demotes first). Move to a
    // new term rather than risk a leader with a replaced log.
    RAFT_WARN("{:x} attempted to restore snapshot as leader; should never happen", id);
    BecomeFollower(term + 1, kNoNode);
    return false;
  }
  // Defence in depth: a snapshot whose configuration does not contain us would leave us without
  // progress, which much of the code assumes exists.
  const raftpb::ConfState& cs = s.metadata.conf_state;
  // An outgoing voter of a joint configuration is a member too (etcd 3.4 forgot it and such a
  // node could never be caught up by snapshot; docs/etcd-deviations.md #9). learners_next need no
  // check: they are always outgoing voters.
  auto contains = [this](const std::vector<NodeId>& ids) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  };
  const bool found = contains(cs.voters) || contains(cs.learners) || contains(cs.voters_outgoing);
  if (!contains(cs.voters) && !contains(cs.learners) && contains(cs.voters_outgoing)) {
    deviation::Note(9);  // etcd 3.4 refuses the snapshot
  }
  if (!found) {
    RAFT_WARN(
        "{:x} attempted to restore snapshot but it is not in the ConfState {}; should "
        "never happen",
        id, raftpb::DescribeConfState(cs));
    return false;
  }
  // If the log already has the snapshot's last entry, the snapshot adds nothing but a commit.
  if (log.MatchTerm(s.metadata.index, s.metadata.term)) {
    RAFT_INFO(
        "{:x} [commit: {}, lastindex: {}, lastterm: {}] fast-forwarded commit to "
        "snapshot [index: {}, term: {}]",
        id, log.committed(), log.LastIndex(), log.LastTerm(), s.metadata.index, s.metadata.term);
    log.CommitTo(s.metadata.index);
    return false;
  }

  log.Restore(s);
  // Rebuild the configuration from the snapshot's ConfState, votes and progress from scratch.
  prs = tracker::ProgressTracker(prs.max_inflight(), prs.max_inflight_bytes());
  SwitchToConfState(cs);
  tracker::Progress& self = prs.progress.at(id);
  self.MaybeUpdate(self.next - 1);

  RAFT_INFO(
      "{:x} [commit: {}, lastindex: {}, lastterm: {}] restored snapshot [index: {}, "
      "term: {}]",
      id, log.committed(), log.LastIndex(), log.LastTerm(), s.metadata.index, s.metadata.term);
  return true;
}

}  // namespace raftkit::raft
