// Membership changes that must not leave a cluster stuck. Both behaviours differ from etcd 3.4
// (docs/etcd-deviations.md #9 and #10); the simulator found the situations they fix.
#include <gtest/gtest.h>

#include "raftkit/raftpb/codec.h"
#include "testlib/network.h"
#include "testlib/raft_fixtures.h"

namespace raftkit::testing {
namespace {

using raft::StateType;

raftpb::ConfChangeV2 Remove(uint64_t id) {
  raftpb::ConfChangeV2 cc;
  cc.changes.push_back({raftpb::ConfChangeType::ConfChangeRemoveNode, N(id), Bytes()});
  return cc;
}

Network ThreeNodes(bool pre_vote) {
  std::vector<Peer> peers;
  for (int i = 0; i < 3; ++i)
    peers.push_back(Peer::New());
  return Network(std::move(peers), [pre_vote](raft::Config& c) { c.pre_vote = pre_vote; });
}

// A follower that is only an outgoing voter of a joint configuration is still a member: it must
// accept a snapshot, or it can never catch up while the joint configuration lasts. (#9)
TEST(MembershipLivenessTest, OutgoingVoterAcceptsASnapshot) {
  raft::MemoryStorage storage;
  auto r = NewTestRaft(3, {1, 2, 3}, 10, 1, &storage);
  raftpb::Snapshot snap;
  snap.metadata.index = I(11);
  snap.metadata.term = T(11);
  snap.metadata.conf_state.voters = Ids({1, 2, 4});
  snap.metadata.conf_state.voters_outgoing = Ids({1, 2, 3});
  ASSERT_TRUE(r->Restore(snap));
  EXPECT_EQ(r->log.committed(), I(11));
  EXPECT_EQ(r->prs.config.String(), "voters=(1 2 4)&&(1 2 3)");
  EXPECT_TRUE(r->prs.progress.contains(N(3)));
}

// Thesis §4.2.2: a removed voter may still be needed. Here node 1 applied its own removal while
// nodes 2 and 3 did not learn that it committed; node 1 holds the longest log, so 2 and 3 cannot
// be elected without its vote, which it refuses. It must campaign itself. (#10)
TEST(MembershipLivenessTest, RemovedVoterStillCampaignsThroughPreVote) {
  Network nw = ThreeNodes(/*pre_vote=*/false);
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  ASSERT_EQ(nw.raft(1).state, StateType::kLeader);
  // Node 1 gets an entry the others miss, then applies a change removing itself.
  nw.Isolate(N(1));
  nw.Send({PropMsg(1, "only-on-1")});
  nw.raft(1).ApplyConfChange(Remove(1));
  nw.raft(1).BecomeFollower(nw.raft(1).term, kNoNode);
  ASSERT_TRUE(nw.raft(1).removed_voter);
  ASSERT_FALSE(nw.raft(1).Promotable());
  nw.Recover();

  // Its election timer fires: it asks with a pre-vote even though pre-vote is off.
  Raft& r1 = nw.raft(1);
  for (int i = 0; i < 2 * r1.election_timeout && r1.state == StateType::kFollower; ++i)
    r1.Tick();
  ASSERT_EQ(r1.state, StateType::kPreCandidate);
  std::vector<Message> asks = ReadMessages(r1);
  ASSERT_EQ(asks.size(), 2u) << Describe(asks);
  for (const Message& m : asks)
    EXPECT_EQ(m.type, MessageType::MsgPreVote);

  // Nodes 2 and 3 grant (its log is longer); it runs the real election and wins on their votes
  // alone (its own vote does not count: it is not in its configuration).
  nw.Send(asks);
  EXPECT_EQ(r1.state, StateType::kLeader);
  EXPECT_EQ(nw.raft(2).lead, N(1));
  EXPECT_EQ(nw.raft(3).lead, N(1));
  // As a non-member leader it replicates its log (2 and 3 learn the entry) but takes no proposals.
  EXPECT_EQ(nw.raft(2).log.LastIndex(), r1.log.LastIndex());
  EXPECT_EQ(r1.Step(PropMsg(1, "new")).code(), ErrorCode::kProposalDropped);
}

TEST(MembershipLivenessTest, NodeThatNeverHadAConfigurationNeverCampaigns) {
  raft::MemoryStorage storage;
  auto r = NewRaftFromConfig(NewTestConfig(4, 10, 1, &storage));  // joins empty
  for (int i = 0; i < 100; ++i)
    r->Tick();
  EXPECT_EQ(r->state, StateType::kFollower);
  EXPECT_FALSE(r->removed_voter);
  EXPECT_TRUE(ReadMessages(*r).empty());
}

TEST(MembershipLivenessTest, RemovedLearnerDoesNotCampaign) {
  raft::MemoryStorage storage;
  auto r = NewTestLearnerRaft(3, {1, 2}, {3}, 10, 1, &storage);
  r->ApplyConfChange(Remove(3));
  EXPECT_FALSE(r->removed_voter);
  for (int i = 0; i < 100; ++i)
    r->Tick();
  EXPECT_EQ(r->state, StateType::kFollower);
  EXPECT_TRUE(ReadMessages(*r).empty());
}

TEST(MembershipLivenessTest, RejoiningClearsTheRemovedFlag) {
  raft::MemoryStorage storage;
  auto r = NewTestRaft(1, {1, 2, 3}, 10, 1, &storage);
  r->ApplyConfChange(Remove(1));
  ASSERT_TRUE(r->removed_voter);
  raftpb::ConfChangeV2 add;
  add.changes.push_back({raftpb::ConfChangeType::ConfChangeAddNode, N(1), Bytes()});
  r->ApplyConfChange(add);
  EXPECT_FALSE(r->removed_voter);
  EXPECT_TRUE(r->Promotable());
}

// A learner whose term got ahead of the leader's (raised by a candidate that still counts it as a
// voter) cannot campaign to settle it. Even with CheckQuorum and PreVote off it must answer the
// stale leader, so that the leader steps down and an election settles the term. (#12)
TEST(MembershipLivenessTest, LearnerAheadOfTheLeaderAnswersItsStaleMessages) {
  raft::MemoryStorage storage;
  auto r = NewTestLearnerRaft(3, {1, 2}, {3}, 10, 1, &storage);
  r->BecomeFollower(T(5), kNoNode);
  Message hb = Msg(1, 3, MessageType::MsgHeartbeat);
  hb.term = T(2);
  ASSERT_TRUE(r->Step(hb).ok());
  std::vector<Message> out = ReadMessages(*r);
  ASSERT_EQ(out.size(), 1u) << Describe(out);
  EXPECT_EQ(out[0].type, MessageType::MsgAppResp);
  EXPECT_EQ(out[0].term, T(5));
  EXPECT_EQ(out[0].to, N(1));

  // A voter in the same situation (CheckQuorum and PreVote off) still drops it, as etcd does: it
  // settles the term by campaigning.
  raft::MemoryStorage storage2;
  auto v = NewTestRaft(2, {1, 2, 3}, 10, 1, &storage2);
  v->BecomeFollower(T(5), kNoNode);
  hb.to = N(2);
  ASSERT_TRUE(v->Step(hb).ok());
  EXPECT_TRUE(ReadMessages(*v).empty());
}

// Thesis §4.2.3: while a follower hears from its leader, a vote request from a node that is not in
// its configuration (a removed server) must not raise its term — even without CheckQuorum. (#13)
TEST(MembershipLivenessTest, FollowerWithALeaderIgnoresVoteRequestsFromNonMembers) {
  Network nw = ThreeNodes(/*pre_vote=*/false);
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  ASSERT_EQ(nw.raft(2).lead, N(1));
  const Term before = nw.raft(2).term;

  Message vote = Msg(9, 2, MessageType::MsgVote);  // node 9 is not a member
  vote.term = before + 5;
  vote.index = I(100);
  vote.log_term = before + 4;
  ASSERT_TRUE(nw.raft(2).Step(vote).ok());
  EXPECT_EQ(nw.raft(2).term, before);
  EXPECT_EQ(nw.raft(2).lead, N(1));
  EXPECT_TRUE(ReadMessages(nw.raft(2)).empty());

  // A member's request is handled as in etcd (no CheckQuorum, so no lease): the term moves.
  Message member_vote = vote;
  member_vote.from = N(3);
  ASSERT_TRUE(nw.raft(2).Step(member_vote).ok());
  EXPECT_EQ(nw.raft(2).term, before + 5);
}

// Two nodes can disagree on membership (each decides with the configuration it applied). A stale
// vote request from a candidate outside the receiver's configuration is answered with the
// receiver's term, or the candidate — which may be the only one able to win — would never learn
// it. Within one configuration the request is dropped, as in etcd. (#14)
TEST(MembershipLivenessTest, StaleVoteFromOutsideTheConfigurationIsAnsweredWithOurTerm) {
  raft::MemoryStorage storage;
  auto r = NewTestRaft(2, {1, 2, 3}, 10, 1, &storage);
  r->BecomeFollower(T(9), kNoNode);
  Message vote = Msg(4, 2, MessageType::MsgVote);  // 4 is not in {1, 2, 3}
  vote.term = T(5);
  ASSERT_TRUE(r->Step(vote).ok());
  std::vector<Message> out = ReadMessages(*r);
  ASSERT_EQ(out.size(), 1u) << Describe(out);
  EXPECT_EQ(out[0].type, MessageType::MsgVoteResp);
  EXPECT_TRUE(out[0].reject);
  EXPECT_EQ(out[0].term, T(9));
  EXPECT_EQ(out[0].to, N(4));

  vote.from = N(3);  // a member: dropped, as etcd does
  ASSERT_TRUE(r->Step(vote).ok());
  EXPECT_TRUE(ReadMessages(*r).empty());
}

}  // namespace
}  // namespace raftkit::testing
