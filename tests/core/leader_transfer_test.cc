// Leadership transfer (thesis §3.10): the leader brings the target's log up to date, then sends it
// MsgTimeoutNow so that it campaigns at once; new proposals wait (are dropped) meanwhile, and the
// transfer is abandoned after an election timeout.
#include <gtest/gtest.h>

#include "raftkit/raftpb/codec.h"
#include "testlib/network.h"

namespace raftkit::testing {
namespace {

using raft::StateType;

std::vector<Peer> NewPeers(size_t n) {
  std::vector<Peer> peers;
  for (size_t i = 0; i < n; ++i)
    peers.push_back(Peer::New());
  return peers;
}

// A request to make `transferee` the leader, addressed to `to` (etcd encodes the transferee in
// `from`).
Message TransferTo(uint64_t transferee, uint64_t to) {
  return Msg(transferee, to, MessageType::MsgTransferLeader);
}

// The node's role and leader after a transfer ended (either way): no transfer in progress.
void ExpectSettled(const Raft& r, StateType state, uint64_t lead) {
  EXPECT_EQ(r.state, state) << "node " << r.id.value();
  EXPECT_EQ(r.lead, N(lead)) << "node " << r.id.value();
  EXPECT_EQ(r.lead_transferee, kNoNode) << "node " << r.id.value();
}

std::vector<Message> OfType(const std::vector<Message>& msgs, MessageType t) {
  std::vector<Message> out;
  for (const Message& m : msgs) {
    if (m.type == t) out.push_back(m);
  }
  return out;
}

// Records every message that crosses the network.
struct Tracer {
  std::vector<Message> trace;
  void Attach(Network& nw) {
    nw.SetMsgHook([this](const Message& m) {
      trace.push_back(m);
      return true;
    });
  }
};

// 3 nodes, node 1 elected at term 1; node 3 cut off and one entry committed without it, so node 3
// lags (match 1 < last index 2).
Network ClusterWithLaggingNode3() {
  Network nw(NewPeers(3));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  nw.Isolate(N(3));
  nw.Send({PropMsg(1, "x")});
  return nw;
}

TEST(LeaderTransferTest, UpToDateTargetGetsTimeoutNowAtOnceAndWins) {
  Network nw(NewPeers(3));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  Raft& lead = nw.raft(1);
  ASSERT_EQ(lead.prs.progress.at(N(2)).match, lead.log.LastIndex());

  ASSERT_TRUE(lead.Step(TransferTo(2, 1)).ok());
  EXPECT_EQ(lead.lead_transferee, N(2));
  std::vector<Message> out = ReadMessages(lead);
  ASSERT_EQ(out.size(), 1u) << Describe(out);
  EXPECT_EQ(out[0].type, MessageType::MsgTimeoutNow);
  EXPECT_EQ(out[0].from, N(1));
  EXPECT_EQ(out[0].to, N(2));
  EXPECT_EQ(out[0].term, T(1));

  Tracer tr;
  tr.Attach(nw);
  nw.Send(out);
  // The target campaigns for term 2 with the transfer context on its vote requests.
  const std::vector<Message> votes = OfType(tr.trace, MessageType::MsgVote);
  ASSERT_EQ(votes.size(), 2u) << Describe(tr.trace);
  for (const Message& v : votes) {
    EXPECT_EQ(v.from, N(2));
    EXPECT_EQ(v.term, T(2));
    EXPECT_EQ(v.context, Bytes(raft::kCampaignTransferContext));
  }
  ExpectSettled(nw.raft(2), StateType::kLeader, 2);
  ExpectSettled(lead, StateType::kFollower, 2);
  ExpectSettled(nw.raft(3), StateType::kFollower, 2);
  EXPECT_EQ(nw.raft(2).term, T(2));

  // And back again, after some replication.
  nw.Send({PropMsg(2, "y")});
  nw.Send({TransferTo(1, 2)});
  ExpectSettled(lead, StateType::kLeader, 1);
  ExpectSettled(nw.raft(2), StateType::kFollower, 1);
  EXPECT_EQ(lead.term, T(3));
}

// Under CheckQuorum the other followers are inside their lease (they just heard from the leader)
// and would ignore a normal vote request; the transfer context lets the election through.
TEST(LeaderTransferTest, TransferElectionBypassesTheCheckQuorumLease) {
  Network nw(NewPeers(3), [](raft::Config& c) { c.check_quorum = true; });
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  ASSERT_EQ(nw.raft(1).state, StateType::kLeader);
  Raft& r3 = nw.raft(3);
  ASSERT_EQ(r3.lead, N(1));
  ASSERT_LT(r3.election_elapsed, r3.election_timeout);  // in the lease

  nw.Send({TransferTo(2, 1)});
  ExpectSettled(nw.raft(2), StateType::kLeader, 2);
  ExpectSettled(nw.raft(1), StateType::kFollower, 2);
  ExpectSettled(r3, StateType::kFollower, 2);
  EXPECT_EQ(r3.vote, N(2));

  nw.Send({PropMsg(2, "z")});
  nw.Send({TransferTo(1, 2)});
  ExpectSettled(nw.raft(1), StateType::kLeader, 1);
}

// The leader asked for it, so there is no partition to guard against: the target skips pre-vote
// and goes straight to a real election at term + 1.
TEST(LeaderTransferTest, TransferElectionSkipsPreVote) {
  Network nw(NewPeers(3), [](raft::Config& c) {
    c.pre_vote = true;
    c.check_quorum = true;
  });
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  ASSERT_EQ(nw.raft(1).state, StateType::kLeader);
  ASSERT_EQ(nw.raft(1).term, T(1));

  Tracer tr;
  tr.Attach(nw);
  nw.Send({TransferTo(3, 1)});
  EXPECT_TRUE(OfType(tr.trace, MessageType::MsgPreVote).empty()) << Describe(tr.trace);
  EXPECT_EQ(OfType(tr.trace, MessageType::MsgVote).size(), 2u);
  ExpectSettled(nw.raft(3), StateType::kLeader, 3);
  EXPECT_EQ(nw.raft(3).term, T(2));
  ExpectSettled(nw.raft(1), StateType::kFollower, 3);
}

// A lagging target is first caught up; MsgTimeoutNow follows the MsgAppResp that shows its log
// matches the leader's.
TEST(LeaderTransferTest, LaggingTargetIsCaughtUpBeforeTimeoutNow) {
  Network nw = ClusterWithLaggingNode3();
  nw.Recover();
  Raft& lead = nw.raft(1);
  ASSERT_EQ(lead.log.LastIndex(), I(2));
  ASSERT_EQ(lead.prs.progress.at(N(3)).match, I(1));

  ASSERT_TRUE(lead.Step(TransferTo(3, 1)).ok());
  EXPECT_EQ(lead.lead_transferee, N(3));
  std::vector<Message> out = ReadMessages(lead);
  ASSERT_EQ(out.size(), 1u) << Describe(out);
  EXPECT_EQ(out[0].type, MessageType::MsgApp);
  EXPECT_EQ(out[0].to, N(3));

  Tracer tr;
  tr.Attach(nw);
  nw.Send(out);
  // Find the first MsgTimeoutNow; the last message node 3 sent before it is the successful
  // MsgAppResp that acknowledged the leader's last index (the leader may emit other messages
  // while handling that response, e.g. a commit update, before MsgTimeoutNow).
  size_t timeout_at = tr.trace.size();
  for (size_t i = 0; i < tr.trace.size(); ++i) {
    if (tr.trace[i].type == MessageType::MsgTimeoutNow) {
      timeout_at = i;
      break;
    }
  }
  ASSERT_LT(timeout_at, tr.trace.size()) << Describe(tr.trace);
  size_t ack_at = timeout_at;
  for (size_t i = timeout_at; i-- > 0;) {
    if (tr.trace[i].from == N(3)) {
      ack_at = i;
      break;
    }
  }
  ASSERT_LT(ack_at, timeout_at) << Describe(tr.trace);
  const Message& ack = tr.trace[ack_at];
  EXPECT_EQ(ack.type, MessageType::MsgAppResp) << Describe(tr.trace);
  EXPECT_EQ(ack.from, N(3));
  EXPECT_FALSE(ack.reject);
  EXPECT_EQ(ack.index, I(2));
  EXPECT_EQ(tr.trace[timeout_at].to, N(3));

  ExpectSettled(nw.raft(3), StateType::kLeader, 3);
  ExpectSettled(lead, StateType::kFollower, 3);
}

// A target that needs a snapshot gets it first; its MsgAppResp after the snapshot triggers the
// MsgTimeoutNow.
TEST(LeaderTransferTest, TargetNeedingSnapshotIsCaughtUpBeforeTimeoutNow) {
  Network nw = ClusterWithLaggingNode3();
  Raft& lead = nw.raft(1);
  raft::MemoryStorage& s = nw.storage(N(1));
  (void)NextEnts(lead, s);
  raftpb::ConfState cs;
  cs.voters = lead.prs.VoterNodes();
  ASSERT_TRUE(s.CreateSnapshot(lead.log.applied(), &cs, Bytes()).ok());
  ASSERT_TRUE(s.Compact(lead.log.applied()).ok());
  nw.Recover();

  Tracer tr;
  tr.Attach(nw);
  nw.Send({TransferTo(3, 1)});
  // Probing node 3 reveals that the entries it needs are compacted: a snapshot goes out first, and
  // MsgTimeoutNow only after node 3 acknowledged it.
  size_t snap_at = tr.trace.size();
  size_t timeout_at = tr.trace.size();
  for (size_t i = tr.trace.size(); i-- > 0;) {
    if (tr.trace[i].type == MessageType::MsgSnap) snap_at = i;
    if (tr.trace[i].type == MessageType::MsgTimeoutNow) timeout_at = i;
  }
  EXPECT_EQ(OfType(tr.trace, MessageType::MsgSnap).size(), 1u) << Describe(tr.trace);
  ASSERT_LT(timeout_at, tr.trace.size()) << Describe(tr.trace);
  EXPECT_LT(snap_at, timeout_at);
  // The network harness does not report snapshot status; the follower's MsgAppResp suffices.
  ExpectSettled(nw.raft(3), StateType::kLeader, 3);
  ExpectSettled(lead, StateType::kFollower, 3);
}

TEST(LeaderTransferTest, ProposalsAreDroppedWhileTransferIsPending) {
  Network nw(NewPeers(3));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  nw.Isolate(N(3));
  Raft& lead = nw.raft(1);
  nw.Send({TransferTo(3, 1)});
  ASSERT_EQ(lead.lead_transferee, N(3));

  const Index last = lead.log.LastIndex();
  Status st = lead.Step(PropMsg(1, "blocked"));
  EXPECT_EQ(st.code(), ErrorCode::kProposalDropped);
  EXPECT_EQ(lead.log.LastIndex(), last);
  // Also through the network (as a forwarded proposal).
  nw.Send({PropMsg(2, "forwarded")});
  EXPECT_EQ(lead.log.LastIndex(), last);
  EXPECT_EQ(lead.prs.progress.at(N(1)).match, last);
}

// The transfer must finish within an election timeout (counted from the request), else the
// leader abandons it and accepts proposals again.
TEST(LeaderTransferTest, TransferIsAbortedAfterAnElectionTimeout) {
  Network nw(NewPeers(3));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  nw.Isolate(N(3));
  Raft& lead = nw.raft(1);
  for (int i = 0; i < 4; ++i)
    lead.Tick();  // ticks before the request do not count against it
  nw.Send({TransferTo(3, 1)});
  ASSERT_EQ(lead.lead_transferee, N(3));

  for (int i = 0; i < lead.election_timeout - 1; ++i)
    lead.Tick();
  EXPECT_EQ(lead.lead_transferee, N(3));
  lead.Tick();
  ExpectSettled(lead, StateType::kLeader, 1);
  EXPECT_TRUE(lead.Step(PropMsg(1, "accepted")).ok());
}

TEST(LeaderTransferTest, TransferToSelfIsIgnoredAndCancelsPendingTransfer) {
  Network nw(NewPeers(3));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  Raft& lead = nw.raft(1);

  ASSERT_TRUE(lead.Step(TransferTo(1, 1)).ok());
  EXPECT_TRUE(ReadMessages(lead).empty());
  ExpectSettled(lead, StateType::kLeader, 1);

  // With a transfer to (isolated) node 3 pending, asking for self cancels it.
  nw.Isolate(N(3));
  nw.Send({TransferTo(3, 1)});
  ASSERT_EQ(lead.lead_transferee, N(3));
  ASSERT_TRUE(lead.Step(TransferTo(1, 1)).ok());
  EXPECT_TRUE(ReadMessages(lead).empty());
  ExpectSettled(lead, StateType::kLeader, 1);
  EXPECT_EQ(lead.term, T(1));
}

// Repeating the request for the current transferee changes nothing, in particular it does not
// restart the timeout.
TEST(LeaderTransferTest, RepeatedRequestForCurrentTransfereeIsIgnored) {
  Network nw(NewPeers(3));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  nw.Isolate(N(3));
  Raft& lead = nw.raft(1);
  nw.Send({TransferTo(3, 1)});
  ASSERT_EQ(lead.lead_transferee, N(3));

  const int half = lead.election_timeout / 2;
  for (int i = 0; i < half; ++i)
    lead.Tick();
  (void)ReadMessages(lead);
  ASSERT_TRUE(lead.Step(TransferTo(3, 1)).ok());
  EXPECT_TRUE(ReadMessages(lead).empty()) << "no new append or MsgTimeoutNow";
  EXPECT_EQ(lead.lead_transferee, N(3));

  for (int i = half; i < lead.election_timeout; ++i)
    lead.Tick();
  ExpectSettled(lead, StateType::kLeader, 1);
}

TEST(LeaderTransferTest, SecondTransferToAnotherNodeReplacesTheFirst) {
  Network nw(NewPeers(3));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  nw.Isolate(N(3));
  Raft& lead = nw.raft(1);
  nw.Send({TransferTo(3, 1)});
  ASSERT_EQ(lead.lead_transferee, N(3));

  nw.Send({TransferTo(2, 1)});
  ExpectSettled(nw.raft(2), StateType::kLeader, 2);
  ExpectSettled(lead, StateType::kFollower, 2);
}

TEST(LeaderTransferTest, TransferToLearnerIsIgnored) {
  std::vector<Peer> peers;
  for (uint64_t id = 1; id <= 3; ++id) {
    auto s = std::make_unique<raft::MemoryStorage>();
    auto r = NewTestLearnerRaft(id, {1, 2}, {3}, 10, 1, s.get());
    peers.push_back(Peer::Of(std::move(r), std::move(s)));
  }
  Network nw(std::move(peers));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  Raft& lead = nw.raft(1);
  ASSERT_EQ(lead.state, StateType::kLeader);
  ASSERT_EQ(lead.prs.progress.at(N(3)).match, lead.log.LastIndex());

  ASSERT_TRUE(lead.Step(TransferTo(3, 1)).ok());
  EXPECT_TRUE(ReadMessages(lead).empty());
  ExpectSettled(lead, StateType::kLeader, 1);
  EXPECT_TRUE(lead.Step(PropMsg(1, "still-accepting")).ok());
}

TEST(LeaderTransferTest, TransferToNonMemberIsIgnored) {
  Network nw(NewPeers(3));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  Raft& lead = nw.raft(1);
  ASSERT_TRUE(lead.Step(TransferTo(4, 1)).ok());
  EXPECT_TRUE(ReadMessages(lead).empty());
  ExpectSettled(lead, StateType::kLeader, 1);
}

// A follower passes the request on to its leader (with its own term); without a leader it has
// nobody to pass it to and drops it.
TEST(LeaderTransferTest, FollowerForwardsTransferRequestToLeader) {
  Network nw(NewPeers(3));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  Raft& f = nw.raft(2);
  ASSERT_TRUE(f.Step(TransferTo(2, 2)).ok());
  std::vector<Message> out = ReadMessages(f);
  ASSERT_EQ(out.size(), 1u) << Describe(out);
  EXPECT_EQ(out[0].type, MessageType::MsgTransferLeader);
  EXPECT_EQ(out[0].from, N(2));
  EXPECT_EQ(out[0].to, N(1));
  EXPECT_EQ(out[0].term, T(1));

  nw.Send(out);
  ExpectSettled(f, StateType::kLeader, 2);
  ExpectSettled(nw.raft(1), StateType::kFollower, 2);

  auto s = std::make_unique<raft::MemoryStorage>();
  auto orphan = NewTestRaft(2, {1, 2, 3}, 10, 1, s.get());
  ASSERT_TRUE(orphan->Step(TransferTo(2, 2)).ok());
  EXPECT_TRUE(ReadMessages(*orphan).empty());
}

// Removing the transferee from the configuration ends the transfer: it can never complete.
TEST(LeaderTransferTest, RemovingTheTransfereeAbortsTheTransfer) {
  Network nw(NewPeers(3));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  nw.Ignore(MessageType::MsgTimeoutNow);
  Raft& lead = nw.raft(1);
  nw.Send({TransferTo(3, 1)});
  ASSERT_EQ(lead.lead_transferee, N(3));

  raftpb::ConfChange cc;
  cc.type = raftpb::ConfChangeType::ConfChangeRemoveNode;
  cc.node_id = N(3);
  (void)lead.ApplyConfChange(raftpb::ConfChangeV2::FromV1(cc));
  ExpectSettled(lead, StateType::kLeader, 1);
  EXPECT_TRUE(lead.Step(PropMsg(1, "accepted")).ok());
}

// A transfer is also over when the leader loses its leadership some other way.
TEST(LeaderTransferTest, SteppingDownForHigherTermClearsTheTransfer) {
  Network nw(NewPeers(3));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  nw.Isolate(N(3));
  Raft& lead = nw.raft(1);
  nw.Send({TransferTo(3, 1)});
  ASSERT_EQ(lead.lead_transferee, N(3));

  nw.Send({Msg(2, 2, MessageType::MsgHup)});
  ExpectSettled(lead, StateType::kFollower, 2);
  EXPECT_EQ(lead.term, T(2));
}

// MsgTimeoutNow only means something to a voter: a learner (or a node outside the configuration)
// that gets one, for instance because it was demoted after the transfer started, ignores it.
TEST(LeaderTransferTest, TimeoutNowToNonPromotableNodeDoesNothing) {
  auto s = std::make_unique<raft::MemoryStorage>();
  auto learner = NewTestLearnerRaft(3, {1, 2}, {3}, 10, 1, s.get());
  learner->BecomeFollower(T(1), N(1));
  Message tn = Msg(1, 3, MessageType::MsgTimeoutNow);
  tn.term = T(1);
  ASSERT_TRUE(learner->Step(tn).ok());
  EXPECT_EQ(learner->state, StateType::kFollower);
  EXPECT_EQ(learner->term, T(1));
  EXPECT_EQ(learner->lead, N(1));
  EXPECT_TRUE(ReadMessages(*learner).empty());

  // Node 1 outside its own configuration (voters 2, 3, 4): no campaign, and stray vote responses
  // cannot make it leader.
  auto s2 = std::make_unique<raft::MemoryStorage>();
  auto outsider = NewTestRaft(1, {2, 3, 4}, 5, 1, s2.get());
  ASSERT_FALSE(outsider->Promotable());
  ASSERT_TRUE(outsider->Step(Msg(2, 1, MessageType::MsgTimeoutNow)).ok());
  EXPECT_EQ(outsider->state, StateType::kFollower);
  EXPECT_EQ(outsider->term, T(0));
  EXPECT_TRUE(ReadMessages(*outsider).empty());
  ASSERT_TRUE(outsider->Step(Msg(2, 1, MessageType::MsgVoteResp)).ok());
  ASSERT_TRUE(outsider->Step(Msg(3, 1, MessageType::MsgVoteResp)).ok());
  EXPECT_EQ(outsider->state, StateType::kFollower);
}

// In a network: the leader's MsgTimeoutNow reaches a node that has become a learner in its own
// view (the leader's check happened earlier). Nothing happens; node 1 keeps leading.
TEST(LeaderTransferTest, LearnerReceivingTimeoutNowInNetworkStaysFollower) {
  std::vector<Peer> peers;
  for (uint64_t id = 1; id <= 2; ++id) {
    auto s = std::make_unique<raft::MemoryStorage>();
    auto r = NewTestLearnerRaft(id, {1}, {2}, 10, 1, s.get());
    peers.push_back(Peer::Of(std::move(r), std::move(s)));
  }
  Network nw(std::move(peers));
  nw.Send({Msg(2, 2, MessageType::MsgHup)});
  EXPECT_EQ(nw.raft(2).state, StateType::kFollower) << "a learner does not campaign";
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  ASSERT_EQ(nw.raft(1).state, StateType::kLeader);

  Message tn = Msg(1, 2, MessageType::MsgTimeoutNow);
  tn.term = nw.raft(1).term;
  nw.Send({tn});
  EXPECT_EQ(nw.raft(2).state, StateType::kFollower);
  EXPECT_EQ(nw.raft(2).term, T(1));
  ExpectSettled(nw.raft(1), StateType::kLeader, 1);
}

}  // namespace
}  // namespace raftkit::testing
