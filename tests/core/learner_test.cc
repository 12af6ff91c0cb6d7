// Learners (non-voting members, thesis §4.2.1): they receive the log like everyone else, but are
// not part of any quorum, never campaign, and are promoted to voters by a configuration change.
// They do answer vote requests, because a candidate may already know of a promotion the learner
// has not seen yet.
#include <gtest/gtest.h>

#include "raftkit/raftpb/codec.h"
#include "testlib/network.h"

namespace raftkit::testing {
namespace {

using raft::StateType;

raftpb::ConfChangeV2 Changes(std::string_view s) {
  raftpb::ConfChangeV2 cc;
  EXPECT_TRUE(raftpb::ConfChangesFromString(s, &cc.changes)) << s;
  return cc;
}

Message ConfChangeProp(uint64_t to, const raftpb::ConfChangeV2& cc) {
  Message m = Msg(to, to, MessageType::MsgProp);
  m.entries.resize(1);
  m.entries[0].type = raftpb::EntryType::EntryConfChangeV2;
  m.entries[0].data = Bytes(raftpb::Encode(cc));
  return m;
}

Message AppResp(uint64_t from, uint64_t to, Term term, Index index) {
  Message m = Msg(from, to, MessageType::MsgAppResp);
  m.term = term;
  m.index = index;
  return m;
}

Message VoteResp(uint64_t from, uint64_t to, Term term, bool reject) {
  Message m = Msg(from, to, MessageType::MsgVoteResp);
  m.term = term;
  m.reject = reject;
  return m;
}

// A network whose members all start with the same voters and learners. The storages are kept by
// the network (Network::storage works for them).
Network LearnerNetwork(std::initializer_list<uint64_t> voters,
                       std::initializer_list<uint64_t> learners, bool check_quorum = false) {
  std::vector<Peer> peers;
  const size_t n = voters.size() + learners.size();
  for (uint64_t id = 1; id <= n; ++id) {
    auto s = std::make_unique<raft::MemoryStorage>();
    raft::Config c = NewTestConfig(id, 10, 1, s.get());
    c.peers = Ids(voters);
    c.learners = Ids(learners);
    c.check_quorum = check_quorum;
    peers.push_back(Peer::Of(NewRaftFromConfig(c), std::move(s)));
  }
  return Network(std::move(peers));
}

// Hands the committed entries of `id` to a test "application" that applies conf changes.
void ApplyCommitted(Network& nw, uint64_t id) {
  Raft& r = nw.raft(id);
  for (const Entry& e : NextEnts(r, nw.storage(N(id)))) {
    if (e.type == raftpb::EntryType::EntryConfChangeV2) {
      auto cc = raftpb::DecodeConfChangeV2(e.data.view());
      ASSERT_TRUE(cc.ok());
      (void)r.ApplyConfChange(*cc);
    }
  }
}

std::vector<Message> OfType(const std::vector<Message>& msgs, MessageType t) {
  std::vector<Message> out;
  for (const Message& m : msgs) {
    if (m.type == t) out.push_back(m);
  }
  return out;
}

TEST(LearnerTest, LearnerReplicatesButIsNotCountedForCommit) {
  Network nw = LearnerNetwork({1, 2}, {3});
  std::vector<Message> trace;
  nw.SetMsgHook([&](const Message& m) {
    trace.push_back(m);
    return true;
  });
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  Raft& lead = nw.raft(1);
  ASSERT_EQ(lead.state, StateType::kLeader);
  // Nobody asks the learner for a vote.
  for (const Message& m : OfType(trace, MessageType::MsgVote))
    EXPECT_NE(m.to, N(3));
  nw.SetMsgHook(nullptr);

  // Replication reaches the learner, including the commit index.
  nw.Send({PropMsg(1, "x")});
  EXPECT_EQ(nw.raft(3).log.LastIndex(), I(2));
  EXPECT_EQ(nw.raft(3).log.committed(), I(2));

  // Without the learner, the voters still commit.
  nw.Isolate(N(3));
  nw.Send({PropMsg(1, "y")});
  EXPECT_EQ(lead.log.committed(), I(3));
  EXPECT_EQ(nw.raft(3).log.committed(), I(2));

  // Leader and learner together are not a quorum: with voter 2 unreachable nothing commits, even
  // though the learner holds the entry.
  nw.Recover();
  nw.Cut(N(1), N(2));
  nw.Send({PropMsg(1, "z")});
  EXPECT_EQ(lead.prs.progress.at(N(3)).match, I(4));
  EXPECT_EQ(lead.log.committed(), I(3));

  nw.Recover();
  nw.Send({Msg(1, 1, MessageType::MsgBeat)});
  EXPECT_EQ(lead.log.committed(), I(4));
  EXPECT_EQ(nw.raft(3).log.committed(), I(4));
}

TEST(LearnerTest, LearnerNeverCampaigns) {
  auto s = std::make_unique<raft::MemoryStorage>();
  auto r = NewTestLearnerRaft(2, {1}, {2}, 10, 1, s.get());
  r->BecomeFollower(T(1), kNoNode);
  ASSERT_TRUE(r->is_learner);
  ASSERT_FALSE(r->Promotable());

  ASSERT_TRUE(r->Step(Msg(2, 2, MessageType::MsgHup)).ok());
  EXPECT_EQ(r->state, StateType::kFollower);
  EXPECT_EQ(r->term, T(1));
  EXPECT_TRUE(ReadMessages(*r).empty());

  // Well past any randomized election timeout ([10, 20) ticks).
  for (int i = 0; i < 3 * r->election_timeout; ++i)
    r->Tick();
  EXPECT_EQ(r->state, StateType::kFollower);
  EXPECT_EQ(r->term, T(1));
  EXPECT_TRUE(ReadMessages(*r).empty());
}

TEST(LearnerTest, PromotedLearnerTakesPartInElections) {
  Network nw = LearnerNetwork({1}, {2});
  nw.Send({Msg(2, 2, MessageType::MsgHup)});
  ASSERT_EQ(nw.raft(2).state, StateType::kFollower);
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  ASSERT_EQ(nw.raft(1).state, StateType::kLeader);
  nw.Send({Msg(1, 1, MessageType::MsgBeat)});
  ASSERT_EQ(nw.raft(2).lead, N(1));

  const raftpb::ConfChangeV2 promote = Changes("v2");
  (void)nw.raft(1).ApplyConfChange(promote);
  (void)nw.raft(2).ApplyConfChange(promote);
  ASSERT_FALSE(nw.raft(2).is_learner);
  EXPECT_EQ(nw.raft(1).prs.config.String(), "voters=(1 2)");

  // Node 2 can now campaign, and needs node 1's vote (a quorum of two) to win.
  nw.Send({Msg(2, 2, MessageType::MsgHup)});
  EXPECT_EQ(nw.raft(2).state, StateType::kLeader);
  EXPECT_EQ(nw.raft(2).term, T(2));
  EXPECT_EQ(nw.raft(1).state, StateType::kFollower);
  EXPECT_EQ(nw.raft(1).vote, N(2));
}

TEST(LearnerTest, LearnerGrantsVoteWhenAsked) {
  auto s = std::make_unique<raft::MemoryStorage>();
  auto r = NewTestLearnerRaft(3, {1, 2}, {3}, 10, 1, s.get());
  r->BecomeFollower(T(1), kNoNode);
  Message vote = Msg(2, 3, MessageType::MsgVote);
  vote.term = T(2);
  vote.log_term = T(11);
  vote.index = I(11);
  ASSERT_TRUE(r->Step(vote).ok());
  const std::vector<Message> out = ReadMessages(*r);
  ASSERT_EQ(out.size(), 1u) << Describe(out);
  EXPECT_EQ(out[0].type, MessageType::MsgVoteResp);
  EXPECT_EQ(out[0].to, N(2));
  EXPECT_EQ(out[0].term, T(2));
  EXPECT_FALSE(out[0].reject);
  EXPECT_EQ(r->vote, N(2));
  EXPECT_TRUE(r->is_learner);
}

// Voters 1, 2 and learner 3. Node 3 is promoted by an entry committed by 1 and 2 alone, then node
// 1 fails. In the current configuration the voters are 1, 2, 3, so node 2 needs node 3's vote —
// and node 3, still a learner in its own eyes, must give it or the group is stuck.
TEST(LearnerTest, LearnerUnawareOfItsPromotionVotesAndUnblocksElection) {
  Network nw = LearnerNetwork({1, 2}, {3});
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  ASSERT_EQ(nw.raft(1).state, StateType::kLeader);

  nw.Isolate(N(3));
  nw.Send({ConfChangeProp(1, Changes("v3"))});
  ASSERT_EQ(nw.raft(1).log.committed(), I(2));
  ASSERT_EQ(nw.raft(2).log.committed(), I(2));
  ApplyCommitted(nw, 1);
  ApplyCommitted(nw, 2);
  ASSERT_EQ(nw.raft(2).prs.config.String(), "voters=(1 2 3)");
  ASSERT_TRUE(nw.raft(3).is_learner);
  ASSERT_EQ(nw.raft(3).log.LastIndex(), I(1));

  nw.Recover();
  nw.Isolate(N(1));
  nw.Send({Msg(2, 2, MessageType::MsgHup)});
  Raft& r2 = nw.raft(2);
  Raft& r3 = nw.raft(3);
  EXPECT_EQ(r2.state, StateType::kLeader);
  EXPECT_EQ(r2.term, T(2));
  EXPECT_EQ(r3.vote, N(2));
  EXPECT_EQ(r3.lead, N(2));
  // Node 3 caught up, including its own promotion, and the new leader's entry is committed by
  // the new quorum {2, 3}.
  EXPECT_EQ(r3.log.LastIndex(), I(3));
  EXPECT_EQ(r2.log.committed(), I(3));
  ApplyCommitted(nw, 3);
  EXPECT_FALSE(r3.is_learner);
  EXPECT_TRUE(r3.Promotable());
}

// Learners are invisible to the voter quorums of commit and election: only the voter set
// decides, however many learners come and go.
TEST(LearnerTest, AddingAndRemovingLearnersLeavesVoterQuorumUnchanged) {
  auto s = std::make_unique<raft::MemoryStorage>();
  auto r = NewTestRaft(1, {1, 2, 3}, 10, 1, s.get());
  r->BecomeCandidate();
  r->BecomeLeader();
  (void)r->ApplyConfChange(Changes("l4"));
  (void)r->ApplyConfChange(Changes("l5"));
  EXPECT_EQ(r->prs.config.String(), "voters=(1 2 3) learners=(4 5)");
  (void)ReadMessages(*r);

  ASSERT_TRUE(r->Step(PropMsg(1, "x")).ok());
  const Index idx = r->log.LastIndex();
  ASSERT_TRUE(r->Step(AppResp(4, 1, T(1), idx)).ok());
  ASSERT_TRUE(r->Step(AppResp(5, 1, T(1), idx)).ok());
  EXPECT_EQ(r->log.committed(), I(0)) << "three of five members, but only one of three voters";
  ASSERT_TRUE(r->Step(AppResp(2, 1, T(1), idx)).ok());
  EXPECT_EQ(r->log.committed(), idx);

  (void)r->ApplyConfChange(Changes("r4"));
  EXPECT_EQ(r->prs.config.String(), "voters=(1 2 3) learners=(5)");
  EXPECT_FALSE(r->prs.progress.contains(N(4)));
  ASSERT_TRUE(r->Step(PropMsg(1, "y")).ok());
  ASSERT_TRUE(r->Step(AppResp(5, 1, T(1), r->log.LastIndex())).ok());
  EXPECT_EQ(r->log.committed(), idx);
  ASSERT_TRUE(r->Step(AppResp(3, 1, T(1), r->log.LastIndex())).ok());
  EXPECT_EQ(r->log.committed(), r->log.LastIndex());
}

TEST(LearnerTest, LearnerVotesDoNotCountInElections) {
  auto s = std::make_unique<raft::MemoryStorage>();
  auto r = NewTestLearnerRaft(1, {1, 2, 3}, {4, 5}, 10, 1, s.get());
  ASSERT_TRUE(r->Step(Msg(1, 1, MessageType::MsgHup)).ok());
  ASSERT_EQ(r->state, StateType::kCandidate);
  const std::vector<Message> reqs = ReadMessages(*r);
  ASSERT_EQ(reqs.size(), 2u) << Describe(reqs);
  EXPECT_EQ(reqs[0].to, N(2));
  EXPECT_EQ(reqs[1].to, N(3));

  // Stray grants from learners do not make a majority.
  ASSERT_TRUE(r->Step(VoteResp(4, 1, T(1), false)).ok());
  ASSERT_TRUE(r->Step(VoteResp(5, 1, T(1), false)).ok());
  EXPECT_EQ(r->state, StateType::kCandidate);
  ASSERT_TRUE(r->Step(VoteResp(2, 1, T(1), false)).ok());
  EXPECT_EQ(r->state, StateType::kLeader);
}

// CheckQuorum (thesis §6.2) counts voters only: a leader that hears from its learner but not from
// the other voter steps down.
TEST(LearnerTest, LearnerActivityDoesNotKeepLeaderAliveUnderCheckQuorum) {
  Network nw = LearnerNetwork({1, 2}, {3}, /*check_quorum=*/true);
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  Raft& lead = nw.raft(1);
  ASSERT_EQ(lead.state, StateType::kLeader);

  size_t learner_acks = 0;
  nw.SetMsgHook([&](const Message& m) {
    if (m.from == N(3) && m.type == MessageType::MsgHeartbeatResp) ++learner_acks;
    return true;
  });
  nw.Cut(N(1), N(2));
  int ticks = 0;
  while (ticks < 3 * lead.election_timeout && lead.state == StateType::kLeader) {
    lead.Tick();
    ++ticks;
    nw.Send(nw.Filter(ReadMessages(lead)));
  }
  EXPECT_GT(learner_acks, 0u);
  EXPECT_EQ(lead.state, StateType::kFollower);
  EXPECT_EQ(lead.term, T(1));
  // The first check (after one election timeout) still sees node 2's acknowledgement of the
  // election's append; the second one finds only the learner and steps down.
  EXPECT_EQ(ticks, 2 * lead.election_timeout);
}

struct RestoreCase {
  const char* name;
  std::vector<NodeId> voters;  // node 3's configuration before the snapshot
  std::vector<NodeId> learners;
  std::vector<NodeId> snap_voters;
  std::vector<NodeId> snap_learners;
  bool want_learner;
};

// The snapshot's ConfState decides what node 3 is afterwards.
TEST(LearnerTest, SnapshotConfStateDecidesLearnerStatusOnRestore) {
  const std::vector<RestoreCase> cases = {
      {"learner stays learner", Ids({1, 2}), Ids({3}), Ids({1, 2}), Ids({3}), true},
      {"voter demoted to learner", Ids({1, 2, 3}), {}, Ids({1, 2}), Ids({3}), true},
      {"learner promoted to voter", Ids({1, 2}), Ids({3}), Ids({1, 2, 3}), {}, false},
  };
  for (const RestoreCase& tc : cases) {
    SCOPED_TRACE(tc.name);
    auto s = std::make_unique<raft::MemoryStorage>();
    raft::Config c = NewTestConfig(3, 10, 1, s.get());
    c.peers = tc.voters;
    c.learners = tc.learners;
    auto r = NewRaftFromConfig(c);
    raftpb::Snapshot snap;
    snap.metadata.index = I(11);
    snap.metadata.term = T(11);
    snap.metadata.conf_state.voters = tc.snap_voters;
    snap.metadata.conf_state.learners = tc.snap_learners;

    // Delivered as a leader would send it.
    Message m = Msg(1, 3, MessageType::MsgSnap);
    m.term = T(11);
    m.snapshot = snap;
    ASSERT_TRUE(r->Step(m).ok());
    EXPECT_EQ(r->log.LastIndex(), I(11));
    EXPECT_EQ(r->log.committed(), I(11));
    EXPECT_EQ(r->is_learner, tc.want_learner);
    EXPECT_EQ(r->Promotable(), !tc.want_learner);
    EXPECT_EQ(r->prs.VoterNodes(), tc.snap_voters);
    EXPECT_EQ(r->prs.LearnerNodes(), tc.snap_learners);
    const std::vector<Message> out = ReadMessages(*r);
    ASSERT_EQ(out.size(), 1u) << Describe(out);
    EXPECT_EQ(out[0].type, MessageType::MsgAppResp);
    EXPECT_EQ(out[0].index, I(11));

    // The application persists and applies the snapshot (as it would from the Ready); then
    // whether the node may campaign follows from its new role.
    ASSERT_TRUE(s->ApplySnapshot(snap).ok());
    raft::Ready rd;
    rd.snapshot = snap;
    r->Advance(rd);
    ASSERT_EQ(r->log.applied(), I(11));
    ASSERT_TRUE(r->Step(Msg(3, 3, MessageType::MsgHup)).ok());
    EXPECT_EQ(r->state == StateType::kFollower, tc.want_learner);
  }
}

}  // namespace
}  // namespace raftkit::testing
