// Client proposals (thesis §6.2: clients send requests to the leader; §4.1: one membership change
// at a time): when a proposal is dropped with kProposalDropped (no leader, forwarding disabled,
// leadership transfer, removed leader, the uncommitted-size quota), when it is forwarded, and how
// conf change proposals are vetted.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "raftkit/core/raw_node.h"
#include "raftkit/raftpb/codec.h"
#include "testlib/cluster.h"
#include "testlib/network.h"
#include "testlib/raft_fixtures.h"

namespace raftkit::testing {
namespace {

using raftpb::EntryType;

struct Node {
  std::unique_ptr<raft::MemoryStorage> storage;
  std::unique_ptr<Raft> r;
};

Node NewNode(uint64_t id, std::initializer_list<uint64_t> peers,
             const std::function<void(raft::Config&)>& tweak = nullptr) {
  Node n;
  n.storage = std::make_unique<raft::MemoryStorage>();
  raft::Config c = NewTestConfig(id, 10, 1, n.storage.get());
  c.peers = Ids(peers);
  if (tweak) tweak(c);
  n.r = NewRaftFromConfig(c);
  return n;
}

// Node 1 as leader of `peers` at term 1 (its empty entry at index 1), nothing sent yet.
Node NewLeader(std::initializer_list<uint64_t> peers,
               const std::function<void(raft::Config&)>& tweak = nullptr) {
  Node n = NewNode(1, peers, tweak);
  n.r->BecomeCandidate();
  n.r->BecomeLeader();
  ReadMessages(*n.r);
  return n;
}

Message AppResp(const Raft& r, uint64_t from, uint64_t index) {
  Message m = Msg(from, r.id.value(), MessageType::MsgAppResp);
  m.term = r.term;
  m.index = I(index);
  return m;
}

Message ConfChangeProp(const raftpb::ConfChange& cc) {
  Message m = Msg(1, 1, MessageType::MsgProp);
  raftpb::EncodedConfChange enc = raftpb::MarshalConfChange(cc);
  m.entries.resize(1);
  m.entries[0].type = enc.type;
  m.entries[0].data = enc.data;
  return m;
}

Message ConfChangeProp(const raftpb::ConfChangeV2& cc) {
  Message m = Msg(1, 1, MessageType::MsgProp);
  raftpb::EncodedConfChange enc = raftpb::MarshalConfChange(cc);
  m.entries.resize(1);
  m.entries[0].type = enc.type;
  m.entries[0].data = enc.data;
  return m;
}

raftpb::ConfChange AddNode(uint64_t id) {
  raftpb::ConfChange cc;
  cc.type = raftpb::ConfChangeType::ConfChangeAddNode;
  cc.node_id = N(id);
  return cc;
}

raftpb::ConfChangeSingle Single(raftpb::ConfChangeType t, uint64_t id) {
  raftpb::ConfChangeSingle s;
  s.type = t;
  s.node_id = N(id);
  return s;
}

// The entry at index i of r's log.
Entry EntryAt(const Raft& r, uint64_t i) {
  auto ents = r.log.Slice(I(i), I(i + 1), kNoLimit);
  EXPECT_TRUE(ents.ok());
  EXPECT_EQ(ents->size(), 1u);
  return ents->empty() ? Entry{} : ents->front();
}

// Checks that stepping `prop` into r is refused and leaves no trace: nothing appended, nothing
// sent.
void ExpectDropped(Raft& r, Message prop) {
  const Index last = r.log.LastIndex();
  const Status st = r.Step(std::move(prop));
  EXPECT_EQ(st.code(), ErrorCode::kProposalDropped) << st.ToString();
  EXPECT_EQ(r.log.LastIndex(), last);
  EXPECT_TRUE(ReadMessages(r).empty());
}

// ---------------------------------------------------------------------------------------------
// Dropped proposals

TEST(ProposalTest, FollowerWithoutLeaderDropsProposals) {
  Node n = NewNode(1, {1, 2, 3});
  ASSERT_EQ(n.r->state, raft::StateType::kFollower);
  ASSERT_EQ(n.r->lead, kNoNode);
  ExpectDropped(*n.r, PropMsg(1, "x"));
}

TEST(ProposalTest, CandidateDropsProposals) {
  Node n = NewNode(1, {1, 2, 3});
  n.r->BecomeCandidate();
  ReadMessages(*n.r);
  ExpectDropped(*n.r, PropMsg(1, "x"));
}

TEST(ProposalTest, PreCandidateDropsProposals) {
  Node n = NewNode(1, {1, 2, 3}, [](raft::Config& c) { c.pre_vote = true; });
  n.r->BecomePreCandidate();
  ReadMessages(*n.r);
  ExpectDropped(*n.r, PropMsg(1, "x"));
}

TEST(ProposalTest, FollowerWithForwardingDisabledDropsProposals) {
  Node n = NewNode(2, {1, 2, 3}, [](raft::Config& c) { c.disable_proposal_forwarding = true; });
  n.r->BecomeFollower(T(1), N(1));
  ExpectDropped(*n.r, PropMsg(2, "x"));
}

// Thesis §3.10: while leadership is being handed over, the old leader stops accepting requests
// (they would most likely be lost with the transfer).
TEST(ProposalTest, LeaderDropsProposalsWhileTransferringLeadership) {
  Node n = NewLeader({1, 2, 3});
  // Follower 2 has not acknowledged anything yet, so the transfer waits for it to catch up.
  Message transfer = Msg(2, 1, MessageType::MsgTransferLeader);
  transfer.term = n.r->term;
  ASSERT_TRUE(n.r->Step(transfer).ok());
  ASSERT_EQ(n.r->lead_transferee, N(2));
  ReadMessages(*n.r);
  ExpectDropped(*n.r, PropMsg(1, "x"));

  // A transfer that does not finish within an election timeout is abandoned; proposals flow again.
  for (int i = 0; i < n.r->election_timeout; ++i)
    n.r->Tick();
  ASSERT_EQ(n.r->lead_transferee, kNoNode);
  ASSERT_EQ(n.r->state, raft::StateType::kLeader);
  ReadMessages(*n.r);
  EXPECT_TRUE(n.r->Step(PropMsg(1, "x")).ok());
}

// A leader that has applied its own removal keeps its role until it steps down, but accepts no new
// proposals: it is not a member and must not grow the log of a configuration it is not part of.
TEST(ProposalTest, LeaderRemovedFromTheConfigurationDropsProposals) {
  Node n = NewLeader({1, 2, 3});
  raftpb::ConfChange rm;
  rm.type = raftpb::ConfChangeType::ConfChangeRemoveNode;
  rm.node_id = N(1);
  n.r->ApplyConfChange(raftpb::ConfChangeV2::FromV1(rm));
  ReadMessages(*n.r);
  ASSERT_EQ(n.r->state, raft::StateType::kLeader);
  ASSERT_FALSE(n.r->prs.progress.contains(N(1)));
  ExpectDropped(*n.r, PropMsg(1, "x"));
}

// ---------------------------------------------------------------------------------------------
// The uncommitted tail (Config::max_uncommitted_entries_size)

TEST(ProposalTest, ProposalsBeyondTheUncommittedLimitAreDropped) {
  // Followers never answer, so nothing commits. 4-byte payloads against a 12-byte limit.
  Node n = NewLeader({1, 2, 3}, [](raft::Config& c) { c.max_uncommitted_entries_size = 12; });
  ASSERT_TRUE(n.r->Step(PropMsg(1, "aaaa")).ok());
  ASSERT_TRUE(n.r->Step(PropMsg(1, "bbbb")).ok());
  ASSERT_TRUE(n.r->Step(PropMsg(1, "cccc")).ok());  // exactly at the limit: accepted
  EXPECT_EQ(n.r->uncommitted_size, 12u);
  ReadMessages(*n.r);
  ExpectDropped(*n.r, PropMsg(1, "d"));

  // A proposal of several entries is accepted or dropped as a whole.
  Message batch = PropMsg(1, "e");
  batch.entries.push_back(batch.entries[0]);
  ExpectDropped(*n.r, batch);
  EXPECT_EQ(n.r->uncommitted_size, 12u);
  EXPECT_EQ(n.r->log.LastIndex(), I(4));
}

TEST(ProposalTest, SingleLargeProposalIsAcceptedWhenNothingIsUncommitted) {
  Node n = NewLeader({1, 2, 3}, [](raft::Config& c) { c.max_uncommitted_entries_size = 12; });
  // Otherwise an entry larger than the limit could never be proposed.
  ASSERT_TRUE(n.r->Step(PropMsg(1, std::string(100, 'L'))).ok());
  EXPECT_EQ(n.r->uncommitted_size, 100u);
  ReadMessages(*n.r);
  ExpectDropped(*n.r, PropMsg(1, "x"));
}

// The leader's empty entry of its new term, and uncommitted entries it inherited from earlier
// terms, do not count against the limit.
TEST(ProposalTest, NewLeaderStartsWithAnEmptyUncommittedQuota) {
  std::vector<Entry> inherited;
  for (uint64_t i = 1; i <= 3; ++i)
    inherited.push_back(E(1, i, std::string(9, 'o')));
  auto storage = StorageWith(inherited);
  raftpb::HardState hs;
  hs.term = T(1);
  storage->SetHardState(hs);
  raft::Config c = NewTestConfig(1, 10, 1, storage.get());
  c.peers = Ids({1, 2, 3});
  c.max_uncommitted_entries_size = 12;
  std::unique_ptr<Raft> r = NewRaftFromConfig(c);
  r->BecomeCandidate();
  r->BecomeLeader();
  ReadMessages(*r);
  ASSERT_EQ(r->log.LastIndex(), I(4));
  ASSERT_EQ(r->log.committed(), I(0));
  EXPECT_EQ(r->uncommitted_size, 0u);

  // Three 4-byte proposals fill the quota exactly; had the 27 inherited bytes counted, the second
  // would have been dropped.
  for (const char* d : {"aaaa", "bbbb", "cccc"})
    ASSERT_TRUE(r->Step(PropMsg(1, d)).ok()) << d;
  ReadMessages(*r);
  ExpectDropped(*r, PropMsg(1, "d"));
}

// The quota is given back when committed entries are handed to the application and it calls
// Advance (etcd 3.4 does it in advance(), not at commit time).
TEST(ProposalTest, UncommittedQuotaIsFreedOnceEntriesAreCommittedAndApplied) {
  raft::MemoryStorage storage;
  raft::Config c = NewTestConfig(1, 10, 1, &storage);
  c.peers = Ids({1, 2});
  c.max_uncommitted_entries_size = 8;
  auto created = raft::RawNode::Create(c);
  ASSERT_TRUE(created.ok());
  raft::RawNode& node = **created;
  auto handle = [&]() {
    raft::Ready rd = node.GetReady();
    (void)storage.Append(rd.entries);
    if (!rd.hard_state.IsEmpty()) storage.SetHardState(rd.hard_state);
    node.Advance(rd);
    return rd;
  };

  ASSERT_TRUE(node.Campaign().ok());
  handle();
  Message vote = Msg(2, 1, MessageType::MsgVoteResp);
  vote.term = T(1);
  ASSERT_TRUE(node.Step(vote).ok());
  handle();
  ASSERT_EQ(node.GetBasicStatus().soft_state.raft_state, raft::StateType::kLeader);

  ASSERT_TRUE(node.Propose(Bytes("aaaa")).ok());  // index 2
  ASSERT_TRUE(node.Propose(Bytes("bbbb")).ok());  // index 3
  EXPECT_EQ(node.Propose(Bytes("c")).code(), ErrorCode::kProposalDropped);
  handle();

  // Follower 2 acknowledges everything: committed, but not yet applied.
  ASSERT_TRUE(node.Step(AppResp(node.raft_for_testing(), 2, 3)).ok());
  ASSERT_EQ(node.GetBasicStatus().hard_state.commit, I(3));
  EXPECT_EQ(node.Propose(Bytes("c")).code(), ErrorCode::kProposalDropped);

  // The Ready hands out the committed entries; after Advance the quota is free again.
  raft::Ready rd = handle();
  ASSERT_EQ(rd.committed_entries.size(), 3u);
  EXPECT_EQ(node.raft_for_testing().uncommitted_size, 0u);
  EXPECT_TRUE(node.Propose(Bytes("cccc")).ok());
  EXPECT_TRUE(node.Propose(Bytes("dddd")).ok());
  EXPECT_EQ(node.Propose(Bytes("e")).code(), ErrorCode::kProposalDropped);
}

// ---------------------------------------------------------------------------------------------
// Accepted proposals

// Thesis §6.2: a follower redirects clients to the leader; here it forwards the proposal itself.
TEST(ProposalTest, FollowerForwardsProposalsToTheLeaderWithoutATerm) {
  Node n = NewNode(2, {1, 2, 3});
  n.r->BecomeFollower(T(3), N(1));
  ASSERT_TRUE(n.r->Step(PropMsg(2, "fwd")).ok());
  std::vector<Message> msgs = ReadMessages(*n.r);
  ASSERT_EQ(msgs.size(), 1u) << Describe(msgs);
  EXPECT_EQ(msgs[0].type, MessageType::MsgProp);
  EXPECT_EQ(msgs[0].from, N(2));
  EXPECT_EQ(msgs[0].to, N(1));
  // No term: a proposal is never rejected as stale by the term rules (a leader of a later term
  // takes it just the same).
  EXPECT_EQ(msgs[0].term, T(0));
  ASSERT_EQ(msgs[0].entries.size(), 1u);
  EXPECT_EQ(msgs[0].entries[0].data, Bytes("fwd"));
  // The follower's own log is untouched.
  EXPECT_EQ(n.r->log.LastIndex(), I(0));
}

TEST(ProposalTest, ProposalForwardedByAFollowerIsCommittedEverywhere) {
  std::vector<Peer> peers;
  for (int i = 0; i < 3; ++i)
    peers.push_back(Peer::New());
  Network nw(std::move(peers));
  nw.Send({Msg(1, 1, MessageType::MsgHup)});
  ASSERT_EQ(nw.raft(1).state, raft::StateType::kLeader);
  nw.Send({PropMsg(3, "via-3")});
  for (uint64_t id : {1, 2, 3}) {
    EXPECT_EQ(nw.raft(id).log.committed(), I(2)) << id;
    EXPECT_EQ(EntryAt(nw.raft(id), 2).data, Bytes("via-3")) << id;
  }
}

TEST(ProposalTest, SingleNodeLeaderCommitsAProposalImmediately) {
  Node n = NewNode(1, {1});
  ASSERT_TRUE(n.r->Step(Msg(1, 1, MessageType::MsgHup)).ok());
  ASSERT_EQ(n.r->state, raft::StateType::kLeader);
  EXPECT_EQ(n.r->log.committed(), I(1));  // its empty entry
  ReadMessages(*n.r);

  ASSERT_TRUE(n.r->Step(PropMsg(1, "solo")).ok());
  EXPECT_EQ(n.r->log.committed(), I(2));
  EXPECT_EQ(EntryAt(*n.r, 2).data, Bytes("solo"));
  EXPECT_TRUE(ReadMessages(*n.r).empty());  // nobody to tell
}

// ---------------------------------------------------------------------------------------------
// Conf change proposals (thesis §4.1: one change at a time)

TEST(ProposalTest, ConfChangeWhileAnotherIsPendingBecomesAnEmptyNormalEntry) {
  Node n = NewLeader({1, 2, 3});
  ASSERT_TRUE(n.r->Step(ConfChangeProp(AddNode(4))).ok());
  const Entry first = EntryAt(*n.r, 2);
  EXPECT_EQ(first.type, EntryType::EntryConfChange);
  EXPECT_EQ(n.r->pending_conf_index, I(2));

  // Not dropped: the entry keeps its place in the log, but carries nothing.
  ASSERT_TRUE(n.r->Step(ConfChangeProp(AddNode(5))).ok());
  const Entry second = EntryAt(*n.r, 3);
  EXPECT_EQ(second.type, EntryType::EntryNormal);
  EXPECT_TRUE(second.data.is_null());
  EXPECT_EQ(second.term, T(1));
  EXPECT_EQ(n.r->pending_conf_index, I(2));

  // Once the first change is committed and applied, the next one is accepted.
  ASSERT_TRUE(n.r->Step(AppResp(*n.r, 2, 3)).ok());
  ASSERT_EQ(n.r->log.committed(), I(3));
  n.r->log.AppliedTo(I(3));
  ASSERT_TRUE(n.r->Step(ConfChangeProp(AddNode(5))).ok());
  EXPECT_EQ(EntryAt(*n.r, 4).type, EntryType::EntryConfChange);
  EXPECT_EQ(n.r->pending_conf_index, I(4));
}

TEST(ProposalTest, SecondConfChangeInTheSameProposalIsReplaced) {
  Node n = NewLeader({1, 2, 3});
  Message prop = ConfChangeProp(AddNode(4));
  prop.entries.push_back(ConfChangeProp(AddNode(5)).entries[0]);
  ASSERT_TRUE(n.r->Step(prop).ok());
  EXPECT_EQ(EntryAt(*n.r, 2).type, EntryType::EntryConfChange);
  EXPECT_EQ(EntryAt(*n.r, 3).type, EntryType::EntryNormal);
  EXPECT_TRUE(EntryAt(*n.r, 3).data.is_null());
  EXPECT_EQ(n.r->pending_conf_index, I(2));
}

// A new leader cannot tell cheaply whether its uncommitted tail holds a conf change: it refuses
// new ones until everything up to its election is applied.
TEST(ProposalTest, NewLeaderRefusesConfChangesUntilItsLogIsApplied) {
  auto storage = StorageWith(EntsWithTerms({1, 1}));
  raftpb::HardState hs;
  hs.term = T(1);
  storage->SetHardState(hs);
  raft::Config c = NewTestConfig(1, 10, 1, storage.get());
  c.peers = Ids({1, 2});
  std::unique_ptr<Raft> r = NewRaftFromConfig(c);
  r->BecomeCandidate();
  r->BecomeLeader();  // empty entry at 3
  EXPECT_EQ(r->pending_conf_index, I(2));
  ASSERT_TRUE(r->Step(ConfChangeProp(AddNode(3))).ok());
  EXPECT_EQ(EntryAt(*r, 4).type, EntryType::EntryNormal);
}

TEST(ProposalTest, LeaveJointWhenNotJointIsRefused) {
  Node n = NewLeader({1, 2, 3});
  ASSERT_TRUE(n.r->Step(ConfChangeProp(raftpb::ConfChangeV2{})).ok());
  const Entry e = EntryAt(*n.r, 2);
  EXPECT_EQ(e.type, EntryType::EntryNormal);
  EXPECT_TRUE(e.data.is_null());
  EXPECT_EQ(n.r->pending_conf_index, I(0));
}

// Thesis §4.3: a joint configuration must be left before the next change; leaving it is allowed.
TEST(ProposalTest, InJointConfigOnlyLeavingIsAccepted) {
  Node n = NewLeader({1, 2, 3});
  raftpb::ConfChangeV2 enter;
  enter.transition = raftpb::ConfChangeTransition::ConfChangeTransitionJointExplicit;
  enter.changes.push_back(Single(raftpb::ConfChangeType::ConfChangeAddNode, 4));
  n.r->ApplyConfChange(enter);
  ReadMessages(*n.r);
  ASSERT_TRUE(n.r->prs.config.voters.IsJoint());

  raftpb::ConfChangeV2 more;
  more.changes.push_back(Single(raftpb::ConfChangeType::ConfChangeAddNode, 5));
  ASSERT_TRUE(n.r->Step(ConfChangeProp(more)).ok());
  EXPECT_EQ(EntryAt(*n.r, 2).type, EntryType::EntryNormal);
  EXPECT_EQ(n.r->pending_conf_index, I(0));

  ASSERT_TRUE(n.r->Step(ConfChangeProp(raftpb::ConfChangeV2{})).ok());
  const Entry leave = EntryAt(*n.r, 3);
  EXPECT_EQ(leave.type, EntryType::EntryConfChangeV2);
  auto decoded = raftpb::DecodeConfChangeV2(leave.data.view());
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->LeaveJoint());
  EXPECT_EQ(n.r->pending_conf_index, I(3));
}

// ---------------------------------------------------------------------------------------------
// Batched proposals (RawNode::ProposeBatch)

TEST(ProposalTest, ProposeBatchAppendsTheBatchInOrderAndReplicatesItInOneMsgAppPerFollower) {
  Cluster c(3);
  c.ElectLeader(N(1));
  const Index last = c.node(N(1)).raft_for_testing().log.LastIndex();
  const std::vector<Bytes> batch{Bytes("a"), Bytes("b"), Bytes("c")};
  ASSERT_TRUE(c.node(N(1)).ProposeBatch(batch).ok());
  Raft& leader = c.node(N(1)).raft_for_testing();
  EXPECT_EQ(leader.log.LastIndex(), last + 3);
  // One MsgApp per follower carries all three entries.
  std::vector<Message> apps;
  for (const Message& m : leader.msgs) {
    if (m.type == MessageType::MsgApp) apps.push_back(m);
  }
  ASSERT_EQ(apps.size(), 2u) << Describe(leader.msgs);
  for (const Message& m : apps) {
    ASSERT_EQ(m.entries.size(), 3u);
    EXPECT_EQ(m.entries[0].data.view(), "a");
    EXPECT_EQ(m.entries[2].data.view(), "c");
    EXPECT_EQ(m.entries[2].index, last + 3);
  }
  c.Stabilize();
  const std::vector<std::string> want{"a", "b", "c"};
  for (NodeId id : c.Ids())
    EXPECT_EQ(c.Applied(id), want) << id.value();
}

TEST(ProposalTest, ProposeBatchIsAllOrNothing) {
  Cluster c(3);  // nobody leads yet
  const std::vector<Bytes> batch{Bytes("a"), Bytes("b")};
  const Status st = c.node(N(2)).ProposeBatch(batch);
  EXPECT_EQ(st.code(), ErrorCode::kProposalDropped) << st.ToString();
  EXPECT_EQ(c.node(N(2)).raft_for_testing().log.LastIndex(), I(3));  // the bootstrap entries only
  EXPECT_EQ(c.node(N(1)).ProposeBatch({}).code(), ErrorCode::kInvalidArgument);
}

TEST(ProposalTest, ProposeBatchFromAFollowerIsForwardedAsOneMessage) {
  Cluster c(3);
  c.ElectLeader(N(1));
  const std::vector<Bytes> batch{Bytes("x"), Bytes("y")};
  ASSERT_TRUE(c.node(N(2)).ProposeBatch(batch).ok());
  const std::vector<Message>& out = c.node(N(2)).raft_for_testing().msgs;
  ASSERT_EQ(out.size(), 1u) << Describe(out);
  EXPECT_EQ(out[0].type, MessageType::MsgProp);
  EXPECT_EQ(out[0].to, N(1));
  EXPECT_EQ(out[0].term, T(0));
  EXPECT_EQ(out[0].entries.size(), 2u);
  c.Stabilize();
  EXPECT_EQ(c.Applied(N(3)), (std::vector<std::string>{"x", "y"}));
}

}  // namespace
}  // namespace raftkit::testing
