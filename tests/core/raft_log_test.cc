// RaftLog (src/core/raft_log.h): the log as the algorithm sees it, storage entries followed by the
// unstable tail, with the committed and applied cursors.
#include "core/raft_log.h"

#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <vector>

#include "raftkit/core/storage.h"
#include "raftkit/util/logger.h"
#include "raftkit/util/panic.h"
#include "testlib/raft_fixtures.h"

namespace raftkit::testing {
namespace {

using raft::MemoryStorage;
using raft::RaftLog;
using raftpb::Snapshot;

Snapshot SnapAt(uint64_t index, uint64_t term) {
  Snapshot s;
  s.metadata.index = I(index);
  s.metadata.term = T(term);
  s.metadata.conf_state.voters = Ids({1});
  return s;
}

RaftLog NewLog(MemoryStorage& s, uint64_t max_next_ents_size = kNoLimit) {
  return RaftLog(s, NullLogger(), max_next_ents_size);
}

// Entries (term == index) at indexes [lo, hi).
std::vector<Entry> Range(uint64_t lo, uint64_t hi) {
  std::vector<Entry> out;
  for (uint64_t i = lo; i < hi; ++i)
    out.push_back(E(i, i));
  return out;
}

TEST(RaftLogTest, NewLogStartsAfterStorageSnapshot) {
  MemoryStorage s;
  ASSERT_TRUE(s.ApplySnapshot(SnapAt(3, 3)).ok());
  ASSERT_TRUE(s.Append({E(4, 4), E(5, 5)}).ok());
  RaftLog log = NewLog(s);
  EXPECT_EQ(log.FirstIndex(), I(4));
  EXPECT_EQ(log.LastIndex(), I(5));
  EXPECT_EQ(log.LastTerm(), T(5));
  // Everything in the snapshot is committed and applied by definition; nothing more is known.
  EXPECT_EQ(log.committed(), I(3));
  EXPECT_EQ(log.applied(), I(3));
  // New entries go after storage's last index.
  EXPECT_EQ(log.unstable().offset(), I(6));
  EXPECT_TRUE(log.UnstableEntries().empty());
}

TEST(RaftLogTest, FindConflict) {
  auto s = StorageWith(EntsWithTerms({1, 2, 3}));
  RaftLog log = NewLog(*s);
  struct Case {
    const char* name;
    std::vector<Entry> ents;
    uint64_t want;
  };
  const Case cases[] = {
      {"nothing", {}, 0},
      {"all present", {E(1, 1), E(2, 2), E(3, 3)}, 0},
      {"present suffix", {E(2, 2), E(3, 3)}, 0},
      {"present middle", {E(2, 2)}, 0},
      {"present then new", {E(2, 2), E(3, 3), E(4, 4), E(4, 5)}, 4},
      {"only new", {E(4, 4), E(4, 5)}, 4},
      {"conflict at first", {E(4, 1), E(4, 2)}, 1},
      {"conflict in the middle", {E(2, 2), E(4, 3), E(4, 4)}, 3},
      {"conflict at last", {E(2, 2), E(4, 3)}, 3},
      {"conflict past a gap of matches", {E(1, 1), E(2, 2), E(4, 3), E(4, 4)}, 3},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(log.FindConflict(c.ents), I(c.want)) << c.name;
  }
}

// Raft §5.4.1: a log is more up to date if its last term is higher, or the last terms are equal
// and it is at least as long.
TEST(RaftLogTest, IsUpToDateComparesLastTermThenLastIndex) {
  auto s = StorageWith(EntsWithTerms({1, 2, 3}));  // last: index 3, term 3
  RaftLog log = NewLog(*s);
  struct Case {
    uint64_t lasti;
    uint64_t term;
    bool want;
  };
  const Case cases[] = {
      {2, 4, true},  {3, 4, true},  {4, 4, true},    // higher term: index does not matter
      {2, 3, false}, {3, 3, true},  {4, 3, true},    // same term: at least as long
      {2, 2, false}, {3, 2, false}, {10, 2, false},  // lower term: never
  };
  for (const Case& c : cases) {
    EXPECT_EQ(log.IsUpToDate(I(c.lasti), T(c.term)), c.want)
        << "lasti=" << c.lasti << " term=" << c.term;
  }
}

TEST(RaftLogTest, AppendTruncatesAndExtends) {
  struct Case {
    const char* name;
    std::vector<Entry> append;
    uint64_t want_last;
    std::vector<Entry> want_all;
    uint64_t want_offset;  // unstable offset afterwards
  };
  const Case cases[] = {
      {"nothing", {}, 2, {E(1, 1), E(2, 2)}, 3},
      {"extend", {E(2, 3)}, 3, {E(1, 1), E(2, 2), E(2, 3)}, 3},
      {"replace from the first entry", {E(2, 1)}, 1, {E(2, 1)}, 1},
      {"replace from the second entry", {E(3, 2), E(3, 3)}, 3, {E(1, 1), E(3, 2), E(3, 3)}, 2},
  };
  for (const Case& c : cases) {
    auto s = StorageWith({E(1, 1), E(2, 2)});
    RaftLog log = NewLog(*s);
    EXPECT_EQ(log.Append(c.append), I(c.want_last)) << c.name;
    EXPECT_EQ(log.AllEntries(), c.want_all) << c.name;
    EXPECT_EQ(log.unstable().offset(), I(c.want_offset)) << c.name;
  }
}

TEST(RaftLogTest, AppendAtOrBelowCommittedPanics) {
  auto s = StorageWith({E(1, 1), E(2, 2)});
  RaftLog log = NewLog(*s);
  log.CommitTo(I(2));
  // Right after the committed index is fine...
  EXPECT_EQ(log.Append(std::vector<Entry>{E(3, 3)}), I(3));
  // ...but rewriting a committed entry is a broken invariant.
  ScopedPanicHandler throwing(ThrowingPanicHandler);
  EXPECT_THROW(log.Append(std::vector<Entry>{E(3, 2)}), PanicError);
}

// A gap after the last index would leave the log non-contiguous. etcd panics here (through its
// unstable log's bounds check); the log must never make up the missing entries.
TEST(RaftLogTest, AppendWithGapPanics) {
  auto s = StorageWith({E(1, 1), E(1, 2)});
  RaftLog log = NewLog(*s);
  ScopedPanicHandler throwing(ThrowingPanicHandler);
  bool panicked = false;
  try {
    log.Append(std::vector<Entry>{E(1, 5)});
  } catch (const PanicError&) {
    panicked = true;
  }
  EXPECT_TRUE(panicked) << "appending index 5 after last index 2 did not panic";
  EXPECT_EQ(log.LastIndex(), I(2));
}

// MaybeAppend is the follower side of AppendEntries (Raft §5.3): reject unless the entry before
// the new ones matches, never disturb a matching suffix, truncate from the first conflict, and
// advance commit to min(leader commit, last new index).
TEST(RaftLogTest, MaybeAppend) {
  struct Case {
    const char* name;
    uint64_t index;
    uint64_t log_term;
    uint64_t commit;
    std::vector<Entry> ents;
    std::optional<uint64_t> want_last_new;
    uint64_t want_commit;
    std::vector<Entry> want_all;
  };
  const std::vector<Entry> base{E(1, 1), E(2, 2), E(3, 3)};
  const Case cases[] = {
      {"prev term mismatch", 3, 2, 3, {E(4, 4)}, std::nullopt, 1, base},
      {"prev beyond the log", 4, 3, 3, {E(4, 5)}, std::nullopt, 1, base},
      {"heartbeat-like, commit to last", 3, 3, 3, {}, 3, 3, base},
      {"commit capped by last new index", 3, 3, 4, {}, 3, 3, base},
      {"commit below last new", 3, 3, 2, {}, 3, 2, base},
      {"commit never decreases", 3, 3, 0, {}, 3, 1, base},
      {"append one", 3, 3, 3, {E(4, 4)}, 4, 3, {E(1, 1), E(2, 2), E(3, 3), E(4, 4)}},
      {"append one, commit it", 3, 3, 4, {E(4, 4)}, 4, 4, {E(1, 1), E(2, 2), E(3, 3), E(4, 4)}},
      {"append one, commit capped", 3, 3, 5, {E(4, 4)}, 4, 4, {E(1, 1), E(2, 2), E(3, 3), E(4, 4)}},
      {"append two",
       3,
       3,
       5,
       {E(4, 4), E(4, 5)},
       5,
       5,
       {E(1, 1), E(2, 2), E(3, 3), E(4, 4), E(4, 5)}},
      // The last new index is that of the message, not of the log: entry 3 stays, but the leader
      // only vouched for entries up to 2, so commit stops there.
      {"all present, log longer", 1, 1, 3, {E(2, 2)}, 2, 2, base},
      {"conflict truncates the suffix", 1, 1, 3, {E(4, 2)}, 2, 2, {E(1, 1), E(4, 2)}},
      {"conflict at last", 2, 2, 3, {E(4, 3)}, 3, 3, {E(1, 1), E(2, 2), E(4, 3)}},
      {"present then new", 2, 2, 3, {E(3, 3), E(4, 4)}, 4, 3, {E(1, 1), E(2, 2), E(3, 3), E(4, 4)}},
      {"prev at the dummy", 0, 0, 1, {E(1, 1), E(2, 2)}, 2, 1, base},
  };
  for (const Case& c : cases) {
    auto s = StorageWith(base);
    RaftLog log = NewLog(*s);
    log.CommitTo(I(1));
    std::optional<Index> got = log.MaybeAppend(I(c.index), T(c.log_term), I(c.commit), c.ents);
    std::optional<Index> want;
    if (c.want_last_new) want = I(*c.want_last_new);
    EXPECT_EQ(got, want) << c.name;
    EXPECT_EQ(log.committed(), I(c.want_commit)) << c.name;
    EXPECT_EQ(log.AllEntries(), c.want_all) << c.name;
  }
}

TEST(RaftLogTest, MaybeAppendConflictWithCommittedPanics) {
  ScopedPanicHandler throwing(ThrowingPanicHandler);
  for (uint64_t conflict : {1, 2}) {
    auto s = StorageWith(EntsWithTerms({1, 2, 3}));
    RaftLog log = NewLog(*s);
    log.CommitTo(I(2));
    // A leader that rewrites a committed entry means two leaders disagree on a committed prefix:
    // Raft's safety is already broken, the follower must not carry on.
    EXPECT_THROW((void)log.MaybeAppend(I(conflict - 1), T(conflict - 1), I(3),
                                       std::vector<Entry>{E(4, conflict)}),
                 PanicError)
        << "conflict at " << conflict;
  }
}

TEST(RaftLogTest, TermLookupsAcrossCompactionAndUnstable) {
  MemoryStorage s;
  ASSERT_TRUE(s.ApplySnapshot(SnapAt(5, 2)).ok());
  ASSERT_TRUE(s.Append({E(3, 6), E(3, 7)}).ok());
  RaftLog log = NewLog(s);
  log.Append(std::vector<Entry>{E(4, 8)});  // unstable
  struct Case {
    uint64_t index;
    uint64_t want;
  };
  // Outside [FirstIndex() - 1, LastIndex()] the term is 0 without an error.
  const Case cases[] = {{3, 0}, {4, 0}, {5, 2}, {6, 3}, {7, 3}, {8, 4}, {9, 0}};
  for (const Case& c : cases) {
    auto t = log.TermAt(I(c.index));
    ASSERT_TRUE(t.ok()) << c.index;
    EXPECT_EQ(*t, T(c.want)) << c.index;
  }
  EXPECT_TRUE(log.MatchTerm(I(5), T(2)));
  EXPECT_FALSE(log.MatchTerm(I(5), T(3)));
  EXPECT_FALSE(log.MatchTerm(I(9), T(4)));

  // The application persists 8 and compacts storage through 7: 7 becomes the dummy, 6 is gone.
  ASSERT_TRUE(s.Append(log.UnstableEntries()).ok());
  log.StableTo(I(8), T(4));
  ASSERT_TRUE(s.Compact(I(7)).ok());
  EXPECT_EQ(log.FirstIndex(), I(8));
  EXPECT_EQ(log.LastIndex(), I(8));
  EXPECT_EQ(*log.TermAt(I(7)), T(3));
  EXPECT_EQ(*log.TermAt(I(8)), T(4));
  EXPECT_EQ(*log.TermAt(I(6)), T(0));
  EXPECT_EQ(log.AllEntries(), (std::vector<Entry>{E(4, 8)}));
  // The log keeps growing after the compaction.
  EXPECT_EQ(log.Append(std::vector<Entry>{E(4, 9)}), I(9));
  EXPECT_EQ(log.LastTerm(), T(4));
}

TEST(RaftLogTest, TermLookupsWithUnstableSnapshot) {
  MemoryStorage s;
  ASSERT_TRUE(s.ApplySnapshot(SnapAt(5, 2)).ok());
  RaftLog log = NewLog(s);
  log.Restore(SnapAt(10, 5));
  struct Case {
    uint64_t index;
    uint64_t want;
  };
  // The unstable snapshot now defines the log's start: the storage's older snapshot (index 5) is
  // out of range.
  const Case cases[] = {{5, 0}, {9, 0}, {10, 5}, {11, 0}};
  for (const Case& c : cases) {
    auto t = log.TermAt(I(c.index));
    ASSERT_TRUE(t.ok()) << c.index;
    EXPECT_EQ(*t, T(c.want)) << c.index;
  }
}

TEST(RaftLogTest, HasNextEntsAndNextEntsDependOnAppliedAndCommitted) {
  MemoryStorage s;
  ASSERT_TRUE(s.ApplySnapshot(SnapAt(3, 1)).ok());
  struct Case {
    uint64_t applied;
    std::vector<Entry> want;
  };
  // Committed through 5 out of 4..6; applied starts at the snapshot index 3.
  const Case cases[] = {
      {3, {E(1, 4), E(1, 5)}},
      {4, {E(1, 5)}},
      {5, {}},
  };
  for (const Case& c : cases) {
    RaftLog log = NewLog(s);
    log.Append(std::vector<Entry>{E(1, 4), E(1, 5), E(1, 6)});
    ASSERT_TRUE(log.MaybeCommit(I(5), T(1)));
    log.AppliedTo(I(c.applied));
    EXPECT_EQ(log.HasNextEnts(), !c.want.empty()) << "applied=" << c.applied;
    EXPECT_EQ(log.NextEnts(), c.want) << "applied=" << c.applied;
  }
}

TEST(RaftLogTest, NextEntsSpansStorageAndUnstableAndRespectsSizeLimit) {
  auto s = StorageWith({E(1, 1), E(1, 2)});
  const uint64_t sz = E(1, 1).ByteSize();
  struct Case {
    uint64_t max_size;
    size_t want;
  };
  const Case cases[] = {{kNoLimit, 4}, {0, 1}, {sz, 1}, {2 * sz, 2}, {3 * sz, 3}};
  for (const Case& c : cases) {
    RaftLog log = NewLog(*s, c.max_size);
    log.Append(std::vector<Entry>{E(1, 3), E(1, 4)});
    log.CommitTo(I(4));
    const std::vector<Entry> all{E(1, 1), E(1, 2), E(1, 3), E(1, 4)};
    EXPECT_EQ(log.NextEnts(),
              std::vector<Entry>(all.begin(), all.begin() + static_cast<ptrdiff_t>(c.want)))
        << "max_size=" << c.max_size;
    EXPECT_TRUE(log.HasNextEnts());
  }
}

TEST(RaftLogTest, CommitToNeverDecreasesAndPanicsPastLastIndex) {
  auto s = StorageWith(EntsWithTerms({1, 2, 3}));
  RaftLog log = NewLog(*s);
  log.CommitTo(I(2));
  EXPECT_EQ(log.committed(), I(2));
  log.CommitTo(I(1));
  EXPECT_EQ(log.committed(), I(2));
  log.CommitTo(I(3));
  EXPECT_EQ(log.committed(), I(3));
  ScopedPanicHandler throwing(ThrowingPanicHandler);
  EXPECT_THROW(log.CommitTo(I(4)), PanicError);
  EXPECT_EQ(log.committed(), I(3));
}

TEST(RaftLogTest, MaybeCommitOnlyForMatchingTerm) {
  auto s = StorageWith(EntsWithTerms({1, 2, 2}));
  RaftLog log = NewLog(*s);
  EXPECT_FALSE(log.MaybeCommit(I(3), T(1)));  // entry 3 has term 2
  EXPECT_EQ(log.committed(), I(0));
  EXPECT_TRUE(log.MaybeCommit(I(2), T(2)));
  EXPECT_EQ(log.committed(), I(2));
  EXPECT_FALSE(log.MaybeCommit(I(1), T(1)));  // not an advance
  EXPECT_EQ(log.committed(), I(2));
}

TEST(RaftLogTest, AppliedToMustStayWithinAppliedAndCommitted) {
  auto s = StorageWith(EntsWithTerms({1, 1, 1, 1}));
  RaftLog log = NewLog(*s);
  log.CommitTo(I(3));
  log.AppliedTo(I(2));
  EXPECT_EQ(log.applied(), I(2));
  log.AppliedTo(I(0));  // zero means "nothing new"
  EXPECT_EQ(log.applied(), I(2));
  log.AppliedTo(I(2));  // repeating is fine
  EXPECT_EQ(log.applied(), I(2));

  ScopedPanicHandler throwing(ThrowingPanicHandler);
  EXPECT_THROW(log.AppliedTo(I(1)), PanicError);  // going back
  EXPECT_THROW(log.AppliedTo(I(4)), PanicError);  // applying the uncommitted
  EXPECT_EQ(log.applied(), I(2));
  log.AppliedTo(I(3));
  EXPECT_EQ(log.applied(), I(3));
}

// Slice over a log whose snapshot is at 3, with entries 4..6 in storage and 7..9 unstable.
class RaftLogSliceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(storage_.ApplySnapshot(SnapAt(3, 3)).ok());
    ASSERT_TRUE(storage_.Append(Range(4, 7)).ok());
    log_.emplace(storage_, NullLogger(), kNoLimit);
    log_->Append(Range(7, 10));
    ASSERT_EQ(log_->unstable().offset(), I(7));
  }

  MemoryStorage storage_;
  std::optional<RaftLog> log_;  // opened once storage holds the snapshot and entries
};

TEST_F(RaftLogSliceTest, RangesAcrossTheBoundary) {
  struct Case {
    uint64_t lo;
    uint64_t hi;
  };
  const Case cases[] = {{4, 5}, {4, 7}, {5, 8}, {6, 8}, {7, 10}, {4, 10}, {9, 10}};
  for (const Case& c : cases) {
    auto got = log_->Slice(I(c.lo), I(c.hi), kNoLimit);
    ASSERT_TRUE(got.ok()) << c.lo << "," << c.hi;
    EXPECT_EQ(*got, Range(c.lo, c.hi)) << c.lo << "," << c.hi;
  }
  auto empty = log_->Slice(I(6), I(6), kNoLimit);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST_F(RaftLogSliceTest, CompactedLowBoundIsAnError) {
  EXPECT_EQ(log_->Slice(I(2), I(5), kNoLimit).code(), ErrorCode::kCompacted);
  EXPECT_EQ(log_->Slice(I(3), I(5), kNoLimit).code(), ErrorCode::kCompacted);
}

TEST_F(RaftLogSliceTest, OutOfBoundsPanics) {
  ScopedPanicHandler throwing(ThrowingPanicHandler);
  EXPECT_THROW((void)log_->Slice(I(9), I(11), kNoLimit), PanicError);  // past last + 1
  EXPECT_THROW((void)log_->Slice(I(6), I(5), kNoLimit), PanicError);   // lo > hi
}

TEST_F(RaftLogSliceTest, SizeLimitAcrossTheBoundary) {
  const uint64_t sz = E(4, 4).ByteSize();
  struct Case {
    uint64_t lo;
    uint64_t max_size;
    uint64_t want_hi;  // the slice is [lo, want_hi)
  };
  const Case cases[] = {
      {4, 0, 5},           // at least one entry
      {4, sz, 5},          //
      {4, 2 * sz, 6},      //
      {4, 3 * sz - 1, 6},  // storage stops short: no unstable entries are added
      {4, 3 * sz, 7},      // exactly the stored part
      {4, 4 * sz, 8},      // continues into the unstable part
      {4, 6 * sz, 10},     // everything
      {6, sz, 7},          //
      {6, 2 * sz, 8},      // one stored, one unstable
      {7, 0, 8},           // unstable only: still at least one
      {7, 2 * sz + 1, 9},  //
  };
  for (const Case& c : cases) {
    auto got = log_->Slice(I(c.lo), I(10), c.max_size);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, Range(c.lo, c.want_hi)) << "lo=" << c.lo << " max_size=" << c.max_size;
  }
}

TEST_F(RaftLogSliceTest, EntriesFromPastTheEndIsEmpty) {
  auto got = log_->EntriesFrom(I(10), kNoLimit);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
  auto tail = log_->EntriesFrom(I(8), kNoLimit);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(*tail, Range(8, 10));
}

TEST(RaftLogTest, RestoreFromSnapshotResetsLogAndCommit) {
  auto s = StorageWith(EntsWithTerms({1, 1, 2}));
  RaftLog log = NewLog(*s);
  log.Append(std::vector<Entry>{E(2, 4)});
  log.CommitTo(I(2));
  log.AppliedTo(I(2));
  const Snapshot snap = SnapAt(20, 4);
  log.Restore(snap);
  EXPECT_EQ(log.committed(), I(20));
  // Applying is the application's business: the cursor moves when it applies the snapshot.
  EXPECT_EQ(log.applied(), I(2));
  EXPECT_EQ(log.FirstIndex(), I(21));
  EXPECT_EQ(log.LastIndex(), I(20));
  EXPECT_EQ(log.LastTerm(), T(4));
  EXPECT_TRUE(log.UnstableEntries().empty());
  EXPECT_TRUE(log.AllEntries().empty());
  auto got = log.GetSnapshot();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, snap);
  // Nothing before the snapshot is handed out for applying.
  EXPECT_FALSE(log.HasNextEnts());
  // New entries continue after the snapshot.
  EXPECT_EQ(log.Append(std::vector<Entry>{E(4, 21)}), I(21));
  EXPECT_EQ(log.unstable().offset(), I(21));
}

TEST(RaftLogTest, GetSnapshotFallsBackToStorage) {
  MemoryStorage s;
  ASSERT_TRUE(s.ApplySnapshot(SnapAt(5, 2)).ok());
  RaftLog log = NewLog(s);
  auto got = log.GetSnapshot();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->metadata.index, I(5));
  EXPECT_EQ(got->metadata.term, T(2));
}

TEST(RaftLogTest, StableToWithMismatchedTermKeepsEntriesUnstable) {
  MemoryStorage s;
  RaftLog log = NewLog(s);
  log.Append(std::vector<Entry>{E(1, 1), E(1, 2)});
  // A Ready carried (2, term 1); meanwhile a new leader replaced entry 2 with a term-2 entry.
  log.Append(std::vector<Entry>{E(2, 2)});
  log.StableTo(I(2), T(1));
  EXPECT_EQ(log.UnstableEntries(), (std::vector<Entry>{E(1, 1), E(2, 2)}));
  // Stabilizing what is really there works; beyond the last index nothing happens.
  log.StableTo(I(3), T(2));
  EXPECT_EQ(log.unstable().offset(), I(1));
  log.StableTo(I(1), T(1));
  EXPECT_EQ(log.UnstableEntries(), (std::vector<Entry>{E(2, 2)}));
  EXPECT_EQ(log.unstable().offset(), I(2));
}

TEST(RaftLogTest, StableToAfterRestoreLeavesSnapshotAlone) {
  MemoryStorage s;
  RaftLog log = NewLog(s);
  log.Restore(SnapAt(5, 2));
  // The snapshot's own index is below the offset: StableTo does not apply to it.
  log.StableTo(I(5), T(2));
  EXPECT_EQ(log.unstable().offset(), I(6));
  EXPECT_NE(log.unstable().snapshot(), nullptr);
  log.Append(std::vector<Entry>{E(2, 6), E(3, 7)});
  log.StableTo(I(6), T(2));
  EXPECT_EQ(log.UnstableEntries(), (std::vector<Entry>{E(3, 7)}));
  log.StableSnapTo(I(5));
  EXPECT_EQ(log.unstable().snapshot(), nullptr);
}

}  // namespace
}  // namespace raftkit::testing
