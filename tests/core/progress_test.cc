// Tests of a follower's Progress as tracked by the leader: the Probe / Replicate / Snapshot state
// machine (etcd raft/design.md) and how acknowledgements and rejections move match and next.
#include "raftkit/core/tracker/progress.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace raftkit::raft::tracker {
namespace {

Index Idx(uint64_t v) {
  return Index(v);
}

Progress Make(StateType state, uint64_t match, uint64_t next, size_t max_inflight = 256,
              uint64_t max_bytes = 0) {
  Progress pr(max_inflight, max_bytes);
  pr.state = state;
  pr.match = Idx(match);
  pr.next = Idx(next);
  return pr;
}

// ---------------------------------------------------------------------------------------------
// State transitions

TEST(ProgressTest, BecomeProbeFromReplicateResumesAfterMatch) {
  Progress pr = Make(StateType::kReplicate, 1, 5);
  pr.inflights.Add(Idx(3), 10);
  pr.inflights.Add(Idx(4), 10);
  pr.BecomeProbe();
  EXPECT_EQ(pr.state, StateType::kProbe);
  EXPECT_EQ(pr.match, Idx(1));
  EXPECT_EQ(pr.next, Idx(2));  // whatever was optimistically sent is forgotten
  EXPECT_EQ(pr.inflights.Count(), 0u);
  EXPECT_EQ(pr.inflights.Bytes(), 0u);
  EXPECT_FALSE(pr.probe_sent);
}

TEST(ProgressTest, BecomeProbeAfterSnapshotResumesAfterPendingSnapshotWhenAhead) {
  // The snapshot at 10 was reported applied: the follower has everything up to 10.
  Progress pr = Make(StateType::kSnapshot, 1, 5);
  pr.pending_snapshot = Idx(10);
  pr.BecomeProbe();
  EXPECT_EQ(pr.state, StateType::kProbe);
  EXPECT_EQ(pr.match, Idx(1));
  EXPECT_EQ(pr.next, Idx(11));
  EXPECT_EQ(pr.pending_snapshot, Idx(0));
}

TEST(ProgressTest, BecomeProbeAfterSnapshotResumesAfterMatchWhenSnapshotIsBehind) {
  // Acknowledgements moved match past the snapshot while it was in flight.
  Progress pr = Make(StateType::kSnapshot, 15, 16);
  pr.pending_snapshot = Idx(10);
  pr.BecomeProbe();
  EXPECT_EQ(pr.next, Idx(16));
  EXPECT_EQ(pr.match, Idx(15));
  EXPECT_EQ(pr.pending_snapshot, Idx(0));
}

TEST(ProgressTest, BecomeProbeAfterFailedSnapshotResumesAfterMatch) {
  // A failed snapshot report clears pending_snapshot before the transition.
  Progress pr = Make(StateType::kSnapshot, 1, 5);
  pr.BecomeProbe();
  EXPECT_EQ(pr.state, StateType::kProbe);
  EXPECT_EQ(pr.next, Idx(2));
}

TEST(ProgressTest, BecomeProbeFromProbeClearsOutstandingProbe) {
  Progress pr = Make(StateType::kProbe, 3, 9);
  pr.probe_sent = true;
  pr.BecomeProbe();
  EXPECT_FALSE(pr.probe_sent);
  EXPECT_EQ(pr.next, Idx(4));
}

TEST(ProgressTest, BecomeReplicateStartsAfterMatchWithEmptyWindow) {
  Progress pr = Make(StateType::kProbe, 1, 5);
  pr.probe_sent = true;
  pr.BecomeReplicate();
  EXPECT_EQ(pr.state, StateType::kReplicate);
  EXPECT_EQ(pr.match, Idx(1));
  EXPECT_EQ(pr.next, Idx(2));
  EXPECT_FALSE(pr.probe_sent);
  EXPECT_EQ(pr.inflights.Count(), 0u);
  EXPECT_FALSE(pr.IsPaused());
}

TEST(ProgressTest, BecomeSnapshotRecordsPendingSnapshotAndPauses) {
  Progress pr = Make(StateType::kReplicate, 1, 5);
  pr.inflights.Add(Idx(4), 1);
  pr.BecomeSnapshot(Idx(10));
  EXPECT_EQ(pr.state, StateType::kSnapshot);
  EXPECT_EQ(pr.match, Idx(1));
  EXPECT_EQ(pr.next, Idx(5));  // untouched until the snapshot resolves
  EXPECT_EQ(pr.pending_snapshot, Idx(10));
  EXPECT_EQ(pr.inflights.Count(), 0u);
  EXPECT_TRUE(pr.IsPaused());
}

TEST(ProgressTest, ResetStateClearsTransientFields) {
  Progress pr = Make(StateType::kSnapshot, 2, 3);
  pr.pending_snapshot = Idx(7);
  pr.probe_sent = true;
  pr.inflights.Add(Idx(3), 5);
  pr.recent_active = true;
  pr.is_learner = true;
  pr.ResetState(StateType::kReplicate);
  EXPECT_EQ(pr.state, StateType::kReplicate);
  EXPECT_EQ(pr.pending_snapshot, Idx(0));
  EXPECT_FALSE(pr.probe_sent);
  EXPECT_EQ(pr.inflights.Count(), 0u);
  // Not transient: membership and liveness, and match/next.
  EXPECT_TRUE(pr.recent_active);
  EXPECT_TRUE(pr.is_learner);
  EXPECT_EQ(pr.match, Idx(2));
  EXPECT_EQ(pr.next, Idx(3));
}

// ---------------------------------------------------------------------------------------------
// MaybeUpdate / OptimisticUpdate

TEST(ProgressTest, MaybeUpdateNeverMovesMatchOrNextBackwards) {
  struct Case {
    uint64_t ack;
    uint64_t want_match, want_next;
    bool want_updated;
  };
  // Starting at match=3, next=5 (entry 4 is in flight).
  const Case cases[] = {
      {2, 3, 5, false},  // stale ack
      {3, 3, 5, false},  // duplicate ack
      {4, 4, 5, true},   // match moves, next already past it
      {5, 5, 6, true},   // both move
      {9, 9, 10, true},  // jump ahead
  };
  for (const Case& c : cases) {
    Progress pr = Make(StateType::kReplicate, 3, 5);
    EXPECT_EQ(pr.MaybeUpdate(Idx(c.ack)), c.want_updated) << c.ack;
    EXPECT_EQ(pr.match, Idx(c.want_match)) << c.ack;
    EXPECT_EQ(pr.next, Idx(c.want_next)) << c.ack;
  }
}

TEST(ProgressTest, MaybeUpdateAnswersOutstandingProbeOnlyWhenMatchMoves) {
  Progress pr = Make(StateType::kProbe, 3, 4);
  pr.probe_sent = true;
  EXPECT_FALSE(pr.MaybeUpdate(Idx(3)));
  EXPECT_TRUE(pr.probe_sent);  // an old ack does not answer the probe
  EXPECT_TRUE(pr.IsPaused());
  EXPECT_TRUE(pr.MaybeUpdate(Idx(4)));
  EXPECT_FALSE(pr.probe_sent);
  EXPECT_FALSE(pr.IsPaused());
}

TEST(ProgressTest, MaybeUpdateRaisesNextEvenWithoutNewMatch) {
  // next below match+1 (cannot normally happen, but the update must restore next > match).
  Progress pr = Make(StateType::kProbe, 5, 2);
  EXPECT_FALSE(pr.MaybeUpdate(Idx(5)));
  EXPECT_EQ(pr.next, Idx(6));
}

TEST(ProgressTest, OptimisticUpdateMovesNextPastSentEntries) {
  Progress pr = Make(StateType::kReplicate, 3, 4);
  pr.OptimisticUpdate(Idx(10));
  EXPECT_EQ(pr.next, Idx(11));
  EXPECT_EQ(pr.match, Idx(3));
}

// ---------------------------------------------------------------------------------------------
// MaybeDecrTo

TEST(ProgressTest, MaybeDecrToInReplicateIgnoresStaleRejections) {
  // Rejections at or below match refer to messages older than what was already acknowledged.
  for (uint64_t rejected : {5, 4, 0}) {
    Progress pr = Make(StateType::kReplicate, 5, 10);
    EXPECT_FALSE(pr.MaybeDecrTo(Idx(rejected), Idx(rejected))) << rejected;
    EXPECT_EQ(pr.next, Idx(10)) << rejected;
    EXPECT_EQ(pr.match, Idx(5)) << rejected;
  }
}

TEST(ProgressTest, MaybeDecrToInReplicateFallsBackToMatchPlusOne) {
  // The hint does not matter in StateReplicate: next goes straight back to match+1.
  for (uint64_t hint : {0, 6, 9, 20}) {
    Progress pr = Make(StateType::kReplicate, 5, 10);
    EXPECT_TRUE(pr.MaybeDecrTo(Idx(9), Idx(hint))) << hint;
    EXPECT_EQ(pr.next, Idx(6)) << hint;
    EXPECT_EQ(pr.match, Idx(5)) << hint;
  }
}

TEST(ProgressTest, MaybeDecrToInProbeOnlyAcceptsAnswerToLatestProbe) {
  // The outstanding probe was sent at next-1 = 9; a rejection of 5 is an older probe's answer.
  Progress pr = Make(StateType::kProbe, 0, 10);
  pr.probe_sent = true;
  EXPECT_FALSE(pr.MaybeDecrTo(Idx(5), Idx(5)));
  EXPECT_EQ(pr.next, Idx(10));
  EXPECT_TRUE(pr.probe_sent);  // still waiting for the real answer
  // next=0 cannot have a probe outstanding at all.
  Progress zero = Make(StateType::kProbe, 0, 0);
  EXPECT_FALSE(zero.MaybeDecrTo(Idx(0), Idx(0)));
  EXPECT_EQ(zero.next, Idx(0));
}

TEST(ProgressTest, MaybeDecrToInProbeUsesTheFollowersHint) {
  struct Case {
    uint64_t next, rejected, hint;
    uint64_t want_next;
  };
  const Case cases[] = {
      {10, 9, 9, 9},   // follower's log ends at 9 or later: step back by one
      {10, 9, 20, 9},  // a hint beyond the rejected index never moves next forward
      {10, 9, 2, 3},   // follower's log ends at 2: jump straight to 3
      {2, 1, 1, 1},    // step back to the first index
      {1, 0, 0, 1},    // next never drops below 1
      {10, 9, 0, 1},   // empty follower log: restart from 1
  };
  for (const Case& c : cases) {
    Progress pr = Make(StateType::kProbe, 0, c.next);
    pr.probe_sent = true;
    EXPECT_TRUE(pr.MaybeDecrTo(Idx(c.rejected), Idx(c.hint)))
        << "next=" << c.next << " rejected=" << c.rejected << " hint=" << c.hint;
    EXPECT_EQ(pr.next, Idx(c.want_next))
        << "next=" << c.next << " rejected=" << c.rejected << " hint=" << c.hint;
    EXPECT_EQ(pr.match, Idx(0));
    EXPECT_FALSE(pr.probe_sent);  // the probe was answered: another may go out
  }
}

TEST(ProgressTest, MaybeDecrToInSnapshotStateFollowsProbeRules) {
  // Only StateReplicate has the optimistic rule; a paused snapshot follower is handled like a
  // probing one (as in etcd).
  Progress pr = Make(StateType::kSnapshot, 2, 6);
  pr.pending_snapshot = Idx(20);
  EXPECT_FALSE(pr.MaybeDecrTo(Idx(3), Idx(3)));
  EXPECT_TRUE(pr.MaybeDecrTo(Idx(5), Idx(3)));
  EXPECT_EQ(pr.next, Idx(4));
  EXPECT_EQ(pr.state, StateType::kSnapshot);
}

// ---------------------------------------------------------------------------------------------
// IsPaused

TEST(ProgressTest, IsPausedDependsOnState) {
  // Probe: paused exactly while a probe is outstanding.
  Progress probe = Make(StateType::kProbe, 0, 1);
  EXPECT_FALSE(probe.IsPaused());
  probe.probe_sent = true;
  EXPECT_TRUE(probe.IsPaused());

  // Replicate: paused exactly while the inflight window is full; probe_sent is irrelevant.
  Progress repl = Make(StateType::kReplicate, 0, 1, /*max_inflight=*/2);
  repl.probe_sent = true;
  EXPECT_FALSE(repl.IsPaused());
  repl.inflights.Add(Idx(1), 0);
  EXPECT_FALSE(repl.IsPaused());
  repl.inflights.Add(Idx(2), 0);
  EXPECT_TRUE(repl.IsPaused());
  repl.inflights.FreeLE(Idx(1));
  EXPECT_FALSE(repl.IsPaused());

  // Replicate with a byte budget.
  Progress bytes = Make(StateType::kReplicate, 0, 1, /*max_inflight=*/10, /*max_bytes=*/64);
  bytes.inflights.Add(Idx(1), 64);
  EXPECT_TRUE(bytes.IsPaused());

  // Snapshot: always paused.
  for (bool probe_sent : {false, true}) {
    Progress snap = Make(StateType::kSnapshot, 0, 1);
    snap.probe_sent = probe_sent;
    EXPECT_TRUE(snap.IsPaused());
  }
}

// ---------------------------------------------------------------------------------------------
// String

TEST(ProgressTest, StringListsEveryAttribute) {
  Progress pr = Make(StateType::kSnapshot, 1, 2, /*max_inflight=*/1);
  pr.pending_snapshot = Idx(123);
  pr.recent_active = false;
  pr.probe_sent = true;
  pr.is_learner = true;
  pr.inflights.Add(Idx(123), 0);
  EXPECT_EQ(
      pr.String(),
      "StateSnapshot match=1 next=2 learner paused pendingSnap=123 inactive inflight=1[full]");
}

TEST(ProgressTest, StringOmitsDefaultAttributes) {
  Progress probe = Make(StateType::kProbe, 0, 1);
  probe.recent_active = true;
  EXPECT_EQ(probe.String(), "StateProbe match=0 next=1");

  Progress repl = Make(StateType::kReplicate, 5, 8, /*max_inflight=*/3);
  repl.recent_active = true;
  repl.inflights.Add(Idx(6), 1);
  repl.inflights.Add(Idx(7), 1);
  EXPECT_EQ(repl.String(), "StateReplicate match=5 next=8 inflight=2");
  repl.inflights.Add(Idx(8), 1);
  EXPECT_EQ(repl.String(), "StateReplicate match=5 next=8 paused inflight=3[full]");

  Progress inactive = Make(StateType::kProbe, 0, 1);
  EXPECT_EQ(inactive.String(), "StateProbe match=0 next=1 inactive");
}

TEST(ProgressTest, StateNames) {
  EXPECT_STREQ(Name(StateType::kProbe), "StateProbe");
  EXPECT_STREQ(Name(StateType::kReplicate), "StateReplicate");
  EXPECT_STREQ(Name(StateType::kSnapshot), "StateSnapshot");
}

TEST(ProgressTest, ProgressMapToStringOneLinePerMemberInIdOrder) {
  ProgressMap m;
  Progress a = Make(StateType::kReplicate, 4, 5);
  a.recent_active = true;
  Progress b = Make(StateType::kProbe, 0, 3);
  b.recent_active = true;
  b.is_learner = true;
  m.emplace(NodeId(3), b);
  m.emplace(NodeId(1), a);
  EXPECT_EQ(ToString(m),
            "1: StateReplicate match=4 next=5\n3: StateProbe match=0 next=3 learner\n");
  EXPECT_EQ(ToString(ProgressMap()), "");
}

// A full replication round trip through the states, as a leader would drive it.
TEST(ProgressTest, ProbeReplicateSnapshotLifecycle) {
  Progress pr = Make(StateType::kProbe, 0, 11, /*max_inflight=*/4);
  pr.recent_active = true;
  // Probe at 10 is rejected; follower says its log ends at 4.
  pr.probe_sent = true;
  ASSERT_TRUE(pr.MaybeDecrTo(Idx(10), Idx(4)));
  EXPECT_EQ(pr.next, Idx(5));
  // Probe at 4 succeeds up to 10: switch to streaming.
  ASSERT_TRUE(pr.MaybeUpdate(Idx(10)));
  pr.BecomeReplicate();
  EXPECT_EQ(pr.next, Idx(11));
  for (uint64_t last : {12, 14, 15, 18}) {
    ASSERT_FALSE(pr.IsPaused());
    pr.inflights.Add(Idx(last), 1);
    pr.OptimisticUpdate(Idx(last));
  }
  EXPECT_TRUE(pr.IsPaused());
  EXPECT_EQ(pr.next, Idx(19));
  // Ack up to 14 frees two messages.
  ASSERT_TRUE(pr.MaybeUpdate(Idx(14)));
  pr.inflights.FreeLE(Idx(14));
  EXPECT_FALSE(pr.IsPaused());
  EXPECT_EQ(pr.String(), "StateReplicate match=14 next=19 inflight=2");
  // The follower lost entries it needed and the log was compacted: snapshot at 30.
  pr.BecomeSnapshot(Idx(30));
  EXPECT_EQ(pr.String(), "StateSnapshot match=14 next=19 paused pendingSnap=30");
  pr.BecomeProbe();
  EXPECT_EQ(pr.String(), "StateProbe match=14 next=31");
}

}  // namespace
}  // namespace raftkit::raft::tracker
