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

}  // namespace
}  // namespace raftkit::testing
