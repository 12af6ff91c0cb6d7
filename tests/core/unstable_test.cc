// Unstable (src/core/unstable.h): the not-yet-persisted tail of the log and a possibly incoming
// snapshot. Invariant under test throughout: entries()[k] has index offset() + k, and when a
// snapshot is present offset() == snapshot index + 1 right after Restore.
#include "core/unstable.h"

#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <vector>

#include "raftkit/util/logger.h"
#include "raftkit/util/panic.h"
#include "testlib/raft_fixtures.h"

namespace raftkit::testing {
namespace {

using raft::Unstable;
using raftpb::Snapshot;

Snapshot SnapAt(uint64_t index, uint64_t term) {
  Snapshot s;
  s.metadata.index = I(index);
  s.metadata.term = T(term);
  return s;
}

// An Unstable at `offset` holding `ents` (which must start at `offset`), optionally preceded by a
// snapshot.
Unstable Make(uint64_t offset, const std::vector<Entry>& ents,
              std::optional<Snapshot> snap = std::nullopt) {
  Unstable u(NullLogger());
  if (snap) u.Restore(*snap);
  u.set_offset(I(offset));
  if (!ents.empty()) u.TruncateAndAppend(ents);
  return u;
}

TEST(UnstableTest, MaybeFirstIndexOnlyWithSnapshot) {
  // Without a snapshot the unstable part does not know the first index of the log (storage does),
  // whatever entries it holds.
  EXPECT_EQ(Make(5, {E(1, 5)}).MaybeFirstIndex(), std::nullopt);
  EXPECT_EQ(Make(0, {}).MaybeFirstIndex(), std::nullopt);
  // With one, the log starts right after it.
  EXPECT_EQ(Make(5, {E(1, 5)}, SnapAt(4, 1)).MaybeFirstIndex(), I(5));
  EXPECT_EQ(Make(5, {}, SnapAt(4, 1)).MaybeFirstIndex(), I(5));
}

TEST(UnstableTest, MaybeLastIndexPrefersEntriesThenSnapshot) {
  EXPECT_EQ(Make(5, {E(1, 5)}).MaybeLastIndex(), I(5));
  EXPECT_EQ(Make(5, {E(1, 5), E(1, 6), E(2, 7)}).MaybeLastIndex(), I(7));
  EXPECT_EQ(Make(5, {E(1, 5)}, SnapAt(4, 1)).MaybeLastIndex(), I(5));
  // Only a snapshot: the last index is the snapshot's.
  EXPECT_EQ(Make(5, {}, SnapAt(4, 1)).MaybeLastIndex(), I(4));
  EXPECT_EQ(Make(0, {}).MaybeLastIndex(), std::nullopt);
}

TEST(UnstableTest, MaybeTermKnowsEntriesAndSnapshotIndexOnly) {
  struct Case {
    const char* name;
    Unstable u;
    uint64_t index;
    std::optional<Term> want;
  };
  Case cases[] = {
      {"entry present", Make(5, {E(1, 5)}), 5, T(1)},
      {"past the last entry", Make(5, {E(1, 5)}), 6, std::nullopt},
      {"before the offset, no snapshot", Make(5, {E(1, 5)}), 4, std::nullopt},
      {"entry present with snapshot", Make(5, {E(2, 5)}, SnapAt(4, 1)), 5, T(2)},
      {"snapshot index", Make(5, {E(2, 5)}, SnapAt(4, 1)), 4, T(1)},
      {"below the snapshot", Make(5, {E(2, 5)}, SnapAt(4, 1)), 3, std::nullopt},
      {"past the last entry with snapshot", Make(5, {E(2, 5)}, SnapAt(4, 1)), 6, std::nullopt},
      {"snapshot only: its index", Make(5, {}, SnapAt(4, 1)), 4, T(1)},
      {"snapshot only: after it", Make(5, {}, SnapAt(4, 1)), 5, std::nullopt},
      {"empty", Make(0, {}), 5, std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.u.MaybeTerm(I(c.index)), c.want) << c.name;
  }
}

TEST(UnstableTest, RestoreReplacesEntriesWithSnapshot) {
  Unstable u = Make(5, {E(1, 5), E(1, 6)}, SnapAt(4, 1));
  const Snapshot s = SnapAt(9, 3);
  u.Restore(s);
  EXPECT_EQ(u.offset(), I(10));
  EXPECT_TRUE(u.entries().empty());
  ASSERT_NE(u.snapshot(), nullptr);
  EXPECT_EQ(*u.snapshot(), s);
  EXPECT_EQ(u.MaybeFirstIndex(), I(10));
  EXPECT_EQ(u.MaybeLastIndex(), I(9));
  EXPECT_EQ(u.MaybeTerm(I(9)), T(3));
}

// StableTo(i, t): entries up to i were persisted. Only honoured if the entry at i is still the
// one that was persisted (same term) and is actually in the unstable part.
TEST(UnstableTest, StableToDropsPersistedPrefix) {
  Unstable u = Make(5, {E(1, 5), E(1, 6), E(2, 7)});
  u.StableTo(I(5), T(1));
  EXPECT_EQ(u.offset(), I(6));
  EXPECT_EQ(u.entries(), (std::vector<Entry>{E(1, 6), E(2, 7)}));
  u.StableTo(I(7), T(2));
  EXPECT_EQ(u.offset(), I(8));
  EXPECT_TRUE(u.entries().empty());
  // The log still extends to 7 from the caller's point of view: the unstable part no longer knows.
  EXPECT_EQ(u.MaybeLastIndex(), std::nullopt);
}

TEST(UnstableTest, StableToWithStaleTermIsIgnored) {
  // The Ready carried (6, term 1), but a new leader has since overwritten index 6 with term 2:
  // the persisted entry is not the one we hold, so nothing may be dropped.
  Unstable u = Make(5, {E(1, 5), E(2, 6)});
  u.StableTo(I(6), T(1));
  EXPECT_EQ(u.offset(), I(5));
  EXPECT_EQ(u.entries().size(), 2u);
}

TEST(UnstableTest, StableToOutsideUnstableRangeIsIgnored) {
  Unstable u = Make(5, {E(1, 5), E(1, 6)});
  u.StableTo(I(4), T(1));  // below the offset: already stable
  u.StableTo(I(7), T(1));  // past the last entry
  EXPECT_EQ(u.offset(), I(5));
  EXPECT_EQ(u.entries().size(), 2u);

  Unstable empty = Make(5, {});
  empty.StableTo(I(5), T(1));
  EXPECT_EQ(empty.offset(), I(5));
}

TEST(UnstableTest, StableToSnapshotIndexDoesNotTouchEntries) {
  // The term of the snapshot index is known (via the snapshot), but it is below the offset:
  // StableTo must not treat it as an entry.
  Unstable u = Make(5, {E(2, 5), E(2, 6)}, SnapAt(4, 1));
  u.StableTo(I(4), T(1));
  EXPECT_EQ(u.offset(), I(5));
  EXPECT_EQ(u.entries().size(), 2u);
  // Entries after the snapshot stabilize normally; the snapshot stays until StableSnapTo.
  u.StableTo(I(5), T(2));
  EXPECT_EQ(u.offset(), I(6));
  EXPECT_EQ(u.entries(), (std::vector<Entry>{E(2, 6)}));
  EXPECT_NE(u.snapshot(), nullptr);
  // Stale term after a snapshot: ignored.
  u.StableTo(I(6), T(1));
  EXPECT_EQ(u.offset(), I(6));
}

TEST(UnstableTest, StableSnapToDropsOnlyMatchingSnapshot) {
  Unstable u = Make(5, {E(2, 5)}, SnapAt(4, 1));
  u.StableSnapTo(I(3));
  EXPECT_NE(u.snapshot(), nullptr);
  u.StableSnapTo(I(5));
  EXPECT_NE(u.snapshot(), nullptr);
  u.StableSnapTo(I(4));
  EXPECT_EQ(u.snapshot(), nullptr);
  // The entries are unaffected and the first index is now storage's business.
  EXPECT_EQ(u.entries(), (std::vector<Entry>{E(2, 5)}));
  EXPECT_EQ(u.MaybeFirstIndex(), std::nullopt);
  // No snapshot: a no-op.
  u.StableSnapTo(I(4));
  EXPECT_EQ(u.snapshot(), nullptr);
}

// TruncateAndAppend's three cases: ents follow the unstable entries directly; ents start at or
// before the offset (replace everything unstable); ents start inside the unstable entries (keep
// the prefix before them).
TEST(UnstableTest, TruncateAndAppendCases) {
  struct Case {
    const char* name;
    uint64_t offset;
    std::vector<Entry> have;
    std::vector<Entry> append;
    uint64_t want_offset;
    std::vector<Entry> want;
  };
  const Case cases[] = {
      {"append directly after", 5, {E(1, 5)}, {E(1, 6), E(1, 7)}, 5, {E(1, 5), E(1, 6), E(1, 7)}},
      {"append to empty at offset", 5, {}, {E(1, 5)}, 5, {E(1, 5)}},
      {"replace from the offset", 5, {E(1, 5)}, {E(2, 5), E(2, 6)}, 5, {E(2, 5), E(2, 6)}},
      {"replace from before the offset",
       5,
       {E(1, 5)},
       {E(2, 4), E(2, 5), E(2, 6)},
       4,
       {E(2, 4), E(2, 5), E(2, 6)}},
      {"truncate inside, shorter",
       5,
       {E(1, 5), E(1, 6), E(1, 7)},
       {E(2, 6)},
       5,
       {E(1, 5), E(2, 6)}},
      {"truncate inside, longer",
       5,
       {E(1, 5), E(1, 6), E(1, 7)},
       {E(2, 7), E(2, 8)},
       5,
       {E(1, 5), E(1, 6), E(2, 7), E(2, 8)}},
  };
  for (const Case& c : cases) {
    Unstable u = Make(c.offset, c.have);
    u.TruncateAndAppend(c.append);
    EXPECT_EQ(u.offset(), I(c.want_offset)) << c.name;
    EXPECT_EQ(u.entries(), c.want) << c.name;
  }
}

// Appending with a hole after the unstable entries would break the contiguity invariant: etcd's
// truncateAndAppend panics here (its slice bounds check fails); it must not invent entries.
TEST(UnstableTest, TruncateAndAppendWithGapPanics) {
  ScopedPanicHandler throwing(ThrowingPanicHandler);
  Unstable u = Make(5, {E(1, 5)});
  bool panicked = false;
  try {
    u.TruncateAndAppend(std::vector<Entry>{E(1, 7)});
  } catch (const PanicError&) {
    panicked = true;
  }
  EXPECT_TRUE(panicked) << "appending index 7 right after index 5 did not panic";
  // Whatever happened, the unstable entries must still be contiguous from the offset.
  for (size_t k = 0; k < u.entries().size(); ++k) {
    EXPECT_EQ(u.entries()[k].index, u.offset() + k) << "position " << k;
  }
}

TEST(UnstableTest, SliceBounds) {
  Unstable u = Make(5, {E(1, 5), E(1, 6), E(2, 7)});
  EXPECT_EQ(u.Slice(I(5), I(8)), (std::vector<Entry>{E(1, 5), E(1, 6), E(2, 7)}));
  EXPECT_EQ(u.Slice(I(6), I(7)), (std::vector<Entry>{E(1, 6)}));
  EXPECT_TRUE(u.Slice(I(8), I(8)).empty());
  EXPECT_TRUE(u.Slice(I(5), I(5)).empty());

  ScopedPanicHandler throwing(ThrowingPanicHandler);
  EXPECT_THROW((void)u.Slice(I(4), I(6)), PanicError);  // below the offset
  EXPECT_THROW((void)u.Slice(I(6), I(9)), PanicError);  // past the end
  EXPECT_THROW((void)u.Slice(I(7), I(6)), PanicError);  // lo > hi
}

}  // namespace
}  // namespace raftkit::testing
