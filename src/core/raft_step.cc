// Message handling: the term rules common to every role, then one handler per role
// (etcd: raft.go Step, stepLeader, stepCandidate, stepFollower).
#include <fmt/format.h>

#include "core/deviations.h"
#include "core/log.h"
#include "core/planted_bugs.h"
#include "core/raft.h"
#include "raftkit/raftpb/codec.h"
#include "raftkit/util/panic.h"

namespace raftkit::raft {

using raftpb::Entry;
using raftpb::EntryType;
using raftpb::Message;
using raftpb::MessageType;

namespace {
Status Dropped(std::string why) {
  return Status(ErrorCode::kProposalDropped, std::move(why));
}

bool IsVoteRequest(MessageType t) {
  return t == MessageType::MsgVote || t == MessageType::MsgPreVote;
}
}  // namespace

Status Raft::Step(Message m) {
  if (!HandleMessageTerm(m)) return Status::Ok();

  switch (m.type) {
    case MessageType::MsgHup: {
      if (state == StateType::kLeader) {
        RAFT_DEBUG("{:x} ignoring MsgHup because already leader", id);
        return Status::Ok();
      }
      if (!CanCampaign()) {
        RAFT_WARN("{:x} is unpromotable and can not campaign; ignoring MsgHup", id);
        return Status::Ok();
      }
      // A node with unapplied conf changes does not know its final configuration yet and must not
      // lead with a stale one.
      if (HasUnappliedConfChanges()) {
        RAFT_WARN(
            "{:x} cannot campaign at term {} since there are still pending "
            "configuration changes to apply",
            id, term);
        return Status::Ok();
      }
      RAFT_INFO("{:x} is starting a new election at term {}", id, term);
      if (!Promotable()) deviation::Note(10);  // etcd 3.4 ignores MsgHup here
      // A removed voter asks first: it disrupts nothing unless the members would elect it.
      Campaign(pre_vote || !Promotable() ? CampaignType::kPreElection : CampaignType::kElection);
      return Status::Ok();
    }
    case MessageType::MsgVote:
    case MessageType::MsgPreVote:
      HandleVoteRequest(m);
      return Status::Ok();
    default:
      break;
  }
  switch (state) {
    case StateType::kLeader:
      return StepLeader(m);
    case StateType::kCandidate:
    case StateType::kPreCandidate:
      return StepCandidate(m);
    case StateType::kFollower:
      return StepFollower(m);
  }
  RAFTKIT_PANIC("unknown state {}", static_cast<int>(state));
}

bool Raft::HandleMessageTerm(const Message& m) {
  if (m.term == Term(0)) return true;  // local message, or a forwarded MsgProp/MsgReadIndex

  if (m.term > term) {
    if (IsVoteRequest(m.type)) {
      // The lease (thesis §4.2.3): while we hear from a leader, ignore vote requests from a node
      // that was probably partitioned away — unless it is a leadership transfer.
      const bool force = m.context.view() == kCampaignTransferContext;
      // Thesis §4.2.3: a removed server (one not in our configuration) must not disrupt a healthy
      // cluster with its vote requests, so the lease applies to it even without CheckQuorum
      // (etcd applies the lease only with CheckQuorum; docs/etcd-deviations.md #13).
      const bool lease_applies = check_quorum || !prs.progress.contains(m.from);
      const bool in_lease = lease_applies && lead != kNoNode && election_elapsed < election_timeout;
      if (!force && in_lease && !check_quorum) deviation::Note(13);
      if (!force && in_lease) {
        RAFT_INFO(
            "{:x} [logterm: {}, index: {}, vote: {:x}] ignored {} from {:x} "
            "[logterm: {}, index: {}] at term {}: lease is not expired (remaining "
            "ticks: {})",
            id, log.LastTerm(), log.LastIndex(), vote, raftpb::Name(m.type), m.from, m.log_term,
            m.index, term, election_timeout - election_elapsed);
        return false;
      }
    }
    if (m.type == MessageType::MsgPreVote) {
      // A pre-vote never changes our term.
    } else if (m.type == MessageType::MsgPreVoteResp && !m.reject) {
      // A granted pre-vote carries the term we asked about; we move to it only once a quorum
      // granted. (A rejection carries the responder's term, which we must adopt.)
    } else {
      RAFT_INFO("{:x} [term: {}] received a {} message with higher term from {:x} [term: {}]", id,
                term, raftpb::Name(m.type), m.from, m.term);
      const bool from_leader = m.type == MessageType::MsgApp ||
                               m.type == MessageType::MsgHeartbeat ||
                               m.type == MessageType::MsgSnap;
      BecomeFollower(m.term, from_leader ? m.from : kNoNode);
    }
    return true;
  }

  if (m.term < term) {
    // A node that cannot campaign (a learner) must answer too: without CheckQuorum and PreVote a
    // voter would eventually force a new election at its higher term, but a learner whose term was
    // raised (by a candidate that still counts it as a voter) would ignore the leader forever
    // (docs/etcd-deviations.md #12).
    const bool stale_append = m.type == MessageType::MsgHeartbeat || m.type == MessageType::MsgApp;
    if (stale_append && !check_quorum && !pre_vote && !CanCampaign()) deviation::Note(12);
    if ((check_quorum || pre_vote || !CanCampaign()) && stale_append) {
      // A leader of an older term. Either the message was delayed, or this node's term ran ahead
      // while it was partitioned (its votes are ignored under CheckQuorum/PreVote, so it could
      // never drag the cluster forward by itself). Answer with our term so that the stale leader
      // steps down and a fresh election can include us.
      Message resp;
      resp.to = m.from;
      resp.type = MessageType::MsgAppResp;
      Send(std::move(resp));
    } else if (m.type == MessageType::MsgPreVote) {
      // Reject explicitly: dropping would deadlock a cluster switching to pre-vote in which a
      // candidate has a higher term but a shorter log.
      RAFT_INFO(
          "{:x} [logterm: {}, index: {}, vote: {:x}] rejected {} from {:x} [logterm: "
          "{}, index: {}] at term {}",
          id, log.LastTerm(), log.LastIndex(), vote, raftpb::Name(m.type), m.from, m.log_term,
          m.index, term);
      Message resp;
      resp.to = m.from;
      resp.term = term;
      resp.type = MessageType::MsgPreVoteResp;
      resp.reject = true;
      Send(std::move(resp));
    } else if (m.type == MessageType::MsgVote && !prs.progress.contains(m.from)) {
      deviation::Note(14);
      // A stale candidate outside our configuration never receives our own vote requests, so
      // dropping its request would leave it behind in term for good (it may be the only node
      // able to win: our configuration can be the stale one). Answer with our term, as the Raft
      // paper's RequestVote reply does (docs/etcd-deviations.md #14).
      Message resp;
      resp.to = m.from;
      resp.term = term;
      resp.type = MessageType::MsgVoteResp;
      resp.reject = true;
      Send(std::move(resp));
    } else {
      RAFT_INFO("{:x} [term: {}] ignored a {} message with lower term from {:x} [term: {}]", id,
                term, raftpb::Name(m.type), m.from, m.term);
    }
    return false;
  }
  return true;
}

bool Raft::HasUnappliedConfChanges() const {
  // Entries before the first index are inside a snapshot, whose configuration Restore already
  // switched to; only the log after it can hold changes not yet in effect.
  const Index lo = Max(log.applied() + 1, log.FirstIndex());
  if (log.committed() > log.applied() && lo > log.applied() + 1) {
    deviation::Note(6);  // etcd 3.4 slices from applied+1, which is compacted: it panics
  }
  if (log.committed() < lo) return false;
  auto ents = log.Slice(lo, log.committed() + 1, kNoLimit);
  RAFTKIT_CHECK(ents.ok(), "unexpected error getting unapplied entries ({})",
                ents.status().ToString());
  // Both conf change encodings count (etcd 3.4 counts only v1 entries; deviation #1).
  bool v1 = false;
  bool v2 = false;
  for (const Entry& e : *ents) {
    v1 = v1 || e.type == EntryType::EntryConfChange;
    v2 = v2 || e.type == EntryType::EntryConfChangeV2;
  }
  if (v2 && !v1) deviation::Note(1);
  return v1 || v2;
}

void Raft::HandleVoteRequest(const Message& m) {
  // Thesis §3.6.1 and §9.6. We can vote for m.from if this repeats a vote we already cast, or we
  // have not voted and know no leader in this term, or it is a pre-vote for a later term; and
  // only if its log is at least as up to date as ours (the election restriction, §3.6.1).
  const bool can_vote = vote == m.from || (vote == kNoNode && lead == kNoNode) ||
                        (m.type == MessageType::MsgPreVote && m.term > term);
  Message resp;
  resp.to = m.from;
  resp.type = raftpb::VoteResponseType(m.type);
  const bool up_to_date =
      planted::Is(planted::Bug::kVoteWithoutLogCheck) || log.IsUpToDate(m.index, m.log_term);
  if (can_vote && up_to_date) {
    // Learners vote too: a learner may have been promoted by a conf change it has not seen yet,
    // and the candidate's view that it is a voter must be honoured for the cluster to be live.
    RAFT_INFO(
        "{:x} [logterm: {}, index: {}, vote: {:x}] cast {} for {:x} [logterm: {}, "
        "index: {}] at term {}",
        id, log.LastTerm(), log.LastIndex(), vote, raftpb::Name(m.type), m.from, m.log_term,
        m.index, term);
    // Reply with the request's term, not ours: for pre-votes ours is older and the
    // pre-candidate would discard the answer as stale.
    resp.term = m.term;
    Send(std::move(resp));
    if (m.type == MessageType::MsgVote) {
      // Only real votes are recorded.
      election_elapsed = 0;
      vote = m.from;
    }
  } else {
    RAFT_INFO(
        "{:x} [logterm: {}, index: {}, vote: {:x}] rejected {} from {:x} [logterm: "
        "{}, index: {}] at term {}",
        id, log.LastTerm(), log.LastIndex(), vote, raftpb::Name(m.type), m.from, m.log_term,
        m.index, term);
    resp.term = term;
    resp.reject = true;
    Send(std::move(resp));
  }
}

// ---------------------------------------------------------------------------------------------
// Leader
// ---------------------------------------------------------------------------------------------

Status Raft::StepLeader(Message& m) {
  // Types that need no progress for m.from.
  switch (m.type) {
    case MessageType::MsgBeat:
      BcastHeartbeat();
      return Status::Ok();
    case MessageType::MsgCheckQuorum: {
      // Thesis §6.2: a leader that has not heard from a quorum within an election timeout steps
      // down, so that clients can find the real leader.
      if (auto self = prs.progress.find(id); self != prs.progress.end()) {
        self->second.recent_active = true;
      }
      if (!prs.QuorumActive()) {
        RAFT_WARN("{:x} stepped down to follower since quorum is not active", id);
        BecomeFollower(term, kNoNode);
      }
      // Start the next round: everyone but us must prove activity again.
      for (auto& [pid, pr] : prs.progress) {
        if (pid != id) pr.recent_active = false;
      }
      return Status::Ok();
    }
    case MessageType::MsgProp:
      return HandleProposal(m);
    case MessageType::MsgReadIndex:
      HandleReadIndex(m);
      return Status::Ok();
    default:
      break;
  }

  auto it = prs.progress.find(m.from);
  if (it == prs.progress.end()) {
    RAFT_DEBUG("{:x} no progress available for {:x}", id, m.from);
    return Status::Ok();
  }
  tracker::Progress& pr = it->second;
  switch (m.type) {
    case MessageType::MsgAppResp:
      HandleAppendResponse(m, pr);
      break;
    case MessageType::MsgHeartbeatResp:
      HandleHeartbeatResponse(m, pr);
      break;
    case MessageType::MsgSnapStatus:
      if (pr.state != tracker::StateType::kSnapshot) return Status::Ok();
      if (!m.reject) {
        pr.BecomeProbe();
        RAFT_DEBUG("{:x} snapshot succeeded, resumed sending replication messages to {:x} [{}]", id,
                   m.from, pr.String());
      } else {
        // Forget the snapshot first, or probing would resume after an index the follower never
        // got.
        pr.pending_snapshot = Index(0);
        pr.BecomeProbe();
        RAFT_DEBUG("{:x} snapshot failed, resumed sending replication messages to {:x} [{}]", id,
                   m.from, pr.String());
      }
      // After a success wait for the follower's MsgAppResp before the next MsgApp; after a failure
      // wait a heartbeat interval before trying again.
      pr.probe_sent = true;
      break;
    case MessageType::MsgUnreachable:
      // While streaming optimistically, an unreachable follower has most likely lost messages:
      // fall back to probing.
      if (pr.state == tracker::StateType::kReplicate) pr.BecomeProbe();
      RAFT_DEBUG("{:x} failed to send message to {:x} because it is unreachable [{}]", id, m.from,
                 pr.String());
      break;
    case MessageType::MsgTransferLeader:
      HandleTransferLeader(m, pr);
      break;
    default:
      break;
  }
  return Status::Ok();
}

Status Raft::HandleProposal(Message& m) {
  RAFTKIT_CHECK(!m.entries.empty(), "{:x} stepped empty MsgProp", id);
  if (!prs.progress.contains(id)) {
    // This leader was removed from the configuration: it will not commit anything new.
    return Dropped("the leader is not a member of the configuration");
  }
  if (lead_transferee != kNoNode) {
    RAFT_DEBUG("{:x} [term {}] transfer leadership to {:x} is in progress; dropping proposal", id,
               term, lead_transferee);
    return Dropped("leadership transfer in progress");
  }
  for (size_t i = 0; i < m.entries.size(); ++i) {
    Entry& e = m.entries[i];
    std::optional<raftpb::ConfChangeV2> cc;
    if (e.type == EntryType::EntryConfChange) {
      auto v1 = raftpb::DecodeConfChange(e.data.view());
      RAFTKIT_CHECK(v1.ok(), "proposed ConfChange does not decode: {}", v1.status().ToString());
      cc = raftpb::ConfChangeV2::FromV1(*v1);
    } else if (e.type == EntryType::EntryConfChangeV2) {
      auto v2 = raftpb::DecodeConfChangeV2(e.data.view());
      RAFTKIT_CHECK(v2.ok(), "proposed ConfChangeV2 does not decode: {}", v2.status().ToString());
      cc = std::move(v2).value();
    }
    if (!cc) continue;
    // One membership change at a time (thesis §4.1), and joint configurations must be left
    // before the next change (§4.3). A refused change becomes an empty entry, so the proposal's
    // other entries (and its index bookkeeping) are unaffected.
    const bool already_pending = pending_conf_index > log.applied();
    if (already_pending != (pending_conf_index_etcd > log.applied())) deviation::Note(5);
    const bool already_joint = prs.config.voters.IsJoint();
    const bool wants_leave_joint = cc->changes.empty();
    std::string refused;
    if (already_pending) {
      refused = fmt::format("possible unapplied conf change at index {} (applied to {})",
                            pending_conf_index, log.applied());
    } else if (already_joint && !wants_leave_joint) {
      refused = "must transition out of joint config first";
    } else if (!already_joint && wants_leave_joint) {
      refused = "not in joint state; refusing empty conf change";
    }
    if (!refused.empty()) {
      RAFT_INFO("{:x} ignoring conf change {} at config {}: {}", id,
                raftpb::ConfChangesToString(cc->changes), prs.config.String(), refused);
      e = Entry{};
    } else {
      pending_conf_index = log.LastIndex() + i + 1;
      pending_conf_index_etcd = pending_conf_index;
    }
  }
  if (!AppendEntry(std::move(m.entries))) return Dropped("uncommitted entry size limit reached");
  BcastAppend();
  return Status::Ok();
}

void Raft::HandleReadIndex(Message& m) {
  // A single voter needs nobody's confirmation.
  if (prs.IsSingleton()) {
    Message resp = ResponseToReadIndexReq(m, log.committed());
    if (resp.to != kNoNode) Send(std::move(resp));
    return;
  }
  // Thesis §6.4 step 1: until the leader has committed an entry of its term it does not know the
  // latest commit index; hold the request until it does.
  if (!CommittedEntryInCurrentTerm()) {
    pending_read_index_messages.push_back(std::move(m));
    return;
  }
  SendReadIndexResponse(std::move(m));
}

void Raft::SendReadIndexResponse(Message m) {
  const ReadOnlyOption option = planted::Is(planted::Bug::kReadIndexWithoutQuorum)
                                    ? ReadOnlyOption::kLeaseBased
                                    : read_only.option();
  switch (option) {
    case ReadOnlyOption::kSafe: {
      // Confirm leadership with a heartbeat round carrying the request context (§6.4 step 3).
      const Bytes ctx = m.entries.at(0).data;
      read_only.AddRequest(log.committed(), std::move(m));
      read_only.RecvAck(id, ctx.view());  // the leader acknowledges itself
      BcastHeartbeatWithCtx(ctx);
      break;
    }
    case ReadOnlyOption::kLeaseBased: {
      // The lease (CheckQuorum) stands in for the heartbeat round (§6.4.1).
      Message resp = ResponseToReadIndexReq(m, log.committed());
      if (resp.to != kNoNode) Send(std::move(resp));
      break;
    }
  }
}

void Raft::ReleasePendingReadIndexMessages() {
  if (pending_read_index_messages.empty()) return;
  if (!CommittedEntryInCurrentTerm()) {
    RAFT_ERROR(
        "pending MsgReadIndex should be released only after first commit in current "
        "term");
    return;
  }
  std::vector<Message> pending = std::move(pending_read_index_messages);
  pending_read_index_messages.clear();
  for (Message& m : pending)
    SendReadIndexResponse(std::move(m));
}

Message Raft::ResponseToReadIndexReq(const Message& req, Index read_index) {
  if (req.from == kNoNode || req.from == id) {
    // Our own request: answer locally.
    read_states.push_back(ReadState{read_index, req.entries.at(0).data});
    return Message{};
  }
  Message resp;
  resp.type = MessageType::MsgReadIndexResp;
  resp.to = req.from;
  resp.index = read_index;
  resp.entries = req.entries;
  return resp;
}

void Raft::HandleAppendResponse(const Message& m, tracker::Progress& pr) {
  pr.recent_active = true;
  if (m.reject) {
    RAFT_DEBUG(
        "{:x} received MsgAppResp(MsgApp was rejected, lastindex: {}) from {:x} for "
        "index {}",
        id, m.reject_hint, m.from, m.index);
    if (pr.MaybeDecrTo(m.index, m.reject_hint)) {
      RAFT_DEBUG("{:x} decreased progress of {:x} to [{}]", id, m.from, pr.String());
      if (pr.state == tracker::StateType::kReplicate) pr.BecomeProbe();
      SendAppend(m.from);
    }
    return;
  }
  const bool old_paused = pr.IsPaused();
  if (!pr.MaybeUpdate(m.index)) return;
  switch (pr.state) {
    case tracker::StateType::kProbe:
      pr.BecomeReplicate();
      break;
    case tracker::StateType::kSnapshot:
      if (pr.match >= pr.pending_snapshot) {
        RAFT_DEBUG(
            "{:x} recovered from needing snapshot, resumed sending replication "
            "messages to {:x} [{}]",
            id, m.from, pr.String());
        // Back to replicating through probe, which accounts for the snapshot index, so the
        // status shown to observers is consistent right away.
        pr.BecomeProbe();
        pr.BecomeReplicate();
      }
      break;
    case tracker::StateType::kReplicate:
      pr.inflights.FreeLE(m.index);
      break;
  }
  // The commit index can only move if this follower's match moved past it.
  if (pr.match > log.committed() && MaybeCommit()) {
    // An entry of this term committed: pending reads can be served now.
    ReleasePendingReadIndexMessages();
    BcastAppend();
  } else if (old_paused) {
    // The follower was paused and may have missed the commit index: send it.
    SendAppend(m.from);
  }
  // The window may have room for several more messages now (for instance right after moving from
  // probe to replicate): send as many as allowed, but no empty ones.
  while (MaybeSendAppend(m.from, false)) {
  }
  // A transfer waits for the transferee to catch up (thesis §3.10).
  if (m.from == lead_transferee && pr.match == log.LastIndex()) {
    RAFT_INFO("{:x} sent MsgTimeoutNow to {:x} after received MsgAppResp", id, m.from);
    SendTimeoutNow(m.from);
  }
}

void Raft::HandleHeartbeatResponse(const Message& m, tracker::Progress& pr) {
  pr.recent_active = true;
  pr.probe_sent = false;
  // A full window frees one slot per heartbeat response so that replication cannot stall if
  // acknowledgements were lost.
  if (pr.state == tracker::StateType::kReplicate && pr.inflights.Full()) {
    pr.inflights.FreeFirstOne();
  }
  if (pr.match < log.LastIndex()) SendAppend(m.from);

  if (read_only.option() != ReadOnlyOption::kSafe || m.context.empty()) return;
  const quorum::VoteMap* acks = read_only.RecvAck(m.from, m.context.view());
  if (acks == nullptr || prs.config.voters.GetVoteResult(*acks) != quorum::VoteResult::kVoteWon) {
    return;
  }
  for (ReadIndexStatus& rs : read_only.Advance(m.context.view())) {
    const Message& req = rs.req;
    if (req.from == kNoNode || req.from == id) {
      read_states.push_back(ReadState{rs.index, req.entries.at(0).data});
    } else {
      Message resp;
      resp.to = req.from;
      resp.type = MessageType::MsgReadIndexResp;
      resp.index = rs.index;
      resp.entries = req.entries;
      Send(std::move(resp));
    }
  }
}

void Raft::HandleTransferLeader(const Message& m, tracker::Progress& pr) {
  if (pr.is_learner) {
    RAFT_DEBUG("{:x} is learner. Ignored transferring leadership", id);
    return;
  }
  const NodeId transferee = m.from;
  if (lead_transferee != kNoNode) {
    if (lead_transferee == transferee) {
      RAFT_INFO(
          "{:x} [term {}] transfer leadership to {:x} is in progress, ignores request "
          "to same node {:x}",
          id, term, transferee, transferee);
      return;
    }
    const NodeId last = lead_transferee;
    AbortLeaderTransfer();
    RAFT_INFO("{:x} [term {}] abort previous transferring leadership to {:x}", id, term, last);
  }
  if (transferee == id) {
    RAFT_DEBUG("{:x} is already leader. Ignored transferring leadership to self", id);
    return;
  }
  RAFT_INFO("{:x} [term {}] starts to transfer leadership to {:x}", id, term, transferee);
  // The transfer must finish within an election timeout (TickHeartbeat aborts it otherwise).
  election_elapsed = 0;
  lead_transferee = transferee;
  if (pr.match == log.LastIndex()) {
    SendTimeoutNow(transferee);
    RAFT_INFO(
        "{:x} sends MsgTimeoutNow to {:x} immediately as {:x} already has up-to-date "
        "log",
        id, transferee, transferee);
  } else {
    SendAppend(transferee);
  }
}

// ---------------------------------------------------------------------------------------------
// Candidate and pre-candidate
// ---------------------------------------------------------------------------------------------

Status Raft::StepCandidate(Message& m) {
  // Only responses to our current kind of campaign count: a candidate may still receive pre-vote
  // responses from its pre-candidate phase in this term.
  const MessageType my_resp =
      state == StateType::kPreCandidate ? MessageType::MsgPreVoteResp : MessageType::MsgVoteResp;
  switch (m.type) {
    case MessageType::MsgProp:
      RAFT_INFO("{:x} no leader at term {}; dropping proposal", id, term);
      return Dropped("no leader");
    case MessageType::MsgApp:
      // A leader of our term exists (the term check made m.term == term): follow it.
      BecomeFollower(m.term, m.from);
      HandleAppendEntries(m);
      break;
    case MessageType::MsgHeartbeat:
      BecomeFollower(m.term, m.from);
      HandleHeartbeat(m);
      break;
    case MessageType::MsgSnap:
      BecomeFollower(m.term, m.from);
      HandleSnapshot(m);
      break;
    case MessageType::MsgTimeoutNow:
      RAFT_DEBUG("{:x} [term {} state {}] ignored MsgTimeoutNow from {:x}", id, term, Name(state),
                 m.from);
      break;
    default:
      if (m.type != my_resp) break;
      {
        const auto tally = Poll(m.from, m.type, !m.reject);
        RAFT_INFO("{:x} has received {} {} votes and {} vote rejections", id, tally.granted,
                  raftpb::Name(m.type), tally.rejected);
        if (tally.result == quorum::VoteResult::kVoteWon) {
          if (state == StateType::kPreCandidate) {
            Campaign(CampaignType::kElection);
          } else {
            BecomeLeader();
            BcastAppend();
          }
        } else if (tally.result == quorum::VoteResult::kVoteLost) {
          // A pre-vote response carries the future term; stay at ours.
          BecomeFollower(term, kNoNode);
        }
      }
      break;
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Follower
// ---------------------------------------------------------------------------------------------

Status Raft::StepFollower(Message& m) {
  switch (m.type) {
    case MessageType::MsgProp:
      if (lead == kNoNode) {
        RAFT_INFO("{:x} no leader at term {}; dropping proposal", id, term);
        return Dropped("no leader");
      }
      if (disable_proposal_forwarding) {
        RAFT_INFO("{:x} not forwarding to leader {:x} at term {}; dropping proposal", id, lead,
                  term);
        return Dropped("proposal forwarding is disabled");
      }
      m.to = lead;
      Send(std::move(m));
      break;
    case MessageType::MsgApp:
      election_elapsed = 0;
      lead = m.from;
      HandleAppendEntries(m);
      break;
    case MessageType::MsgHeartbeat:
      election_elapsed = 0;
      lead = m.from;
      HandleHeartbeat(m);
      break;
    case MessageType::MsgSnap:
      election_elapsed = 0;
      lead = m.from;
      HandleSnapshot(m);
      break;
    case MessageType::MsgTransferLeader:
      if (lead == kNoNode) {
        RAFT_INFO("{:x} no leader at term {}; dropping leader transfer msg", id, term);
        return Status::Ok();
      }
      m.to = lead;
      Send(std::move(m));
      break;
    case MessageType::MsgTimeoutNow:
      if (Promotable()) {
        RAFT_INFO(
            "{:x} [term {}] received MsgTimeoutNow from {:x} and starts an election to "
            "get leadership.",
            id, term, m.from);
        // A transfer skips pre-vote: the old leader asked for it, so there is no partition to
        // protect against.
        Campaign(CampaignType::kTransfer);
      } else {
        RAFT_INFO("{:x} received MsgTimeoutNow from {:x} but is not promotable", id, m.from);
      }
      break;
    case MessageType::MsgReadIndex:
      if (lead == kNoNode) {
        RAFT_INFO("{:x} no leader at term {}; dropping index reading msg", id, term);
        return Status::Ok();
      }
      m.to = lead;
      Send(std::move(m));
      break;
    case MessageType::MsgReadIndexResp:
      if (m.entries.size() != 1) {
        RAFT_ERROR("{:x} invalid format of MsgReadIndexResp from {:x}, entries count: {}", id,
                   m.from, m.entries.size());
        return Status::Ok();
      }
      read_states.push_back(ReadState{m.index, m.entries[0].data});
      break;
    default:
      break;
  }
  return Status::Ok();
}

void Raft::HandleAppendEntries(const Message& m) {
  Message resp;
  resp.to = m.from;
  resp.type = MessageType::MsgAppResp;
  if (m.index < log.committed()) {
    // Everything up to our commit index already matches: tell the leader where we are.
    resp.index = log.committed();
    Send(std::move(resp));
    return;
  }
  if (auto last_new = log.MaybeAppend(m.index, m.log_term, m.commit, m.entries)) {
    resp.index = *last_new;
    Send(std::move(resp));
  } else {
    RAFT_DEBUG(
        "{:x} [logterm: {}, index: {}] rejected MsgApp [logterm: {}, index: {}] from "
        "{:x}",
        id, log.ZeroTermOnErrCompacted(log.TermAt(m.index)), m.index, m.log_term, m.index, m.from);
    // The hint (our last index) lets the leader skip back over the gap in one step.
    resp.index = m.index;
    resp.reject = true;
    resp.reject_hint = log.LastIndex();
    Send(std::move(resp));
  }
}

void Raft::HandleHeartbeat(const Message& m) {
  log.CommitTo(m.commit);
  Message resp;
  resp.to = m.from;
  resp.type = MessageType::MsgHeartbeatResp;
  resp.context = m.context;  // echoed byte for byte: ReadIndex acks match on it
  Send(std::move(resp));
}

void Raft::HandleSnapshot(const Message& m) {
  const Index sindex = m.snapshot.metadata.index;
  const Term sterm = m.snapshot.metadata.term;
  Message resp;
  resp.to = m.from;
  resp.type = MessageType::MsgAppResp;
  if (Restore(m.snapshot)) {
    RAFT_INFO("{:x} [commit: {}] restored snapshot [index: {}, term: {}]", id, log.committed(),
              sindex, sterm);
    resp.index = log.LastIndex();
  } else {
    RAFT_INFO("{:x} [commit: {}] ignored snapshot [index: {}, term: {}]", id, log.committed(),
              sindex, sterm);
    resp.index = log.committed();
  }
  Send(std::move(resp));
}

}  // namespace raftkit::raft
