// Pre-vote (thesis §9.6) and CheckQuorum / the leader lease (thesis §6.2, §4.2.3): the mechanisms
// that keep a partitioned or removed node from disrupting a healthy cluster, and the liveness
// escape hatches that bring a node with an inflated term back into the cluster.
#include <gtest/gtest.h>

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

void PreVote(raft::Config& c) {
  c.pre_vote = true;
}
void CheckQuorum(raft::Config& c) {
  c.check_quorum = true;
}
void PreVoteAndCheckQuorum(raft::Config& c) {
  c.pre_vote = true;
  c.check_quorum = true;
}

std::unique_ptr<Raft> NewRaft(uint64_t id, std::initializer_list<uint64_t> peers,
                              raft::MemoryStorage* s, bool pre_vote, bool check_quorum) {
  raft::Config c = NewTestConfig(id, 10, 1, s);
  c.peers = Ids(peers);
  c.pre_vote = pre_vote;
  c.check_quorum = check_quorum;
  return NewRaftFromConfig(c);
}

Message VoteReq(MessageType t, uint64_t from, uint64_t to, Term term, Index index, Term log_term) {
  Message m = Msg(from, to, t);
  m.term = term;
  m.index = index;
  m.log_term = log_term;
  return m;
}

Message Resp(MessageType t, uint64_t from, uint64_t to, Term term, bool reject) {
  Message m = Msg(from, to, t);
  m.term = term;
  m.reject = reject;
  return m;
}

// Ticks every member once per round and delivers what each produces. (Network::Send does not
// filter the messages it is handed, only the replies, so the tick output goes through Filter.)
void TickRounds(Network& nw, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    for (NodeId id : nw.Ids()) {
      Raft& r = nw.raft(id);
      r.Tick();
      nw.Send(nw.Filter(ReadMessages(r)));
    }
  }
}

// §9.6: a node partitioned away keeps failing to collect pre-votes, so its term does not grow;
// when it comes back with a stale log its pre-vote is refused and the leader is left alone.
TEST(PreVoteTest, PartitionedNodeRejoinsWithoutRaisingTermOrDisruptingLeader) {
  Network nw(NewPeers(3), PreVote);
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  ASSERT_EQ(nw.raft(1).state, StateType::kLeader);
  ASSERT_EQ(nw.raft(1).term, T(1));

  nw.Isolate(N(3));
  nw.Send({PropMsg(1, "missed-by-3")});
  for (int i = 0; i < 3; ++i)
    nw.Send({Msg(3, 3, MessageType::MsgHup)});
  EXPECT_EQ(nw.raft(3).state, StateType::kPreCandidate);
  EXPECT_EQ(nw.raft(3).term, T(1));

  nw.Recover();
  nw.Send({Msg(3, 3, MessageType::MsgHup)});
  EXPECT_EQ(nw.raft(1).state, StateType::kLeader);
  EXPECT_EQ(nw.raft(1).term, T(1));
  EXPECT_EQ(nw.raft(2).term, T(1));
  EXPECT_EQ(nw.raft(3).state, StateType::kFollower);
  EXPECT_EQ(nw.raft(3).term, T(1));

  nw.Send({Msg(1, 1, MessageType::MsgBeat)});
  EXPECT_EQ(nw.raft(3).lead, N(1));
  EXPECT_EQ(nw.raft(3).log.committed(), I(2));
}

// The same story without pre-vote, for contrast: the returning node's inflated term deposes the
// leader (this is the disruption pre-vote exists to prevent).
TEST(PreVoteTest, WithoutPreVoteRejoiningNodeDisruptsLeader) {
  Network nw(NewPeers(3));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  nw.Isolate(N(3));
  nw.Send({PropMsg(1, "missed-by-3")});
  for (int i = 0; i < 3; ++i)
    nw.Send({Msg(3, 3, MessageType::MsgHup)});
  EXPECT_EQ(nw.raft(3).term, T(4));

  nw.Recover();
  nw.Send({Msg(3, 3, MessageType::MsgHup)});
  EXPECT_EQ(nw.raft(1).state, StateType::kFollower);
  EXPECT_EQ(nw.raft(1).term, T(5));
  EXPECT_EQ(nw.raft(3).state, StateType::kFollower) << "its stale log cannot win";
}

TEST(PreVoteTest, PreVoteRequestAsksForNextTermWithoutChangingLocalState) {
  auto s = StorageWith(EntsWithTerms({1, 2}));
  auto r = NewRaft(1, {1, 2, 3}, s.get(), /*pre_vote=*/true, /*check_quorum=*/false);
  r->BecomeFollower(T(2), kNoNode);
  const raftpb::HardState before = r->GetHardState();

  ASSERT_TRUE(r->Step(Msg(1, 1, MessageType::MsgHup)).ok());
  EXPECT_EQ(r->state, StateType::kPreCandidate);
  EXPECT_EQ(r->term, T(2));
  EXPECT_EQ(r->vote, kNoNode);
  EXPECT_TRUE(r->GetHardState().SameAs(before));
  const std::vector<Message> reqs = ReadMessages(*r);
  ASSERT_EQ(reqs.size(), 2u) << Describe(reqs);
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(reqs[i].type, MessageType::MsgPreVote);
    EXPECT_EQ(reqs[i].to, N(i + 2));
    EXPECT_EQ(reqs[i].term, T(3));
    EXPECT_EQ(reqs[i].index, I(2));
    EXPECT_EQ(reqs[i].log_term, T(2));
  }

  // Granting a pre-vote does not move the voter's term or record a vote either.
  auto s2 = StorageWith(EntsWithTerms({1, 2}));
  auto voter = NewRaft(2, {1, 2, 3}, s2.get(), true, false);
  voter->BecomeFollower(T(2), kNoNode);
  ASSERT_TRUE(voter->Step(reqs[0]).ok());
  const std::vector<Message> out = ReadMessages(*voter);
  ASSERT_EQ(out.size(), 1u) << Describe(out);
  EXPECT_EQ(out[0].type, MessageType::MsgPreVoteResp);
  EXPECT_FALSE(out[0].reject);
  EXPECT_EQ(out[0].term, T(3)) << "a grant carries the term asked about";
  EXPECT_EQ(voter->term, T(2));
  EXPECT_EQ(voter->vote, kNoNode);
  EXPECT_EQ(voter->state, StateType::kFollower);
}

// §3.6.1 election restriction, applied to pre-votes: granted only to a log at least as up to date.
TEST(PreVoteTest, PreVoteIsGrantedOnlyToUpToDateLogs) {
  struct Case {
    const char* name;
    Term term;  // of the request
    Index index;
    Term log_term;
    NodeId existing_vote;  // the receiver's vote in its current term (2)
    bool granted;
  };
  const std::vector<Case> cases = {
      {"same last entry", T(3), I(3), T(2), kNoNode, true},
      {"longer log same last term", T(3), I(4), T(2), kNoNode, true},
      {"higher last term shorter log", T(3), I(1), T(3), kNoNode, true},
      {"shorter log same last term", T(3), I(2), T(2), kNoNode, false},
      {"lower last term longer log", T(3), I(9), T(1), kNoNode, false},
      {"future term despite vote cast", T(3), I(3), T(2), N(3), true},
      {"current term after vote for another", T(2), I(3), T(2), N(3), false},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    auto s = StorageWith(EntsWithTerms({1, 1, 2}));
    auto r = NewRaft(1, {1, 2, 3}, s.get(), true, false);
    r->BecomeFollower(T(2), kNoNode);
    r->vote = tc.existing_vote;
    ASSERT_TRUE(
        r->Step(VoteReq(MessageType::MsgPreVote, 2, 1, tc.term, tc.index, tc.log_term)).ok());
    const std::vector<Message> out = ReadMessages(*r);
    ASSERT_EQ(out.size(), 1u) << Describe(out);
    EXPECT_EQ(out[0].type, MessageType::MsgPreVoteResp);
    EXPECT_EQ(out[0].to, N(2));
    EXPECT_EQ(out[0].reject, !tc.granted);
    // Grants echo the requested term; rejections carry the receiver's term.
    EXPECT_EQ(out[0].term, tc.granted ? tc.term : T(2));
    EXPECT_EQ(r->term, T(2));
    EXPECT_EQ(r->vote, tc.existing_vote);
  }
}

TEST(PreVoteTest, PreCandidateWinningPreVotesRunsARealElection) {
  auto s = std::make_unique<raft::MemoryStorage>();
  auto r = NewRaft(1, {1, 2, 3}, s.get(), true, false);
  ASSERT_TRUE(r->Step(Msg(1, 1, MessageType::MsgHup)).ok());
  ASSERT_EQ(r->state, StateType::kPreCandidate);
  ASSERT_EQ(r->term, T(0));
  (void)ReadMessages(*r);

  ASSERT_TRUE(r->Step(Resp(MessageType::MsgPreVoteResp, 2, 1, T(1), false)).ok());
  EXPECT_EQ(r->state, StateType::kCandidate);
  EXPECT_EQ(r->term, T(1));
  EXPECT_EQ(r->vote, N(1));
  const std::vector<Message> reqs = ReadMessages(*r);
  ASSERT_EQ(reqs.size(), 2u) << Describe(reqs);
  for (const Message& m : reqs) {
    EXPECT_EQ(m.type, MessageType::MsgVote);
    EXPECT_EQ(m.term, T(1));
    EXPECT_TRUE(m.context.empty());
  }

  // A late pre-vote answer is not a vote.
  ASSERT_TRUE(r->Step(Resp(MessageType::MsgPreVoteResp, 3, 1, T(1), false)).ok());
  EXPECT_EQ(r->state, StateType::kCandidate);
  ASSERT_TRUE(r->Step(Resp(MessageType::MsgVoteResp, 3, 1, T(1), false)).ok());
  EXPECT_EQ(r->state, StateType::kLeader);
  EXPECT_EQ(r->term, T(1));
}

TEST(PreVoteTest, PreCandidateLosingPreVotesReturnsToFollowerAtSameTerm) {
  auto s = std::make_unique<raft::MemoryStorage>();
  auto r = NewRaft(1, {1, 2, 3}, s.get(), true, false);
  r->BecomeFollower(T(4), kNoNode);
  ASSERT_TRUE(r->Step(Msg(1, 1, MessageType::MsgHup)).ok());
  ASSERT_EQ(r->state, StateType::kPreCandidate);
  ASSERT_TRUE(r->Step(Resp(MessageType::MsgPreVoteResp, 2, 1, T(4), true)).ok());
  ASSERT_TRUE(r->Step(Resp(MessageType::MsgPreVoteResp, 3, 1, T(4), true)).ok());
  EXPECT_EQ(r->state, StateType::kFollower);
  EXPECT_EQ(r->term, T(4));
  EXPECT_EQ(r->vote, kNoNode);
}

// A rejection carries the rejecter's term; if that is newer, the pre-candidate adopts it. A grant
// carries the future term asked about and moves nobody until a quorum granted.
TEST(PreVoteTest, RejectionWithHigherTermMakesPreCandidateFollowThatTerm) {
  auto s = std::make_unique<raft::MemoryStorage>();
  raft::Config c = NewTestConfig(1, 10, 1, s.get());
  c.peers = Ids({1, 2, 3, 4, 5});
  c.pre_vote = true;
  auto r = NewRaftFromConfig(c);
  r->BecomeFollower(T(1), kNoNode);
  ASSERT_TRUE(r->Step(Msg(1, 1, MessageType::MsgHup)).ok());

  ASSERT_TRUE(r->Step(Resp(MessageType::MsgPreVoteResp, 2, 1, T(2), false)).ok());
  EXPECT_EQ(r->state, StateType::kPreCandidate);
  EXPECT_EQ(r->term, T(1));

  ASSERT_TRUE(r->Step(Resp(MessageType::MsgPreVoteResp, 3, 1, T(5), true)).ok());
  EXPECT_EQ(r->state, StateType::kFollower);
  EXPECT_EQ(r->term, T(5));
  EXPECT_EQ(r->lead, kNoNode);
  EXPECT_EQ(r->vote, kNoNode);
}

// Before pre-vote was enabled everywhere, a node may have a higher term than a pre-candidate.
// Dropping the lower-term pre-vote would leave the pre-candidate waiting forever; the explicit
// rejection (with the higher term) lets it catch up. Lower-term real votes are simply dropped.
TEST(PreVoteTest, PreVoteFromLowerTermIsRejectedNotDropped) {
  for (bool pre_vote : {false, true}) {
    SCOPED_TRACE(pre_vote ? "receiver with pre-vote" : "receiver without pre-vote");
    auto s = std::make_unique<raft::MemoryStorage>();
    auto r = NewRaft(1, {1, 2, 3}, s.get(), pre_vote, false);
    r->BecomeFollower(T(3), kNoNode);
    ASSERT_TRUE(r->Step(VoteReq(MessageType::MsgPreVote, 2, 1, T(2), I(5), T(2))).ok());
    const std::vector<Message> out = ReadMessages(*r);
    ASSERT_EQ(out.size(), 1u) << Describe(out);
    EXPECT_EQ(out[0].type, MessageType::MsgPreVoteResp);
    EXPECT_EQ(out[0].to, N(2));
    EXPECT_EQ(out[0].term, T(3));
    EXPECT_TRUE(out[0].reject);

    ASSERT_TRUE(r->Step(VoteReq(MessageType::MsgVote, 2, 1, T(2), I(5), T(2))).ok());
    EXPECT_TRUE(ReadMessages(*r).empty());
    EXPECT_EQ(r->term, T(3));
  }
}

// A rolling upgrade: node 3 ran without pre-vote while partitioned, so it has term 4 but a short
// log. Then the leader fails. The explicit rejections let node 2 learn term 4, and the cluster
// elects node 2 (the one with the complete log).
TEST(PreVoteTest, MixedPreVoteClusterStillElectsALeader) {
  Network nw(NewPeers(3), PreVote);
  Raft& r1 = nw.raft(1);
  Raft& r2 = nw.raft(2);
  Raft& r3 = nw.raft(3);
  r3.pre_vote = false;
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  ASSERT_EQ(r1.state, StateType::kLeader);
  nw.Isolate(N(3));
  nw.Send({PropMsg(1, "data")});
  nw.Send({Msg(3, 3, MessageType::MsgHup)});
  nw.Send({Msg(3, 3, MessageType::MsgHup)});
  nw.Send({Msg(3, 3, MessageType::MsgHup)});
  ASSERT_EQ(r3.state, StateType::kCandidate);
  ASSERT_EQ(r3.term, T(4));
  ASSERT_EQ(r2.term, T(1));
  r3.pre_vote = true;
  nw.Recover();

  nw.Isolate(N(1));  // the leader fails
  nw.Send({Msg(3, 3, MessageType::MsgHup)});
  EXPECT_EQ(r3.state, StateType::kPreCandidate);
  EXPECT_EQ(r2.term, T(1)) << "node 3's pre-vote does not move node 2";
  nw.Send({Msg(2, 2, MessageType::MsgHup)});
  EXPECT_EQ(r2.state, StateType::kFollower);
  EXPECT_EQ(r2.term, T(4)) << "learned from node 3's rejection";

  nw.Send({Msg(3, 3, MessageType::MsgHup)});
  nw.Send({Msg(2, 2, MessageType::MsgHup)});
  EXPECT_EQ(r2.state, StateType::kLeader);
  EXPECT_EQ(r2.term, T(5));
  EXPECT_EQ(r3.state, StateType::kFollower);
  EXPECT_EQ(r3.lead, N(2));
  EXPECT_EQ(r3.log.LastIndex(), r2.log.LastIndex());
}

// §6.2: a leader that does not hear from a quorum within an election timeout steps down.
TEST(CheckQuorumTest, LeaderWithoutQuorumContactStepsDownAfterElectionTimeout) {
  auto s = std::make_unique<raft::MemoryStorage>();
  auto r = NewRaft(1, {1, 2, 3}, s.get(), false, true);
  r->BecomeCandidate();
  r->BecomeLeader();
  for (int i = 0; i < r->election_timeout - 1; ++i)
    r->Tick();
  EXPECT_EQ(r->state, StateType::kLeader);
  r->Tick();
  EXPECT_EQ(r->state, StateType::kFollower);
  EXPECT_EQ(r->term, T(1));
  EXPECT_EQ(r->lead, kNoNode);
}

TEST(CheckQuorumTest, LeaderHearingFromQuorumStaysLeader) {
  Network nw(NewPeers(3), CheckQuorum);
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  Raft& lead = nw.raft(1);
  ASSERT_EQ(lead.state, StateType::kLeader);
  // Node 3 is gone, node 2 still answers: 2 of 3 is a quorum.
  nw.Isolate(N(3));
  for (int i = 0; i < 5 * lead.election_timeout; ++i) {
    lead.Tick();
    nw.Send(nw.Filter(ReadMessages(lead)));
  }
  EXPECT_EQ(lead.state, StateType::kLeader);
  EXPECT_EQ(lead.term, T(1));
}

// §4.2.3 (the lease): with CheckQuorum, a follower that heard from its leader within the minimum
// election timeout ignores vote and pre-vote requests for a higher term — no answer, no term
// change — unless they belong to a leadership transfer.
TEST(CheckQuorumTest, FollowerInLeaseIgnoresVoteRequestsUnlessTransfer) {
  struct Case {
    const char* name;
    bool check_quorum;
    MessageType type;
    int elapsed;
    bool transfer;
    bool answered;
  };
  const std::vector<Case> cases = {
      {"vote in lease", true, MessageType::MsgVote, 0, false, false},
      {"pre-vote in lease", true, MessageType::MsgPreVote, 0, false, false},
      {"vote at end of lease", true, MessageType::MsgVote, 9, false, false},
      {"vote after lease", true, MessageType::MsgVote, 10, false, true},
      {"pre-vote after lease", true, MessageType::MsgPreVote, 10, false, true},
      {"transfer vote in lease", true, MessageType::MsgVote, 0, true, true},
      {"transfer pre-vote in lease", true, MessageType::MsgPreVote, 0, true, true},
      {"no lease without check quorum", false, MessageType::MsgVote, 0, false, true},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    auto s = std::make_unique<raft::MemoryStorage>();
    auto r = NewRaft(2, {1, 2, 3}, s.get(), false, tc.check_quorum);
    r->BecomeFollower(T(1), N(1));
    r->election_elapsed = tc.elapsed;
    Message m = VoteReq(tc.type, 3, 2, T(2), I(0), T(0));
    if (tc.transfer) m.context = Bytes(raft::kCampaignTransferContext);
    ASSERT_TRUE(r->Step(m).ok());
    const std::vector<Message> out = ReadMessages(*r);
    if (!tc.answered) {
      EXPECT_TRUE(out.empty()) << Describe(out);
      EXPECT_EQ(r->term, T(1));
      EXPECT_EQ(r->lead, N(1));
      continue;
    }
    ASSERT_EQ(out.size(), 1u) << Describe(out);
    EXPECT_EQ(out[0].type, raftpb::VoteResponseType(tc.type));
    EXPECT_FALSE(out[0].reject);
    EXPECT_EQ(out[0].term, T(2));
    // Only a real vote moves the term.
    EXPECT_EQ(r->term, tc.type == MessageType::MsgVote ? T(2) : T(1));
  }
}

// With CheckQuorum, a node that campaigned while cut off has a higher term that the others
// ignore (lease). When it hears the old leader's lower-term heartbeat it answers with its term,
// which deposes the leader, and a fresh election includes everyone.
TEST(CheckQuorumTest, StaleHeartbeatAnswerFreesStuckCandidate) {
  Network nw(NewPeers(3), CheckQuorum);
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  Raft& r1 = nw.raft(1);
  Raft& r2 = nw.raft(2);
  Raft& r3 = nw.raft(3);

  nw.Isolate(N(1));
  nw.Send({Msg(3, 3, MessageType::MsgHup)});
  EXPECT_EQ(r3.state, StateType::kCandidate);
  EXPECT_EQ(r3.term, T(2));
  EXPECT_EQ(r2.state, StateType::kFollower);
  EXPECT_EQ(r2.term, T(1)) << "node 2 is in its lease and ignores node 3";
  nw.Send({Msg(3, 3, MessageType::MsgHup)});
  EXPECT_EQ(r3.term, T(3));
  EXPECT_EQ(r2.term, T(1));

  nw.Recover();
  std::vector<Message> trace;
  nw.SetMsgHook([&](const Message& m) {
    trace.push_back(m);
    return true;
  });
  nw.Send({Msg(1, 1, MessageType::MsgBeat)});
  bool saw_answer = false;
  for (const Message& m : trace) {
    if (m.from == N(3) && m.to == N(1) && m.type == MessageType::MsgAppResp) {
      saw_answer = true;
      EXPECT_EQ(m.term, T(3));
      EXPECT_FALSE(m.reject);
    }
  }
  EXPECT_TRUE(saw_answer) << Describe(trace);
  EXPECT_EQ(r1.state, StateType::kFollower);
  EXPECT_EQ(r1.term, T(3));

  nw.SetMsgHook(nullptr);
  nw.Send({Msg(3, 3, MessageType::MsgHup)});
  EXPECT_EQ(r3.state, StateType::kLeader);
  EXPECT_EQ(r3.term, T(4));
  EXPECT_EQ(r1.lead, N(3));
  EXPECT_EQ(r2.lead, N(3));
  EXPECT_EQ(r2.term, T(4));
}

// The same liveness problem with pre-vote on: node 3 inflated its term (it ran without pre-vote
// while cut off) and has a stale log, so it can never win. The stale-term heartbeat answer deposes
// the old leader, and a node with a complete log wins the next election at a term above node 3's.
TEST(CheckQuorumTest, HigherTermNodeWithStaleLogIsBroughtBackWithPreVote) {
  Network nw(NewPeers(3), PreVoteAndCheckQuorum);
  Raft& r1 = nw.raft(1);
  Raft& r2 = nw.raft(2);
  Raft& r3 = nw.raft(3);
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  ASSERT_EQ(r1.state, StateType::kLeader);
  ASSERT_EQ(r1.term, T(1));

  nw.Isolate(N(3));
  nw.Send({PropMsg(1, "missed-by-3")});
  r3.pre_vote = false;
  nw.Send({Msg(3, 3, MessageType::MsgHup)});
  nw.Send({Msg(3, 3, MessageType::MsgHup)});
  ASSERT_EQ(r3.term, T(3));
  r3.pre_vote = true;
  nw.Recover();

  // Its pre-votes go unanswered (lease) and it stays stuck at term 3.
  nw.Send({Msg(3, 3, MessageType::MsgHup)});
  EXPECT_EQ(r3.state, StateType::kPreCandidate);
  EXPECT_EQ(r3.term, T(3));
  EXPECT_EQ(r1.state, StateType::kLeader);

  // The leader's heartbeat is answered at term 3: the leader steps down.
  nw.Send({Msg(1, 1, MessageType::MsgBeat)});
  EXPECT_EQ(r1.state, StateType::kFollower);
  EXPECT_EQ(r1.term, T(3));

  // Node 1 (complete log) wins: node 3 grants its pre-vote and vote, node 2 is still in its lease
  // but is not needed.
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  EXPECT_EQ(r1.state, StateType::kLeader);
  EXPECT_EQ(r1.term, T(4));
  EXPECT_EQ(r2.lead, N(1));
  EXPECT_EQ(r2.term, T(4));
  EXPECT_EQ(r3.lead, N(1));
  EXPECT_EQ(r3.term, T(4));
  EXPECT_EQ(r3.log.LastIndex(), r1.log.LastIndex());
  EXPECT_EQ(r3.log.committed(), r1.log.committed());
}

// A node outside its own configuration cannot campaign however long it waits, but it still votes
// for and follows a leader that counts it as a voter.
TEST(CheckQuorumTest, NonPromotableVoterStillVotesAndFollows) {
  auto sa = std::make_unique<raft::MemoryStorage>();
  auto sb = std::make_unique<raft::MemoryStorage>();
  auto a = NewRaft(1, {1, 2}, sa.get(), false, true);
  auto b = NewRaft(2, {1}, sb.get(), false, true);
  Raft& ra = *a;
  Raft& rb = *b;
  ASSERT_FALSE(rb.Promotable());
  std::vector<Peer> peers;
  peers.push_back(Peer::Of(std::move(a), std::move(sa)));
  peers.push_back(Peer::Of(std::move(b), std::move(sb)));
  Network nw(std::move(peers));

  for (int i = 0; i < 3 * rb.election_timeout; ++i)
    rb.Tick();
  EXPECT_EQ(rb.state, StateType::kFollower);
  EXPECT_EQ(rb.term, T(0));
  EXPECT_TRUE(ReadMessages(rb).empty());

  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  EXPECT_EQ(ra.state, StateType::kLeader);
  EXPECT_EQ(rb.state, StateType::kFollower);
  EXPECT_EQ(rb.lead, N(1));
  EXPECT_EQ(rb.vote, N(1));
}

// A leader of an older term contacting us: with CheckQuorum or pre-vote we answer with our term
// (so that it steps down); with neither, we ignore it (its own elections would reach us anyway).
TEST(CheckQuorumTest, LowerTermAppendOrHeartbeatAnsweredOnlyWithCheckQuorumOrPreVote) {
  for (MessageType t : {MessageType::MsgApp, MessageType::MsgHeartbeat}) {
    for (int mode = 0; mode < 4; ++mode) {
      const bool pre_vote = (mode & 1) != 0;
      const bool check_quorum = (mode & 2) != 0;
      SCOPED_TRACE(::testing::Message() << raftpb::Name(t) << " pre_vote=" << pre_vote
                                        << " check_quorum=" << check_quorum);
      auto s = std::make_unique<raft::MemoryStorage>();
      auto r = NewRaft(2, {1, 2, 3}, s.get(), pre_vote, check_quorum);
      r->BecomeFollower(T(3), kNoNode);
      Message m = Msg(1, 2, t);
      m.term = T(2);
      ASSERT_TRUE(r->Step(m).ok());
      const std::vector<Message> out = ReadMessages(*r);
      if (!pre_vote && !check_quorum) {
        EXPECT_TRUE(out.empty()) << Describe(out);
      } else {
        ASSERT_EQ(out.size(), 1u) << Describe(out);
        EXPECT_EQ(out[0].type, MessageType::MsgAppResp);
        EXPECT_EQ(out[0].to, N(1));
        EXPECT_EQ(out[0].term, T(3));
        EXPECT_FALSE(out[0].reject);
        EXPECT_EQ(out[0].index, I(0));
      }
      EXPECT_EQ(r->term, T(3));
      EXPECT_EQ(r->lead, kNoNode);
    }
  }
}

// Without CheckQuorum, an isolated leader keeps believing it leads; the majority side elects a new
// leader, and the old one steps down once it hears the higher term. Its uncommitted entry is
// replaced.
TEST(CheckQuorumTest, IsolatedLeaderIsReplacedAndStepsDownAfterHealing) {
  Network nw(NewPeers(3));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  Raft& old = nw.raft(1);
  nw.Isolate(N(1));
  nw.Send({PropMsg(1, "lost")});
  nw.Send({Msg(2, 2, MessageType::MsgHup)});
  nw.Send({PropMsg(2, "kept")});
  Raft& fresh = nw.raft(2);
  ASSERT_EQ(fresh.state, StateType::kLeader);
  ASSERT_EQ(fresh.term, T(2));
  EXPECT_EQ(old.state, StateType::kLeader);
  EXPECT_EQ(old.term, T(1));

  nw.Recover();
  nw.Send({Msg(2, 2, MessageType::MsgBeat)});
  EXPECT_EQ(old.state, StateType::kFollower);
  EXPECT_EQ(old.term, T(2));
  EXPECT_EQ(old.lead, N(2));
  EXPECT_EQ(old.log.AllEntries(), fresh.log.AllEntries());
  for (const Entry& e : old.log.AllEntries())
    EXPECT_NE(e.data.view(), "lost");
}

// The same with CheckQuorum and pre-vote, driven by ticks only: the isolated leader steps down by
// itself, its term does not grow while cut off, the others elect a leader, and after healing it
// rejoins without disturbing that leader.
TEST(CheckQuorumTest, IsolatedLeaderStepsDownAndRejoinsQuietlyWithPreVote) {
  Network nw(NewPeers(3), PreVoteAndCheckQuorum);
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  Raft& old = nw.raft(1);
  ASSERT_EQ(old.state, StateType::kLeader);
  const int et = old.election_timeout;

  nw.Isolate(N(1));
  TickRounds(nw, 5 * et);
  EXPECT_NE(old.state, StateType::kLeader);
  EXPECT_EQ(old.term, T(1)) << "pre-vote keeps the isolated node's term";
  NodeId new_lead = kNoNode;
  for (uint64_t id : {2, 3}) {
    if (nw.raft(id).state == StateType::kLeader) new_lead = N(id);
  }
  ASSERT_NE(new_lead, kNoNode);
  const Term new_term = nw.raft(new_lead).term;
  EXPECT_EQ(new_term, T(2));

  nw.Recover();
  TickRounds(nw, 3 * et);
  EXPECT_EQ(nw.raft(new_lead).state, StateType::kLeader);
  EXPECT_EQ(nw.raft(new_lead).term, new_term);
  EXPECT_EQ(old.state, StateType::kFollower);
  EXPECT_EQ(old.lead, new_lead);
  EXPECT_EQ(old.term, new_term);
  EXPECT_EQ(old.log.committed(), nw.raft(new_lead).log.committed());
}

}  // namespace
}  // namespace raftkit::testing
