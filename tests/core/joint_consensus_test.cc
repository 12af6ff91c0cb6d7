// Membership changes (thesis §4.1, §4.3): simple one-voter changes, and joint consensus
// C_old,new for everything else — while joint, every decision needs a majority of BOTH halves,
// and the joint configuration is left (automatically or on request) with an empty ConfChangeV2.
//
// Most tests run the full Ready loop (testlib/cluster.h), which applies committed conf changes
// the way an application does; the quorum arithmetic is checked on a bare Raft.
#include <gtest/gtest.h>

#include "raftkit/raftpb/codec.h"
#include "testlib/cluster.h"
#include "testlib/raft_fixtures.h"

namespace raftkit::testing {
namespace {

using raft::StateType;
using raftpb::ConfChangeTransition;
using raftpb::ConfChangeType;
using raftpb::EntryType;

constexpr auto kAuto = ConfChangeTransition::ConfChangeTransitionAuto;
constexpr auto kImplicit = ConfChangeTransition::ConfChangeTransitionJointImplicit;
constexpr auto kExplicit = ConfChangeTransition::ConfChangeTransitionJointExplicit;

raftpb::ConfChangeV2 CCV2(ConfChangeTransition t, std::string_view changes) {
  raftpb::ConfChangeV2 cc;
  cc.transition = t;
  EXPECT_TRUE(raftpb::ConfChangesFromString(changes, &cc.changes)) << changes;
  return cc;
}

raftpb::ConfChange CCV1(ConfChangeType t, uint64_t id) {
  raftpb::ConfChange cc;
  cc.type = t;
  cc.node_id = N(id);
  return cc;
}

std::string ConfigOf(Cluster& c, uint64_t id) {
  return c.node(N(id)).raft_for_testing().prs.config.String();
}

// Cluster::Stabilize, recording every distinct configuration node `id` passes through (observed
// after each round of Ready handling and delivery). When the cluster is quiet, `heartbeats` more
// times every node ticks once (heartbeat_tick is 1, so the leader sends heartbeats) and the
// cluster runs on: the leader appends the entry that leaves an auto-leave joint configuration when
// it applies that configuration, but, as in etcd 3.4, it only goes out with the next append
// exchange (here, the answer to a heartbeat).
std::vector<std::string> StabilizeRecordingConfigs(Cluster& c, uint64_t id, int heartbeats = 2) {
  std::vector<std::string> seen{ConfigOf(c, id)};
  for (int round = 0; round < 1000; ++round) {
    const bool ready = c.ProcessReadyAll();
    const size_t delivered = c.Deliver();
    const std::string cur = ConfigOf(c, id);
    if (cur != seen.back()) seen.push_back(cur);
    if (!ready && delivered == 0 && c.Queue().empty()) {
      if (heartbeats-- == 0) return seen;
      for (NodeId n : c.Ids())
        c.Tick(n);
    }
  }
  ADD_FAILURE() << "did not stabilize";
  return seen;
}

// The conf change entries (v1 or v2) of a node's log after the bootstrap entries.
std::vector<Entry> ConfEntriesAfter(Cluster& c, uint64_t id, Index after) {
  std::vector<Entry> out;
  for (const Entry& e : c.node(N(id)).raft_for_testing().log.AllEntries()) {
    if (e.index > after && e.type != EntryType::EntryNormal) out.push_back(e);
  }
  return out;
}

std::string DescribeChanges(const Entry& e) {
  if (e.type == EntryType::EntryConfChangeV2) {
    auto cc = raftpb::DecodeConfChangeV2(e.data.view());
    return cc.ok() ? raftpb::ConfChangesToString(cc->changes) : "<bad>";
  }
  auto cc = raftpb::DecodeConfChange(e.data.view());
  return cc.ok() ? raftpb::ConfChangesToString(raftpb::ConfChangeV2::FromV1(*cc).changes) : "<bad>";
}

// Ticks until some node other than `except` leads (at most `max_ticks` rounds).
NodeId TickUntilNewLeader(Cluster& c, NodeId except, int max_ticks = 100) {
  for (int i = 0; i < max_ticks; ++i) {
    c.TickAll();
    const NodeId l = c.Leader();
    if (l != kNoNode && l != except) return l;
  }
  return kNoNode;
}

const std::vector<NodeId>& Voters(Cluster& c, uint64_t id) {
  return c.AppliedConfState(N(id)).voters;
}

TEST(JointConsensusTest, AutoTransitionWithTwoChangesGoesThroughJointAndLeavesByItself) {
  Cluster c(3);
  c.ElectLeader(N(1));
  c.AddEmptyNode(N(4));
  c.AddEmptyNode(N(5));
  const Index before = c.node(N(1)).raft_for_testing().log.LastIndex();

  ASSERT_TRUE(c.node(N(1)).ProposeConfChange(CCV2(kAuto, "v4 v5")).ok());
  EXPECT_EQ(StabilizeRecordingConfigs(c, 1),
            (std::vector<std::string>{"voters=(1 2 3)", "voters=(1 2 3 4 5)&&(1 2 3) autoleave",
                                      "voters=(1 2 3 4 5)"}));
  for (uint64_t id = 1; id <= 5; ++id) {
    SCOPED_TRACE(id);
    EXPECT_EQ(ConfigOf(c, id), "voters=(1 2 3 4 5)");
    EXPECT_EQ(Voters(c, id), Ids({1, 2, 3, 4, 5}));
    EXPECT_TRUE(c.AppliedConfState(N(id)).voters_outgoing.empty());
    EXPECT_FALSE(c.AppliedConfState(N(id)).auto_leave);
  }
  // The leader appended the leaving entry (an empty ConfChangeV2) right after the joint one;
  // nobody else proposed one.
  const std::vector<Entry> ccs = ConfEntriesAfter(c, 1, before);
  ASSERT_EQ(ccs.size(), 2u);
  EXPECT_EQ(ccs[0].type, EntryType::EntryConfChangeV2);
  EXPECT_EQ(DescribeChanges(ccs[0]), "v4 v5");
  EXPECT_EQ(ccs[1].type, EntryType::EntryConfChangeV2);
  EXPECT_EQ(DescribeChanges(ccs[1]), "");
  EXPECT_EQ(ccs[1].index, ccs[0].index + 1);
  EXPECT_EQ(c.Leader(), N(1));
}

TEST(JointConsensusTest, JointImplicitSingleChangeUsesJointAndLeavesByItself) {
  Cluster c(3);
  c.ElectLeader(N(1));
  c.AddEmptyNode(N(4));
  ASSERT_TRUE(c.node(N(1)).ProposeConfChange(CCV2(kImplicit, "v4")).ok());
  EXPECT_EQ(StabilizeRecordingConfigs(c, 1),
            (std::vector<std::string>{"voters=(1 2 3)", "voters=(1 2 3 4)&&(1 2 3) autoleave",
                                      "voters=(1 2 3 4)"}));
  for (uint64_t id = 1; id <= 4; ++id)
    EXPECT_EQ(ConfigOf(c, id), "voters=(1 2 3 4)") << id;
}

TEST(JointConsensusTest, AutoTransitionWithOneChangeIsASimpleChange) {
  Cluster c(3);
  c.ElectLeader(N(1));
  c.AddEmptyNode(N(4));
  const Index before = c.node(N(1)).raft_for_testing().log.LastIndex();
  ASSERT_TRUE(c.node(N(1)).ProposeConfChange(CCV2(kAuto, "v4")).ok());
  EXPECT_EQ(StabilizeRecordingConfigs(c, 1),
            (std::vector<std::string>{"voters=(1 2 3)", "voters=(1 2 3 4)"}));
  EXPECT_EQ(ConfEntriesAfter(c, 1, before).size(), 1u) << "no leave entry";
}

// JointExplicit: the configuration stays joint until the application proposes the empty change.
TEST(JointConsensusTest, JointExplicitStaysJointUntilEmptyChangeIsProposed) {
  Cluster c(3);
  c.ElectLeader(N(1));
  c.AddEmptyNode(N(4));
  ASSERT_TRUE(c.node(N(1)).ProposeConfChange(CCV2(kExplicit, "v4")).ok());
  EXPECT_EQ(StabilizeRecordingConfigs(c, 1),
            (std::vector<std::string>{"voters=(1 2 3)", "voters=(1 2 3 4)&&(1 2 3)"}));
  c.TickAll(3);
  for (uint64_t id = 1; id <= 4; ++id) {
    SCOPED_TRACE(id);
    EXPECT_EQ(ConfigOf(c, id), "voters=(1 2 3 4)&&(1 2 3)");
    EXPECT_EQ(c.AppliedConfState(N(id)).voters_outgoing, Ids({1, 2, 3}));
    EXPECT_FALSE(c.AppliedConfState(N(id)).auto_leave);
  }

  ASSERT_TRUE(c.node(N(1)).ProposeConfChange(raftpb::ConfChangeV2{}).ok());
  EXPECT_EQ(StabilizeRecordingConfigs(c, 1),
            (std::vector<std::string>{"voters=(1 2 3 4)&&(1 2 3)", "voters=(1 2 3 4)"}));
  for (uint64_t id = 1; id <= 4; ++id)
    EXPECT_TRUE(c.AppliedConfState(N(id)).voters_outgoing.empty()) << id;
}

// The automatic exit (§4.3, ConfChangeV2 auto-leave): when the application reports (Advance) that
// it applied everything up to the joint conf change (applied >= pending_conf_index), the leader
// appends an empty EntryConfChangeV2 — not earlier.
TEST(JointConsensusTest, LeaderAppendsLeaveEntryOnceJointConfigIsApplied) {
  raft::MemoryStorage s;
  auto r = NewTestRaft(1, {1, 2, 3}, 10, 1, &s);
  r->BecomeCandidate();
  r->BecomeLeader();                           // empty entry at 1
  ASSERT_TRUE(r->Step(PropMsg(1, "a")).ok());  // 2
  const raftpb::ConfChangeV2 cc = CCV2(kImplicit, "l4");
  Message prop = Msg(1, 1, MessageType::MsgProp);
  prop.entries.resize(1);
  prop.entries[0].type = EntryType::EntryConfChangeV2;
  prop.entries[0].data = Bytes(raftpb::Encode(cc));
  ASSERT_TRUE(r->Step(prop).ok());  // 3
  ASSERT_EQ(r->pending_conf_index, I(3));
  ASSERT_TRUE(r->Step(PropMsg(1, "b")).ok());  // 4
  Message ack = Msg(2, 1, MessageType::MsgAppResp);
  ack.term = r->term;
  ack.index = I(4);
  ASSERT_TRUE(r->Step(ack).ok());
  ASSERT_EQ(r->log.committed(), I(4));

  // The application applies entries 1-2 first (a size-limited Ready): nothing happens yet.
  raft::Ready rd;
  rd.committed_entries = *r->log.Slice(I(1), I(3), kNoLimit);
  r->Advance(rd);
  EXPECT_EQ(r->log.LastIndex(), I(4));

  // Then the conf change itself, which enters the joint config with auto-leave.
  (void)r->ApplyConfChange(cc);
  ASSERT_EQ(r->prs.config.String(), "voters=(1 2 3)&&(1 2 3) learners=(4) autoleave");
  rd.committed_entries = *r->log.Slice(I(3), I(4), kNoLimit);
  r->Advance(rd);
  ASSERT_EQ(r->log.LastIndex(), I(5));
  const Entry leave = (*r->log.Slice(I(5), I(6), kNoLimit))[0];
  EXPECT_EQ(leave.type, EntryType::EntryConfChangeV2);
  EXPECT_EQ(leave.term, r->term);
  auto decoded = raftpb::DecodeConfChangeV2(leave.data.view());
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->LeaveJoint());
}

// Entries committed behind the joint conf change are often applied in a later Ready (their acks
// arrive later). The leader must still append only ONE leaving entry: a second one would be
// applied after the configuration was already left, and leaving a non-joint configuration is
// invalid (ApplyConfChange panics on every replica that applies it).
TEST(JointConsensusTest, LeaveEntryIsAppendedOnlyOnceWhenApplyIsSplitAcrossReadies) {
  raft::MemoryStorage s;
  auto r = NewTestRaft(1, {1, 2, 3}, 10, 1, &s);
  r->BecomeCandidate();
  r->BecomeLeader();  // empty entry at 1
  const raftpb::ConfChangeV2 cc = CCV2(kImplicit, "l4");
  Message prop = Msg(1, 1, MessageType::MsgProp);
  prop.entries.resize(1);
  prop.entries[0].type = EntryType::EntryConfChangeV2;
  prop.entries[0].data = Bytes(raftpb::Encode(cc));
  ASSERT_TRUE(r->Step(prop).ok());             // 2
  ASSERT_TRUE(r->Step(PropMsg(1, "x")).ok());  // 3
  auto ack = [&](uint64_t index) {
    Message m = Msg(2, 1, MessageType::MsgAppResp);
    m.term = r->term;
    m.index = I(index);
    ASSERT_TRUE(r->Step(m).ok());
  };

  // Node 2's ack of the conf change arrives first: 1-2 commit and are applied.
  ack(2);
  ASSERT_EQ(r->log.committed(), I(2));
  raft::Ready rd;
  rd.committed_entries = *r->log.Slice(I(1), I(3), kNoLimit);
  (void)r->ApplyConfChange(cc);
  r->Advance(rd);
  ASSERT_EQ(r->log.LastIndex(), I(4));  // the leaving entry

  // Then the ack of "x": entry 3 commits and is applied while the config is still joint.
  ack(3);
  ASSERT_EQ(r->log.committed(), I(3));
  rd.committed_entries = *r->log.Slice(I(3), I(4), kNoLimit);
  r->Advance(rd);

  size_t leaves = 0;
  for (const Entry& e : r->log.AllEntries()) {
    if (e.type == EntryType::EntryConfChangeV2 && e.index > I(2)) ++leaves;
  }
  EXPECT_EQ(leaves, 1u) << "a second leaving entry was appended";
  EXPECT_EQ(r->log.LastIndex(), I(4));
}

// A leader that sets up joint config {1,4,5} && {1,2,3} (adding 4 and 5, removing 2 and 3).
std::unique_ptr<Raft> JointLeader(raft::MemoryStorage* s) {
  auto r = NewTestRaft(1, {1, 2, 3}, 10, 1, s);
  r->BecomeCandidate();
  r->BecomeLeader();
  (void)r->ApplyConfChange(CCV2(kExplicit, "v4 v5 r2 r3"));
  EXPECT_EQ(r->prs.config.String(), "voters=(1 4 5)&&(1 2 3)");
  (void)ReadMessages(*r);
  return r;
}

// §4.3: while joint, an entry is committed only when a majority of the old AND of the new voters
// have it.
TEST(JointConsensusTest, CommitNeedsMajorityOfBothHalves) {
  struct Case {
    const char* name;
    std::vector<uint64_t> ackers;
    bool committed;
  };
  const std::vector<Case> cases = {
      {"new half only", {4, 5}, false},
      {"old half only", {2, 3}, false},
      {"majority of each", {2, 4}, true},
      {"all", {2, 3, 4, 5}, true},
      {"one short in the new half", {2, 3, 5}, true},  // {1,5} is a majority of {1,4,5}
      {"nobody but the leader", {}, false},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    raft::MemoryStorage s;
    auto r = JointLeader(&s);
    ASSERT_TRUE(r->Step(PropMsg(1, "x")).ok());
    const Index idx = r->log.LastIndex();
    for (uint64_t from : tc.ackers) {
      Message m = Msg(from, 1, MessageType::MsgAppResp);
      m.term = r->term;
      m.index = idx;
      ASSERT_TRUE(r->Step(m).ok());
    }
    EXPECT_EQ(r->log.committed(), tc.committed ? idx : I(0));
  }
}

// §4.3: while joint, a candidate needs a majority of each half; votes go to the union.
TEST(JointConsensusTest, ElectionNeedsMajorityOfBothHalves) {
  struct Case {
    const char* name;
    std::vector<std::pair<uint64_t, bool>> votes;  // in order
    StateType want;
  };
  const std::vector<Case> cases = {
      {"old half only so far", {{2, true}, {3, true}}, StateType::kCandidate},
      {"then one of the new half", {{2, true}, {3, true}, {4, true}}, StateType::kLeader},
      {"new half only so far", {{4, true}, {5, true}}, StateType::kCandidate},
      {"old half refuses", {{4, true}, {5, true}, {2, false}, {3, false}}, StateType::kFollower},
      {"new half refuses", {{2, true}, {4, false}, {5, false}}, StateType::kFollower},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    raft::MemoryStorage s;
    auto r = NewTestRaft(1, {1, 2, 3}, 10, 1, &s);
    (void)r->ApplyConfChange(CCV2(kExplicit, "v4 v5 r2 r3"));
    ASSERT_TRUE(r->Step(Msg(1, 1, MessageType::MsgHup)).ok());
    ASSERT_EQ(r->state, StateType::kCandidate);
    std::vector<NodeId> asked;
    for (const Message& m : ReadMessages(*r)) {
      EXPECT_EQ(m.type, MessageType::MsgVote);
      asked.push_back(m.to);
    }
    EXPECT_EQ(asked, Ids({2, 3, 4, 5}));
    for (const auto& [from, granted] : tc.votes) {
      Message m = Msg(from, 1, MessageType::MsgVoteResp);
      m.term = r->term;
      m.reject = !granted;
      ASSERT_TRUE(r->Step(m).ok());
    }
    EXPECT_EQ(r->state, tc.want);
  }
}

// One change at a time (§4.1): while joint, a new (non-empty) change is refused, as is a second
// change proposed before the first is applied, and an empty change outside a joint config. A
// refused change becomes an empty normal entry (the proposal still gets an index).
TEST(JointConsensusTest, RefusedConfChangesBecomeEmptyEntries) {
  Cluster c(3);
  c.ElectLeader(N(1));
  c.AddEmptyNode(N(4));
  c.AddEmptyNode(N(5));
  Raft& lead = c.node(N(1)).raft_for_testing();

  ASSERT_TRUE(c.node(N(1)).ProposeConfChange(CCV2(kExplicit, "v4")).ok());
  const Index first = lead.log.LastIndex();
  // Proposed before the first one is even committed.
  ASSERT_TRUE(c.node(N(1)).ProposeConfChange(CCV2(kAuto, "v5")).ok());
  const Index second = lead.log.LastIndex();
  c.Stabilize();
  ASSERT_EQ(ConfigOf(c, 1), "voters=(1 2 3 4)&&(1 2 3)");
  auto entry_at = [&](Index i) {
    auto ents = lead.log.Slice(i, i + 1, kNoLimit);
    EXPECT_TRUE(ents.ok());
    return ents.ok() ? (*ents)[0] : Entry{};
  };
  EXPECT_EQ(entry_at(first).type, EntryType::EntryConfChangeV2);
  EXPECT_EQ(entry_at(second).type, EntryType::EntryNormal);
  EXPECT_TRUE(entry_at(second).data.empty());

  // Joint: a non-empty change is refused.
  ASSERT_TRUE(c.node(N(1)).ProposeConfChange(CCV2(kAuto, "v5")).ok());
  const Index third = lead.log.LastIndex();
  c.Stabilize();
  EXPECT_EQ(entry_at(third).type, EntryType::EntryNormal);
  EXPECT_EQ(ConfigOf(c, 1), "voters=(1 2 3 4)&&(1 2 3)");

  ASSERT_TRUE(c.node(N(1)).ProposeConfChange(raftpb::ConfChangeV2{}).ok());
  c.Stabilize();
  ASSERT_EQ(ConfigOf(c, 1), "voters=(1 2 3 4)");

  // Not joint: an empty change is refused.
  ASSERT_TRUE(c.node(N(1)).ProposeConfChange(raftpb::ConfChangeV2{}).ok());
  const Index fourth = lead.log.LastIndex();
  c.Stabilize();
  EXPECT_EQ(entry_at(fourth).type, EntryType::EntryNormal);
  EXPECT_EQ(ConfigOf(c, 1), "voters=(1 2 3 4)");
  for (uint64_t id = 1; id <= 4; ++id)
    EXPECT_EQ(Voters(c, id), Ids({1, 2, 3, 4})) << id;
  EXPECT_FALSE(lead.prs.progress.contains(N(5)));
}

// Replacing the leader: node 1 leaves, node 4 joins. While joint, node 1 is only in the outgoing
// half; it still leads and replicates (its own ack counts only there) until the joint config is
// left. Then it is out: its proposals are dropped, and once it is shut down the incoming voters
// elect a leader among themselves.
TEST(JointConsensusTest, LeaderCanBeReplacedThroughAJointConfig) {
  Cluster c(3);
  c.ElectLeader(N(1));
  c.AddEmptyNode(N(4));
  ASSERT_TRUE(c.node(N(1)).ProposeConfChange(CCV2(kExplicit, "v4 r1")).ok());
  c.Stabilize();
  for (uint64_t id = 1; id <= 4; ++id)
    ASSERT_EQ(ConfigOf(c, id), "voters=(2 3 4)&&(1 2 3)") << id;
  ASSERT_EQ(c.Leader(), N(1));

  ASSERT_TRUE(c.Propose(N(1), "while-joint").ok());
  c.Stabilize();
  for (uint64_t id = 1; id <= 4; ++id)
    EXPECT_EQ(c.Applied(N(id)), std::vector<std::string>{"while-joint"}) << id;

  ASSERT_TRUE(c.node(N(1)).ProposeConfChange(raftpb::ConfChangeV2{}).ok());
  c.Stabilize();
  for (uint64_t id = 1; id <= 4; ++id)
    EXPECT_EQ(ConfigOf(c, id), "voters=(2 3 4)") << id;
  EXPECT_EQ(c.Propose(N(1), "from-removed-leader").code(), ErrorCode::kProposalDropped);

  c.Stop(N(1));
  const NodeId next = TickUntilNewLeader(c, N(1));
  ASSERT_NE(next, kNoNode);
  EXPECT_TRUE(next == N(2) || next == N(3) || next == N(4));
  ASSERT_TRUE(c.Propose(next, "after").ok());
  c.Stabilize();
  for (uint64_t id = 2; id <= 4; ++id)
    EXPECT_EQ(c.Applied(N(id)), (std::vector<std::string>{"while-joint", "after"})) << id;
}

// A voter cannot be a learner at the same time: demoting node 3 parks it in learners_next while it
// is an outgoing voter, and it becomes a learner when the joint config is left.
TEST(JointConsensusTest, DemotingAVoterGoesThroughLearnersNext) {
  Cluster c(3);
  c.ElectLeader(N(1));
  ASSERT_TRUE(c.node(N(1)).ProposeConfChange(CCV2(kExplicit, "l3")).ok());
  c.Stabilize();
  for (uint64_t id = 1; id <= 3; ++id) {
    SCOPED_TRACE(id);
    EXPECT_EQ(ConfigOf(c, id), "voters=(1 2)&&(1 2 3) learners_next=(3)");
    EXPECT_EQ(c.AppliedConfState(N(id)).learners_next, Ids({3}));
    EXPECT_TRUE(c.AppliedConfState(N(id)).learners.empty());
  }
  EXPECT_FALSE(c.node(N(3)).raft_for_testing().is_learner);

  ASSERT_TRUE(c.node(N(1)).ProposeConfChange(raftpb::ConfChangeV2{}).ok());
  c.Stabilize();
  for (uint64_t id = 1; id <= 3; ++id) {
    SCOPED_TRACE(id);
    EXPECT_EQ(ConfigOf(c, id), "voters=(1 2) learners=(3)");
    EXPECT_EQ(c.AppliedConfState(N(id)).learners, Ids({3}));
    EXPECT_TRUE(c.AppliedConfState(N(id)).learners_next.empty());
  }
  Raft& r3 = c.node(N(3)).raft_for_testing();
  EXPECT_TRUE(r3.is_learner);

  // Still replicated to, no longer able to campaign.
  ASSERT_TRUE(c.Propose(N(1), "x").ok());
  c.Stabilize();
  EXPECT_EQ(c.Applied(N(3)), std::vector<std::string>{"x"});
  ASSERT_TRUE(c.Campaign(N(3)).ok());
  c.Stabilize();
  EXPECT_EQ(r3.state, StateType::kFollower);
  EXPECT_EQ(c.Leader(), N(1));
}

// The v1 API: one change per entry, stored as EntryConfChange, applied as a simple change.
TEST(JointConsensusTest, V1ConfChangesAddAndRemoveVotersAndLearners) {
  Cluster c(3);
  c.ElectLeader(N(1));
  c.AddEmptyNode(N(4));
  c.AddEmptyNode(N(5));
  const Index before = c.node(N(1)).raft_for_testing().log.LastIndex();

  ASSERT_TRUE(c.node(N(1)).ProposeConfChange(CCV1(ConfChangeType::ConfChangeAddNode, 4)).ok());
  EXPECT_EQ(StabilizeRecordingConfigs(c, 1),
            (std::vector<std::string>{"voters=(1 2 3)", "voters=(1 2 3 4)"}));
  ASSERT_TRUE(
      c.node(N(1)).ProposeConfChange(CCV1(ConfChangeType::ConfChangeAddLearnerNode, 5)).ok());
  c.Stabilize();
  ASSERT_TRUE(c.node(N(1)).ProposeConfChange(CCV1(ConfChangeType::ConfChangeRemoveNode, 2)).ok());
  c.Stabilize();

  const std::vector<Entry> ccs = ConfEntriesAfter(c, 1, before);
  ASSERT_EQ(ccs.size(), 3u);
  for (const Entry& e : ccs)
    EXPECT_EQ(e.type, EntryType::EntryConfChange);
  EXPECT_EQ(DescribeChanges(ccs[0]), "v4");
  EXPECT_EQ(DescribeChanges(ccs[1]), "l5");
  EXPECT_EQ(DescribeChanges(ccs[2]), "r2");

  for (uint64_t id : {1, 3, 4, 5}) {
    SCOPED_TRACE(id);
    EXPECT_EQ(ConfigOf(c, id), "voters=(1 3 4) learners=(5)");
  }
  c.Stop(N(2));
  ASSERT_TRUE(c.Propose(N(1), "y").ok());
  c.Stabilize();
  for (uint64_t id : {1, 3, 4, 5})
    EXPECT_EQ(c.Applied(N(id)), std::vector<std::string>{"y"}) << id;
}

// Removing the leader with a v1 change: once it has applied its removal it no longer counts
// itself towards commit quorums (an entry it proposed just before needs both remaining voters),
// it drops new proposals, and the remaining voters carry on with a leader of their own.
TEST(JointConsensusTest, RemovingTheLeaderWithV1LetsTheOthersContinue) {
  Cluster c(3);
  c.ElectLeader(N(1));
  Raft& r1 = c.node(N(1)).raft_for_testing();
  c.Cut(N(1), N(3));

  ASSERT_TRUE(c.node(N(1)).ProposeConfChange(CCV1(ConfChangeType::ConfChangeRemoveNode, 1)).ok());
  ASSERT_TRUE(c.Propose(N(1), "foo").ok());
  const Index foo = r1.log.LastIndex();
  ASSERT_TRUE(c.ProcessReady(N(1)));  // persist and send the appends
  c.Deliver();                        // only node 2 gets them
  ASSERT_TRUE(c.ProcessReady(N(2)));  // node 2 acknowledges
  // Proposed while node 1 has not yet applied its removal: accepted.
  ASSERT_TRUE(c.Propose(N(1), "bar").ok());
  const Index bar = r1.log.LastIndex();
  c.Stabilize();

  EXPECT_EQ(ConfigOf(c, 1), "voters=(2 3)");
  EXPECT_EQ(ConfigOf(c, 2), "voters=(2 3)");
  EXPECT_EQ(r1.log.committed(), foo);
  EXPECT_EQ(r1.prs.progress.at(N(2)).match, bar);
  EXPECT_EQ(c.Applied(N(2)), std::vector<std::string>{"foo"});
  EXPECT_EQ(r1.state, StateType::kLeader);

  // Node 3 comes back: {2, 3} is the quorum now, and "bar" commits.
  c.Recover();
  c.TickAll();
  EXPECT_EQ(r1.log.committed(), bar);
  for (uint64_t id = 1; id <= 3; ++id)
    EXPECT_EQ(c.Applied(N(id)), (std::vector<std::string>{"foo", "bar"})) << id;

  EXPECT_EQ(c.Propose(N(1), "baz").code(), ErrorCode::kProposalDropped);
  c.Stop(N(1));
  const NodeId next = TickUntilNewLeader(c, N(1));
  ASSERT_TRUE(next == N(2) || next == N(3)) << next.value();
  ASSERT_TRUE(c.Propose(next, "baz").ok());
  c.Stabilize();
  for (uint64_t id = 2; id <= 3; ++id)
    EXPECT_EQ(c.Applied(N(id)), (std::vector<std::string>{"foo", "bar", "baz"})) << id;
}

}  // namespace
}  // namespace raftkit::testing
