// Snapshots (thesis chapter 5, log compaction; InstallSnapshot in Figure 5.3): how a leader decides
// to send one and paces the follower's Progress around it (StateSnapshot), how a follower restores
// one, how the application sees it through Ready, and an end-to-end catch-up through the Ready
// loop.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "raftkit/core/raw_node.h"
#include "raftkit/raftpb/describe.h"
#include "testlib/cluster.h"
#include "testlib/raft_fixtures.h"

namespace raftkit::testing {
namespace {

using raft::tracker::Progress;
namespace tr = raft::tracker;

raftpb::Snapshot Snap(uint64_t index, uint64_t term, std::initializer_list<uint64_t> voters,
                      std::initializer_list<uint64_t> learners = {}) {
  raftpb::Snapshot s;
  s.metadata.index = I(index);
  s.metadata.term = T(term);
  s.metadata.conf_state.voters = Ids(voters);
  s.metadata.conf_state.learners = Ids(learners);
  s.data = Bytes("state-machine");
  return s;
}

// MemoryStorage whose GetSnapshot can be made to answer kSnapshotTemporarilyUnavailable, as an
// application does while it is still producing the snapshot.
class SlowSnapshotStorage final : public raft::Storage {
 public:
  raft::MemoryStorage mem;
  bool snapshot_unavailable = false;
  mutable int get_snapshot_calls = 0;

  [[nodiscard]] Result<InitialState> GetInitialState() const override {
    return mem.GetInitialState();
  }
  [[nodiscard]] Result<std::vector<Entry>> Entries(Index lo, Index hi,
                                                   uint64_t max_size) const override {
    return mem.Entries(lo, hi, max_size);
  }
  [[nodiscard]] Result<Term> TermAt(Index i) const override { return mem.TermAt(i); }
  [[nodiscard]] Result<Index> LastIndex() const override { return mem.LastIndex(); }
  [[nodiscard]] Result<Index> FirstIndex() const override { return mem.FirstIndex(); }
  [[nodiscard]] Result<raftpb::Snapshot> GetSnapshot() const override {
    ++get_snapshot_calls;
    if (snapshot_unavailable) {
      return Status(ErrorCode::kSnapshotTemporarilyUnavailable, "snapshot is being generated");
    }
    return mem.GetSnapshot();
  }
};

struct Leader {
  std::unique_ptr<SlowSnapshotStorage> storage;
  std::unique_ptr<Raft> r;

  Progress& pr(uint64_t id) { return r->prs.progress.at(N(id)); }
};

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

Message SnapStatus(uint64_t from, bool failed) {
  Message m = Msg(from, 1, MessageType::MsgSnapStatus);
  m.reject = failed;
  return m;
}

// Node 1 restarted from a snapshot at index 11 (term 11, voters {1, 2}) and elected leader at term
// 12: its log holds nothing before 12 but the snapshot; its empty entry is at 12. Nothing sent.
Leader NewCompactedLeader() {
  Leader l;
  l.storage = std::make_unique<SlowSnapshotStorage>();
  EXPECT_TRUE(l.storage->mem.ApplySnapshot(Snap(11, 11, {1, 2})).ok());
  raftpb::HardState hs;
  hs.term = T(11);
  hs.commit = I(11);
  l.storage->mem.SetHardState(hs);
  l.r = NewRaftFromConfig(NewTestConfig(1, 10, 1, l.storage.get()));
  l.r->BecomeCandidate();
  l.r->BecomeLeader();
  ReadMessages(*l.r);
  EXPECT_EQ(l.r->term, T(12));
  EXPECT_EQ(l.r->log.FirstIndex(), I(12));
  EXPECT_EQ(l.r->log.LastIndex(), I(12));
  return l;
}

// The leader probes follower 2 at its last index; 2 has an empty log and rejects, which tells the
// leader that 2 needs entries from index 1 on: they are compacted, so a snapshot is due.
std::vector<Message> ProbeEmptyFollower(Leader& l) {
  l.r->SendAppend(N(2));
  std::vector<Message> probe = ReadMessages(*l.r);
  EXPECT_EQ(probe.size(), 1u);
  Message rej = FromFollower(l, 2, MessageType::MsgAppResp);
  rej.index = probe.at(0).index;  // 11
  rej.reject = true;
  rej.reject_hint = I(0);
  EXPECT_TRUE(l.r->Step(rej).ok());
  return ReadMessages(*l.r);
}

// A leader that has sent a snapshot (index 11) to follower 2.
Leader NewLeaderSendingSnapshot() {
  Leader l = NewCompactedLeader();
  std::vector<Message> msgs = ProbeEmptyFollower(l);
  EXPECT_EQ(msgs.size(), 1u) << Describe(msgs);
  EXPECT_EQ(l.pr(2).state, tr::StateType::kSnapshot);
  return l;
}

// ---------------------------------------------------------------------------------------------
// Leader side

// Thesis §5.1 / Figure 5.3: when the entries a follower needs were discarded, the leader sends its
// snapshot instead, and pauses replication to that follower until the snapshot's fate is known.
TEST(SnapshotTest, FollowerBehindTheCompactedLogGetsMsgSnap) {
  Leader l = NewCompactedLeader();
  std::vector<Message> msgs = ProbeEmptyFollower(l);
  ASSERT_EQ(msgs.size(), 1u) << Describe(msgs);
  const Message& m = msgs[0];
  EXPECT_EQ(m.type, MessageType::MsgSnap);
  EXPECT_EQ(m.to, N(2));
  EXPECT_EQ(m.term, T(12));
  EXPECT_EQ(m.snapshot, Snap(11, 11, {1, 2}));

  const Progress& pr = l.pr(2);
  EXPECT_EQ(pr.state, tr::StateType::kSnapshot);
  EXPECT_EQ(pr.pending_snapshot, I(11));
  EXPECT_TRUE(pr.IsPaused());
}

TEST(SnapshotTest, NothingIsSentToAFollowerInStateSnapshot) {
  Leader l = NewLeaderSendingSnapshot();
  // New proposals are not replicated to it.
  ASSERT_TRUE(l.r->Step(PropMsg(1, "a")).ok());
  ASSERT_TRUE(l.r->Step(PropMsg(1, "b")).ok());
  EXPECT_TRUE(ReadMessages(*l.r).empty());
  // Heartbeats still go out (they keep the follower from campaigning)...
  l.r->Tick();
  std::vector<Message> msgs = ReadMessages(*l.r);
  ASSERT_EQ(msgs.size(), 1u) << Describe(msgs);
  EXPECT_EQ(msgs[0].type, MessageType::MsgHeartbeat);
  EXPECT_EQ(msgs[0].commit, I(0));  // capped at what the follower is known to hold
  // ...but their responses do not trigger a MsgApp or a second snapshot.
  ASSERT_TRUE(l.r->Step(FromFollower(l, 2, MessageType::MsgHeartbeatResp)).ok());
  EXPECT_TRUE(ReadMessages(*l.r).empty());
  EXPECT_EQ(l.pr(2).state, tr::StateType::kSnapshot);
  EXPECT_EQ(l.pr(2).pending_snapshot, I(11));
}

TEST(SnapshotTest, SnapshotReportedDoneResumesProbingAfterTheSnapshot) {
  Leader l = NewLeaderSendingSnapshot();
  ASSERT_TRUE(l.r->Step(SnapStatus(2, /*failed=*/false)).ok());
  const Progress& pr = l.pr(2);
  EXPECT_EQ(pr.state, tr::StateType::kProbe);
  EXPECT_EQ(pr.next, I(12));  // the follower holds everything up to the snapshot
  EXPECT_EQ(pr.match, I(0));  // but has not confirmed it yet
  EXPECT_EQ(pr.pending_snapshot, I(0));
  // It waits for the follower's own answer to the snapshot before sending.
  EXPECT_TRUE(pr.probe_sent);
  EXPECT_TRUE(ReadMessages(*l.r).empty());

  // A heartbeat response lets one probe through, right after the snapshot.
  ASSERT_TRUE(l.r->Step(FromFollower(l, 2, MessageType::MsgHeartbeatResp)).ok());
  std::vector<Message> msgs = ReadMessages(*l.r);
  ASSERT_EQ(msgs.size(), 1u) << Describe(msgs);
  EXPECT_EQ(msgs[0].type, MessageType::MsgApp);
  EXPECT_EQ(msgs[0].index, I(11));
  EXPECT_EQ(msgs[0].log_term, T(11));
  ASSERT_EQ(msgs[0].entries.size(), 1u);
  EXPECT_EQ(msgs[0].entries[0].index, I(12));
}

TEST(SnapshotTest, SnapshotReportedFailedResumesProbingAfterMatch) {
  Leader l = NewLeaderSendingSnapshot();
  ASSERT_TRUE(l.r->Step(SnapStatus(2, /*failed=*/true)).ok());
  const Progress& pr = l.pr(2);
  EXPECT_EQ(pr.state, tr::StateType::kProbe);
  EXPECT_EQ(pr.pending_snapshot, I(0));
  EXPECT_EQ(pr.next, I(1));    // match + 1: the snapshot never arrived
  EXPECT_TRUE(pr.probe_sent);  // wait a heartbeat interval before retrying
  EXPECT_TRUE(ReadMessages(*l.r).empty());

  // The retry, after the next heartbeat response, needs the snapshot again.
  ASSERT_TRUE(l.r->Step(FromFollower(l, 2, MessageType::MsgHeartbeatResp)).ok());
  std::vector<Message> msgs = ReadMessages(*l.r);
  ASSERT_EQ(msgs.size(), 1u) << Describe(msgs);
  EXPECT_EQ(msgs[0].type, MessageType::MsgSnap);
  EXPECT_EQ(l.pr(2).state, tr::StateType::kSnapshot);
}

TEST(SnapshotTest, SnapStatusIsIgnoredOutsideStateSnapshot) {
  Leader l = NewCompactedLeader();
  ASSERT_TRUE(l.r->Step(AppResp(l, 2, 12)).ok());
  ReadMessages(*l.r);
  ASSERT_EQ(l.pr(2).state, tr::StateType::kReplicate);
  ASSERT_TRUE(l.r->Step(SnapStatus(2, /*failed=*/true)).ok());
  EXPECT_EQ(l.pr(2).state, tr::StateType::kReplicate);
  EXPECT_EQ(l.pr(2).next, I(13));
  EXPECT_FALSE(l.pr(2).probe_sent);
}

// The follower answers an applied snapshot with a MsgAppResp for the snapshot's index; that is
// enough for the leader to resume streaming, even before the transport reports the snapshot done.
TEST(SnapshotTest, AppRespCoveringThePendingSnapshotMovesToReplicate) {
  Leader l = NewLeaderSendingSnapshot();
  ASSERT_TRUE(l.r->Step(AppResp(l, 2, 11)).ok());
  const Progress& pr = l.pr(2);
  EXPECT_EQ(pr.state, tr::StateType::kReplicate);
  EXPECT_EQ(pr.match, I(11));
  EXPECT_EQ(pr.pending_snapshot, I(0));
  // Replication resumes at once with the entry after the snapshot.
  std::vector<Message> msgs = ReadMessages(*l.r);
  ASSERT_EQ(msgs.size(), 1u) << Describe(msgs);
  EXPECT_EQ(msgs[0].type, MessageType::MsgApp);
  EXPECT_EQ(msgs[0].index, I(11));
  ASSERT_EQ(msgs[0].entries.size(), 1u);
  EXPECT_EQ(msgs[0].entries[0].index, I(12));
  EXPECT_EQ(pr.next, I(13));
  EXPECT_EQ(pr.inflights.Count(), 1u);
}

TEST(SnapshotTest, AppRespBelowThePendingSnapshotKeepsWaiting) {
  Leader l = NewLeaderSendingSnapshot();
  ASSERT_TRUE(l.r->Step(AppResp(l, 2, 5)).ok());
  const Progress& pr = l.pr(2);
  EXPECT_EQ(pr.state, tr::StateType::kSnapshot);
  EXPECT_EQ(pr.match, I(5));
  EXPECT_EQ(pr.pending_snapshot, I(11));
  EXPECT_TRUE(ReadMessages(*l.r).empty());
}

// A snapshot is expensive: it is only sent to a follower that was heard from recently.
TEST(SnapshotTest, NoSnapshotIsSentToAFollowerThatIsNotRecentlyActive) {
  Leader l = NewCompactedLeader();
  // A new leader has not heard from anyone yet. Pretend it already knows that 2 needs entries
  // from the start of the log.
  ASSERT_FALSE(l.pr(2).recent_active);
  l.pr(2).next = I(1);
  l.r->SendAppend(N(2));
  EXPECT_TRUE(ReadMessages(*l.r).empty());
  EXPECT_EQ(l.pr(2).state, tr::StateType::kProbe);
  EXPECT_EQ(l.pr(2).pending_snapshot, I(0));

  // Hearing from it (a heartbeat response) makes it active, and the snapshot goes out.
  ASSERT_TRUE(l.r->Step(FromFollower(l, 2, MessageType::MsgHeartbeatResp)).ok());
  EXPECT_TRUE(l.pr(2).recent_active);
  std::vector<Message> msgs = ReadMessages(*l.r);
  ASSERT_EQ(msgs.size(), 1u) << Describe(msgs);
  EXPECT_EQ(msgs[0].type, MessageType::MsgSnap);
  EXPECT_EQ(l.pr(2).state, tr::StateType::kSnapshot);
}

TEST(SnapshotTest, TemporarilyUnavailableSnapshotIsDeferred) {
  Leader l = NewCompactedLeader();
  l.storage->snapshot_unavailable = true;
  std::vector<Message> msgs = ProbeEmptyFollower(l);
  EXPECT_GT(l.storage->get_snapshot_calls, 0);  // the leader did ask for it
  EXPECT_TRUE(msgs.empty()) << Describe(msgs);
  // Nothing was sent, so the follower is not waiting for a snapshot.
  EXPECT_EQ(l.pr(2).state, tr::StateType::kProbe);
  EXPECT_EQ(l.pr(2).pending_snapshot, I(0));
  EXPECT_FALSE(l.pr(2).IsPaused());

  // Still unavailable at the next heartbeat response: still nothing.
  ASSERT_TRUE(l.r->Step(FromFollower(l, 2, MessageType::MsgHeartbeatResp)).ok());
  EXPECT_TRUE(ReadMessages(*l.r).empty());

  // Once the snapshot is ready, the next heartbeat response sends it.
  l.storage->snapshot_unavailable = false;
  ASSERT_TRUE(l.r->Step(FromFollower(l, 2, MessageType::MsgHeartbeatResp)).ok());
  msgs = ReadMessages(*l.r);
  ASSERT_EQ(msgs.size(), 1u) << Describe(msgs);
  EXPECT_EQ(msgs[0].type, MessageType::MsgSnap);
  EXPECT_EQ(msgs[0].snapshot.metadata.index, I(11));
  EXPECT_EQ(l.pr(2).state, tr::StateType::kSnapshot);
}

// After an acknowledgement the leader refills the follower's window with entries only ("send if
// not empty"): if the entries the follower needs next were compacted meanwhile, it sends nothing
// then, and the snapshot follows the follower's next heartbeat response. This is etcd 3.4's
// maybeSendAppend(to, sendIfEmpty=false), which returns false whenever it has no entries to send,
// compacted or not.
TEST(SnapshotTest, AckRefillLoopSendsEntriesButNeverASnapshot) {
  auto storage = std::make_unique<raft::MemoryStorage>();
  raft::Config c = NewTestConfig(1, 10, 1, storage.get());
  c.peers = Ids({1, 2, 3});
  c.max_size_per_msg = 0;  // one entry per MsgApp
  std::unique_ptr<Raft> r = NewRaftFromConfig(c);
  r->BecomeCandidate();
  r->BecomeLeader();
  auto ack = [&](uint64_t from, uint64_t index) {
    Message m = Msg(from, 1, MessageType::MsgAppResp);
    m.term = r->term;
    m.index = I(index);
    ASSERT_TRUE(r->Step(m).ok());
  };
  ack(2, 1);
  ack(3, 1);
  // One proposal of three entries (2, 3, 4): each follower gets the first of them.
  Message prop = PropMsg(1, "a");
  prop.entries.push_back(prop.entries[0]);
  prop.entries.push_back(prop.entries[0]);
  ASSERT_TRUE(r->Step(prop).ok());
  // Follower 3 acknowledges everything: 4 commits, and 2 receives entry 3. Entry 4 is still owed
  // to follower 2, whose window is far from full.
  ack(3, 4);
  ASSERT_EQ(r->log.committed(), I(4));
  const Progress& pr2 = r->prs.progress.at(N(2));
  ASSERT_EQ(pr2.state, tr::StateType::kReplicate);
  ASSERT_EQ(pr2.next, I(4));
  ASSERT_FALSE(pr2.IsPaused());
  // The application applies and compacts everything, entry 4 included.
  NextEnts(*r, *storage);
  raftpb::ConfState cs;
  cs.voters = Ids({1, 2, 3});
  ASSERT_TRUE(storage->CreateSnapshot(I(4), &cs, Bytes("sm")).ok());
  ASSERT_TRUE(storage->Compact(I(4)).ok());
  ReadMessages(*r);

  // Follower 2 acknowledges entry 2: the commit index does not move and 2 was not paused, so only
  // the refill loop could send; it has no entries for 2 and sends nothing.
  ack(2, 2);
  std::vector<Message> msgs = ReadMessages(*r);
  EXPECT_TRUE(msgs.empty()) << Describe(msgs);
  EXPECT_EQ(pr2.state, tr::StateType::kReplicate);

  // The next heartbeat response finds 2 behind and sends the snapshot.
  Message hb = Msg(2, 1, MessageType::MsgHeartbeatResp);
  hb.term = r->term;
  ASSERT_TRUE(r->Step(hb).ok());
  msgs = ReadMessages(*r);
  ASSERT_EQ(msgs.size(), 1u) << Describe(msgs);
  EXPECT_EQ(msgs[0].type, MessageType::MsgSnap);
  EXPECT_EQ(msgs[0].snapshot.metadata.index, I(4));
  EXPECT_EQ(pr2.state, tr::StateType::kSnapshot);
}

// ---------------------------------------------------------------------------------------------
// Follower side: Restore

struct Follower {
  std::unique_ptr<raft::MemoryStorage> storage;
  std::unique_ptr<Raft> r;
};

// Node 1, follower of {1, 2} holding entries 1..n at term 1, of which `commit` are committed.
Follower NewFollower(uint64_t n, uint64_t commit) {
  Follower f;
  std::vector<Entry> ents;
  for (uint64_t i = 1; i <= n; ++i)
    ents.push_back(E(1, i, "e" + std::to_string(i)));
  f.storage = StorageWith(ents);
  raftpb::HardState hs;
  hs.term = T(1);
  hs.commit = I(commit);
  f.storage->SetHardState(hs);
  raft::Config c = NewTestConfig(1, 10, 1, f.storage.get());
  c.peers = Ids({1, 2});
  f.r = NewRaftFromConfig(c);
  return f;
}

// Delivers snap to f in a MsgSnap from leader 2 at term 11 and returns f's answer.
Message DeliverSnap(Follower& f, const raftpb::Snapshot& snap) {
  Message m = Msg(2, 1, MessageType::MsgSnap);
  m.term = T(11);
  m.snapshot = snap;
  EXPECT_TRUE(f.r->Step(m).ok());
  std::vector<Message> out = ReadMessages(*f.r);
  EXPECT_EQ(out.size(), 1u) << Describe(out);
  return out.empty() ? Message{} : out[0];
}

TEST(SnapshotTest, RestoringANewerSnapshotReplacesTheLogAndTheConfiguration) {
  Follower f = NewFollower(3, 1);
  const raftpb::Snapshot snap = Snap(11, 11, {1, 2, 3});
  ASSERT_TRUE(f.r->Restore(snap));
  EXPECT_EQ(f.r->log.LastIndex(), I(11));
  EXPECT_EQ(f.r->log.LastTerm(), T(11));
  EXPECT_EQ(f.r->log.FirstIndex(), I(12));
  EXPECT_EQ(f.r->log.committed(), I(11));
  EXPECT_TRUE(f.r->log.AllEntries().empty());  // entries 1..3 are gone
  ASSERT_NE(f.r->log.unstable().snapshot(), nullptr);
  EXPECT_EQ(*f.r->log.unstable().snapshot(), snap);
  EXPECT_EQ(f.r->prs.VoterNodes(), Ids({1, 2, 3}));
  EXPECT_TRUE(f.r->prs.LearnerNodes().empty());
}

TEST(SnapshotTest, RestoringASnapshotThatMakesThisNodeALearner) {
  Follower f = NewFollower(3, 1);
  ASSERT_TRUE(f.r->Restore(Snap(11, 11, {2, 3}, {1})));
  EXPECT_EQ(f.r->prs.VoterNodes(), Ids({2, 3}));
  EXPECT_EQ(f.r->prs.LearnerNodes(), Ids({1}));
  EXPECT_TRUE(f.r->is_learner);
  EXPECT_FALSE(f.r->Promotable());
}

TEST(SnapshotTest, MsgSnapWithANewerSnapshotIsAnsweredWithItsIndex) {
  Follower f = NewFollower(3, 1);
  const Message resp = DeliverSnap(f, Snap(11, 11, {1, 2}));
  EXPECT_EQ(resp.type, MessageType::MsgAppResp);
  EXPECT_EQ(resp.to, N(2));
  EXPECT_FALSE(resp.reject);
  EXPECT_EQ(resp.index, I(11));
  EXPECT_EQ(f.r->lead, N(2));
}

// A snapshot at or below the commit index carries nothing new (committed entries never change,
// thesis §3.6, State Machine Safety), whatever term it claims.
TEST(SnapshotTest, SnapshotNotNewerThanCommitIsIgnoredAndAnsweredWithCommit) {
  for (const raftpb::Snapshot& snap :
       {Snap(5, 1, {1, 2}), Snap(3, 1, {1, 2}), Snap(5, 3, {1, 2, 3})}) {
    SCOPED_TRACE(raftpb::DescribeSnapshot(snap));
    Follower f = NewFollower(6, 5);
    EXPECT_FALSE(f.r->Restore(snap));
    EXPECT_EQ(f.r->log.LastIndex(), I(6));
    EXPECT_EQ(f.r->log.committed(), I(5));
    EXPECT_EQ(f.r->log.unstable().snapshot(), nullptr);
    EXPECT_EQ(f.r->prs.VoterNodes(), Ids({1, 2}));

    const Message resp = DeliverSnap(f, snap);
    EXPECT_EQ(resp.type, MessageType::MsgAppResp);
    EXPECT_FALSE(resp.reject);
    EXPECT_EQ(resp.index, I(5));
  }
}

// If the log already holds the snapshot's last entry (same index and term), the Log Matching
// Property (thesis §3.5) says the whole prefix is identical: only the commit index moves.
TEST(SnapshotTest, SnapshotWhoseLastEntryMatchesTheLogOnlyFastForwardsCommit) {
  Follower f = NewFollower(5, 1);
  EXPECT_FALSE(f.r->Restore(Snap(3, 1, {1, 2, 3})));
  EXPECT_EQ(f.r->log.committed(), I(3));
  EXPECT_EQ(f.r->log.LastIndex(), I(5));  // entries after the snapshot are kept
  EXPECT_EQ(f.r->log.FirstIndex(), I(1));
  EXPECT_EQ(f.r->log.unstable().snapshot(), nullptr);
  // The configuration is not taken from such a snapshot.
  EXPECT_EQ(f.r->prs.VoterNodes(), Ids({1, 2}));

  Follower g = NewFollower(5, 1);
  const Message resp = DeliverSnap(g, Snap(4, 1, {1, 2}));
  EXPECT_EQ(resp.type, MessageType::MsgAppResp);
  EXPECT_EQ(resp.index, I(4));
  EXPECT_EQ(g.r->log.LastIndex(), I(5));
}

TEST(SnapshotTest, SnapshotConflictingWithALongerLogReplacesIt) {
  // Same index as an entry of the log, different term: the log diverged there.
  Follower f = NewFollower(5, 1);
  ASSERT_TRUE(f.r->Restore(Snap(3, 2, {1, 2})));
  EXPECT_EQ(f.r->log.LastIndex(), I(3));
  EXPECT_EQ(f.r->log.LastTerm(), T(2));
  EXPECT_EQ(f.r->log.committed(), I(3));
  EXPECT_TRUE(f.r->log.AllEntries().empty());
}

TEST(SnapshotTest, SnapshotWhoseConfigurationLacksThisNodeIsRefused) {
  Follower f = NewFollower(3, 1);
  EXPECT_FALSE(f.r->Restore(Snap(11, 11, {2, 3})));
  EXPECT_EQ(f.r->log.LastIndex(), I(3));
  EXPECT_EQ(f.r->log.committed(), I(1));
  EXPECT_EQ(f.r->log.unstable().snapshot(), nullptr);
  EXPECT_EQ(f.r->prs.VoterNodes(), Ids({1, 2}));

  const Message resp = DeliverSnap(f, Snap(11, 11, {2, 3}));
  EXPECT_EQ(resp.type, MessageType::MsgAppResp);
  EXPECT_EQ(resp.index, I(1));
}

// ---------------------------------------------------------------------------------------------
// Follower side: the Ready contract

TEST(SnapshotTest, RestoredSnapshotIsHandedOutInReadyAndStabilizedByAdvance) {
  raft::MemoryStorage storage;
  raft::Config c = NewTestConfig(1, 10, 1, &storage);
  c.peers = Ids({1, 2});
  auto rn = raft::RawNode::Create(c);
  ASSERT_TRUE(rn.ok());
  raft::RawNode& node = **rn;

  const raftpb::Snapshot snap = Snap(11, 11, {1, 2});
  Message m = Msg(2, 1, MessageType::MsgSnap);
  m.term = T(11);
  m.snapshot = snap;
  ASSERT_TRUE(node.Step(m).ok());

  ASSERT_TRUE(node.HasReady());
  raft::Ready rd = node.GetReady();
  EXPECT_EQ(rd.snapshot, snap);
  EXPECT_EQ(rd.hard_state.term, T(11));
  EXPECT_EQ(rd.hard_state.commit, I(11));
  EXPECT_TRUE(rd.entries.empty());
  // The snapshot replaces what would otherwise be applied entry by entry.
  EXPECT_TRUE(rd.committed_entries.empty());
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_EQ(rd.messages[0].type, MessageType::MsgAppResp);
  EXPECT_EQ(rd.messages[0].index, I(11));

  ASSERT_TRUE(storage.ApplySnapshot(rd.snapshot).ok());
  storage.SetHardState(rd.hard_state);
  node.Advance(rd);
  EXPECT_FALSE(node.HasReady());
  EXPECT_EQ(node.raft_for_testing().log.unstable().snapshot(), nullptr);
  EXPECT_EQ(node.GetBasicStatus().applied, I(11));
  EXPECT_EQ(node.raft_for_testing().log.FirstIndex(), I(12));

  // Replication continues right after the snapshot.
  Message app = Msg(2, 1, MessageType::MsgApp);
  app.term = T(11);
  app.index = I(11);
  app.log_term = T(11);
  app.entries = {E(11, 12, "next")};
  app.commit = I(12);
  ASSERT_TRUE(node.Step(app).ok());
  rd = node.GetReady();
  EXPECT_TRUE(rd.snapshot.IsEmpty());
  EXPECT_EQ(rd.entries, std::vector<Entry>{E(11, 12, "next")});
  EXPECT_EQ(rd.committed_entries, std::vector<Entry>{E(11, 12, "next")});
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_EQ(rd.messages[0].index, I(12));
}

// ---------------------------------------------------------------------------------------------
// End to end, through the Ready loop

TEST(SnapshotTest, LaggingNodeCatchesUpViaSnapshotAndThenReplicatesNormally) {
  Cluster c(3);
  c.ElectLeader(N(1));
  c.Isolate(N(3));
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(c.Propose(N(1), "v" + std::to_string(i)).ok());
  c.Stabilize();
  ASSERT_EQ(c.Applied(N(1)).size(), 20u);
  ASSERT_TRUE(c.Applied(N(3)).empty());
  // The leader discards everything it has applied.
  c.SnapshotAndCompact(N(1));
  const Index snap_index = c.storage(N(1)).GetSnapshot()->metadata.index;
  ASSERT_EQ(c.storage(N(1)).FirstIndex().value(), snap_index + 1);

  c.Recover();
  c.TickAll(3);  // heartbeats reveal that 3 is behind
  EXPECT_EQ(c.DeliveredByType().at(MessageType::MsgSnap), 1u);
  EXPECT_EQ(c.Applied(N(3)), c.Applied(N(1)));
  EXPECT_EQ(c.storage(N(3)).GetSnapshot()->metadata.index, snap_index);
  EXPECT_EQ(c.AppliedConfState(N(3)).voters, Ids({1, 2, 3}));

  // Afterwards node 3 is an ordinary follower again: new entries reach it by MsgApp.
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(c.Propose(N(1), "after" + std::to_string(i)).ok());
  c.Stabilize();
  EXPECT_EQ(c.DeliveredByType().at(MessageType::MsgSnap), 1u);
  EXPECT_EQ(c.Applied(N(3)).size(), 25u);
  EXPECT_EQ(c.Applied(N(3)), c.Applied(N(1)));
  EXPECT_EQ(c.Applied(N(3)).back(), "after4");
  const raft::NodeStatus st = c.node(N(1)).GetStatus();
  const Progress& pr3 = st.progress.at(N(3));
  EXPECT_EQ(pr3.state, tr::StateType::kReplicate);
  EXPECT_EQ(pr3.match, st.progress.at(N(1)).match);
}

TEST(SnapshotTest, NewMemberOfACompactedClusterLearnsStateAndConfigurationFromSnapshot) {
  Cluster c(3);
  c.ElectLeader(N(1));
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(c.Propose(N(1), "v" + std::to_string(i)).ok());
  c.Stabilize();

  // Node 4 is added while unreachable, so that it cannot catch up from the log.
  c.AddEmptyNode(N(4));
  c.Isolate(N(4));
  raftpb::ConfChange cc;
  cc.type = raftpb::ConfChangeType::ConfChangeAddNode;
  cc.node_id = N(4);
  ASSERT_TRUE(c.node(N(1)).ProposeConfChange(cc).ok());
  c.Stabilize();
  ASSERT_EQ(c.AppliedConfState(N(1)).voters, Ids({1, 2, 3, 4}));
  // Compact the leader's log past everything, including the conf change.
  c.SnapshotAndCompact(N(1));
  c.Recover();
  c.TickAll(3);

  EXPECT_EQ(c.DeliveredByType().at(MessageType::MsgSnap), 1u);
  EXPECT_EQ(c.Applied(N(4)), c.Applied(N(1)));
  EXPECT_EQ(c.AppliedConfState(N(4)).voters, Ids({1, 2, 3, 4}));
  ASSERT_TRUE(c.Propose(N(1), "hello-4").ok());
  c.Stabilize();
  EXPECT_EQ(c.Applied(N(4)).back(), "hello-4");
}

// etcd 3.4 panics here (it looks for conf changes in [applied+1, committed], which the snapshot
// compacted away); raftkit looks only after the snapshot, whose configuration is already in effect
// (docs/etcd-deviations.md #6).
TEST(SnapshotTest, CampaigningAfterRestoreButBeforeTheSnapshotIsAppliedDoesNotCrash) {
  Follower f = NewFollower(3, 1);
  ASSERT_TRUE(f.r->Restore(Snap(11, 11, {1, 2, 3})));
  ASSERT_LT(f.r->log.applied(), I(11));  // the application has not applied the snapshot yet
  ASSERT_TRUE(f.r->Step(Msg(1, 1, MessageType::MsgHup)).ok());
  EXPECT_EQ(f.r->state, raft::StateType::kCandidate);
  std::vector<Message> votes = ReadMessages(*f.r);
  ASSERT_EQ(votes.size(), 2u) << Describe(votes);
  EXPECT_EQ(votes[0].type, MessageType::MsgVote);
  EXPECT_EQ(votes[0].index, I(11));
  EXPECT_EQ(votes[0].log_term, T(11));
}

// A crash can keep a durably written snapshot and lose the (commit-only, unsynced) HardState that
// followed it. The node must still restart, with everything up to the snapshot committed (etcd 3.4
// panics; docs/etcd-deviations.md #11).
TEST(SnapshotTest, RestartWithSnapshotNewerThanTheStoredCommit) {
  raft::MemoryStorage storage;
  ASSERT_TRUE(storage.ApplySnapshot(Snap(10, 2, {1, 2, 3})).ok());
  raftpb::HardState hs;
  hs.term = T(2);
  hs.commit = I(5);  // older than the snapshot
  storage.SetHardState(hs);
  raft::Config c = NewTestConfig(1, 10, 1, &storage);
  c.applied = I(10);
  auto rn = raft::RawNode::Create(c);
  ASSERT_TRUE(rn.ok()) << rn.status().ToString();
  EXPECT_EQ((*rn)->GetBasicStatus().hard_state.commit, I(10));
  EXPECT_EQ((*rn)->GetBasicStatus().hard_state.term, T(2));
}

}  // namespace
}  // namespace raftkit::testing
