// RawNode and the Ready contract (docs/ready_loop.md): configuration checks, bootstrapping, what a
// Ready carries and when, Step's guards, the reporting calls, status, restart, and DescribeReady.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "raftkit/core/raw_node.h"
#include "raftkit/raftpb/codec.h"
#include "raftkit/raftpb/describe.h"
#include "testlib/raft_fixtures.h"

namespace raftkit::testing {
namespace {

using raft::RawNode;
using raft::Ready;
using raft::StateType;
using raftpb::EntryType;
using raftpb::HardState;
namespace tr = raft::tracker;

HardState HS(uint64_t term, uint64_t vote, uint64_t commit) {
  HardState hs;
  hs.term = T(term);
  hs.vote = N(vote);
  hs.commit = I(commit);
  return hs;
}

struct TestNode {
  std::unique_ptr<raft::MemoryStorage> storage;
  std::unique_ptr<RawNode> rn;

  RawNode* operator->() { return rn.get(); }
  RawNode& operator*() { return *rn; }
};

raft::Config ConfigFor(uint64_t id, raft::Storage* storage) {
  return NewTestConfig(id, 10, 1, storage);
}

// A RawNode over an empty MemoryStorage with `peers` as its initial voters.
TestNode NewNode(uint64_t id, std::initializer_list<uint64_t> peers,
                 const std::function<void(raft::Config&)>& tweak = nullptr) {
  TestNode n;
  n.storage = std::make_unique<raft::MemoryStorage>();
  raft::Config c = ConfigFor(id, n.storage.get());
  c.peers = Ids(peers);
  if (tweak) tweak(c);
  auto rn = RawNode::Create(c);
  EXPECT_TRUE(rn.ok()) << rn.status().ToString();
  n.rn = std::move(rn).value();
  return n;
}

// Handles one Ready as an application must: persist snapshot, entries and hard state, then
// Advance. (Messages are returned to the caller inside the Ready; conf changes are not applied.)
Ready Handle(TestNode& n) {
  EXPECT_TRUE(n->HasReady());
  Ready rd = n->GetReady();
  if (!rd.snapshot.IsEmpty()) {
    EXPECT_TRUE(n.storage->ApplySnapshot(rd.snapshot).ok());
  }
  EXPECT_TRUE(n.storage->Append(rd.entries).ok());
  if (!rd.hard_state.IsEmpty()) n.storage->SetHardState(rd.hard_state);
  n->Advance(rd);
  return rd;
}

Message From(uint64_t from, uint64_t to, MessageType t, uint64_t term) {
  Message m = Msg(from, to, t);
  m.term = T(term);
  return m;
}

Message AppResp(uint64_t from, uint64_t to, uint64_t term, uint64_t index) {
  Message m = From(from, to, MessageType::MsgAppResp, term);
  m.index = I(index);
  return m;
}

std::vector<MessageType> Types(const std::vector<Message>& msgs) {
  std::vector<MessageType> out;
  for (const Message& m : msgs)
    out.push_back(m.type);
  return out;
}

// Node 1, leader of {1, 2, 3} at term 1 after 2's vote; 2 has acknowledged the empty entry (index
// 1, committed and applied); 3 has not answered anything. Every Ready so far was handled.
TestNode LeaderOfThree() {
  TestNode n = NewNode(1, {1, 2, 3});
  EXPECT_TRUE(n->Campaign().ok());
  Handle(n);
  EXPECT_TRUE(n->Step(From(2, 1, MessageType::MsgVoteResp, 1)).ok());
  Handle(n);
  EXPECT_TRUE(n->Step(AppResp(2, 1, 1, 1)).ok());
  Handle(n);
  EXPECT_FALSE(n->HasReady());
  EXPECT_EQ(n->GetBasicStatus().soft_state.raft_state, StateType::kLeader);
  EXPECT_EQ(n->GetBasicStatus().applied, I(1));
  return n;
}

// ---------------------------------------------------------------------------------------------
// Create

struct InvalidCase {
  const char* name;
  void (*mutate)(raft::Config&);
  const char* field;
};

class CreateValidationTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(CreateValidationTest, InvalidFieldIsRejectedByName) {
  raft::MemoryStorage storage;
  raft::Config c = ConfigFor(1, &storage);
  GetParam().mutate(c);
  auto rn = RawNode::Create(c);
  ASSERT_FALSE(rn.ok());
  EXPECT_EQ(rn.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(rn.status().message(), ::testing::HasSubstr(GetParam().field));
}

INSTANTIATE_TEST_SUITE_P(
    Fields, CreateValidationTest,
    ::testing::Values(
        InvalidCase{"IdZero", [](raft::Config& c) { c.id = kNoNode; }, "id"},
        InvalidCase{"HeartbeatZero", [](raft::Config& c) { c.heartbeat_tick = 0; },
                    "heartbeat_tick"},
        InvalidCase{"HeartbeatNegative", [](raft::Config& c) { c.heartbeat_tick = -1; },
                    "heartbeat_tick"},
        InvalidCase{"ElectionEqualsHeartbeat",
                    [](raft::Config& c) {
                      c.election_tick = 3;
                      c.heartbeat_tick = 3;
                    },
                    "election_tick"},
        InvalidCase{"ElectionBelowHeartbeat",
                    [](raft::Config& c) {
                      c.election_tick = 2;
                      c.heartbeat_tick = 3;
                    },
                    "election_tick"},
        InvalidCase{"NullStorage", [](raft::Config& c) { c.storage = nullptr; }, "storage"},
        InvalidCase{"NoInflightWindow", [](raft::Config& c) { c.max_inflight_msgs = 0; },
                    "max_inflight_msgs"},
        InvalidCase{"LeaseReadsWithoutCheckQuorum",
                    [](raft::Config& c) {
                      c.read_only_option = raft::ReadOnlyOption::kLeaseBased;
                      c.check_quorum = false;
                    },
                    "read_only_option"}),
    [](const ::testing::TestParamInfo<InvalidCase>& p) { return std::string(p.param.name); });

TEST(RawNodeTest, CreateAcceptsLeaseReadsWithCheckQuorum) {
  raft::MemoryStorage storage;
  raft::Config c = ConfigFor(1, &storage);
  c.read_only_option = raft::ReadOnlyOption::kLeaseBased;
  c.check_quorum = true;
  EXPECT_TRUE(RawNode::Create(c).ok());
}

// ---------------------------------------------------------------------------------------------
// Bootstrap

TEST(RawNodeTest, BootstrapOfThreeNodesProducesTheCommittedConfChangesInTheFirstReady) {
  raft::MemoryStorage storage;
  auto created = RawNode::Create(ConfigFor(1, &storage));
  ASSERT_TRUE(created.ok());
  RawNode& node = **created;
  ASSERT_FALSE(node.HasReady());
  ASSERT_TRUE(node.Bootstrap({{N(1), Bytes()}, {N(2), Bytes()}, {N(3), Bytes()}}).ok());

  ASSERT_TRUE(node.HasReady());
  Ready rd = node.GetReady();
  EXPECT_TRUE(rd.hard_state.SameAs(HS(1, 0, 3))) << raftpb::DescribeHardState(rd.hard_state);
  ASSERT_EQ(rd.entries.size(), 3u);
  for (uint64_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const Entry& e = rd.entries[i];
    EXPECT_EQ(e.type, EntryType::EntryConfChange);
    EXPECT_EQ(e.term, T(1));
    EXPECT_EQ(e.index, I(i + 1));
    // ConfChange{ID: 0, Type: AddNode, NodeID: i+1}: fields 1, 2 and 3 as varints, the null
    // context omitted — what etcd's bootstrap writes, byte for byte.
    const std::string want_bytes{'\x08', '\x00', '\x10', '\x00', '\x18', static_cast<char>(i + 1)};
    EXPECT_EQ(e.data.str(), want_bytes);
    auto cc = raftpb::DecodeConfChange(e.data.view());
    ASSERT_TRUE(cc.ok());
    EXPECT_EQ(cc->id, 0u);
    EXPECT_EQ(cc->type, raftpb::ConfChangeType::ConfChangeAddNode);
    EXPECT_EQ(cc->node_id, N(i + 1));
    EXPECT_TRUE(cc->context.is_null());
  }
  EXPECT_EQ(rd.committed_entries, rd.entries);
  EXPECT_TRUE(rd.must_sync);
  EXPECT_FALSE(rd.soft_state.has_value());  // still a follower without a leader
  EXPECT_TRUE(rd.messages.empty());
  EXPECT_TRUE(rd.snapshot.IsEmpty());
  // The configuration is in force before the application applies the entries...
  EXPECT_EQ(node.GetStatus().config.voters.IDs().ids(), Ids({1, 2, 3}));

  ASSERT_TRUE(storage.Append(rd.entries).ok());
  storage.SetHardState(rd.hard_state);
  // ...and applying them again, as the application does, is harmless.
  raftpb::ConfState cs;
  for (const Entry& e : rd.committed_entries)
    cs = node.ApplyConfChange(*raftpb::DecodeConfChange(e.data.view()));
  EXPECT_EQ(cs.voters, Ids({1, 2, 3}));
  node.Advance(rd);
  EXPECT_FALSE(node.HasReady());
  EXPECT_EQ(node.GetBasicStatus().applied, I(3));

  // The node can campaign right away, with the bootstrap entries as its log.
  ASSERT_TRUE(node.Campaign().ok());
  rd = node.GetReady();
  ASSERT_EQ(rd.messages.size(), 2u);
  for (const Message& m : rd.messages) {
    EXPECT_EQ(m.type, MessageType::MsgVote);
    EXPECT_EQ(m.term, T(2));
    EXPECT_EQ(m.index, I(3));
    EXPECT_EQ(m.log_term, T(1));
  }
}

TEST(RawNodeTest, BootstrapStoresThePeerContextInTheConfChange) {
  raft::MemoryStorage storage;
  auto node = RawNode::Create(ConfigFor(1, &storage));
  ASSERT_TRUE(node.ok());
  ASSERT_TRUE((*node)->Bootstrap({{N(1), Bytes("http://n1:2380")}}).ok());
  Ready rd = (*node)->GetReady();
  ASSERT_EQ(rd.entries.size(), 1u);
  auto cc = raftpb::DecodeConfChange(rd.entries[0].data.view());
  ASSERT_TRUE(cc.ok());
  EXPECT_EQ(cc->context, Bytes("http://n1:2380"));
}

TEST(RawNodeTest, BootstrapRequiresPeersAndAnEmptyStorage) {
  {
    raft::MemoryStorage storage;
    auto node = RawNode::Create(ConfigFor(1, &storage));
    ASSERT_TRUE(node.ok());
    EXPECT_EQ((*node)->Bootstrap({}).code(), ErrorCode::kInvalidArgument);
    EXPECT_FALSE((*node)->HasReady());
  }
  {
    auto storage = StorageWith({E(1, 1)});
    auto node = RawNode::Create(ConfigFor(1, storage.get()));
    ASSERT_TRUE(node.ok());
    EXPECT_EQ((*node)->Bootstrap({{N(1), Bytes()}}).code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ((*node)->GetStatus().config.voters.IDs().ids(), std::vector<NodeId>{});
  }
}

// ---------------------------------------------------------------------------------------------
// The Ready cycle

TEST(RawNodeTest, NoReadyAfterAdvanceWhenNothingChanged) {
  TestNode n = NewNode(1, {1});
  EXPECT_FALSE(n->HasReady());
  ASSERT_TRUE(n->Campaign().ok());
  ASSERT_TRUE(n->HasReady());
  Handle(n);
  EXPECT_FALSE(n->HasReady());
  // A single-node leader's heartbeats go nowhere: ticking produces no work.
  for (int i = 0; i < 5; ++i)
    n->Tick();
  EXPECT_FALSE(n->HasReady());
  EXPECT_FALSE(n->GetReady().ContainsUpdates());
}

TEST(RawNodeTest, SoftAndHardStateAreReportedOnlyWhenTheyChange) {
  TestNode n = NewNode(1, {1, 2, 3});
  ASSERT_TRUE(n->Campaign().ok());
  Ready rd = Handle(n);
  ASSERT_TRUE(rd.soft_state.has_value());
  EXPECT_EQ(*rd.soft_state, (raft::SoftState{kNoNode, StateType::kCandidate}));
  EXPECT_TRUE(rd.hard_state.SameAs(HS(1, 1, 0)));
  EXPECT_TRUE(rd.must_sync);  // a new term and vote
  EXPECT_EQ(Types(rd.messages), (std::vector{MessageType::MsgVote, MessageType::MsgVote}));

  ASSERT_TRUE(n->Step(From(2, 1, MessageType::MsgVoteResp, 1)).ok());
  rd = Handle(n);
  ASSERT_TRUE(rd.soft_state.has_value());
  EXPECT_EQ(*rd.soft_state, (raft::SoftState{N(1), StateType::kLeader}));
  EXPECT_TRUE(rd.hard_state.IsEmpty());  // term, vote and commit are unchanged
  EXPECT_EQ(rd.entries, std::vector<Entry>{E(1, 1)});
  EXPECT_TRUE(rd.must_sync);  // entries
  EXPECT_EQ(Types(rd.messages), (std::vector{MessageType::MsgApp, MessageType::MsgApp}));

  ASSERT_TRUE(n->Propose(Bytes("p")).ok());
  rd = Handle(n);
  EXPECT_FALSE(rd.soft_state.has_value());
  EXPECT_TRUE(rd.hard_state.IsEmpty());
  EXPECT_EQ(rd.entries, std::vector<Entry>{E(1, 2, "p")});

  ASSERT_TRUE(n->Step(AppResp(2, 1, 1, 2)).ok());
  rd = Handle(n);
  EXPECT_FALSE(rd.soft_state.has_value());
  EXPECT_TRUE(rd.hard_state.SameAs(HS(1, 1, 2)));
  EXPECT_FALSE(rd.must_sync);  // only the commit index moved
  EXPECT_EQ(rd.committed_entries, (std::vector<Entry>{E(1, 1), E(1, 2, "p")}));
}

// Raft's persistent state is the term, the vote and the log (thesis Figure 3.1); the commit index
// can be re-learned, so it alone never forces an fsync.
TEST(RawNodeTest, MustSyncFollowsTermVoteAndEntriesButNotCommit) {
  EXPECT_FALSE(raft::MustSync(HS(1, 1, 5), HS(1, 1, 4), 0));
  EXPECT_TRUE(raft::MustSync(HS(1, 1, 4), HS(1, 1, 4), 1));
  EXPECT_TRUE(raft::MustSync(HS(2, 1, 4), HS(1, 1, 4), 0));
  EXPECT_TRUE(raft::MustSync(HS(1, 2, 4), HS(1, 0, 4), 0));
  EXPECT_FALSE(raft::MustSync(HS(1, 1, 4), HS(1, 1, 4), 0));
}

TEST(RawNodeTest, ReadyMustSyncAsAFollowerVotesAppendsAndLearnsCommits) {
  TestNode n;
  n.storage = StorageWith({E(1, 1)});
  raft::Config c = ConfigFor(1, n.storage.get());
  c.peers = Ids({1, 2, 3});
  n.rn = std::move(RawNode::Create(c)).value();

  // Candidate 2's log is behind ours: the vote is refused, but its term is adopted.
  Message vote2 = From(2, 1, MessageType::MsgVote, 2);
  ASSERT_TRUE(n->Step(vote2).ok());
  Ready rd = Handle(n);
  EXPECT_TRUE(rd.hard_state.SameAs(HS(2, 0, 0)));
  EXPECT_TRUE(rd.must_sync);
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_TRUE(rd.messages[0].reject);

  // Same term, now a vote: only the vote changes, and it must be durable before the grant is sent.
  Message vote3 = From(3, 1, MessageType::MsgVote, 2);
  vote3.index = I(1);
  vote3.log_term = T(1);
  ASSERT_TRUE(n->Step(vote3).ok());
  rd = Handle(n);
  EXPECT_TRUE(rd.hard_state.SameAs(HS(2, 3, 0)));
  EXPECT_TRUE(rd.entries.empty());
  EXPECT_TRUE(rd.must_sync);
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_FALSE(rd.messages[0].reject);

  // Leader 3 appends an entry: entries alone force a sync.
  Message app = From(3, 1, MessageType::MsgApp, 2);
  app.index = I(1);
  app.log_term = T(1);
  app.entries = {E(2, 2, "x")};
  ASSERT_TRUE(n->Step(app).ok());
  rd = Handle(n);
  EXPECT_TRUE(rd.hard_state.IsEmpty());
  EXPECT_EQ(rd.entries.size(), 1u);
  EXPECT_TRUE(rd.must_sync);

  // A heartbeat reveals the new commit index: no sync needed.
  Message hb = From(3, 1, MessageType::MsgHeartbeat, 2);
  hb.commit = I(2);
  ASSERT_TRUE(n->Step(hb).ok());
  rd = Handle(n);
  EXPECT_TRUE(rd.hard_state.SameAs(HS(2, 3, 2)));
  EXPECT_FALSE(rd.must_sync);
  EXPECT_EQ(rd.committed_entries, (std::vector<Entry>{E(1, 1), E(2, 2, "x")}));
}

struct PaginationCase {
  const char* name;
  // Sets the size limits, given the encoded size `s` of one entry.
  void (*limits)(raft::Config& c, uint64_t s);
  std::vector<size_t> batch_sizes;
};

class CommittedPaginationTest : public ::testing::TestWithParam<PaginationCase> {};

TEST_P(CommittedPaginationTest, CommittedEntriesAreSplitAcrossReadys) {
  // Ten committed entries of equal encoded size, found in storage at restart.
  std::vector<Entry> ents;
  for (uint64_t i = 1; i <= 10; ++i)
    ents.push_back(E(1, i, "0123456789"));
  const uint64_t s = ents[0].ByteSize();
  ASSERT_EQ(ents[9].ByteSize(), s);
  TestNode n;
  n.storage = StorageWith(ents);
  n.storage->SetHardState(HS(1, 0, 10));
  raft::Config c = ConfigFor(1, n.storage.get());
  c.peers = Ids({1});
  GetParam().limits(c, s);
  n.rn = std::move(RawNode::Create(c)).value();

  std::vector<size_t> got;
  uint64_t next = 1;
  while (n->HasReady()) {
    Ready rd = Handle(n);
    ASSERT_FALSE(rd.committed_entries.empty());
    EXPECT_EQ(rd.committed_entries.front().index, I(next));  // no gap, no repeat
    next = rd.committed_entries.back().index.value() + 1;
    got.push_back(rd.committed_entries.size());
  }
  EXPECT_EQ(got, GetParam().batch_sizes);
  EXPECT_EQ(next, 11u);
}

INSTANTIATE_TEST_SUITE_P(
    Limits, CommittedPaginationTest,
    ::testing::Values(
        PaginationCase{"ThreeEntriesPerReady",
                       [](raft::Config& c, uint64_t s) { c.max_committed_size_per_ready = 3 * s; },
                       {3, 3, 3, 1}},
        PaginationCase{"AtLeastOneEntryPerReady",
                       [](raft::Config& c, uint64_t) { c.max_committed_size_per_ready = 1; },
                       {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
        PaginationCase{"ZeroFallsBackToMaxSizePerMsg",
                       [](raft::Config& c, uint64_t s) {
                         c.max_committed_size_per_ready = 0;
                         c.max_size_per_msg = 2 * s;
                       },
                       {2, 2, 2, 2, 2}},
        PaginationCase{"NoLimit",
                       [](raft::Config& c, uint64_t) { c.max_committed_size_per_ready = kNoLimit; },
                       {10}}),
    [](const ::testing::TestParamInfo<PaginationCase>& p) { return std::string(p.param.name); });

// A Storage that returns more than the size limit asks for (allowed: the limit is a hint).
class IgnoresSizeHintStorage final : public raft::Storage {
 public:
  raft::MemoryStorage mem;

  [[nodiscard]] Result<InitialState> GetInitialState() const override {
    return mem.GetInitialState();
  }
  [[nodiscard]] Result<std::vector<Entry>> Entries(Index lo, Index hi, uint64_t) const override {
    return mem.Entries(lo, hi, kNoLimit);
  }
  [[nodiscard]] Result<Term> TermAt(Index i) const override { return mem.TermAt(i); }
  [[nodiscard]] Result<Index> LastIndex() const override { return mem.LastIndex(); }
  [[nodiscard]] Result<Index> FirstIndex() const override { return mem.FirstIndex(); }
  [[nodiscard]] Result<raftpb::Snapshot> GetSnapshot() const override { return mem.GetSnapshot(); }
};

// The committed entries handed out must stay contiguous even when storage ignores the size hint:
// the applied cursor follows what was handed out, so a silently trimmed batch would skip entries.
TEST(RawNodeTest, CommittedEntriesStayContiguousWhenStorageIgnoresTheSizeHint) {
  IgnoresSizeHintStorage storage;
  std::vector<Entry> ents;
  for (uint64_t i = 1; i <= 10; ++i)
    ents.push_back(E(1, i, "a"));
  ents.push_back(E(1, 11, "boom"));  // persisted but not yet known to be committed
  ASSERT_TRUE(storage.mem.Append(ents).ok());
  storage.mem.SetHardState(HS(1, 2, 10));
  raft::Config c = ConfigFor(1, &storage);
  c.peers = Ids({1, 2, 3});
  // Just too small for entries 1..10 in one batch.
  c.max_committed_size_per_ready = 10 * ents[0].ByteSize() - 1;
  auto node = std::move(RawNode::Create(c)).value();

  uint64_t applied = 0;
  for (int round = 0; round < 20 && applied < 11; ++round) {
    ASSERT_TRUE(node->HasReady()) << "stopped applying after index " << applied;
    Ready rd = node->GetReady();
    if (!rd.committed_entries.empty()) {
      EXPECT_EQ(rd.committed_entries.front().index, I(applied + 1)) << "gap or repeat";
      applied = rd.committed_entries.back().index.value();
    }
    node->Advance(rd);
    // Leader 2 announces that 11 is committed too.
    Message hb = From(2, 1, MessageType::MsgHeartbeat, 1);
    hb.commit = I(11);
    ASSERT_TRUE(node->Step(hb).ok());
  }
  EXPECT_EQ(applied, 11u);
}

TEST(RawNodeTest, SingleNodeProposalIsCommittedInTheReadyThatPersistsIt) {
  TestNode n = NewNode(1, {1});
  ASSERT_TRUE(n->Campaign().ok());
  Handle(n);
  ASSERT_TRUE(n->Propose(Bytes("foo")).ok());
  Ready rd = Handle(n);
  EXPECT_EQ(rd.entries, std::vector<Entry>{E(1, 2, "foo")});
  EXPECT_EQ(rd.committed_entries, rd.entries);
  EXPECT_TRUE(rd.hard_state.SameAs(HS(1, 1, 2)));
  EXPECT_TRUE(rd.must_sync);
  EXPECT_TRUE(rd.messages.empty());
  EXPECT_FALSE(n->HasReady());
}

// ---------------------------------------------------------------------------------------------
// Step's guards

TEST(RawNodeTest, StepRefusesLocalMessageTypes) {
  TestNode n = NewNode(1, {1, 2, 3});
  for (MessageType t : {MessageType::MsgHup, MessageType::MsgBeat, MessageType::MsgUnreachable,
                        MessageType::MsgSnapStatus, MessageType::MsgCheckQuorum}) {
    SCOPED_TRACE(raftpb::Name(t));
    EXPECT_EQ(n->Step(Msg(2, 1, t)).code(), ErrorCode::kStepLocalMsg);
  }
  // In particular the MsgHup did not start an election.
  EXPECT_EQ(n->GetBasicStatus().soft_state.raft_state, StateType::kFollower);
  EXPECT_EQ(n->GetBasicStatus().hard_state.term, T(0));
  EXPECT_FALSE(n->HasReady());
}

TEST(RawNodeTest, StepRefusesResponsesFromNonMembers) {
  TestNode n = LeaderOfThree();
  for (MessageType t : {MessageType::MsgAppResp, MessageType::MsgHeartbeatResp,
                        MessageType::MsgVoteResp, MessageType::MsgPreVoteResp}) {
    SCOPED_TRACE(raftpb::Name(t));
    EXPECT_EQ(n->Step(From(9, 1, t, 1)).code(), ErrorCode::kStepPeerNotFound);
  }
  EXPECT_FALSE(n->HasReady());
  // The same responses from a member are accepted.
  EXPECT_TRUE(n->Step(From(3, 1, MessageType::MsgHeartbeatResp, 1)).ok());
}

// ---------------------------------------------------------------------------------------------
// Requests and reports

TEST(RawNodeTest, ReadIndexOnASingleNodeLeaderIsAnsweredInTheNextReady) {
  TestNode n = NewNode(1, {1});
  ASSERT_TRUE(n->Campaign().ok());
  Handle(n);
  n->ReadIndex(Bytes("req-1"));
  ASSERT_TRUE(n->HasReady());
  Ready rd = Handle(n);
  ASSERT_EQ(rd.read_states.size(), 1u);
  EXPECT_EQ(rd.read_states[0], (raft::ReadState{I(1), Bytes("req-1")}));
  // Handed out once.
  EXPECT_FALSE(n->HasReady());
}

TEST(RawNodeTest, AConfChangeIsPendingOnTheLeaderUntilItIsApplied) {
  TestNode follower = NewNode(1, {1, 2, 3});
  EXPECT_FALSE(follower->ConfChangePending()) << "only a leader refuses conf changes";
  TestNode n = LeaderOfThree();
  EXPECT_FALSE(n->ConfChangePending());
  raftpb::ConfChangeV2 cc;
  cc.changes.push_back({raftpb::ConfChangeType::ConfChangeAddLearnerNode, NodeId(4), Bytes()});
  ASSERT_TRUE(n->ProposeConfChange(cc).ok());
  EXPECT_TRUE(n->ConfChangePending()) << "proposed (index 2), not applied";
  Handle(n);
  EXPECT_TRUE(n->ConfChangePending()) << "persisted, not committed";
  ASSERT_TRUE(n->Step(AppResp(2, 1, 1, 2)).ok());
  Ready rd = Handle(n);
  ASSERT_EQ(rd.committed_entries.size(), 1u);
  EXPECT_FALSE(n->ConfChangePending()) << "handed to the application: the next may come";
}

TEST(RawNodeTest, ReportUnreachableMovesAReplicatingFollowerToProbe) {
  TestNode n = LeaderOfThree();
  ASSERT_TRUE(n->Propose(Bytes("x")).ok());
  Handle(n);
  const tr::Progress& pr = n->raft_for_testing().prs.progress.at(N(2));
  ASSERT_EQ(pr.state, tr::StateType::kReplicate);
  ASSERT_EQ(pr.inflights.Count(), 1u);
  n->ReportUnreachable(N(2));
  EXPECT_EQ(pr.state, tr::StateType::kProbe);
  EXPECT_EQ(pr.next, I(2));
  EXPECT_EQ(pr.inflights.Count(), 0u);
}

TEST(RawNodeTest, ReportSnapshotEndsStateSnapshot) {
  for (raft::SnapshotStatus status :
       {raft::SnapshotStatus::kFinish, raft::SnapshotStatus::kFailure}) {
    const bool ok = status == raft::SnapshotStatus::kFinish;
    SCOPED_TRACE(ok ? "finish" : "failure");
    TestNode n = LeaderOfThree();
    tr::Progress& pr = n->raft_for_testing().prs.progress.at(N(3));
    pr.BecomeSnapshot(I(1));  // as if the leader were sending 3 a snapshot at index 1
    n->ReportSnapshot(N(3), status);
    EXPECT_EQ(pr.state, tr::StateType::kProbe);
    EXPECT_EQ(pr.pending_snapshot, I(0));
    EXPECT_TRUE(pr.probe_sent);
    EXPECT_EQ(pr.next, ok ? I(2) : I(1));
  }
}

TEST(RawNodeTest, TransferLeaderToAnUpToDateFollowerSendsTimeoutNow) {
  TestNode n = LeaderOfThree();
  n->TransferLeader(N(2));
  EXPECT_EQ(n->GetBasicStatus().lead_transferee, N(2));
  Ready rd = Handle(n);
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_EQ(rd.messages[0].type, MessageType::MsgTimeoutNow);
  EXPECT_EQ(rd.messages[0].to, N(2));
}

TEST(RawNodeTest, TransferLeaderToALaggingFollowerWaitsForItToCatchUp) {
  TestNode n = LeaderOfThree();
  n->TransferLeader(N(3));
  EXPECT_EQ(n->GetBasicStatus().lead_transferee, N(3));
  for (const Message& m : n->GetReady().messages)
    EXPECT_NE(m.type, MessageType::MsgTimeoutNow);
  ASSERT_TRUE(n->Step(AppResp(3, 1, 1, 1)).ok());
  const std::vector<Message> msgs = n->GetReady().messages;
  ASSERT_FALSE(msgs.empty());
  EXPECT_EQ(msgs.back().type, MessageType::MsgTimeoutNow);
  EXPECT_EQ(msgs.back().to, N(3));
}

TEST(RawNodeTest, TransferLeaderOnAFollowerIsForwardedToTheLeader) {
  TestNode n = NewNode(1, {1, 2, 3});
  ASSERT_TRUE(n->Step(From(2, 1, MessageType::MsgHeartbeat, 1)).ok());
  Handle(n);
  n->TransferLeader(N(1));
  Ready rd = n->GetReady();
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_EQ(rd.messages[0].type, MessageType::MsgTransferLeader);
  EXPECT_EQ(rd.messages[0].to, N(2));
  EXPECT_EQ(rd.messages[0].from, N(1));
}

// ---------------------------------------------------------------------------------------------
// Status

TEST(RawNodeTest, StatusHasProgressOnlyOnTheLeader) {
  TestNode f = NewNode(2, {1, 2, 3});
  raft::NodeStatus fs = f->GetStatus();
  EXPECT_TRUE(fs.progress.empty());
  EXPECT_EQ(fs.config.voters.IDs().ids(), Ids({1, 2, 3}));
  EXPECT_EQ(fs.basic.id, N(2));

  TestNode l = LeaderOfThree();
  raft::NodeStatus ls = l->GetStatus();
  EXPECT_EQ(ls.basic.soft_state, (raft::SoftState{N(1), StateType::kLeader}));
  EXPECT_TRUE(ls.basic.hard_state.SameAs(HS(1, 1, 1)));
  EXPECT_EQ(ls.basic.applied, I(1));
  EXPECT_EQ(ls.config.voters.IDs().ids(), Ids({1, 2, 3}));
  ASSERT_EQ(ls.progress.size(), 3u);
  EXPECT_EQ(ls.progress.at(N(1)).match, I(1));
  EXPECT_EQ(ls.progress.at(N(2)).state, tr::StateType::kReplicate);
  EXPECT_EQ(ls.progress.at(N(2)).match, I(1));
  EXPECT_EQ(ls.progress.at(N(3)).state, tr::StateType::kProbe);
  EXPECT_EQ(ls.progress.at(N(3)).match, I(0));
  // A copy: later changes on the node do not show through.
  l->ReportUnreachable(N(2));
  EXPECT_EQ(ls.progress.at(N(2)).state, tr::StateType::kReplicate);
}

// etcd's Status.MarshalJSON: ids in hex, progress keyed by hex id ("progress":{} when not leader).
// (etcd lists progress in Go map order, i.e. any order; raftkit's ProgressMap is sorted by id.)
TEST(RawNodeTest, StatusJsonHasEtcdsShape) {
  TestNode f = NewNode(11, {10, 11, 26});
  EXPECT_EQ(f->GetStatus().ToJson(),
            R"({"id":"b","term":0,"vote":"0","commit":0,"lead":"0","raftState":"StateFollower",)"
            R"("applied":0,"progress":{},"leadtransferee":"0"})");

  TestNode l = NewNode(26, {10, 11, 26});
  ASSERT_TRUE(l->Campaign().ok());
  Handle(l);
  ASSERT_TRUE(l->Step(From(10, 26, MessageType::MsgVoteResp, 1)).ok());
  Handle(l);
  ASSERT_TRUE(l->Step(AppResp(10, 26, 1, 1)).ok());
  Handle(l);
  // 10 acknowledged the empty entry (replicating); 11 has an unanswered probe at index 1.
  EXPECT_EQ(l->GetStatus().ToJson(),
            R"({"id":"1a","term":1,"vote":"1a","commit":1,"lead":"1a","raftState":"StateLeader",)"
            R"("applied":1,"progress":{"a":{"match":1,"next":2,"state":"StateReplicate"},)"
            R"("b":{"match":0,"next":1,"state":"StateProbe"},)"
            R"("1a":{"match":1,"next":2,"state":"StateReplicate"}},"leadtransferee":"0"})");
}

// ---------------------------------------------------------------------------------------------
// Restart

TEST(RawNodeTest, RestartRestoresStateFromStorageAndSkipsAppliedEntries) {
  raftpb::Snapshot snap;
  snap.metadata.index = I(2);
  snap.metadata.term = T(1);
  snap.metadata.conf_state.voters = Ids({1, 2});
  for (uint64_t applied : {0, 3}) {
    SCOPED_TRACE(applied);
    TestNode n;
    n.storage = std::make_unique<raft::MemoryStorage>();
    ASSERT_TRUE(n.storage->ApplySnapshot(snap).ok());
    ASSERT_TRUE(n.storage->Append({E(1, 3, "foo"), E(2, 4, "bar")}).ok());
    n.storage->SetHardState(HS(2, 2, 4));
    raft::Config c = ConfigFor(1, n.storage.get());
    c.applied = I(applied);
    n.rn = std::move(RawNode::Create(c)).value();

    const raft::NodeStatus st = n->GetStatus();
    EXPECT_TRUE(st.basic.hard_state.SameAs(HS(2, 2, 4)));
    EXPECT_EQ(st.basic.soft_state, (raft::SoftState{kNoNode, StateType::kFollower}));
    EXPECT_EQ(st.config.voters.IDs().ids(), Ids({1, 2}));
    // Entries up to the snapshot are applied by definition, those up to `applied` by the caller.
    EXPECT_EQ(st.basic.applied, I(applied == 0 ? 2 : applied));

    Ready rd = Handle(n);
    const std::vector<Entry> want = applied == 0
                                        ? std::vector<Entry>{E(1, 3, "foo"), E(2, 4, "bar")}
                                        : std::vector<Entry>{E(2, 4, "bar")};
    EXPECT_EQ(rd.committed_entries, want);
    EXPECT_TRUE(rd.hard_state.IsEmpty());  // nothing new to persist
    EXPECT_TRUE(rd.entries.empty());
    EXPECT_TRUE(rd.snapshot.IsEmpty());
    EXPECT_FALSE(rd.soft_state.has_value());
    EXPECT_FALSE(rd.must_sync);
    EXPECT_FALSE(n->HasReady());
    EXPECT_EQ(n->GetBasicStatus().applied, I(4));
  }
}

// ---------------------------------------------------------------------------------------------
// DescribeReady

TEST(RawNodeTest, DescribeReadyUsesEtcdsLayout) {
  Ready rd;
  rd.soft_state = raft::SoftState{N(1), StateType::kLeader};
  rd.hard_state = HS(2, 1, 3);
  rd.entries = {E(2, 4, "foo")};
  rd.snapshot.metadata.index = I(3);
  rd.snapshot.metadata.term = T(2);
  rd.snapshot.metadata.conf_state.voters = Ids({1, 2});
  Entry cc = E(1, 1);
  cc.type = EntryType::EntryConfChange;
  raftpb::ConfChange add;
  add.node_id = N(2);
  cc.data = Bytes(raftpb::Encode(add));
  rd.committed_entries = {cc, E(2, 3)};
  Message app = From(1, 2, MessageType::MsgApp, 2);
  app.log_term = T(2);
  app.index = I(3);
  app.commit = I(3);
  app.entries = {E(2, 4, "foo")};
  Message hb = From(1, 3, MessageType::MsgHeartbeat, 2);
  hb.commit = I(1);
  rd.messages = {app, hb};
  rd.must_sync = true;

  EXPECT_EQ(raft::DescribeReady(rd),
            "Ready MustSync=true:\n"
            "Lead:1 State:StateLeader\n"
            "HardState Term:2 Vote:1 Commit:3\n"
            "Entries:\n"
            "2/4 EntryNormal \"foo\"\n"
            "Snapshot Index:3 Term:2 ConfState:Voters:[1 2] VotersOutgoing:[] Learners:[] "
            "LearnersNext:[] AutoLeave:false\n"
            "CommittedEntries:\n"
            "1/1 EntryConfChange v2\n"
            "2/3 EntryNormal \"\"\n"
            "Messages:\n"
            "1->2 MsgApp Term:2 Log:2/3 Commit:3 Entries:[2/4 EntryNormal \"foo\"]\n"
            "1->3 MsgHeartbeat Term:2 Log:0/0 Commit:1\n");
}

TEST(RawNodeTest, DescribeReadyOfAnEmptyOrMessageOnlyReady) {
  EXPECT_EQ(raft::DescribeReady(Ready{}), "<empty Ready>");
  Ready rd;
  rd.messages = {From(2, 1, MessageType::MsgHeartbeatResp, 5)};
  EXPECT_EQ(raft::DescribeReady(rd),
            "Ready MustSync=false:\n"
            "Messages:\n"
            "2->1 MsgHeartbeatResp Term:5 Log:0/0\n");
}

// etcd prints the read states with Go's %v: a ReadState is {Index RequestCtx} and a []byte prints
// as its decimal byte values.
TEST(RawNodeTest, DescribeReadyPrintsReadStatesLikeGosDefaultFormat) {
  Ready rd;
  rd.read_states = {raft::ReadState{I(3), Bytes("ctx")}, raft::ReadState{I(4), Bytes("a")}};
  EXPECT_EQ(raft::DescribeReady(rd),
            "Ready MustSync=false:\n"
            "ReadStates [{3 [99 116 120]} {4 [97]}]\n");
}

// Malformed messages from peers are refused with an error instead of reaching code that would
// abort (docs/etcd-deviations.md #8); nothing is changed and nothing is sent.
TEST(RawNodeTest, StepRefusesMalformedMessagesWithoutSideEffects) {
  TestNode n = NewNode(1, {1, 2, 3});
  ASSERT_TRUE(n->Campaign().ok());
  Handle(n);

  std::vector<Message> bad;
  bad.push_back(Msg(2, 1, MessageType::MsgProp));  // no entries
  Message prop_with_term = PropMsg(2, "x");
  prop_with_term.term = T(1);
  bad.push_back(prop_with_term);
  bad.push_back(Msg(2, 1, MessageType::MsgReadIndex));  // no context entry
  Message read_two = Msg(2, 1, MessageType::MsgReadIndex);
  read_two.entries = {E(0, 0, "a"), E(0, 0, "b")};
  bad.push_back(read_two);
  Message gap = From(2, 1, MessageType::MsgApp, 1);
  gap.index = I(3);
  gap.log_term = T(1);
  gap.entries = {E(1, 4), E(1, 6)};
  bad.push_back(gap);
  bad.push_back(Msg(2, 1, MessageType::MsgVote));  // term 0

  const raft::BasicStatus before = n->GetBasicStatus();
  for (Message& m : bad) {
    const std::string what = raftpb::DescribeMessage(m);
    const Status st = n->Step(std::move(m));
    EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument) << what;
  }
  const raft::BasicStatus after = n->GetBasicStatus();
  EXPECT_TRUE(after.hard_state.SameAs(before.hard_state));
  EXPECT_EQ(after.soft_state, before.soft_state);
  EXPECT_TRUE(n.rn->raft_for_testing().msgs.empty());
}

}  // namespace
}  // namespace raftkit::testing
