// The simulator's durability model must itself be right, or the simulator proves nothing.
#include <gtest/gtest.h>

#include "sim/sim_storage.h"
#include "testlib/raft_fixtures.h"

namespace raftkit::sim {
namespace {

using testing::E;
using testing::I;
using testing::T;

raftpb::HardState HS(uint64_t term, uint64_t vote, uint64_t commit) {
  raftpb::HardState hs;
  hs.term = T(term);
  hs.vote = NodeId(vote);
  hs.commit = I(commit);
  return hs;
}

TEST(SimStorageTest, UnsyncedWritesAreVisibleButNotDurable) {
  SimStorage s;
  s.Append({E(1, 1), E(1, 2)});
  s.SetHardState(HS(1, 1, 2));
  EXPECT_EQ(*s.LastIndex(), I(2));  // the running node sees its writes
  EXPECT_EQ(s.UnsyncedWrites(), 2u);
  EXPECT_TRUE(s.DurableHardState().IsEmpty());
  s.Sync();
  EXPECT_EQ(s.UnsyncedWrites(), 0u);
  EXPECT_TRUE(s.DurableHardState().SameAs(HS(1, 1, 2)));
}

TEST(SimStorageTest, CrashKeepsOnlyAPrefixOfUnsyncedWrites) {
  // Over many seeds: what survives is always the synced state plus a prefix of the later writes,
  // never a later write without an earlier one.
  int kept_all = 0;
  int lost_all = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    SimStorage s;
    s.Append({E(1, 1)});
    s.SetHardState(HS(1, 0, 1));
    s.Sync();
    s.Append({E(2, 2), E(2, 3)});  // write 1
    s.SetHardState(HS(2, 2, 1));   // write 2
    s.Append({E(2, 4)});           // write 3
    Rand rand(seed);
    (void)s.Crash(rand);
    EXPECT_EQ(s.UnsyncedWrites(), 0u);
    const Index last = *s.LastIndex();
    const raftpb::HardState hs = s.DurableHardState();
    ASSERT_GE(last, I(1));
    // Entry 4 (write 3) only with the HardState of write 2 (unless that record was torn).
    if (last == I(4)) {
      EXPECT_EQ(hs.term, T(2)) << seed;
    }
    // The HardState of write 2 only if all of write 1 survived.
    if (hs.term == T(2)) {
      EXPECT_GE(last, I(3)) << seed;
    }
    // What survives is what the restarted node reads.
    EXPECT_EQ(s.GetInitialState()->hard_state.term, hs.term);
    kept_all += last == I(4) ? 1 : 0;
    lost_all += (last == I(1) && hs.term == T(1)) ? 1 : 0;
  }
  // Both extremes happen.
  EXPECT_GT(kept_all, 0);
  EXPECT_GT(lost_all, 0);
}

TEST(SimStorageTest, TornAppendKeepsAPrefixOfItsEntries) {
  bool saw_torn = false;
  for (uint64_t seed = 1; seed <= 300 && !saw_torn; ++seed) {
    SimStorage s;
    s.Append({E(1, 1), E(1, 2), E(1, 3), E(1, 4), E(1, 5)});
    Rand rand(seed);
    const std::string what = s.Crash(rand);
    const Index last = *s.LastIndex();
    EXPECT_LE(last, I(5));
    if (last > I(0) && last < I(5)) {
      saw_torn = true;
      EXPECT_NE(what.find("torn"), std::string::npos) << what;
      // The surviving entries are exactly the first ones.
      auto ents = s.Entries(I(1), last + 1, kNoLimit);
      ASSERT_TRUE(ents.ok());
      for (size_t i = 0; i < ents->size(); ++i)
        EXPECT_EQ((*ents)[i].index, I(i + 1));
    }
  }
  EXPECT_TRUE(saw_torn);
}

TEST(SimStorageTest, SnapshotIsDurableAndCompacts) {
  SimStorage s;
  s.Append({E(1, 1), E(1, 2), E(1, 3), E(1, 4)});
  raftpb::ConfState cs;
  cs.voters = testing::Ids({1, 2, 3});
  ASSERT_TRUE(s.SnapshotAndCompact(I(3), cs, Bytes("state"), 1));
  Rand rand(7);
  (void)s.Crash(rand);
  auto snap = s.GetSnapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->metadata.index, I(3));
  EXPECT_EQ(snap->data.view(), "state");
  EXPECT_EQ(*s.FirstIndex(), I(3));  // compacted to 3 - 1 = 2
  EXPECT_EQ(*s.LastIndex(), I(4));   // the snapshot synced the earlier append
  EXPECT_FALSE(s.SnapshotAndCompact(I(2), cs, Bytes("old"), 0));  // not newer
}

}  // namespace
}  // namespace raftkit::sim
