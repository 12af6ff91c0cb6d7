// MemoryStorage (include/raftkit/core/storage.h): the in-memory Storage the core reads its
// persisted log through. The layout under test is
//
//   [dummy = snapshot (index, term)] [entry index+1] [entry index+2] ...
//
// so FirstIndex() is dummy.index + 1, LastIndex() is the last entry's index (or the dummy's when
// there are none), and TermAt() also answers for the dummy itself.
#include <gtest/gtest.h>

#include <ostream>
#include <vector>

#include "raftkit/core/storage.h"
#include "raftkit/util/panic.h"
#include "testlib/raft_fixtures.h"

namespace raftkit::testing {
namespace {

using raft::MemoryStorage;
using raftpb::ConfState;
using raftpb::HardState;
using raftpb::Snapshot;

// Routes panics to PanicError exceptions for the lifetime of the object.
Snapshot SnapAt(uint64_t index, uint64_t term, std::vector<NodeId> voters = {}) {
  Snapshot s;
  s.metadata.index = I(index);
  s.metadata.term = T(term);
  s.metadata.conf_state.voters = std::move(voters);
  return s;
}

// A storage whose snapshot is at (index 3, term 3) and which holds entries 4 and 5 (terms 4, 5):
// the entry at index i has term i, so an expected term can be read off the index.
std::unique_ptr<MemoryStorage> CompactedStorage() {
  auto s = std::make_unique<MemoryStorage>();
  EXPECT_TRUE(s->ApplySnapshot(SnapAt(3, 3)).ok());
  EXPECT_TRUE(s->Append({E(4, 4, "d4"), E(5, 5, "d5")}).ok());
  return s;
}

// All entries currently in `s`, from FirstIndex() to LastIndex().
std::vector<Entry> Contents(const MemoryStorage& s) {
  const Index first = *s.FirstIndex();
  const Index last = *s.LastIndex();
  if (last < first) return {};
  auto ents = s.Entries(first, last + 1, kNoLimit);
  EXPECT_TRUE(ents.ok()) << ents.status().ToString();
  return ents.ok() ? *ents : std::vector<Entry>{};
}

TEST(MemoryStorageTest, FreshStorageIsEmptyWithDummyAtZero) {
  MemoryStorage s;
  EXPECT_EQ(*s.FirstIndex(), I(1));
  EXPECT_EQ(*s.LastIndex(), I(0));
  // The dummy entry (index 0, term 0) stands for the empty snapshot.
  ASSERT_TRUE(s.TermAt(I(0)).ok());
  EXPECT_EQ(*s.TermAt(I(0)), T(0));
  EXPECT_EQ(s.TermAt(I(1)).code(), ErrorCode::kUnavailable);
  // Only the dummy: nothing is available yet.
  EXPECT_EQ(s.Entries(I(1), I(1), kNoLimit).code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(s.GetSnapshot()->IsEmpty());
  auto init = s.GetInitialState();
  ASSERT_TRUE(init.ok());
  EXPECT_TRUE(init->hard_state.IsEmpty());
  EXPECT_TRUE(init->conf_state.voters.empty());
}

TEST(MemoryStorageTest, TermAtCoversDummyAndReportsCompactedAndUnavailable) {
  auto s = CompactedStorage();
  EXPECT_EQ(s->TermAt(I(2)).code(), ErrorCode::kCompacted);
  // Index 3 is the snapshot's: its term is still known through the dummy entry.
  ASSERT_TRUE(s->TermAt(I(3)).ok());
  EXPECT_EQ(*s->TermAt(I(3)), T(3));
  EXPECT_EQ(*s->TermAt(I(4)), T(4));
  EXPECT_EQ(*s->TermAt(I(5)), T(5));
  EXPECT_EQ(s->TermAt(I(6)).code(), ErrorCode::kUnavailable);
}

TEST(MemoryStorageTest, FirstAndLastIndexFollowSnapshotAndEntries) {
  auto s = CompactedStorage();
  EXPECT_EQ(*s->FirstIndex(), I(4));
  EXPECT_EQ(*s->LastIndex(), I(5));
  ASSERT_TRUE(s->Append({E(5, 6)}).ok());
  EXPECT_EQ(*s->LastIndex(), I(6));
  ASSERT_TRUE(s->Compact(I(4)).ok());
  EXPECT_EQ(*s->FirstIndex(), I(5));
  EXPECT_EQ(*s->LastIndex(), I(6));
  ASSERT_TRUE(s->Compact(I(6)).ok());
  // Everything compacted: the log is empty, LastIndex is the dummy's index.
  EXPECT_EQ(*s->FirstIndex(), I(7));
  EXPECT_EQ(*s->LastIndex(), I(6));
}

TEST(MemoryStorageTest, EntriesRangesAroundCompaction) {
  auto s = CompactedStorage();
  // lo at or below the snapshot index is compacted, even if hi reaches live entries.
  EXPECT_EQ(s->Entries(I(2), I(5), kNoLimit).code(), ErrorCode::kCompacted);
  EXPECT_EQ(s->Entries(I(3), I(5), kNoLimit).code(), ErrorCode::kCompacted);
  auto one = s->Entries(I(4), I(5), kNoLimit);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, (std::vector<Entry>{E(4, 4, "d4")}));
  auto both = s->Entries(I(4), I(6), kNoLimit);
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(*both, (std::vector<Entry>{E(4, 4, "d4"), E(5, 5, "d5")}));
  auto none = s->Entries(I(5), I(5), kNoLimit);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(MemoryStorageTest, EntriesBeyondLastIndexPanics) {
  ScopedPanicHandler throwing(ThrowingPanicHandler);
  auto s = CompactedStorage();
  EXPECT_THROW((void)s->Entries(I(4), I(7), kNoLimit), PanicError);
}

// Storage.Entries honours max_size like etcd's limitSize: the longest prefix within the budget,
// but always at least one entry so that a large entry can still be replicated.
TEST(MemoryStorageTest, EntriesSizeLimitKeepsAtLeastOneEntry) {
  MemoryStorage s;
  const std::vector<Entry> ents{E(1, 1), E(1, 2), E(2, 3), E(2, 4)};
  ASSERT_TRUE(s.Append(ents).ok());
  // Small terms and indexes with no data: 3 tag bytes and 3 one-byte varints each.
  const uint64_t sz = ents[0].ByteSize();
  ASSERT_EQ(sz, 6u);
  struct Case {
    uint64_t max_size;
    size_t want;
  };
  const Case cases[] = {
      {0, 1},           // nothing fits, one entry anyway
      {sz - 1, 1},      // the first entry alone exceeds the budget: still one
      {sz, 1},          // exactly one entry
      {2 * sz - 1, 1},  // one byte short of two
      {2 * sz, 2},      // exactly two
      {3 * sz + 1, 3},  // three and a bit
      {4 * sz, 4},      // everything, exactly
      {kNoLimit, 4},
  };
  for (const Case& c : cases) {
    auto got = s.Entries(I(1), I(5), c.max_size);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, std::vector<Entry>(ents.begin(), ents.begin() + static_cast<ptrdiff_t>(c.want)))
        << "max_size=" << c.max_size;
  }
}

TEST(MemoryStorageTest, LimitSizeCountsEncodedBytesIncludingData) {
  std::vector<Entry> ents{E(1, 1, "aaaa"), E(1, 2, "bb"), E(1, 3)};
  const uint64_t first = ents[0].ByteSize();
  const uint64_t second = ents[1].ByteSize();
  // Data adds a tag, a length byte and the payload.
  EXPECT_EQ(first, 6u + 2 + 4);
  std::vector<Entry> limited = ents;
  raft::LimitSize(&limited, first + second);
  EXPECT_EQ(limited.size(), 2u);
  limited = ents;
  raft::LimitSize(&limited, first + second - 1);
  EXPECT_EQ(limited.size(), 1u);
  std::vector<Entry> empty;
  raft::LimitSize(&empty, 0);
  EXPECT_TRUE(empty.empty());
}

TEST(MemoryStorageTest, CompactDropsPrefixAndKeepsDummyTerm) {
  auto s = CompactedStorage();
  ASSERT_TRUE(s->Append({E(5, 6, "d6")}).ok());
  ASSERT_TRUE(s->Compact(I(4)).ok());
  // Index 4 becomes the dummy: its term is still known, its data is gone.
  EXPECT_EQ(*s->TermAt(I(4)), T(4));
  EXPECT_EQ(s->TermAt(I(3)).code(), ErrorCode::kCompacted);
  EXPECT_EQ(s->Entries(I(4), I(5), kNoLimit).code(), ErrorCode::kCompacted);
  EXPECT_EQ(Contents(*s), (std::vector<Entry>{E(5, 5, "d5"), E(5, 6, "d6")}));
}

TEST(MemoryStorageTest, CompactAtOrBelowDummyIsCompacted) {
  auto s = CompactedStorage();
  EXPECT_EQ(s->Compact(I(2)), ErrorCode::kCompacted);
  EXPECT_EQ(s->Compact(I(3)), ErrorCode::kCompacted);
  // Nothing changed.
  EXPECT_EQ(*s->FirstIndex(), I(4));
  EXPECT_EQ(Contents(*s), (std::vector<Entry>{E(4, 4, "d4"), E(5, 5, "d5")}));
}

TEST(MemoryStorageTest, CompactBeyondLastIndexPanics) {
  ScopedPanicHandler throwing(ThrowingPanicHandler);
  auto s = CompactedStorage();
  EXPECT_THROW((void)s->Compact(I(6)), PanicError);
}

TEST(MemoryStorageTest, CreateSnapshotRecordsTermConfStateAndData) {
  auto s = CompactedStorage();
  ConfState cs;
  cs.voters = Ids({1, 2, 3});
  auto snap = s->CreateSnapshot(I(4), &cs, Bytes("state@4"));
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->metadata.index, I(4));
  EXPECT_EQ(snap->metadata.term, T(4));
  EXPECT_EQ(snap->metadata.conf_state, cs);
  EXPECT_EQ(snap->data.view(), "state@4");
  EXPECT_EQ(*s->GetSnapshot(), *snap);
  // Creating a snapshot does not compact: the entries are still readable.
  EXPECT_EQ(*s->FirstIndex(), I(4));
  EXPECT_EQ(Contents(*s).size(), 2u);
  // GetInitialState reports the snapshot's ConfState.
  EXPECT_EQ(s->GetInitialState()->conf_state, cs);
}

TEST(MemoryStorageTest, CreateSnapshotWithoutConfStateKeepsPrevious) {
  auto s = std::make_unique<MemoryStorage>();
  ASSERT_TRUE(s->ApplySnapshot(SnapAt(3, 3, Ids({1, 2}))).ok());
  ASSERT_TRUE(s->Append({E(4, 4), E(4, 5)}).ok());
  auto snap = s->CreateSnapshot(I(5), nullptr, Bytes("x"));
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->metadata.conf_state.voters, Ids({1, 2}));
  EXPECT_EQ(snap->metadata.term, T(4));
}

TEST(MemoryStorageTest, CreateSnapshotNotNewerIsOutOfDate) {
  auto s = CompactedStorage();
  ASSERT_TRUE(s->CreateSnapshot(I(5), nullptr, Bytes("five")).ok());
  EXPECT_EQ(s->CreateSnapshot(I(5), nullptr, Bytes("again")).code(), ErrorCode::kSnapOutOfDate);
  EXPECT_EQ(s->CreateSnapshot(I(4), nullptr, Bytes("older")).code(), ErrorCode::kSnapOutOfDate);
  EXPECT_EQ(s->GetSnapshot()->data.view(), "five");
}

TEST(MemoryStorageTest, CreateSnapshotBeyondLastIndexPanics) {
  ScopedPanicHandler throwing(ThrowingPanicHandler);
  auto s = CompactedStorage();
  EXPECT_THROW((void)s->CreateSnapshot(I(6), nullptr, Bytes()), PanicError);
}

TEST(MemoryStorageTest, ApplySnapshotReplacesEverything) {
  auto s = CompactedStorage();
  Snapshot snap = SnapAt(10, 7, Ids({1, 2, 3}));
  snap.data = Bytes("sm");
  ASSERT_TRUE(s->ApplySnapshot(snap).ok());
  EXPECT_EQ(*s->FirstIndex(), I(11));
  EXPECT_EQ(*s->LastIndex(), I(10));
  EXPECT_EQ(*s->TermAt(I(10)), T(7));
  EXPECT_EQ(s->TermAt(I(5)).code(), ErrorCode::kCompacted);
  EXPECT_EQ(*s->GetSnapshot(), snap);
  EXPECT_EQ(s->GetInitialState()->conf_state.voters, Ids({1, 2, 3}));
  // The log continues right after the snapshot.
  ASSERT_TRUE(s->Append({E(7, 11)}).ok());
  EXPECT_EQ(Contents(*s), (std::vector<Entry>{E(7, 11)}));
}

TEST(MemoryStorageTest, ApplySnapshotNotNewerIsOutOfDate) {
  auto s = CompactedStorage();
  EXPECT_EQ(s->ApplySnapshot(SnapAt(3, 3)), ErrorCode::kSnapOutOfDate);
  EXPECT_EQ(s->ApplySnapshot(SnapAt(2, 2)), ErrorCode::kSnapOutOfDate);
  // Nothing changed.
  EXPECT_EQ(*s->FirstIndex(), I(4));
  EXPECT_EQ(*s->LastIndex(), I(5));
  // A snapshot ahead of the log (or inside it) is accepted and drops the entries.
  ASSERT_TRUE(s->ApplySnapshot(SnapAt(4, 4)).ok());
  EXPECT_EQ(*s->FirstIndex(), I(5));
  EXPECT_EQ(*s->LastIndex(), I(4));
}

// Append: the new entries win over any existing entries from their first index on (a new
// leader's log replaces ours), entries at or below the snapshot are ignored, and a gap panics.
TEST(MemoryStorageTest, AppendOverlapAndTruncationCases) {
  struct Case {
    const char* name;
    std::vector<Entry> append;
    std::vector<Entry> want;  // live entries afterwards (index 4 on)
  };
  const Case cases[] = {
      {"identical entries: no change", {E(4, 4), E(5, 5)}, {E(4, 4), E(5, 5)}},
      {"same prefix, longer", {E(4, 4), E(5, 5), E(5, 6)}, {E(4, 4), E(5, 5), E(5, 6)}},
      {"conflict at 5 truncates", {E(4, 4), E(6, 5), E(6, 6)}, {E(4, 4), E(6, 5), E(6, 6)}},
      {"conflict at 4 replaces all", {E(6, 4)}, {E(6, 4)}},
      {"starting in the middle truncates the tail", {E(6, 5)}, {E(4, 4), E(6, 5)}},
      {"directly after the last entry", {E(5, 6)}, {E(4, 4), E(5, 5), E(5, 6)}},
      {"compacted prefix dropped, rest truncates", {E(3, 2), E(3, 3), E(6, 4)}, {E(6, 4)}},
      {"compacted prefix dropped, rest matches",
       {E(3, 3), E(4, 4), E(5, 5), E(5, 6)},
       {E(4, 4), E(5, 5), E(5, 6)}},
      {"entirely compacted: ignored", {E(1, 2), E(3, 3)}, {E(4, 4), E(5, 5)}},
      {"nothing to append", {}, {E(4, 4), E(5, 5)}},
  };
  for (const Case& c : cases) {
    auto s = std::make_unique<MemoryStorage>();
    ASSERT_TRUE(s->ApplySnapshot(SnapAt(3, 3)).ok());
    ASSERT_TRUE(s->Append({E(4, 4), E(5, 5)}).ok());
    EXPECT_TRUE(s->Append(c.append).ok()) << c.name;
    EXPECT_EQ(Contents(*s), c.want) << c.name;
    // The snapshot and its dummy are never touched by Append.
    EXPECT_EQ(*s->TermAt(I(3)), T(3)) << c.name;
    EXPECT_EQ(*s->FirstIndex(), I(4)) << c.name;
  }
}

TEST(MemoryStorageTest, AppendWithGapPanics) {
  ScopedPanicHandler throwing(ThrowingPanicHandler);
  auto s = CompactedStorage();
  EXPECT_THROW((void)s->Append({E(5, 7)}), PanicError);
  // The failed append left the log as it was.
  EXPECT_EQ(*s->LastIndex(), I(5));
}

TEST(MemoryStorageTest, GetInitialStateReturnsSavedHardState) {
  MemoryStorage s;
  HardState hs;
  hs.term = T(3);
  hs.vote = N(2);
  hs.commit = I(0);
  s.SetHardState(hs);
  ASSERT_TRUE(s.ApplySnapshot(SnapAt(5, 2, Ids({1, 2, 3}))).ok());
  auto init = s.GetInitialState();
  ASSERT_TRUE(init.ok());
  EXPECT_TRUE(init->hard_state.SameAs(hs));
  EXPECT_EQ(init->conf_state.voters, Ids({1, 2, 3}));
}

}  // namespace
}  // namespace raftkit::testing
