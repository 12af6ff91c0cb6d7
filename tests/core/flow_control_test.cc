// Flow control of the leader's replication stream (etcd raft/design.md; thesis §10.2.1 on
// pipelining): the inflight window of a follower in StateReplicate (message count and payload
// bytes), the per-message size limit, and the Probe <-> Replicate transitions of its Progress.
//
// Every test drives a real Raft leader through Step/Tick and inspects the messages it produces
// and the Progress it keeps for follower 2.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "testlib/raft_fixtures.h"

namespace raftkit::testing {
namespace {

using raft::tracker::Progress;
namespace tr = raft::tracker;

struct Leader {
  std::unique_ptr<raft::MemoryStorage> storage;
  std::unique_ptr<Raft> r;

  Progress& pr(uint64_t id) { return r->prs.progress.at(N(id)); }
  Status Propose(std::string data) { return r->Step(PropMsg(1, std::move(data))); }
};

// A message from a follower to the leader at the leader's term.
Message FromFollower(const Leader& l, uint64_t from, MessageType t) {
  Message m = Msg(from, 1, t);
  m.term = l.r->term;
  return m;
}

Message AppResp(const Leader& l, uint64_t from, uint64_t index) {
  Message m = FromFollower(l, from, MessageType::MsgAppResp);
  m.index = I(index);
  return m;
}

Message AppReject(const Leader& l, uint64_t from, uint64_t rejected, uint64_t hint) {
  Message m = FromFollower(l, from, MessageType::MsgAppResp);
  m.index = I(rejected);
  m.reject = true;
  m.reject_hint = I(hint);
  return m;
}

// Node 1, freshly elected leader of {1, 2} at term 1. Its log holds only its empty entry (index
// 1); follower 2 is in StateProbe with next = 1 and nothing has been sent yet.
Leader NewLeader(size_t max_inflight = 256, uint64_t max_inflight_bytes = 0,
                 uint64_t max_size_per_msg = kNoLimit) {
  Leader l;
  l.storage = std::make_unique<raft::MemoryStorage>();
  raft::Config c = NewTestConfig(1, 10, 1, l.storage.get());
  c.peers = Ids({1, 2});
  c.max_inflight_msgs = max_inflight;
  c.max_inflight_bytes = max_inflight_bytes;
  c.max_size_per_msg = max_size_per_msg;
  l.r = NewRaftFromConfig(c);
  l.r->BecomeCandidate();
  l.r->BecomeLeader();
  ReadMessages(*l.r);
  return l;
}

// As NewLeader, but follower 2 has acknowledged the empty entry: it is in StateReplicate with
// match = 1, next = 2, an empty window, and index 1 is committed.
Leader NewReplicatingLeader(size_t max_inflight = 256, uint64_t max_inflight_bytes = 0,
                            uint64_t max_size_per_msg = kNoLimit) {
  Leader l = NewLeader(max_inflight, max_inflight_bytes, max_size_per_msg);
  EXPECT_TRUE(l.r->Step(AppResp(l, 2, 1)).ok());
  ReadMessages(*l.r);
  const Progress& pr = l.pr(2);
  EXPECT_EQ(pr.state, tr::StateType::kReplicate);
  EXPECT_EQ(pr.match, I(1));
  EXPECT_EQ(pr.next, I(2));
  EXPECT_EQ(pr.inflights.Count(), 0u);
  EXPECT_EQ(l.r->log.committed(), I(1));
  return l;
}

// The MsgApps among msgs, each reduced to the indexes of the entries it carries.
std::vector<std::vector<uint64_t>> AppBatches(const std::vector<Message>& msgs) {
  std::vector<std::vector<uint64_t>> out;
  for (const Message& m : msgs) {
    if (m.type != MessageType::MsgApp) continue;
    std::vector<uint64_t> idx;
    for (const Entry& e : m.entries)
      idx.push_back(e.index.value());
    out.push_back(std::move(idx));
  }
  return out;
}

size_t CountType(const std::vector<Message>& msgs, MessageType t) {
  size_t n = 0;
  for (const Message& m : msgs)
    n += m.type == t ? 1 : 0;
  return n;
}

using Batches = std::vector<std::vector<uint64_t>>;

// ---------------------------------------------------------------------------------------------
// The message-count window

// Thesis §10.2.1: the leader pipelines MsgApps without waiting for answers, but only up to
// max_inflight_msgs unacknowledged ones per follower.
TEST(FlowControlTest, ReplicateStopsSendingWhenMaxInflightMsgsAreUnacknowledged) {
  Leader l = NewReplicatingLeader(/*max_inflight=*/3);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(l.Propose("data").ok());
  std::vector<Message> msgs = ReadMessages(*l.r);
  ASSERT_EQ(msgs.size(), 3u) << Describe(msgs);
  // Each proposal went out at once, pipelined behind the previous one.
  for (size_t i = 0; i < msgs.size(); ++i) {
    EXPECT_EQ(msgs[i].type, MessageType::MsgApp);
    EXPECT_EQ(msgs[i].to, N(2));
    EXPECT_EQ(msgs[i].index, I(1 + i));
    EXPECT_EQ(msgs[i].log_term, T(1));
    ASSERT_EQ(msgs[i].entries.size(), 1u);
    EXPECT_EQ(msgs[i].entries[0].index, I(2 + i));
  }
  EXPECT_TRUE(l.pr(2).inflights.Full());
  EXPECT_TRUE(l.pr(2).IsPaused());
  EXPECT_EQ(l.pr(2).next, I(5));

  // The window is full: further proposals are appended to the leader's log but not sent.
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(l.Propose("more").ok());
  EXPECT_TRUE(ReadMessages(*l.r).empty());
  EXPECT_EQ(l.r->log.LastIndex(), I(8));
  EXPECT_EQ(l.pr(2).next, I(5));
  EXPECT_EQ(l.pr(2).inflights.Count(), 3u);
}

TEST(FlowControlTest, AckFreesEveryInflightMessageUpToTheAckedIndex) {
  // One entry per message, so that every index is its own slot.
  Leader l = NewReplicatingLeader(/*max_inflight=*/3, 0, /*max_size_per_msg=*/0);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(l.Propose("data").ok());  // indexes 2, 3, 4: window full
  ASSERT_TRUE(l.Propose("queued").ok());  // 5
  ASSERT_TRUE(l.Propose("queued").ok());  // 6
  ASSERT_EQ(AppBatches(ReadMessages(*l.r)), (Batches{{2}, {3}, {4}}));

  // Acknowledging 3 releases the messages ending at 2 and 3; the two free slots are refilled with
  // the queued entries, carrying the commit index the ack produced.
  ASSERT_TRUE(l.r->Step(AppResp(l, 2, 3)).ok());
  EXPECT_EQ(l.r->log.committed(), I(3));
  std::vector<Message> msgs = ReadMessages(*l.r);
  EXPECT_EQ(AppBatches(msgs), (Batches{{5}, {6}})) << Describe(msgs);
  for (const Message& m : msgs)
    EXPECT_EQ(m.commit, I(3));
  EXPECT_EQ(l.pr(2).inflights.Count(), 3u);
  EXPECT_EQ(l.pr(2).match, I(3));
  EXPECT_EQ(l.pr(2).next, I(7));

  // An out-of-date ack (index 2 < match) frees nothing and sends nothing.
  ASSERT_TRUE(l.r->Step(AppResp(l, 2, 2)).ok());
  EXPECT_TRUE(ReadMessages(*l.r).empty());
  EXPECT_EQ(l.pr(2).inflights.Count(), 3u);
  EXPECT_EQ(l.pr(2).match, I(3));

  // Acknowledging the oldest message frees exactly its slot. Nothing is left to send, so the only
  // message is the (empty) MsgApp announcing the new commit index.
  ASSERT_TRUE(l.r->Step(AppResp(l, 2, 4)).ok());
  EXPECT_EQ(l.pr(2).inflights.Count(), 2u);
  msgs = ReadMessages(*l.r);
  ASSERT_EQ(msgs.size(), 1u) << Describe(msgs);
  EXPECT_EQ(msgs[0].type, MessageType::MsgApp);
  EXPECT_TRUE(msgs[0].entries.empty());
  EXPECT_EQ(msgs[0].commit, I(4));
}

// After an ack the leader sends as many messages as the window allows (not just one), but never an
// empty one just because the loop ran.
TEST(FlowControlTest, AckRefillsTheWholeWindowWithoutEmptyMessages) {
  Leader l = NewReplicatingLeader(/*max_inflight=*/3, 0, /*max_size_per_msg=*/0);
  for (int i = 0; i < 7; ++i)
    ASSERT_TRUE(l.Propose("x").ok());  // 2..4 sent, 5..8 queued
  ASSERT_EQ(AppBatches(ReadMessages(*l.r)), (Batches{{2}, {3}, {4}}));

  ASSERT_TRUE(l.r->Step(AppResp(l, 2, 4)).ok());
  std::vector<Message> msgs = ReadMessages(*l.r);
  EXPECT_EQ(AppBatches(msgs), (Batches{{5}, {6}, {7}})) << Describe(msgs);
  EXPECT_EQ(msgs.size(), 3u);
  EXPECT_TRUE(l.pr(2).inflights.Full());

  // Only entry 8 is left: one message carries it, and no empty MsgApp follows.
  ASSERT_TRUE(l.r->Step(AppResp(l, 2, 7)).ok());
  msgs = ReadMessages(*l.r);
  EXPECT_EQ(AppBatches(msgs), (Batches{{8}})) << Describe(msgs);
  EXPECT_EQ(msgs.size(), 1u);
  EXPECT_EQ(l.pr(2).next, I(9));
}

// A lost ack would otherwise stall a full window forever: each heartbeat response lets exactly one
// more message out.
TEST(FlowControlTest, HeartbeatResponseFreesExactlyOneSlotOfAFullWindow) {
  Leader l = NewReplicatingLeader(/*max_inflight=*/3, 0, /*max_size_per_msg=*/0);
  for (int i = 0; i < 6; ++i)
    ASSERT_TRUE(l.Propose("x").ok());  // 2..4 sent, 5..7 queued
  ASSERT_EQ(AppBatches(ReadMessages(*l.r)), (Batches{{2}, {3}, {4}}));

  for (uint64_t want = 5; want <= 7; ++want) {
    ASSERT_TRUE(l.r->Step(FromFollower(l, 2, MessageType::MsgHeartbeatResp)).ok());
    std::vector<Message> msgs = ReadMessages(*l.r);
    EXPECT_EQ(AppBatches(msgs), (Batches{{want}})) << Describe(msgs);
    EXPECT_EQ(msgs.size(), 1u);
    EXPECT_EQ(l.pr(2).inflights.Count(), 3u);
    EXPECT_TRUE(l.pr(2).inflights.Full());
  }
  // Nothing was acknowledged: match did not move.
  EXPECT_EQ(l.pr(2).match, I(1));
}

TEST(FlowControlTest, HeartbeatResponseDoesNotFreeSlotsOfAWindowThatIsNotFull) {
  Leader l = NewReplicatingLeader(/*max_inflight=*/3);
  ASSERT_TRUE(l.Propose("a").ok());
  ASSERT_TRUE(l.Propose("b").ok());
  ReadMessages(*l.r);
  ASSERT_EQ(l.pr(2).inflights.Count(), 2u);

  ASSERT_TRUE(l.r->Step(FromFollower(l, 2, MessageType::MsgHeartbeatResp)).ok());
  EXPECT_EQ(l.pr(2).inflights.Count(), 2u);
  // The follower is behind (match 1 < last 3), so the leader answers with a MsgApp; all entries
  // are already in flight, so it is empty and does not occupy a slot.
  std::vector<Message> msgs = ReadMessages(*l.r);
  ASSERT_EQ(msgs.size(), 1u) << Describe(msgs);
  EXPECT_EQ(msgs[0].type, MessageType::MsgApp);
  EXPECT_EQ(msgs[0].index, I(3));
  EXPECT_TRUE(msgs[0].entries.empty());
}

// ---------------------------------------------------------------------------------------------
// The byte budget (Config::max_inflight_bytes)

TEST(FlowControlTest, ByteBudgetPausesOnceInflightPayloadReachesItAndResumesOnAck) {
  // 4-byte payloads, one entry per message, a budget of 10 bytes and a generous message count.
  Leader l = NewReplicatingLeader(/*max_inflight=*/256, /*max_inflight_bytes=*/10,
                                  /*max_size_per_msg=*/0);
  ASSERT_TRUE(l.Propose("aaaa").ok());  // 2: 4 bytes in flight
  ASSERT_TRUE(l.Propose("bbbb").ok());  // 3: 8 bytes, still below the budget
  EXPECT_FALSE(l.pr(2).inflights.Full());
  // The budget is checked before sending, so the message that crosses it still goes out.
  ASSERT_TRUE(l.Propose("cccc").ok());  // 4: 12 bytes >= 10
  EXPECT_EQ(AppBatches(ReadMessages(*l.r)), (Batches{{2}, {3}, {4}}));
  EXPECT_EQ(l.pr(2).inflights.Bytes(), 12u);
  EXPECT_EQ(l.pr(2).inflights.Count(), 3u);
  EXPECT_TRUE(l.pr(2).inflights.Full());
  EXPECT_TRUE(l.pr(2).IsPaused());

  ASSERT_TRUE(l.Propose("dddd").ok());  // 5: paused, not sent
  EXPECT_TRUE(ReadMessages(*l.r).empty());

  // Acknowledging 2 gives back 4 bytes (8 < 10): one more message fits, then the budget is
  // reached again.
  ASSERT_TRUE(l.r->Step(AppResp(l, 2, 2)).ok());
  EXPECT_EQ(AppBatches(ReadMessages(*l.r)), (Batches{{5}}));
  EXPECT_EQ(l.pr(2).inflights.Bytes(), 12u);
  EXPECT_TRUE(l.pr(2).inflights.Full());

  // Everything acknowledged: the budget is free again.
  ASSERT_TRUE(l.r->Step(AppResp(l, 2, 5)).ok());
  EXPECT_EQ(l.pr(2).inflights.Bytes(), 0u);
  EXPECT_EQ(l.pr(2).inflights.Count(), 0u);
  EXPECT_FALSE(l.pr(2).IsPaused());
}

TEST(FlowControlTest, ByteBudgetCountsThePayloadOfEveryEntryInAMessage) {
  Leader l = NewReplicatingLeader(/*max_inflight=*/256, /*max_inflight_bytes=*/10);
  // Three entries appended without broadcasting, then sent together in one MsgApp.
  std::vector<Entry> ents(3);
  for (Entry& e : ents)
    e.data = Bytes("pppp");
  ASSERT_TRUE(l.r->AppendEntry(ents));
  l.r->SendAppend(N(2));
  std::vector<Message> msgs = ReadMessages(*l.r);
  EXPECT_EQ(AppBatches(msgs), (Batches{{2, 3, 4}})) << Describe(msgs);
  EXPECT_EQ(l.pr(2).inflights.Count(), 1u);
  EXPECT_EQ(l.pr(2).inflights.Bytes(), 12u);
  EXPECT_TRUE(l.pr(2).IsPaused());
}

TEST(FlowControlTest, ZeroByteBudgetMeansNoByteLimit) {
  Leader l = NewReplicatingLeader(/*max_inflight=*/256, /*max_inflight_bytes=*/0);
  const std::string big(10000, 'z');
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(l.Propose(big).ok());
  EXPECT_EQ(AppBatches(ReadMessages(*l.r)), (Batches{{2}, {3}, {4}, {5}, {6}}));
  EXPECT_EQ(l.pr(2).inflights.Bytes(), 50000u);
  EXPECT_FALSE(l.pr(2).IsPaused());
}

// ---------------------------------------------------------------------------------------------
// The size of one MsgApp (Config::max_size_per_msg, counted with Entry::ByteSize)

struct SizeCase {
  const char* name;
  // max_size_per_msg, given the encoded size `s` of one entry.
  uint64_t (*limit)(uint64_t s);
  Batches want;
};

class MaxSizePerMsgTest : public ::testing::TestWithParam<SizeCase> {};

TEST_P(MaxSizePerMsgTest, LimitsEntriesPerMsgAppButSendsAtLeastOne) {
  const SizeCase& tc = GetParam();
  // Entries 3..7 all carry a 4-byte payload at term 1 and an index < 128, so they have the same
  // encoded size.
  const uint64_t s = E(1, 3, "xxxx").ByteSize();
  ASSERT_EQ(E(1, 7, "xxxx").ByteSize(), s);
  Leader l = NewReplicatingLeader(/*max_inflight=*/256, 0, tc.limit(s));
  // Make the follower probe, so that proposals queue up behind one outstanding probe.
  ASSERT_TRUE(l.r->Step(Msg(2, 1, MessageType::MsgUnreachable)).ok());
  ASSERT_TRUE(l.Propose("xxxx").ok());  // 2: the probe
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(l.Propose("xxxx").ok());  // 3..7: held back by the probe
  ASSERT_EQ(AppBatches(ReadMessages(*l.r)), (Batches{{2}}));

  // The probe is answered: the follower goes to StateReplicate and the leader streams entries
  // 3..7, as many per message as the size limit allows.
  ASSERT_TRUE(l.r->Step(AppResp(l, 2, 2)).ok());
  std::vector<Message> msgs = ReadMessages(*l.r);
  EXPECT_EQ(AppBatches(msgs), tc.want) << Describe(msgs);
  EXPECT_EQ(msgs.size(), tc.want.size());
  EXPECT_EQ(l.pr(2).next, I(8));
}

INSTANTIATE_TEST_SUITE_P(
    Limits, MaxSizePerMsgTest,
    ::testing::Values(
        SizeCase{"ZeroMeansOneEntryPerMessage",
                 [](uint64_t) -> uint64_t { return 0; },
                 {{3}, {4}, {5}, {6}, {7}}},
        SizeCase{"SmallerThanOneEntryStillSendsOne",
                 [](uint64_t) -> uint64_t { return 1; },
                 {{3}, {4}, {5}, {6}, {7}}},
        SizeCase{"ExactlyOneEntry", [](uint64_t s) { return s; }, {{3}, {4}, {5}, {6}, {7}}},
        SizeCase{
            "JustBelowTwoEntries", [](uint64_t s) { return 2 * s - 1; }, {{3}, {4}, {5}, {6}, {7}}},
        SizeCase{"ExactlyTwoEntriesIsInclusive",
                 [](uint64_t s) { return 2 * s; },
                 {{3, 4}, {5, 6}, {7}}},
        SizeCase{"ThreeEntries", [](uint64_t s) { return 3 * s; }, {{3, 4, 5}, {6, 7}}},
        SizeCase{"NoLimit", [](uint64_t) { return kNoLimit; }, {{3, 4, 5, 6, 7}}}),
    [](const ::testing::TestParamInfo<SizeCase>& p) { return std::string(p.param.name); });

// ---------------------------------------------------------------------------------------------
// StateProbe

// In StateProbe the leader does not know where the follower's log ends: it sends one MsgApp and
// waits for the answer (or for the next heartbeat response) before sending another.
TEST(FlowControlTest, ProbeSendsAtMostOneMsgAppUntilAResponseArrives) {
  Leader l = NewLeader();
  ASSERT_EQ(l.pr(2).state, tr::StateType::kProbe);
  ASSERT_TRUE(l.Propose("a").ok());
  std::vector<Message> msgs = ReadMessages(*l.r);
  ASSERT_EQ(msgs.size(), 1u) << Describe(msgs);
  EXPECT_EQ(msgs[0].type, MessageType::MsgApp);
  EXPECT_EQ(msgs[0].index, I(0));
  EXPECT_EQ(AppBatches(msgs), (Batches{{1, 2}}));
  EXPECT_TRUE(l.pr(2).probe_sent);
  EXPECT_TRUE(l.pr(2).IsPaused());

  ASSERT_TRUE(l.Propose("b").ok());
  ASSERT_TRUE(l.Propose("c").ok());
  EXPECT_TRUE(ReadMessages(*l.r).empty());

  // A heartbeat goes out on its tick, but no MsgApp with it.
  l.r->Tick();
  msgs = ReadMessages(*l.r);
  ASSERT_EQ(msgs.size(), 1u) << Describe(msgs);
  EXPECT_EQ(msgs[0].type, MessageType::MsgHeartbeat);

  // The heartbeat response shows the follower is alive: one new probe, from the same position.
  ASSERT_TRUE(l.r->Step(FromFollower(l, 2, MessageType::MsgHeartbeatResp)).ok());
  msgs = ReadMessages(*l.r);
  ASSERT_EQ(msgs.size(), 1u) << Describe(msgs);
  EXPECT_EQ(msgs[0].index, I(0));
  EXPECT_EQ(AppBatches(msgs), (Batches{{1, 2, 3, 4}}));
  EXPECT_TRUE(l.pr(2).probe_sent);
  EXPECT_EQ(l.pr(2).state, tr::StateType::kProbe);

  ASSERT_TRUE(l.Propose("d").ok());
  EXPECT_TRUE(ReadMessages(*l.r).empty());
}

TEST(FlowControlTest, SuccessfulAppRespMovesProbeToReplicate) {
  Leader l = NewLeader();
  ASSERT_TRUE(l.Propose("a").ok());
  ReadMessages(*l.r);
  ASSERT_EQ(l.pr(2).state, tr::StateType::kProbe);

  ASSERT_TRUE(l.r->Step(AppResp(l, 2, 2)).ok());
  EXPECT_EQ(l.pr(2).state, tr::StateType::kReplicate);
  EXPECT_EQ(l.pr(2).match, I(2));
  EXPECT_EQ(l.pr(2).next, I(3));
  EXPECT_FALSE(l.pr(2).IsPaused());
  EXPECT_EQ(l.r->log.committed(), I(2));
  // The only message is the one announcing the new commit index.
  std::vector<Message> msgs = ReadMessages(*l.r);
  ASSERT_EQ(msgs.size(), 1u) << Describe(msgs);
  EXPECT_EQ(msgs[0].type, MessageType::MsgApp);
  EXPECT_TRUE(msgs[0].entries.empty());
  EXPECT_EQ(msgs[0].commit, I(2));

  // Now proposals are pipelined without waiting for answers.
  ASSERT_TRUE(l.Propose("b").ok());
  ASSERT_TRUE(l.Propose("c").ok());
  msgs = ReadMessages(*l.r);
  EXPECT_EQ(AppBatches(msgs), (Batches{{3}, {4}})) << Describe(msgs);
  EXPECT_EQ(CountType(msgs, MessageType::MsgApp), 2u);
  EXPECT_EQ(l.pr(2).inflights.Count(), 2u);
}

// Thesis §3.5: a rejection makes the leader step back and retry; in probe state it jumps straight
// to just after the follower's last index (the hint) and sends one new probe.
TEST(FlowControlTest, RejectedProbeRewindsToTheHintAndProbesOnce) {
  Leader l;
  l.storage = StorageWith(EntsWithTerms({1, 1, 1, 1, 1}));
  raftpb::HardState hs;
  hs.term = T(1);
  l.storage->SetHardState(hs);
  raft::Config c = NewTestConfig(1, 10, 1, l.storage.get());
  c.peers = Ids({1, 2});
  l.r = NewRaftFromConfig(c);
  l.r->BecomeCandidate();
  l.r->BecomeLeader();  // term 2, empty entry at 6
  ReadMessages(*l.r);
  ASSERT_EQ(l.pr(2).next, I(6));

  l.r->SendAppend(N(2));
  std::vector<Message> msgs = ReadMessages(*l.r);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].index, I(5));
  EXPECT_EQ(msgs[0].log_term, T(1));

  // The follower's log ends at 2.
  ASSERT_TRUE(l.r->Step(AppReject(l, 2, 5, 2)).ok());
  EXPECT_EQ(l.pr(2).state, tr::StateType::kProbe);
  EXPECT_EQ(l.pr(2).next, I(3));
  msgs = ReadMessages(*l.r);
  ASSERT_EQ(msgs.size(), 1u) << Describe(msgs);
  EXPECT_EQ(msgs[0].type, MessageType::MsgApp);
  EXPECT_EQ(msgs[0].index, I(2));
  EXPECT_EQ(msgs[0].log_term, T(1));
  EXPECT_EQ(AppBatches(msgs), (Batches{{3, 4, 5, 6}}));
  EXPECT_TRUE(l.pr(2).probe_sent);

  // A duplicate of the old rejection is stale (it answers a probe that is no longer outstanding).
  ASSERT_TRUE(l.r->Step(AppReject(l, 2, 5, 2)).ok());
  EXPECT_TRUE(ReadMessages(*l.r).empty());
  EXPECT_EQ(l.pr(2).next, I(3));
}

// ---------------------------------------------------------------------------------------------
// Leaving StateReplicate

TEST(FlowControlTest, RejectionInReplicateFallsBackToProbeFromMatch) {
  Leader l = NewReplicatingLeader();
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(l.Propose("x").ok());  // 2, 3, 4 in flight
  ReadMessages(*l.r);
  ASSERT_EQ(l.pr(2).next, I(5));

  // The follower could not append the message at 3 (say it lost the one carrying 2).
  ASSERT_TRUE(l.r->Step(AppReject(l, 2, 3, 1)).ok());
  const Progress& pr = l.pr(2);
  EXPECT_EQ(pr.state, tr::StateType::kProbe);
  EXPECT_EQ(pr.match, I(1));
  EXPECT_EQ(pr.next, I(2));
  EXPECT_EQ(pr.inflights.Count(), 0u);
  // It probes again right away from just after match, with everything it has.
  std::vector<Message> msgs = ReadMessages(*l.r);
  ASSERT_EQ(msgs.size(), 1u) << Describe(msgs);
  EXPECT_EQ(msgs[0].index, I(1));
  EXPECT_EQ(msgs[0].log_term, T(1));
  EXPECT_EQ(AppBatches(msgs), (Batches{{2, 3, 4}}));
  EXPECT_TRUE(pr.probe_sent);
}

TEST(FlowControlTest, StaleRejectionInReplicateIsIgnored) {
  Leader l = NewReplicatingLeader();
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(l.Propose("x").ok());
  ASSERT_TRUE(l.r->Step(AppResp(l, 2, 3)).ok());
  ReadMessages(*l.r);
  ASSERT_EQ(l.pr(2).match, I(3));

  // A rejection of index 2 was overtaken by the ack of 3.
  ASSERT_TRUE(l.r->Step(AppReject(l, 2, 2, 1)).ok());
  EXPECT_EQ(l.pr(2).state, tr::StateType::kReplicate);
  EXPECT_EQ(l.pr(2).next, I(5));
  EXPECT_EQ(l.pr(2).inflights.Count(), 1u);
  EXPECT_TRUE(ReadMessages(*l.r).empty());
}

TEST(FlowControlTest, UnreachableMovesAReplicatingFollowerToProbe) {
  Leader l = NewReplicatingLeader();
  ASSERT_TRUE(l.Propose("a").ok());
  ASSERT_TRUE(l.Propose("b").ok());
  ReadMessages(*l.r);
  ASSERT_EQ(l.pr(2).inflights.Count(), 2u);

  ASSERT_TRUE(l.r->Step(Msg(2, 1, MessageType::MsgUnreachable)).ok());
  const Progress& pr = l.pr(2);
  EXPECT_EQ(pr.state, tr::StateType::kProbe);
  EXPECT_EQ(pr.next, I(2));  // what was sent optimistically is presumed lost
  EXPECT_EQ(pr.match, I(1));
  EXPECT_EQ(pr.inflights.Count(), 0u);
  EXPECT_FALSE(pr.probe_sent);
  EXPECT_TRUE(ReadMessages(*l.r).empty());

  // The next proposal triggers a single probe covering everything after match.
  ASSERT_TRUE(l.Propose("c").ok());
  ASSERT_TRUE(l.Propose("d").ok());
  std::vector<Message> msgs = ReadMessages(*l.r);
  EXPECT_EQ(AppBatches(msgs), (Batches{{2, 3, 4}})) << Describe(msgs);
  EXPECT_EQ(msgs.size(), 1u);
}

TEST(FlowControlTest, UnreachableDoesNotUnpauseAProbingFollower) {
  Leader l = NewLeader();
  ASSERT_TRUE(l.Propose("a").ok());
  ReadMessages(*l.r);
  ASSERT_TRUE(l.pr(2).probe_sent);

  ASSERT_TRUE(l.r->Step(Msg(2, 1, MessageType::MsgUnreachable)).ok());
  EXPECT_EQ(l.pr(2).state, tr::StateType::kProbe);
  EXPECT_TRUE(l.pr(2).probe_sent);
  EXPECT_EQ(l.pr(2).next, I(1));
  ASSERT_TRUE(l.Propose("b").ok());
  EXPECT_TRUE(ReadMessages(*l.r).empty());
}

}  // namespace
}  // namespace raftkit::testing
