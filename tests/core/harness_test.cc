// Tests of the test harnesses themselves: if these fail, every other core test is suspect.
#include <gtest/gtest.h>

#include "testlib/cluster.h"
#include "testlib/network.h"

namespace raftkit::testing {
namespace {

TEST(NetworkTest, CampaignElectsLeaderAndCommitsEmptyEntry) {
  std::vector<Peer> peers;
  for (int i = 0; i < 3; ++i)
    peers.push_back(Peer::New());
  Network nw(std::move(peers));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  EXPECT_EQ(nw.raft(1).state, raft::StateType::kLeader);
  EXPECT_EQ(nw.raft(2).state, raft::StateType::kFollower);
  EXPECT_EQ(nw.raft(1).term, T(1));
  // The leader's empty entry of term 1 is committed everywhere.
  for (uint64_t id : {1, 2, 3})
    EXPECT_EQ(nw.raft(id).log.committed(), I(1)) << id;
}

TEST(NetworkTest, IsolatedNodeMissesProposals) {
  std::vector<Peer> peers;
  for (int i = 0; i < 3; ++i)
    peers.push_back(Peer::New());
  Network nw(std::move(peers));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  nw.Isolate(N(3));
  nw.Send({PropMsg(1, "x")});
  EXPECT_EQ(nw.raft(1).log.committed(), I(2));
  EXPECT_EQ(nw.raft(3).log.committed(), I(1));
  nw.Recover();
  nw.Send({PropMsg(1, "y")});
  EXPECT_EQ(nw.raft(3).log.committed(), I(3));
}

TEST(NetworkTest, BlackHoleSwallowsMessages) {
  std::vector<Peer> peers;
  peers.push_back(Peer::New());
  peers.push_back(Peer::New());
  peers.push_back(Peer::BlackHole());
  Network nw(std::move(peers));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  EXPECT_EQ(nw.raft(1).state, raft::StateType::kLeader);
  EXPECT_TRUE(nw.IsBlackHole(N(3)));
}

TEST(ClusterTest, ReplicatesAndAppliesThroughReadyLoop) {
  Cluster c(3);
  c.ElectLeader(N(1));
  ASSERT_TRUE(c.Propose(N(1), "a").ok());
  ASSERT_TRUE(c.Propose(N(2), "b").ok());  // forwarded to the leader
  c.Stabilize();
  const std::vector<std::string> want{"a", "b"};
  for (NodeId id : c.Ids())
    EXPECT_EQ(c.Applied(id), want) << id.value();
}

TEST(ClusterTest, RestartRebuildsFromStorage) {
  Cluster c(3);
  c.ElectLeader(N(1));
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(c.Propose(N(1), std::to_string(i)).ok());
  c.Stabilize();
  c.SnapshotAndCompact(N(2), 2);
  c.Restart(N(2));
  c.Stabilize();
  EXPECT_EQ(c.Applied(N(2)), c.Applied(N(1)));
  ASSERT_TRUE(c.Propose(N(1), "after").ok());
  c.Stabilize();
  EXPECT_EQ(c.Applied(N(2)).back(), "after");
}

TEST(ClusterTest, LaggingNodeCatchesUpBySnapshot) {
  Cluster c(3);
  c.ElectLeader(N(1));
  c.Isolate(N(3));
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(c.Propose(N(1), std::to_string(i)).ok());
  c.Stabilize();
  c.SnapshotAndCompact(N(1));
  c.Recover();
  // Heartbeats reveal that node 3 is behind; the leader must send a snapshot.
  c.TickAll(3);
  EXPECT_GE(c.DeliveredByType().at(MessageType::MsgSnap), 1u);
  EXPECT_EQ(c.Applied(N(3)), c.Applied(N(1)));
}

}  // namespace
}  // namespace raftkit::testing
