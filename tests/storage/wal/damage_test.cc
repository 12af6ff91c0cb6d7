// Named damage cases: what Open truncates (crash tails), what it refuses (with the file and offset
// in the message), what Scan reports, and what Repair may and may not cut.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "raftkit/raftpb/codec.h"
#include "raftkit/util/crc32c.h"
#include "storage/wal/record.h"
#include "storage/wal/wal_test_util.h"

namespace raftkit::storage::wal {
namespace {

using namespace waltest;  // NOLINT(google-build-using-namespace)
using ::testing::HasSubstr;

constexpr const char* kSeg0 = "0000000000000000-0000000000000001.wal";

// A WAL with `batches` batches of two entries each and a HardState, in one segment.
void BuildOneSegment(MemEnv* env, int batches) {
  auto w = Wal::Create(MemOptions(env), TestMetadata()).value();
  for (int b = 0; b < batches; ++b) {
    const auto i = static_cast<uint64_t>(2 * b + 1);
    ASSERT_TRUE(w->Save(MakeHardState(1, 1, i), MakeEntries(i, i + 1, 1)).ok());
  }
  ASSERT_TRUE(w->Close().ok());
}

// A WAL cut into at least `segments` segments (512-byte limit), one entry per batch.
std::vector<std::string> BuildSegments(MemEnv* env, size_t segments) {
  auto w = Wal::Create(MemOptions(env, 512), TestMetadata()).value();
  for (uint64_t i = 1; w->segments().size() < segments || i < 4; ++i)
    EXPECT_TRUE(w->Save(MakeHardState(1, 1, i), MakeEntries(i, i, 1)).ok());
  EXPECT_TRUE(w->Close().ok());
  return w->segments();
}

// The records of one file, as Scan sees them.
std::vector<RecordInfo> RecordsOf(MemEnv* env, const std::string& file) {
  std::vector<RecordInfo> out;
  for (RecordInfo& r : ScanAll(env).records) {
    if (r.file == file) out.push_back(std::move(r));
  }
  return out;
}

// Bytes of one valid record.
std::string RecordBytes(RecordType type, uint32_t batch, bool last, std::string_view payload) {
  std::string out;
  internal::BatchEncoder enc(&out, batch, 0);
  enc.Add(type, payload);
  if (last) enc.Finish();
  return out;
}

// Replaces the record at `r` (as scanned) with a valid record carrying `payload`.
void ReplaceRecord(MemEnv* env, const RecordInfo& r, std::string_view payload) {
  const std::string path = SegPath(r.file);
  std::string data = env->Contents(path).value();
  const uint64_t old_len = internal::kHeaderSize + internal::AlignUp(r.payload.size());
  data.replace(r.offset, old_len, RecordBytes(r.type, r.batch, r.last_in_batch, payload));
  env->SetContents(path, std::move(data));
}

void Truncate(MemEnv* env, const std::string& name, uint64_t size) {
  std::string data = env->Contents(SegPath(name)).value();
  ASSERT_LE(size, data.size());
  data.resize(size);
  env->SetContents(SegPath(name), std::move(data));
}

TEST(WalDamageTest, TornHeaderAtTheEndIsACrashTail) {
  MemEnv env;
  BuildOneSegment(&env, 3);
  const RecordInfo last = RecordsOf(&env, kSeg0).back();  // the third batch's HardState
  Truncate(&env, kSeg0, last.offset + 7);
  Contents c;
  auto w = MustOpen(MemOptions(&env), &c);
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(c.truncated_tail.has_value());
  EXPECT_THAT(*c.truncated_tail,
              HasSubstr(fmt::format("{} offset {}: truncated header", kSeg0, last.offset)));
  EXPECT_EQ(c.truncated_bytes, 7u);
  EXPECT_EQ(c.entries, MakeEntries(1, 6, 1));
  EXPECT_EQ(c.hard_state, MakeHardState(1, 1, 3));
  EXPECT_EQ(env.Contents(SegPath(kSeg0))->size(), last.offset);
  EXPECT_EQ(env.SyncedSize(SegPath(kSeg0)), last.offset);
  // Appends continue where the valid records end.
  ASSERT_TRUE(w->Save(MakeHardState(1, 1, 7), MakeEntries(7, 7, 1)).ok());
  ASSERT_TRUE(w->Close().ok());
  ASSERT_NE(MustOpen(MemOptions(&env), &c), nullptr);
  EXPECT_FALSE(c.truncated_tail.has_value());
  EXPECT_EQ(c.entries, MakeEntries(1, 7, 1));
}

TEST(WalDamageTest, TornPayloadAtTheEndIsACrashTail) {
  MemEnv env;
  BuildOneSegment(&env, 3);
  const std::vector<RecordInfo> recs = RecordsOf(&env, kSeg0);
  const RecordInfo& entry6 = recs[recs.size() - 2];
  ASSERT_EQ(entry6.type, RecordType::kEntry);
  Truncate(&env, kSeg0, entry6.offset + internal::kHeaderSize + 5);
  Contents c;
  ASSERT_NE(MustOpen(MemOptions(&env), &c), nullptr);
  ASSERT_TRUE(c.truncated_tail.has_value());
  EXPECT_THAT(*c.truncated_tail, HasSubstr("truncated payload"));
  EXPECT_EQ(c.entries, MakeEntries(1, 5, 1)) << "the valid records of the torn batch are kept";
  EXPECT_EQ(c.hard_state, MakeHardState(1, 1, 3));
}

TEST(WalDamageTest, ZeroFilledTailIsCutOff) {
  MemEnv env;
  BuildOneSegment(&env, 2);
  const std::string data = env.Contents(SegPath(kSeg0)).value();
  env.SetContents(SegPath(kSeg0), data + std::string(4096, '\0'));
  const ScanResult scan = ScanAll(&env);
  ASSERT_TRUE(scan.damage.has_value());
  EXPECT_TRUE(scan.damage->tail);
  EXPECT_THAT(scan.damage->what, HasSubstr("zero-filled tail"));
  Contents c;
  ASSERT_NE(MustOpen(MemOptions(&env), &c), nullptr);
  EXPECT_EQ(c.truncated_bytes, 4096u);
  EXPECT_EQ(c.entries, MakeEntries(1, 4, 1));
  EXPECT_EQ(env.Contents(SegPath(kSeg0)).value(), data);
}

TEST(WalDamageTest, GarbageFollowedByZerosIsACrashTail) {
  MemEnv env;
  BuildOneSegment(&env, 2);
  const std::string data = env.Contents(SegPath(kSeg0)).value();
  env.SetContents(SegPath(kSeg0), data + "\x13\x57\x9b\xdf garbage" + std::string(100, '\0'));
  Contents c;
  ASSERT_NE(MustOpen(MemOptions(&env), &c), nullptr);
  ASSERT_TRUE(c.truncated_tail.has_value());
  EXPECT_EQ(c.entries, MakeEntries(1, 4, 1));
}

TEST(WalDamageTest, BadCrcMidFileRefusesNamingFileAndOffset) {
  MemEnv env;
  BuildOneSegment(&env, 4);
  const std::vector<RecordInfo> recs = RecordsOf(&env, kSeg0);
  const RecordInfo& entry3 = recs[6];  // batch 2's first entry
  ASSERT_EQ(entry3.type, RecordType::kEntry);
  ASSERT_EQ(entry3.batch, 2u);
  env.FlipByte(SegPath(kSeg0), entry3.offset + internal::kHeaderSize + 3);
  const std::string damaged = env.Contents(SegPath(kSeg0)).value();

  Contents c;
  auto open = Wal::Open(MemOptions(&env), &c);
  ASSERT_EQ(open.code(), ErrorCode::kCorruption);
  EXPECT_THAT(open.status().message(),
              HasSubstr(fmt::format("{}/{} offset {}: bad crc", kDir, kSeg0, entry3.offset)));
  const ScanResult scan = ScanAll(&env);
  ASSERT_TRUE(scan.damage.has_value());
  EXPECT_EQ(scan.damage->file, kSeg0);
  EXPECT_EQ(scan.damage->offset, entry3.offset);
  EXPECT_FALSE(scan.damage->tail);
  EXPECT_FALSE(scan.damage->final_batch_only) << "batches 3 and 4 follow";
  EXPECT_EQ(scan.records.size(), 6u) << "records up to the damage";

  auto refused = Repair(MemOptions(&env));
  EXPECT_EQ(refused.code(), ErrorCode::kCorruption);
  EXPECT_THAT(refused.status().message(), HasSubstr("accept_loss"));
  EXPECT_EQ(env.Contents(SegPath(kSeg0)).value(), damaged) << "Open, Scan and a refused Repair "
                                                              "change nothing";

  auto repaired = Repair(MemOptions(&env), /*accept_loss=*/true);
  ASSERT_TRUE(repaired.ok()) << repaired.status().ToString();
  EXPECT_TRUE(repaired->changed);
  EXPECT_THAT(repaired->description, HasSubstr("4..8"));
  ASSERT_NE(MustOpen(MemOptions(&env), &c), nullptr);
  EXPECT_EQ(c.entries, MakeEntries(1, 2, 1));
  EXPECT_EQ(c.hard_state, MakeHardState(1, 1, 1));
}

TEST(WalDamageTest, BadCrcInTheFinalBatchFollowedByDataIsRepairedWithoutLoss) {
  MemEnv env;
  {
    auto w = Wal::Create(MemOptions(&env), TestMetadata()).value();
    ASSERT_TRUE(w->Save(MakeHardState(1, 1, 0), MakeEntries(1, 3, 1)).ok());
    ASSERT_TRUE(w->Save(MakeHardState(1, 1, 3), MakeEntries(4, 5, 1)).ok());
    ASSERT_TRUE(w->Save(MakeHardState(2, 1, 5), MakeEntries(6, 9, 2)).ok());
  }
  const std::vector<RecordInfo> recs = RecordsOf(&env, kSeg0);
  auto first_of_final = std::find_if(recs.begin(), recs.end(), [](const RecordInfo& r) {
    return r.type == RecordType::kEntry && raftpb::DecodeEntry(r.payload)->index == Index(7);
  });
  ASSERT_NE(first_of_final, recs.end());
  env.FlipByte(SegPath(kSeg0), first_of_final->offset + internal::kHeaderSize + 1);

  Contents c;
  EXPECT_EQ(Wal::Open(MemOptions(&env), &c).code(), ErrorCode::kCorruption)
      << "records follow the damage: not a crash tail";
  const ScanResult scan = ScanAll(&env);
  ASSERT_TRUE(scan.damage.has_value());
  EXPECT_FALSE(scan.damage->tail);
  EXPECT_TRUE(scan.damage->final_batch_only);

  auto repaired = Repair(MemOptions(&env));
  ASSERT_TRUE(repaired.ok()) << repaired.status().ToString();
  EXPECT_TRUE(repaired->changed);
  EXPECT_THAT(repaired->description, HasSubstr("final batch"));
  EXPECT_THAT(repaired->description, HasSubstr("8..9"));
  ASSERT_NE(MustOpen(MemOptions(&env), &c), nullptr);
  std::vector<raftpb::Entry> want = MakeEntries(1, 5, 1);
  want.push_back(MakeEntry(6, 2));
  EXPECT_EQ(c.entries, want) << "every record of the earlier batches is kept";
  EXPECT_EQ(c.hard_state, MakeHardState(1, 1, 3));
}

// A segment of about 3 MiB (larger than the reader's window), 10 KB per entry, one per batch.
void BuildLargeSegment(MemEnv* env) {
  auto w = Wal::Create(MemOptions(env), TestMetadata()).value();
  for (uint64_t i = 1; i <= 300; ++i) {
    const std::string data(10000, static_cast<char>('a' + i % 26));
    ASSERT_TRUE(w->Save(MakeHardState(1, 1, i), std::vector{MakeEntry(i, 1, data)}, false).ok());
  }
  ASSERT_TRUE(w->Close().ok());
}

TEST(WalDamageTest, DamageBeyondTheReadWindowIsReportedAtItsFileOffset) {
  MemEnv env;
  BuildLargeSegment(&env);
  const std::vector<RecordInfo> recs = RecordsOf(&env, kSeg0);
  const RecordInfo& victim = recs[2 * 250 + 3];  // entry 251, past 2 MiB
  ASSERT_EQ(victim.type, RecordType::kEntry);
  ASSERT_GT(victim.offset, 2u << 20);
  env.FlipByte(SegPath(kSeg0), victim.offset + 5000);
  Contents c;
  auto open = Wal::Open(MemOptions(&env), &c);
  ASSERT_EQ(open.code(), ErrorCode::kCorruption);
  EXPECT_THAT(open.status().message(),
              HasSubstr(fmt::format("{} offset {}: bad crc", kSeg0, victim.offset)));
  const ScanResult scan = ScanAll(&env);
  ASSERT_TRUE(scan.damage.has_value());
  EXPECT_EQ(scan.damage->offset, victim.offset);
  EXPECT_FALSE(scan.damage->final_batch_only);
  auto repaired = Repair(MemOptions(&env), true);
  ASSERT_TRUE(repaired.ok()) << repaired.status().ToString();
  EXPECT_THAT(repaired->description, HasSubstr("252..300"));
  ASSERT_NE(MustOpen(MemOptions(&env), &c), nullptr);
  EXPECT_EQ(c.entries.size(), 250u);
}

TEST(WalDamageTest, TornTailOfALargeSegmentIsCutAtTheLastValidRecord) {
  MemEnv env;
  BuildLargeSegment(&env);
  const RecordInfo last_entry = RecordsOf(&env, kSeg0)[2 * 299 + 3];  // entry 300
  const uint64_t size = env.Contents(SegPath(kSeg0))->size();
  Truncate(&env, kSeg0, last_entry.offset + 7000);
  env.SetContents(SegPath(kSeg0),
                  env.Contents(SegPath(kSeg0)).value() + std::string(1u << 20, '\0'));
  Contents c;
  ASSERT_NE(MustOpen(MemOptions(&env), &c), nullptr);
  ASSERT_TRUE(c.truncated_tail.has_value());
  EXPECT_THAT(*c.truncated_tail, HasSubstr(fmt::format("offset {}: bad crc", last_entry.offset)));
  EXPECT_EQ(c.entries.size(), 299u);
  EXPECT_EQ(env.Contents(SegPath(kSeg0))->size(), last_entry.offset);
  EXPECT_LT(last_entry.offset, size);
}

TEST(WalDamageTest, RepairWithoutDamageChangesNothing) {
  MemEnv env;
  BuildOneSegment(&env, 2);
  auto r = Repair(MemOptions(&env));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->changed);
}

TEST(WalDamageTest, MissingSegmentRefusesNamingIt) {
  MemEnv env;
  const std::vector<std::string> segs = BuildSegments(&env, 3);
  ASSERT_TRUE(env.Remove(SegPath(segs[1])).ok());
  Contents c;
  auto open = Wal::Open(MemOptions(&env), &c);
  ASSERT_EQ(open.code(), ErrorCode::kCorruption);
  EXPECT_THAT(open.status().message(), HasSubstr("missing segment seq 0000000000000001"));
  EXPECT_THAT(open.status().message(), HasSubstr(segs[2]));
  // Only accept_loss cuts there, and the report names the entries of the segments it removes.
  EXPECT_EQ(Repair(MemOptions(&env)).code(), ErrorCode::kCorruption);
  auto repaired = Repair(MemOptions(&env), true);
  ASSERT_TRUE(repaired.ok()) << repaired.status().ToString();
  const uint64_t first_lost = std::stoull(segs[2].substr(17, 16), nullptr, 16);
  EXPECT_THAT(repaired->description,
              HasSubstr(fmt::format("lost, possibly acknowledged: {}", first_lost)));
  ASSERT_NE(MustOpen(MemOptions(&env), &c), nullptr);
  EXPECT_EQ(c.entries.back().index + 1, Index(std::stoull(segs[1].substr(17, 16), nullptr, 16)));
}

TEST(WalDamageTest, BrokenCrcChainRefuses) {
  MemEnv env;
  const std::vector<std::string> segs = BuildSegments(&env, 2);
  // A valid record (its own CRC matches) with different content: only the chain can tell.
  std::vector<RecordInfo> recs = RecordsOf(&env, segs[0]);
  std::erase_if(recs, [](const RecordInfo& r) { return r.type != RecordType::kEntry; });
  ASSERT_FALSE(recs.empty());
  const RecordInfo entry = recs.back();
  raftpb::Entry e = raftpb::DecodeEntry(entry.payload).value();
  e.data = Bytes(std::string("forged"));
  ReplaceRecord(&env, entry, raftpb::Encode(e));
  Contents c;
  auto open = Wal::Open(MemOptions(&env), &c);
  ASSERT_EQ(open.code(), ErrorCode::kCorruption);
  EXPECT_THAT(open.status().message(), HasSubstr(segs[1] + " offset 0: broken crc chain"));
}

TEST(WalDamageTest, MetadataThatDiffersBetweenSegmentsRefuses) {
  MemEnv env;
  const std::vector<std::string> segs = BuildSegments(&env, 2);
  const RecordInfo md = RecordsOf(&env, segs[1])[1];
  ASSERT_EQ(md.type, RecordType::kMetadata);
  ReplaceRecord(&env, md, internal::EncodeMetadata(Metadata{0x11, 0xc9, "app"}));
  Contents c;
  auto open = Wal::Open(MemOptions(&env), &c);
  ASSERT_EQ(open.code(), ErrorCode::kCorruption);
  EXPECT_THAT(open.status().message(), HasSubstr("metadata differs"));
}

TEST(WalDamageTest, BadFileNameRefusesAndRepairCannotFixIt) {
  MemEnv env;
  BuildOneSegment(&env, 1);
  env.SetContents(SegPath("0000000000000001-ZZ.wal"), "x");
  Contents c;
  auto open = Wal::Open(MemOptions(&env), &c);
  ASSERT_EQ(open.code(), ErrorCode::kCorruption);
  EXPECT_THAT(open.status().message(),
              HasSubstr("0000000000000001-ZZ.wal offset 0: bad file name"));
  EXPECT_EQ(Repair(MemOptions(&env), true).code(), ErrorCode::kCorruption);
}

TEST(WalDamageTest, EntryIndexGapRefuses) {
  MemEnv env;
  BuildOneSegment(&env, 2);  // entries 1..4, batches 0..2
  std::string data = env.Contents(SegPath(kSeg0)).value();
  data += RecordBytes(RecordType::kEntry, 3, true, raftpb::Encode(MakeEntry(9, 1)));
  env.SetContents(SegPath(kSeg0), data);
  Contents c;
  auto open = Wal::Open(MemOptions(&env), &c);
  ASSERT_EQ(open.code(), ErrorCode::kCorruption);
  EXPECT_THAT(open.status().message(), HasSubstr("entry index gap: entry 9 follows entry 4"));
}

TEST(WalDamageTest, LastSegmentWithoutAValidRecordIsRemoved) {
  MemEnv env;
  const std::vector<std::string> segs = BuildSegments(&env, 3);
  Contents before;
  ASSERT_NE(MustOpen(MemOptions(&env), &before), nullptr);
  // A crash right after the rename: the new segment's name is durable, its bytes are not.
  env.SetContents(SegPath(segs.back()), "");
  Contents c;
  auto w = MustOpen(MemOptions(&env, 512), &c);
  ASSERT_NE(w, nullptr);
  EXPECT_FALSE(env.Exists(SegPath(segs.back())));
  ASSERT_TRUE(c.truncated_tail.has_value());
  EXPECT_THAT(*c.truncated_tail, HasSubstr("incomplete segment header"));
  EXPECT_EQ(w->segments().size(), segs.size() - 1);
  // The removed segment held only the header and the first batch after the cut.
  ASSERT_FALSE(c.entries.empty());
  EXPECT_EQ(c.entries.back().index + 1, before.entries.back().index);
  // The next Save cuts again, to the same name.
  const uint64_t next = w->last_index().value() + 1;
  ASSERT_TRUE(w->Save({}, MakeEntries(next, next, 1)).ok());
  EXPECT_EQ(w->segments().back(), segs.back());
}

TEST(WalDamageTest, NewSegmentWithATornHeaderIsRemoved) {
  MemEnv env;
  const std::vector<std::string> segs = BuildSegments(&env, 2);
  const std::vector<RecordInfo> recs = RecordsOf(&env, segs[1]);
  Truncate(&env, segs[1], recs[2].offset + 3);  // chain and metadata survive
  Contents c;
  auto w = MustOpen(MemOptions(&env, 512), &c);
  ASSERT_NE(w, nullptr);
  EXPECT_FALSE(env.Exists(SegPath(segs[1])));
  EXPECT_EQ(w->segments(), std::vector<std::string>{segs[0]});
}

TEST(WalDamageTest, TheOnlyRetainedSegmentIsNeverRemovedAsATail) {
  MemEnv env;
  auto w = Wal::Create(MemOptions(&env, 512), TestMetadata()).value();
  for (uint64_t i = 1; w->segments().size() < 3; ++i)
    ASSERT_TRUE(w->Save(MakeHardState(1, 1, i), MakeEntries(i, i, 1)).ok());
  ASSERT_TRUE(w->ReleaseTo(w->last_index()).ok());
  const std::vector<std::string> segs = w->segments();
  ASSERT_TRUE(w->Close().ok());
  ASSERT_EQ(segs.size(), 1u);
  Truncate(&env, segs[0], 20);  // inside the header: the segment could not be read on its own
  Contents c;
  EXPECT_EQ(Wal::Open(MemOptions(&env), &c).code(), ErrorCode::kCorruption);
  EXPECT_EQ(Repair(MemOptions(&env)).code(), ErrorCode::kCorruption);
  EXPECT_TRUE(env.Exists(SegPath(segs[0])));
}

TEST(WalDamageTest, DamageInAnOlderSegmentIsNeverATail) {
  MemEnv env;
  const std::vector<std::string> segs = BuildSegments(&env, 3);
  Truncate(&env, segs[0], env.Contents(SegPath(segs[0]))->size() - 3);
  const ScanResult scan = ScanAll(&env);
  ASSERT_TRUE(scan.damage.has_value());
  EXPECT_EQ(scan.damage->file, segs[0]);
  EXPECT_FALSE(scan.damage->tail);
  EXPECT_FALSE(scan.damage->final_batch_only);
  Contents c;
  EXPECT_EQ(Wal::Open(MemOptions(&env), &c).code(), ErrorCode::kCorruption);
  auto r = Repair(MemOptions(&env), true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(r->description, HasSubstr("removed 2 later segments"));
  ASSERT_NE(MustOpen(MemOptions(&env), &c), nullptr);
}

TEST(WalDamageTest, ScanOfAMissingDirectoryIsAnError) {
  MemEnv env;
  EXPECT_EQ(Scan(&env, "/nowhere", {}).code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace raftkit::storage::wal
