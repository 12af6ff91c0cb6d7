// ReadIndex (thesis §6.4): a linearizable read is served at an index that the leader confirms,
// after the request arrived, to be at least the latest committed index of the cluster.
//
// kSafe confirms leadership with a heartbeat round carrying the request's context; kLeaseBased
// relies on CheckQuorum's lease instead (§6.4.1). The tests drive Raft instances directly where
// the exact messages matter and the Network harness where whole exchanges matter.
#include <gtest/gtest.h>

#include "raftkit/raftpb/codec.h"
#include "testlib/network.h"

namespace raftkit::testing {
namespace {

using raft::ReadOnlyOption;
using raft::ReadState;
using raft::StateType;

std::vector<Peer> NewPeers(size_t n) {
  std::vector<Peer> peers;
  for (size_t i = 0; i < n; ++i)
    peers.push_back(Peer::New());
  return peers;
}

// A MsgReadIndex as a client (from == to) or a follower forwarding it (term 0) would send it.
Message ReadIndexReq(uint64_t from, uint64_t to, std::string ctx) {
  Message m = Msg(from, to, MessageType::MsgReadIndex);
  m.entries.resize(1);
  m.entries[0].data = Bytes(std::move(ctx));
  return m;
}

Message HeartbeatResp(uint64_t from, uint64_t to, Term term, Bytes ctx) {
  Message m = Msg(from, to, MessageType::MsgHeartbeatResp);
  m.term = term;
  m.context = std::move(ctx);
  return m;
}

Message AppResp(uint64_t from, uint64_t to, Term term, Index index) {
  Message m = Msg(from, to, MessageType::MsgAppResp);
  m.term = term;
  m.index = index;
  return m;
}

ReadState RS(uint64_t index, std::string ctx) {
  return ReadState{I(index), Bytes(std::move(ctx))};
}

std::vector<Message> OfType(const std::vector<Message>& msgs, MessageType t) {
  std::vector<Message> out;
  for (const Message& m : msgs) {
    if (m.type == t) out.push_back(m);
  }
  return out;
}

// Proposes one entry on `lead` and lets follower `acker` acknowledge it, which (in a 3-node
// cluster) commits it. Returns the new entry's index.
Index CommitOneEntry(Raft& lead, uint64_t acker, const std::string& data) {
  EXPECT_TRUE(lead.Step(PropMsg(lead.id.value(), data)).ok());
  const Index idx = lead.log.LastIndex();
  EXPECT_TRUE(lead.Step(AppResp(acker, lead.id.value(), lead.term, idx)).ok());
  (void)ReadMessages(lead);
  return idx;
}

// §6.4 steps 2-4: the read index is the commit index when the request arrived, and it is handed
// out only once a quorum acknowledged the heartbeat that carries the request's context.
TEST(ReadIndexTest, SafeReadAnsweredOnlyAfterQuorumAckAtCommitIndexOfRequestTime) {
  Network nw(NewPeers(5));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  Raft& lead = nw.raft(1);
  ASSERT_EQ(lead.state, StateType::kLeader);
  ASSERT_EQ(lead.log.committed(), I(1));

  ASSERT_TRUE(lead.Step(ReadIndexReq(1, 1, "rq")).ok());
  const std::vector<Message> hbs = ReadMessages(lead);
  ASSERT_EQ(hbs.size(), 4u) << Describe(hbs);
  for (size_t i = 0; i < hbs.size(); ++i) {
    EXPECT_EQ(hbs[i].type, MessageType::MsgHeartbeat);
    EXPECT_EQ(hbs[i].to, N(i + 2));
    EXPECT_EQ(hbs[i].term, T(1));
    EXPECT_EQ(hbs[i].commit, I(1));
    EXPECT_EQ(hbs[i].context, Bytes("rq"));
  }
  EXPECT_TRUE(lead.read_states.empty());

  // The commit index moves on while the confirmation is under way.
  ASSERT_TRUE(lead.Step(PropMsg(1, "w")).ok());
  ASSERT_TRUE(lead.Step(AppResp(2, 1, T(1), I(2))).ok());
  ASSERT_TRUE(lead.Step(AppResp(3, 1, T(1), I(2))).ok());
  ASSERT_EQ(lead.log.committed(), I(2));
  (void)ReadMessages(lead);

  // Leader + node 2 are 2 of 5: not a quorum yet.
  ASSERT_TRUE(lead.Step(HeartbeatResp(2, 1, T(1), Bytes("rq"))).ok());
  EXPECT_TRUE(lead.read_states.empty());
  // Node 3 completes the quorum; the answer uses the index from request time (1), not 2.
  ASSERT_TRUE(lead.Step(HeartbeatResp(3, 1, T(1), Bytes("rq"))).ok());
  ASSERT_EQ(lead.read_states, std::vector<ReadState>{RS(1, "rq")});
  // A later ack finds nothing pending: no second answer.
  ASSERT_TRUE(lead.Step(HeartbeatResp(4, 1, T(1), Bytes("rq"))).ok());
  EXPECT_EQ(lead.read_states.size(), 1u);
  EXPECT_EQ(lead.read_only.PendingCount(), 0u);
}

TEST(ReadIndexTest, HeartbeatAcksWithoutTheRequestContextDoNotConfirmARead) {
  Network nw(NewPeers(3));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  Raft& lead = nw.raft(1);
  ASSERT_TRUE(lead.Step(ReadIndexReq(1, 1, "ctx")).ok());
  (void)ReadMessages(lead);

  // A plain heartbeat ack (no context), an empty context and a different context are not acks
  // of this request.
  ASSERT_TRUE(lead.Step(HeartbeatResp(2, 1, T(1), Bytes())).ok());
  ASSERT_TRUE(lead.Step(HeartbeatResp(2, 1, T(1), Bytes::Empty())).ok());
  ASSERT_TRUE(lead.Step(HeartbeatResp(3, 1, T(1), Bytes("other"))).ok());
  EXPECT_TRUE(lead.read_states.empty());
  EXPECT_EQ(lead.read_only.PendingCount(), 1u);

  ASSERT_TRUE(lead.Step(HeartbeatResp(3, 1, T(1), Bytes("ctx"))).ok());
  EXPECT_EQ(lead.read_states, std::vector<ReadState>{RS(1, "ctx")});
}

// Acknowledging a later request confirms leadership for every earlier one too (they arrived
// before it); they are all answered, oldest first, each with its own index.
TEST(ReadIndexTest, AckForLaterRequestReleasesEarlierRequestsInOrder) {
  Network nw(NewPeers(3));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  Raft& lead = nw.raft(1);
  ASSERT_EQ(lead.log.committed(), I(1));

  ASSERT_TRUE(lead.Step(ReadIndexReq(1, 1, "a")).ok());  // at commit 1
  ASSERT_EQ(CommitOneEntry(lead, 2, "w1"), I(2));
  ASSERT_TRUE(lead.Step(ReadIndexReq(3, 1, "b")).ok());  // forwarded by follower 3, at commit 2
  ASSERT_TRUE(lead.Step(ReadIndexReq(1, 1, "c")).ok());  // at commit 2
  ASSERT_EQ(CommitOneEntry(lead, 2, "w2"), I(3));
  ASSERT_TRUE(lead.Step(ReadIndexReq(1, 1, "d")).ok());  // at commit 3
  (void)ReadMessages(lead);
  ASSERT_EQ(lead.read_only.PendingCount(), 4u);

  ASSERT_TRUE(lead.Step(HeartbeatResp(2, 1, T(1), Bytes("d"))).ok());
  EXPECT_EQ(lead.read_states, (std::vector<ReadState>{RS(1, "a"), RS(2, "c"), RS(3, "d")}));
  const std::vector<Message> resps = OfType(ReadMessages(lead), MessageType::MsgReadIndexResp);
  ASSERT_EQ(resps.size(), 1u);
  EXPECT_EQ(resps[0].from, N(1));
  EXPECT_EQ(resps[0].to, N(3));
  EXPECT_EQ(resps[0].term, T(1));
  EXPECT_EQ(resps[0].index, I(2));
  ASSERT_EQ(resps[0].entries.size(), 1u);
  EXPECT_EQ(resps[0].entries[0].data, Bytes("b"));
  EXPECT_EQ(lead.read_only.PendingCount(), 0u);

  // A late ack of an already answered request changes nothing.
  lead.read_states.clear();
  ASSERT_TRUE(lead.Step(HeartbeatResp(3, 1, T(1), Bytes("a"))).ok());
  EXPECT_TRUE(lead.read_states.empty());
  EXPECT_TRUE(OfType(ReadMessages(lead), MessageType::MsgReadIndexResp).empty());
}

// A second request with a context that is still pending is merged into the first: it is answered
// once, with the first request's index. After that the context can be used again.
TEST(ReadIndexTest, DuplicateContextIsAnsweredOnceWithTheFirstRequestsIndex) {
  Network nw(NewPeers(3));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  Raft& lead = nw.raft(1);

  ASSERT_TRUE(lead.Step(ReadIndexReq(1, 1, "dup")).ok());  // at commit 1
  ASSERT_EQ(CommitOneEntry(lead, 2, "w"), I(2));
  ASSERT_TRUE(lead.Step(ReadIndexReq(1, 1, "dup")).ok());  // at commit 2
  // The duplicate still triggers a heartbeat round with its context...
  const std::vector<Message> hbs = OfType(ReadMessages(lead), MessageType::MsgHeartbeat);
  ASSERT_EQ(hbs.size(), 2u);
  EXPECT_EQ(hbs[0].context, Bytes("dup"));
  // ...but only one request is pending.
  EXPECT_EQ(lead.read_only.PendingCount(), 1u);

  ASSERT_TRUE(lead.Step(HeartbeatResp(2, 1, T(1), Bytes("dup"))).ok());
  ASSERT_TRUE(lead.Step(HeartbeatResp(3, 1, T(1), Bytes("dup"))).ok());
  EXPECT_EQ(lead.read_states, std::vector<ReadState>{RS(1, "dup")});

  // Reusing the context afterwards is a new request at the current commit index.
  lead.read_states.clear();
  ASSERT_TRUE(lead.Step(ReadIndexReq(1, 1, "dup")).ok());
  ASSERT_TRUE(lead.Step(HeartbeatResp(3, 1, T(1), Bytes("dup"))).ok());
  EXPECT_EQ(lead.read_states, std::vector<ReadState>{RS(2, "dup")});
}

// §6.4 step 1: a new leader does not know the latest commit index until it has committed an
// entry of its own term; read requests (local and forwarded) wait in
// pending_read_index_messages until then.
TEST(ReadIndexTest, RequestsBeforeFirstCommitOfTermAreHeldUntilThen) {
  auto storage = std::make_unique<raft::MemoryStorage>();
  auto r = NewTestRaft(1, {1, 2, 3}, 10, 1, storage.get());
  r->BecomeCandidate();
  r->BecomeLeader();
  (void)ReadMessages(*r);
  ASSERT_EQ(r->log.LastIndex(), I(1));  // the leader's empty entry, not committed yet
  ASSERT_EQ(r->log.committed(), I(0));
  ASSERT_FALSE(r->CommittedEntryInCurrentTerm());

  ASSERT_TRUE(r->Step(ReadIndexReq(1, 1, "local")).ok());
  ASSERT_TRUE(r->Step(ReadIndexReq(2, 1, "forwarded")).ok());
  EXPECT_EQ(r->pending_read_index_messages.size(), 2u);
  EXPECT_EQ(r->read_only.PendingCount(), 0u);
  EXPECT_TRUE(ReadMessages(*r).empty()) << "no heartbeat round before the first commit";
  EXPECT_TRUE(r->read_states.empty());

  // Node 2 acknowledges the empty entry: it commits, and the held requests start their rounds.
  ASSERT_TRUE(r->Step(AppResp(2, 1, T(1), I(1))).ok());
  ASSERT_EQ(r->log.committed(), I(1));
  EXPECT_TRUE(r->pending_read_index_messages.empty());
  EXPECT_EQ(r->read_only.PendingCount(), 2u);
  std::vector<std::string> contexts;
  for (const Message& m : OfType(ReadMessages(*r), MessageType::MsgHeartbeat))
    contexts.push_back(m.context.str());
  EXPECT_EQ(contexts, (std::vector<std::string>{"local", "local", "forwarded", "forwarded"}));

  ASSERT_TRUE(r->Step(HeartbeatResp(3, 1, T(1), Bytes("forwarded"))).ok());
  EXPECT_EQ(r->read_states, std::vector<ReadState>{RS(1, "local")});
  const std::vector<Message> resps = OfType(ReadMessages(*r), MessageType::MsgReadIndexResp);
  ASSERT_EQ(resps.size(), 1u);
  EXPECT_EQ(resps[0].to, N(2));
  EXPECT_EQ(resps[0].index, I(1));
  ASSERT_EQ(resps[0].entries.size(), 1u);
  EXPECT_EQ(resps[0].entries[0].data, Bytes("forwarded"));
}

// A follower forwards the request to its leader as a MsgReadIndex without a term (like a
// proposal, so it is never rejected as stale) and turns the MsgReadIndexResp into a ReadState.
TEST(ReadIndexTest, FollowerForwardsRequestAndReceivesReadState) {
  Network nw(NewPeers(3));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  std::vector<Message> trace;
  nw.SetMsgHook([&](const Message& m) {
    trace.push_back(m);
    return true;
  });

  nw.Send({ReadIndexReq(2, 2, "fctx")});

  ASSERT_FALSE(trace.empty());
  const Message& fwd = trace.front();
  EXPECT_EQ(fwd.type, MessageType::MsgReadIndex);
  EXPECT_EQ(fwd.from, N(2));
  EXPECT_EQ(fwd.to, N(1));
  EXPECT_EQ(fwd.term, T(0));
  ASSERT_EQ(fwd.entries.size(), 1u);
  EXPECT_EQ(fwd.entries[0].data, Bytes("fctx"));

  const std::vector<Message> resps = OfType(trace, MessageType::MsgReadIndexResp);
  ASSERT_EQ(resps.size(), 1u) << Describe(trace);
  EXPECT_EQ(resps[0].from, N(1));
  EXPECT_EQ(resps[0].to, N(2));
  EXPECT_EQ(resps[0].term, T(1));
  EXPECT_EQ(resps[0].index, I(1));
  // The leader confirmed with a heartbeat round before answering.
  EXPECT_EQ(OfType(trace, MessageType::MsgHeartbeatResp).size(), 2u);

  EXPECT_EQ(nw.raft(2).read_states, std::vector<ReadState>{RS(1, "fctx")});
  EXPECT_TRUE(nw.raft(1).read_states.empty());
  EXPECT_TRUE(nw.raft(3).read_states.empty());
}

TEST(ReadIndexTest, FollowerOrCandidateWithoutLeaderDropsRequest) {
  auto s2 = std::make_unique<raft::MemoryStorage>();
  auto follower = NewTestRaft(2, {1, 2, 3}, 10, 1, s2.get());
  ASSERT_EQ(follower->lead, kNoNode);
  ASSERT_TRUE(follower->Step(ReadIndexReq(2, 2, "x")).ok());
  EXPECT_TRUE(ReadMessages(*follower).empty());
  EXPECT_TRUE(follower->read_states.empty());

  auto s3 = std::make_unique<raft::MemoryStorage>();
  auto candidate = NewTestRaft(3, {1, 2, 3}, 10, 1, s3.get());
  candidate->BecomeCandidate();
  ASSERT_TRUE(candidate->Step(ReadIndexReq(3, 3, "y")).ok());
  EXPECT_TRUE(ReadMessages(*candidate).empty());
  EXPECT_TRUE(candidate->read_states.empty());
}

// A single voter is a quorum by itself: no heartbeat round, whether the request is local or
// forwarded by a learner.
TEST(ReadIndexTest, SingleVoterLeaderAnswersImmediately) {
  auto storage = std::make_unique<raft::MemoryStorage>();
  auto r = NewTestLearnerRaft(1, {1}, {2}, 10, 1, storage.get());
  ASSERT_TRUE(r->Step(Msg(1, 1, MessageType::MsgHup)).ok());
  ASSERT_EQ(r->state, StateType::kLeader);
  ASSERT_EQ(r->log.committed(), I(1));
  (void)ReadMessages(*r);

  ASSERT_TRUE(r->Step(ReadIndexReq(1, 1, "solo")).ok());
  EXPECT_EQ(r->read_states, std::vector<ReadState>{RS(1, "solo")});
  EXPECT_TRUE(ReadMessages(*r).empty());

  ASSERT_TRUE(r->Step(ReadIndexReq(2, 1, "from-learner")).ok());
  const std::vector<Message> msgs = ReadMessages(*r);
  ASSERT_EQ(msgs.size(), 1u) << Describe(msgs);
  EXPECT_EQ(msgs[0].type, MessageType::MsgReadIndexResp);
  EXPECT_EQ(msgs[0].to, N(2));
  EXPECT_EQ(msgs[0].index, I(1));
  ASSERT_EQ(msgs[0].entries.size(), 1u);
  EXPECT_EQ(msgs[0].entries[0].data, Bytes("from-learner"));
  EXPECT_EQ(r->read_only.PendingCount(), 0u);
}

void LeaseBased(raft::Config& c) {
  c.check_quorum = true;
  c.read_only_option = ReadOnlyOption::kLeaseBased;
}

// §6.4.1: with the lease, the leader answers without a heartbeat round.
TEST(ReadIndexTest, LeaseBasedReadIsAnsweredWithoutHeartbeats) {
  Network nw(NewPeers(3), LeaseBased);
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  Raft& lead = nw.raft(1);
  ASSERT_EQ(lead.state, StateType::kLeader);
  ASSERT_EQ(lead.log.committed(), I(1));

  ASSERT_TRUE(lead.Step(ReadIndexReq(1, 1, "l1")).ok());
  EXPECT_EQ(lead.read_states, std::vector<ReadState>{RS(1, "l1")});
  EXPECT_TRUE(ReadMessages(lead).empty());
  EXPECT_EQ(lead.read_only.PendingCount(), 0u);

  std::vector<Message> trace;
  nw.SetMsgHook([&](const Message& m) {
    trace.push_back(m);
    return true;
  });
  nw.Send({ReadIndexReq(3, 3, "l3")});
  ASSERT_EQ(trace.size(), 2u) << Describe(trace);
  EXPECT_EQ(trace[0].type, MessageType::MsgReadIndex);
  EXPECT_EQ(trace[0].to, N(1));
  EXPECT_EQ(trace[1].type, MessageType::MsgReadIndexResp);
  EXPECT_EQ(trace[1].to, N(3));
  EXPECT_EQ(trace[1].index, I(1));
  EXPECT_EQ(nw.raft(3).read_states, std::vector<ReadState>{RS(1, "l3")});
}

TEST(ReadIndexTest, LeaseBasedReadAlsoWaitsForFirstCommitOfTerm) {
  auto storage = std::make_unique<raft::MemoryStorage>();
  raft::Config c = NewTestConfig(1, 10, 1, storage.get());
  c.peers = Ids({1, 2, 3});
  LeaseBased(c);
  auto r = NewRaftFromConfig(c);
  r->BecomeCandidate();
  r->BecomeLeader();
  (void)ReadMessages(*r);

  ASSERT_TRUE(r->Step(ReadIndexReq(1, 1, "early")).ok());
  EXPECT_TRUE(r->read_states.empty());
  EXPECT_EQ(r->pending_read_index_messages.size(), 1u);

  ASSERT_TRUE(r->Step(AppResp(3, 1, T(1), I(1))).ok());
  EXPECT_EQ(r->read_states, std::vector<ReadState>{RS(1, "early")});
  EXPECT_TRUE(OfType(ReadMessages(*r), MessageType::MsgHeartbeat).empty());
}

// Linearizability: a read that starts after a write was acknowledged must see it, i.e. its read
// index must be >= the write's index. The dangerous case is a new leader that holds the write
// but has not learned that it is committed.
TEST(ReadIndexTest, ReadIndexIsNeverBelowAWriteAcknowledgedBeforeTheRead) {
  Network nw(NewPeers(3));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});

  // Node 1 commits "w" at index 2 (and would acknowledge it to its client), but the messages
  // that would tell the followers about the new commit index are lost.
  nw.SetMsgHook([](const Message& m) {
    return !(m.from == N(1) && m.type == MessageType::MsgApp && m.entries.empty());
  });
  nw.Send({PropMsg(1, "w")});
  const Index acked_write = nw.raft(1).log.committed();
  ASSERT_EQ(acked_write, I(2));
  ASSERT_EQ(nw.raft(2).log.LastIndex(), I(2));
  ASSERT_EQ(nw.raft(2).log.committed(), I(1));

  // Node 1 fails; node 2 wins an election, but its first appends are lost, so it still believes
  // the commit index is 1.
  nw.Isolate(N(1));
  nw.SetMsgHook([](const Message& m) { return m.type != MessageType::MsgApp; });
  nw.Send({Msg(2, 2, MessageType::MsgHup)});
  Raft& lead = nw.raft(2);
  ASSERT_EQ(lead.state, StateType::kLeader);
  ASSERT_EQ(lead.term, T(2));
  ASSERT_LT(lead.log.committed(), acked_write);

  // A read arriving now must not be answered at index 1.
  ASSERT_TRUE(lead.Step(ReadIndexReq(2, 2, "after-write")).ok());
  EXPECT_TRUE(lead.read_states.empty());

  nw.SetMsgHook(nullptr);
  nw.Send({Msg(2, 2, MessageType::MsgBeat)});
  ASSERT_EQ(lead.read_states.size(), 1u);
  EXPECT_GE(lead.read_states[0].index, acked_write);
  // Precisely: the index of the new leader's empty entry, its first commit in term 2.
  EXPECT_EQ(lead.read_states[0], RS(3, "after-write"));

  // The deposed leader, even once reconnected, cannot serve a read from its stale view: nodes at
  // term 2 ignore its term-1 heartbeats, so no quorum acknowledges them.
  nw.Recover();
  Raft& old = nw.raft(1);
  ASSERT_EQ(old.state, StateType::kLeader);
  ASSERT_TRUE(old.Step(ReadIndexReq(1, 1, "stale")).ok());
  nw.Send(nw.Filter(ReadMessages(old)));
  EXPECT_TRUE(old.read_states.empty());
}

// MsgHeartbeatResp echoes the heartbeat's context exactly: an absent context stays absent and a
// present-but-empty one stays present, on the wire too (the encodings differ).
TEST(ReadIndexTest, HeartbeatResponseEchoesContextByteForByte) {
  struct Case {
    const char* name;
    Bytes ctx;
  };
  const std::vector<Case> cases = {
      {"absent", Bytes()},
      {"present-empty", Bytes::Empty()},
      {"text", Bytes("read-42")},
      {"binary", Bytes(std::string("\x00\xff\x01 \"q\"", 7))},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    auto storage = std::make_unique<raft::MemoryStorage>();
    auto f = NewTestRaft(2, {1, 2, 3}, 10, 1, storage.get());
    Message hb = Msg(1, 2, MessageType::MsgHeartbeat);
    hb.term = T(1);
    hb.context = tc.ctx;
    // Through the codec, as a real transport would deliver it.
    Result<Message> decoded = raftpb::DecodeMessage(raftpb::Encode(hb));
    ASSERT_TRUE(decoded.ok());
    ASSERT_EQ(decoded->context, tc.ctx);
    ASSERT_TRUE(f->Step(*decoded).ok());

    const std::vector<Message> msgs = ReadMessages(*f);
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].type, MessageType::MsgHeartbeatResp);
    EXPECT_EQ(msgs[0].to, N(1));
    EXPECT_EQ(msgs[0].term, T(1));
    EXPECT_EQ(msgs[0].context.is_null(), tc.ctx.is_null());
    EXPECT_EQ(msgs[0].context.view(), tc.ctx.view());
    Message want = msgs[0];
    want.context = tc.ctx;
    EXPECT_EQ(raftpb::Encode(msgs[0]), raftpb::Encode(want));
  }
  // And the two "empty" forms really are different on the wire.
  Message a = Msg(2, 1, MessageType::MsgHeartbeatResp);
  Message b = a;
  b.context = Bytes::Empty();
  EXPECT_NE(raftpb::Encode(a), raftpb::Encode(b));
}

// Heartbeats without a pending read carry no context at all (absent, not empty); with pending
// reads, a periodic heartbeat carries the newest one's context so that its acks count.
TEST(ReadIndexTest, LeaderHeartbeatCarriesNewestPendingContextOrNone) {
  Network nw(NewPeers(3));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  Raft& lead = nw.raft(1);

  ASSERT_TRUE(lead.Step(Msg(1, 1, MessageType::MsgBeat)).ok());
  std::vector<Message> hbs = OfType(ReadMessages(lead), MessageType::MsgHeartbeat);
  ASSERT_EQ(hbs.size(), 2u);
  for (const Message& m : hbs)
    EXPECT_TRUE(m.context.is_null());

  ASSERT_TRUE(lead.Step(ReadIndexReq(1, 1, "first")).ok());
  ASSERT_TRUE(lead.Step(ReadIndexReq(1, 1, "second")).ok());
  (void)ReadMessages(lead);
  ASSERT_TRUE(lead.Step(Msg(1, 1, MessageType::MsgBeat)).ok());
  hbs = OfType(ReadMessages(lead), MessageType::MsgHeartbeat);
  ASSERT_EQ(hbs.size(), 2u);
  for (const Message& m : hbs)
    EXPECT_EQ(m.context, Bytes("second"));

  // Delivering that round answers both requests.
  nw.Send(hbs);
  EXPECT_EQ(lead.read_states, (std::vector<ReadState>{RS(1, "first"), RS(1, "second")}));
}

}  // namespace
}  // namespace raftkit::testing
