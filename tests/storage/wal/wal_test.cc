// The WAL's behaviour on healthy files: what Open returns after Create and Save, overwrites,
// segment cuts, snapshot markers and ReleaseTo, group commit, the directory lock, Scan.
#include <atomic>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "raftkit/raftpb/codec.h"
#include "raftkit/util/rand.h"
#include "storage/wal/record.h"
#include "storage/wal/wal_test_util.h"

namespace raftkit::storage::wal {
namespace {

using namespace waltest;  // NOLINT(google-build-using-namespace)
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Forwards to a MemEnv and counts appends and file syncs, to prove one write per batch.
class CountingEnv final : public EnvWrapper {
 public:
  explicit CountingEnv(MemEnv* base) : EnvWrapper(base) {}

  class File final : public WritableFile {
   public:
    File(std::unique_ptr<WritableFile> f, CountingEnv* env) : f_(std::move(f)), env_(env) {}
    Status Append(std::string_view data) override {
      ++env_->appends;
      return f_->Append(data);
    }
    Status Sync() override { return f_->Sync(); }
    Status Preallocate(uint64_t len) override { return f_->Preallocate(len); }
    Status Truncate(uint64_t size) override { return f_->Truncate(size); }
    [[nodiscard]] uint64_t Size() const override { return f_->Size(); }
    Status Close() override { return f_->Close(); }

   private:
    std::unique_ptr<WritableFile> f_;
    CountingEnv* env_;
  };

  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                     bool truncate) override {
    auto f = base()->OpenWritable(path, truncate);
    if (!f.ok()) return f.status();
    return std::unique_ptr<WritableFile>(new File(std::move(f).value(), this));
  }

  std::atomic<uint64_t> appends{0};
};

TEST(WalTest, CreateThenOpenGivesAnEmptyLogWithTheMetadata) {
  MemEnv env;
  const Options o = MemOptions(&env);
  {
    auto w = Wal::Create(o, TestMetadata());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_EQ((*w)->last_index(), Index(0));
    EXPECT_THAT((*w)->segments(), ElementsAre("0000000000000000-0000000000000001.wal"));
    ASSERT_TRUE((*w)->Close().ok());
  }
  EXPECT_TRUE(Wal::Exists(&env, kDir));
  Contents c;
  auto w = MustOpen(o, &c);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(c.metadata, TestMetadata());
  EXPECT_TRUE(c.hard_state.IsEmpty());
  EXPECT_TRUE(c.entries.empty());
  EXPECT_THAT(c.snapshots, ElementsAre(SnapshotMarker{Index(0), Term(0), false}));
  EXPECT_FALSE(c.truncated_tail.has_value());
  EXPECT_EQ(w->last_index(), Index(0));
}

TEST(WalTest, OpenWithoutAWalIsNotFound) {
  MemEnv env;
  Contents c;
  EXPECT_EQ(Wal::Open(MemOptions(&env), &c).code(), ErrorCode::kNotFound);
  ASSERT_TRUE(env.CreateDirs(kDir).ok());
  EXPECT_EQ(Wal::Open(MemOptions(&env), &c).code(), ErrorCode::kNotFound);
  EXPECT_FALSE(Wal::Exists(&env, kDir));
}

TEST(WalTest, CreateRefusesADirectoryThatHoldsAWal) {
  MemEnv env;
  ASSERT_TRUE(Wal::Create(MemOptions(&env), TestMetadata()).ok());
  EXPECT_EQ(Wal::Create(MemOptions(&env), TestMetadata()).code(), ErrorCode::kAlreadyExists);
}

TEST(WalTest, SavedEntriesAndHardStateComeBackAfterReopen) {
  MemEnv env;
  const Options o = MemOptions(&env);
  {
    auto w = Wal::Create(o, TestMetadata()).value();
    ASSERT_TRUE(w->Save(MakeHardState(1, 1, 0), MakeEntries(1, 3, 1)).ok());
    ASSERT_TRUE(w->Save(MakeHardState(1, 1, 2), MakeEntries(4, 5, 1)).ok());
    ASSERT_TRUE(w->Save(raftpb::HardState{}, MakeEntries(6, 6, 1)).ok());
    EXPECT_EQ(w->last_index(), Index(6));
  }  // the destructor closes
  Contents c;
  auto w = MustOpen(o, &c);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(c.entries, MakeEntries(1, 6, 1));
  EXPECT_EQ(c.hard_state, MakeHardState(1, 1, 2));
  EXPECT_EQ(w->last_index(), Index(6));
}

TEST(WalTest, EntriesWithNullEmptyAndUnknownFieldsRoundTrip) {
  MemEnv env;
  const Options o = MemOptions(&env);
  std::vector<raftpb::Entry> ents = MakeEntries(1, 4, 3);
  ents[0].data = Bytes();         // the leader's empty entry
  ents[1].data = Bytes::Empty();  // present, length 0
  ents[2].type = raftpb::EntryType::EntryConfChange;
  ents[3].unknown_fields = Bytes(std::string("\x28\x07", 2));  // field 5, varint 7
  {
    auto w = Wal::Create(o, TestMetadata()).value();
    ASSERT_TRUE(w->Save(MakeHardState(3, 0, 0), ents).ok());
  }
  Contents c;
  ASSERT_NE(MustOpen(o, &c), nullptr);
  EXPECT_EQ(c.entries, ents);
}

TEST(WalTest, SaveRejectsMalformedEntriesAndStaysUsable) {
  MemEnv env;
  auto w = Wal::Create(MemOptions(&env), TestMetadata()).value();
  ASSERT_TRUE(w->Save({}, MakeEntries(1, 2, 1)).ok());
  EXPECT_EQ(w->Save({}, MakeEntries(4, 5, 1)).code(), ErrorCode::kInvalidArgument);  // a gap
  std::vector<raftpb::Entry> skip = {MakeEntry(3, 1), MakeEntry(5, 1)};
  EXPECT_EQ(w->Save({}, skip).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(w->Save({}, std::vector{MakeEntry(0, 1)}).code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(w->Save({}, MakeEntries(3, 3, 1)).ok());
  EXPECT_EQ(w->last_index(), Index(3));
}

TEST(WalTest, SaveRefusesAnEntryLargerThanTheMaximumPayload) {
  MemEnv env;
  auto w = Wal::Create(MemOptions(&env), TestMetadata()).value();
  raftpb::Entry big = MakeEntry(1, 1, std::string(internal::kMaxPayload, 'x'));
  EXPECT_EQ(w->Save({}, std::vector{big}).code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(w->Save({}, MakeEntries(1, 1, 1)).ok());
}

TEST(WalTest, GroupCommitOneAppendPerSaveAndOneSyncPerSyncedSave) {
  MemEnv mem;
  CountingEnv env(&mem);
  Options o = MemOptions(&mem);
  o.env = &env;
  auto w = Wal::Create(o, TestMetadata()).value();
  uint64_t syncs = w->sync_count();
  uint64_t appends = env.appends;
  uint64_t next = 1;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(w->Save(MakeHardState(2, 1, next), MakeEntries(next, next + 9, 2)).ok());
    next += 10;
    EXPECT_EQ(w->sync_count(), syncs + 1) << "one fdatasync per Save with sync";
    EXPECT_EQ(env.appends, appends + 1) << "ten entries and a HardState in one write";
    syncs = w->sync_count();
    appends = env.appends;
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(w->Save(MakeHardState(2, 1, next), MakeEntries(next, next + 4, 2), false).ok());
    next += 5;
    EXPECT_EQ(w->sync_count(), syncs) << "no fdatasync for sync=false";
    EXPECT_EQ(env.appends, appends + 1);
    appends = env.appends;
  }
  ASSERT_TRUE(w->Sync().ok());
  EXPECT_EQ(w->sync_count(), syncs + 1) << "one fdatasync covers the three unsynced batches";
  ASSERT_TRUE(w->Sync().ok());
  EXPECT_EQ(w->sync_count(), syncs + 1) << "nothing pending, nothing synced";
}

TEST(WalTest, CloseMakesUnsyncedSavesDurable) {
  MemEnv env;
  const Options o = MemOptions(&env);
  {
    auto w = Wal::Create(o, TestMetadata()).value();
    ASSERT_TRUE(w->Save(MakeHardState(1, 0, 0), MakeEntries(1, 3, 1), /*sync=*/false).ok());
    ASSERT_TRUE(w->Close().ok());
  }
  env.Crash(UnsyncedFate::kLose, 1);
  Contents c;
  ASSERT_NE(MustOpen(o, &c), nullptr);
  EXPECT_EQ(c.entries, MakeEntries(1, 3, 1));
}

TEST(WalTest, OverwriteReplacesTheIndexAndEverythingAfterIt) {
  MemEnv env;
  const Options o = MemOptions(&env);
  {
    auto w = Wal::Create(o, TestMetadata()).value();
    ASSERT_TRUE(w->Save(MakeHardState(1, 1, 0), MakeEntries(1, 10, 1)).ok());
    // A new leader of term 2 rewrites from index 6, and only up to 8.
    ASSERT_TRUE(w->Save(MakeHardState(2, 2, 0), MakeEntries(6, 8, 2)).ok());
    EXPECT_EQ(w->last_index(), Index(8));
    // The same index rewritten twice in a row: the later write wins.
    ASSERT_TRUE(w->Save({}, MakeEntries(8, 8, 3)).ok());
  }
  std::vector<raftpb::Entry> want = MakeEntries(1, 5, 1);
  for (const auto& e : MakeEntries(6, 7, 2))
    want.push_back(e);
  want.push_back(MakeEntry(8, 3));
  Contents c;
  {
    auto w = MustOpen(o, &c);
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(c.entries, want);
    EXPECT_EQ(w->last_index(), Index(8));
    // After reopening, a rewrite reaching further back.
    ASSERT_TRUE(w->Save({}, MakeEntries(3, 4, 4)).ok());
  }
  ASSERT_NE(MustOpen(o, &c), nullptr);
  std::vector<raftpb::Entry> want2 = MakeEntries(1, 2, 1);
  for (const auto& e : MakeEntries(3, 4, 4))
    want2.push_back(e);
  EXPECT_EQ(c.entries, want2);
}

TEST(WalTest, OverwriteOfEntriesInAnOlderSegmentAcrossACut) {
  MemEnv env;
  const Options o = MemOptions(&env, 512);
  std::unique_ptr<Wal> w = Wal::Create(o, TestMetadata()).value();
  uint64_t i = 1;
  for (; w->segments().size() < 4; i += 4)
    ASSERT_TRUE(w->Save(MakeHardState(1, 1, i), MakeEntries(i, i + 3, 1)).ok());
  ASSERT_GT(i, 8u) << "index 5 is in an older segment";
  // Rewrite from index 5, which lives in an early segment; the new entries go to the last one.
  ASSERT_TRUE(w->Save(MakeHardState(2, 2, 4), MakeEntries(5, 7, 2)).ok());
  ASSERT_TRUE(w->Close().ok());
  Contents c;
  w = MustOpen(o, &c);
  ASSERT_NE(w, nullptr);
  std::vector<raftpb::Entry> want = MakeEntries(1, 4, 1);
  for (const auto& e : MakeEntries(5, 7, 2))
    want.push_back(e);
  EXPECT_EQ(c.entries, want);
  EXPECT_EQ(c.hard_state, MakeHardState(2, 2, 4));
  // The next cut names its segment after the rewritten log's last index.
  for (int n = 0; n < 100 && w->segments().size() < 6; ++n) {
    const uint64_t next = w->last_index().value() + 1;
    ASSERT_TRUE(w->Save({}, MakeEntries(next, next + 3, 2)).ok());
  }
  const std::vector<std::string> segs = w->segments();
  ASSERT_TRUE(w->Close().ok());
  ASSERT_NE(MustOpen(o, &c), nullptr);
  EXPECT_EQ(c.entries.size(), c.entries.back().index.value());
  EXPECT_FALSE(ScanAll(&env).damage.has_value());
  EXPECT_EQ(segs.size(), 6u);
}

TEST(WalTest, SegmentsAreCutBetweenBatchesAndChained) {
  MemEnv env;
  const Options o = MemOptions(&env, 1024);
  auto w = Wal::Create(o, TestMetadata()).value();
  for (uint64_t i = 1; i <= 60; i += 3)
    ASSERT_TRUE(w->Save(MakeHardState(1, 1, i), MakeEntries(i, i + 2, 1)).ok());
  const std::vector<std::string> segs = w->segments();
  ASSERT_GE(segs.size(), 3u);
  ASSERT_TRUE(w->Close().ok());

  const ScanResult scan = ScanAll(&env);
  EXPECT_FALSE(scan.damage.has_value());
  // Each segment: chain, metadata, HardState (once one exists), snapshot marker, then batches
  // whose records all stay in that segment.
  std::map<std::string, std::vector<RecordInfo>> by_file;
  for (const RecordInfo& r : scan.records)
    by_file[r.file].push_back(r);
  ASSERT_EQ(by_file.size(), segs.size());
  uint64_t expected_first = 1;
  for (size_t s = 0; s < segs.size(); ++s) {
    EXPECT_EQ(segs[s], fmt::format("{:016x}-{:016x}.wal", s, expected_first));
    const auto& recs = by_file[segs[s]];
    ASSERT_GE(recs.size(), 3u);
    EXPECT_EQ(recs[0].type, RecordType::kCrcChain);
    EXPECT_EQ(recs[1].type, RecordType::kMetadata);
    EXPECT_EQ(recs[2].type, s == 0 ? RecordType::kSnapshot : RecordType::kHardState);
    EXPECT_TRUE(recs.back().last_in_batch) << "a batch never continues in the next segment";
    uint64_t last_entry = expected_first - 1;
    for (const RecordInfo& r : recs) {
      if (r.type == RecordType::kEntry) last_entry = raftpb::DecodeEntry(r.payload)->index.value();
    }
    expected_first = last_entry + 1;
  }
  // Every segment but the last reached the size limit before it was cut.
  for (size_t s = 0; s + 1 < segs.size(); ++s)
    EXPECT_GE(env.Contents(SegPath(segs[s]))->size(), 1024u);
}

TEST(WalTest, ACutAfterUnsyncedSavesSyncsTheOldSegmentFirst) {
  MemEnv env;
  const Options o = MemOptions(&env, 1024);
  auto w = Wal::Create(o, TestMetadata()).value();
  const std::string first = SegPath(w->segments()[0]);
  uint64_t i = 1;
  while (env.Contents(first)->size() < 1024) {
    ASSERT_TRUE(w->Save(MakeHardState(1, 1, i), MakeEntries(i, i, 1), /*sync=*/false).ok());
    ++i;
  }
  EXPECT_LT(env.SyncedSize(first), env.Contents(first)->size());
  const uint64_t syncs = w->sync_count();
  ASSERT_TRUE(w->Save(MakeHardState(1, 1, i), MakeEntries(i, i, 1), /*sync=*/false).ok());
  ASSERT_EQ(w->segments().size(), 2u);
  // The old segment is complete on disk before the new one can become durable.
  EXPECT_EQ(env.SyncedSize(first), env.Contents(first)->size());
  EXPECT_EQ(w->sync_count(), syncs + 1);
  EXPECT_EQ(env.SyncedSize(SegPath(w->segments()[1])), 0u);

  // The power fails before anything else is synced (Close would sync).
  env.FailAfter(1);
  EXPECT_EQ(w->Close().code(), ErrorCode::kIoError);
  env.Crash(UnsyncedFate::kLose, 3);
  Contents c;
  ASSERT_NE(MustOpen(o, &c), nullptr);
  EXPECT_EQ(c.entries, MakeEntries(1, i - 1, 1)) << "everything before the cut, nothing after";
}

TEST(WalTest, ABatchLargerThanTheSegmentSizeMakesALargerSegment) {
  MemEnv env;
  const Options o = MemOptions(&env, 4096);
  auto w = Wal::Create(o, TestMetadata()).value();
  std::vector<raftpb::Entry> big;
  for (uint64_t i = 1; i <= 10; ++i)
    big.push_back(MakeEntry(i, 1, std::string(1000, static_cast<char>('a' + i))));
  ASSERT_TRUE(w->Save(MakeHardState(1, 1, 0), big).ok());
  ASSERT_EQ(w->segments().size(), 1u) << "the record spanning the limit stays in its segment";
  ASSERT_TRUE(w->Save(MakeHardState(1, 1, 10), MakeEntries(11, 11, 1)).ok());
  ASSERT_EQ(w->segments().size(), 2u) << "the next batch cuts first";
  EXPECT_EQ(w->segments()[1], "0000000000000001-000000000000000b.wal");
  ASSERT_TRUE(w->Close().ok());
  EXPECT_GT(env.Contents(SegPath(w->segments()[0]))->size(), 10000u);
  Contents c;
  ASSERT_NE(MustOpen(o, &c), nullptr);
  ASSERT_EQ(c.entries.size(), 11u);
  EXPECT_EQ(c.entries[9], big[9]);
  EXPECT_EQ(c.hard_state, MakeHardState(1, 1, 10));
}

TEST(WalTest, SegmentsLargerThanTheReadWindowReplayExactly) {
  // The reader streams a segment through a window of about 1 MiB: records of every size must
  // come back across its boundaries, including one record larger than the window.
  MemEnv env;
  const Options o = MemOptions(&env, 16ull << 20);
  std::vector<raftpb::Entry> written;
  {
    auto w = Wal::Create(o, TestMetadata()).value();
    Rand rng(5);
    for (uint64_t i = 1; i <= 600; ++i) {
      const size_t size = i == 300 ? (5u << 19) : rng.Uniform(12000);
      written.push_back(MakeEntry(i, 1, std::string(size, static_cast<char>('a' + i % 26))));
      ASSERT_TRUE(w->Save(MakeHardState(1, 1, i), std::vector{written.back()}, false).ok());
    }
    EXPECT_EQ(w->segments().size(), 1u);
  }
  ASSERT_GT(env.Contents(SegPath("0000000000000000-0000000000000001.wal"))->size(), 5u << 20);
  Contents c;
  ASSERT_NE(MustOpen(o, &c), nullptr);
  EXPECT_EQ(c.entries, written);
  EXPECT_EQ(c.hard_state, MakeHardState(1, 1, 600));
}

TEST(WalTest, SnapshotMarkerThenReleaseKeepsWhatItMust) {
  MemEnv env;
  const Options o = MemOptions(&env, 1024);
  auto w = Wal::Create(o, TestMetadata()).value();
  for (uint64_t i = 1; i <= 100; i += 5)
    ASSERT_TRUE(w->Save(MakeHardState(1, 1, i + 4), MakeEntries(i, i + 4, 1)).ok());
  const SnapshotMarker snap{Index(52), Term(1), false};
  ASSERT_TRUE(w->SaveSnapshot(snap).ok());
  ASSERT_TRUE(w->Save(MakeHardState(1, 1, 100), MakeEntries(101, 103, 1)).ok());
  const std::vector<std::string> before = w->segments();
  ASSERT_GE(before.size(), 5u);

  ASSERT_TRUE(w->ReleaseTo(snap.index).ok());
  const std::vector<std::string> after = w->segments();
  ASSERT_LT(after.size(), before.size());
  // The first kept segment starts at or below 52, the next one above it.
  auto first_index = [](const std::string& name) {
    return std::stoull(name.substr(17, 16), 0, 16);
  };
  EXPECT_LE(first_index(after[0]), 52u);
  EXPECT_GT(first_index(after[1]), 52u);
  EXPECT_EQ(after.back(), before.back());
  for (const std::string& gone : std::vector(before.begin(), before.end() - after.size()))
    EXPECT_FALSE(env.Exists(SegPath(gone))) << gone;
  ASSERT_TRUE(w->Close().ok());

  Contents c;
  auto w2 = MustOpen(o, &c);
  ASSERT_NE(w2, nullptr);
  ASSERT_FALSE(c.entries.empty());
  EXPECT_EQ(c.entries.front().index.value(), first_index(after[0]));
  EXPECT_EQ(c.entries.back().index, Index(103));
  EXPECT_EQ(c.entries.size(), 103 - first_index(after[0]) + 1);
  EXPECT_EQ(c.hard_state, MakeHardState(1, 1, 100));
  ASSERT_FALSE(c.snapshots.empty());
  EXPECT_EQ(c.snapshots.back(), snap);
  EXPECT_EQ(w2->last_index(), Index(103));
  // Releasing to an index below every kept segment's start removes nothing.
  ASSERT_TRUE(w2->ReleaseTo(Index(1)).ok());
  EXPECT_EQ(w2->segments(), after);
}

TEST(WalTest, ResetsLogMarkerRestartsTheLogAfterTheSnapshot) {
  MemEnv env;
  const Options o = MemOptions(&env);
  {
    auto w = Wal::Create(o, TestMetadata()).value();
    ASSERT_TRUE(w->Save(MakeHardState(1, 1, 3), MakeEntries(1, 10, 1)).ok());
    // A snapshot from the leader at index 20: the local log is void; the next entry is 21.
    ASSERT_TRUE(w->SaveSnapshot(SnapshotMarker{Index(20), Term(2), true}).ok());
    EXPECT_EQ(w->last_index(), Index(20));
    ASSERT_TRUE(w->Save(MakeHardState(2, 0, 20), MakeEntries(21, 22, 2)).ok());
  }
  Contents c;
  {
    auto w = MustOpen(o, &c);
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(c.entries, MakeEntries(21, 22, 2));
    EXPECT_EQ(c.snapshots.back(), (SnapshotMarker{Index(20), Term(2), true}));
    EXPECT_EQ(w->last_index(), Index(22));
    // A reset below the last index drops the entries above the snapshot only.
    ASSERT_TRUE(w->SaveSnapshot(SnapshotMarker{Index(21), Term(3), true}).ok());
    EXPECT_EQ(w->last_index(), Index(21));
  }
  ASSERT_NE(MustOpen(o, &c), nullptr);
  EXPECT_EQ(Indexes(c.entries), (std::vector<uint64_t>{21}));
}

TEST(WalTest, ASecondOpenOfTheDirectoryFailsWhileTheFirstHoldsTheLock) {
  MemEnv env;
  const Options o = MemOptions(&env);
  auto w = Wal::Create(o, TestMetadata()).value();
  Contents c;
  auto second = Wal::Open(o, &c);
  EXPECT_EQ(second.code(), ErrorCode::kAlreadyExists);
  EXPECT_THAT(second.status().message(), HasSubstr("LOCK"));
  EXPECT_EQ(Repair(o).code(), ErrorCode::kAlreadyExists);
  ASSERT_TRUE(w->Close().ok());
  EXPECT_TRUE(Wal::Open(o, &c).ok());
}

TEST(WalTest, ExpectedClusterAndNodeIdsAreEnforced) {
  MemEnv env;
  Options o = MemOptions(&env);
  ASSERT_TRUE(Wal::Create(o, TestMetadata()).ok());
  Contents c;
  o.expect_cluster_id = 0xc2;
  auto wrong = Wal::Open(o, &c);
  EXPECT_EQ(wrong.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(wrong.status().message(), HasSubstr("cluster c1"));
  o.expect_cluster_id = 0xc1;
  o.expect_node_id = 0x12;
  EXPECT_EQ(Wal::Open(o, &c).code(), ErrorCode::kInvalidArgument);
  o.expect_node_id = 0x11;
  EXPECT_TRUE(Wal::Open(o, &c).ok());
}

TEST(WalTest, ScanListsEveryRecordInOrderAndModifiesNothing) {
  MemEnv env;
  const Options o = MemOptions(&env);
  {
    auto w = Wal::Create(o, TestMetadata()).value();
    ASSERT_TRUE(w->Save(MakeHardState(1, 1, 0), MakeEntries(1, 2, 1)).ok());
    ASSERT_TRUE(w->SaveSnapshot(SnapshotMarker{Index(1), Term(1), false}).ok());
  }
  const std::string seg = SegPath("0000000000000000-0000000000000001.wal");
  const std::string before = env.Contents(seg).value();
  const auto names_before = env.ListDir(kDir).value();
  const ScanResult scan = ScanAll(&env);
  EXPECT_FALSE(scan.damage.has_value());
  std::vector<RecordType> types;
  std::vector<uint32_t> batches;
  std::vector<bool> last;
  for (const RecordInfo& r : scan.records) {
    types.push_back(r.type);
    batches.push_back(r.batch);
    last.push_back(r.last_in_batch);
    EXPECT_EQ(r.offset % 8, 0u);
  }
  using T = RecordType;
  EXPECT_THAT(types, ElementsAre(T::kCrcChain, T::kMetadata, T::kSnapshot, T::kEntry, T::kEntry,
                                 T::kHardState, T::kSnapshot));
  EXPECT_THAT(batches, ElementsAre(0u, 0u, 0u, 1u, 1u, 1u, 2u));
  EXPECT_THAT(last, ElementsAre(false, false, true, false, false, true, true));
  EXPECT_EQ(raftpb::DecodeEntry(scan.records[4].payload).value(), MakeEntry(2, 1));
  EXPECT_EQ(env.Contents(seg).value(), before);
  EXPECT_EQ(env.ListDir(kDir).value(), names_before);
}

TEST(WalTest, EmptySaveWritesNothing) {
  MemEnv env;
  auto w = Wal::Create(MemOptions(&env), TestMetadata()).value();
  ASSERT_TRUE(w->Save({}, {}).ok());
  ASSERT_TRUE(w->Close().ok());
  EXPECT_EQ(ScanAll(&env).records.size(), 3u);
}

TEST(WalTest, EveryCallFailsAfterAnIoFailure) {
  MemEnv env;
  auto w = Wal::Create(MemOptions(&env), TestMetadata()).value();
  ASSERT_TRUE(w->Close().ok());
  Contents c;
  w = MustOpen(MemOptions(&env), &c);
  ASSERT_NE(w, nullptr);
  env.FailAfter(1);
  EXPECT_EQ(w->Save({}, MakeEntries(1, 1, 1)).code(), ErrorCode::kIoError);
  env.ClearFailure();
  EXPECT_EQ(w->Save({}, MakeEntries(1, 1, 1)).code(), ErrorCode::kIoError);
  EXPECT_EQ(w->Sync().code(), ErrorCode::kIoError);
  EXPECT_EQ(w->SaveSnapshot(SnapshotMarker{}).code(), ErrorCode::kIoError);
  EXPECT_EQ(w->ReleaseTo(Index(1)).code(), ErrorCode::kIoError);
}

}  // namespace
}  // namespace raftkit::storage::wal
