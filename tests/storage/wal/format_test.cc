// The disk format: the worked example of docs/formats/wal.md byte for byte, the record layer's
// framing rules, the hand-written Entry decoder against raftpb's, segment names, and the fuzz seed
// corpus (tests/fuzz/corpus/wal/).
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "raftkit/raftpb/codec.h"
#include "raftkit/util/rand.h"
#include "storage/wal/record.h"
#include "storage/wal/segment.h"
#include "storage/wal/wal_test_util.h"

namespace raftkit::storage::wal {
namespace {

using namespace waltest;  // NOLINT(google-build-using-namespace)
using internal::Frame;
using internal::FrameKind;
using internal::ReadFrame;

// 16 bytes per line: offset, hex bytes in groups of 8, as in the format document.
std::string HexDump(std::string_view data) {
  std::string out;
  for (size_t off = 0; off < data.size(); off += 16) {
    out += fmt::format("{:04x}:", off);
    for (size_t i = off; i < std::min(off + 16, data.size()); ++i) {
      if (i % 8 == 0) out += ' ';
      out += fmt::format(" {:02x}", static_cast<unsigned char>(data[i]));
    }
    out += '\n';
  }
  return out;
}

// The example of docs/formats/wal.md: a fresh WAL, then one Save of two entries and a HardState.
std::string WorkedExampleSegment() {
  MemEnv env;
  auto w = Wal::Create(MemOptions(&env), Metadata{0x1, 0x1000, ""}).value();
  std::vector<raftpb::Entry> ents = {MakeEntry(1, 1, "a"), MakeEntry(2, 1, "bc")};
  EXPECT_TRUE(w->Save(MakeHardState(1, 1, 2), ents).ok());
  EXPECT_TRUE(w->Close().ok());
  return env.Contents(SegPath("0000000000000000-0000000000000001.wal")).value();
}

constexpr std::string_view kWorkedExample =
    R"(0000:  a3 7b 1d 7c 10 00 00 00  01 00 00 00 00 00 00 00
0010:  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00
0020:  f4 c4 70 f8 10 00 00 00  02 00 00 00 00 00 00 00
0030:  01 00 00 00 00 00 00 00  00 10 00 00 00 00 00 00
0040:  6c ac 78 5f 18 00 00 00  05 01 00 00 00 00 00 00
0050:  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00
0060:  00 00 00 00 00 00 00 00  58 fe 1c fb 09 00 00 00
0070:  03 00 00 00 01 00 00 00  08 00 10 01 18 01 22 01
0080:  61 00 00 00 00 00 00 00  c2 43 10 35 0a 00 00 00
0090:  03 00 00 00 01 00 00 00  08 00 10 01 18 02 22 02
00a0:  62 63 00 00 00 00 00 00  d5 12 15 12 06 00 00 00
00b0:  04 01 00 00 01 00 00 00  08 01 10 01 18 02 00 00
)";

TEST(WalFormatTest, WorkedExampleOfTheFormatDocumentIsByteExact) {
  const std::string dump = HexDump(WorkedExampleSegment());
  if (std::getenv("RAFTKIT_WAL_PRINT_EXAMPLE") != nullptr) std::fputs(dump.c_str(), stdout);
  EXPECT_EQ(dump, kWorkedExample);
}

std::string OneRecord(RecordType type, uint32_t batch, bool last, std::string_view payload) {
  std::string out;
  internal::BatchEncoder enc(&out, batch, 0);
  enc.Add(type, payload);
  if (last) enc.Finish();
  return out;
}

TEST(WalFormatTest, RecordsAreAlignedPaddedWithZerosAndRoundTrip) {
  for (size_t len : {0u, 1u, 7u, 8u, 9u, 100u}) {
    const std::string payload(len, 'p');
    const std::string rec = OneRecord(RecordType::kEntry, 0x01020304, true, payload);
    EXPECT_EQ(rec.size(), internal::kHeaderSize + internal::AlignUp(len));
    const Frame f = ReadFrame(rec, 0);
    ASSERT_EQ(f.kind, FrameKind::kRecord) << f.what;
    EXPECT_EQ(f.record.payload, payload);
    EXPECT_EQ(f.record.batch, 0x01020304u);
    EXPECT_TRUE(f.record.last_in_batch());
    EXPECT_EQ(f.record.end, rec.size());
  }
}

TEST(WalFormatTest, FramingRejectsWhatTheWriterNeverWrites) {
  const std::string good = OneRecord(RecordType::kEntry, 1, false, "abc");
  auto damaged = [&](size_t offset, char value) {
    std::string b = good;
    b[offset] = value;
    return ReadFrame(b, 0);
  };
  EXPECT_EQ(damaged(16, 'x').what, "bad crc");
  EXPECT_EQ(damaged(20, 1).what, "non-zero padding");
  EXPECT_EQ(ReadFrame(good.substr(0, 10), 0).what, "truncated header (10 of 16 bytes)");
  EXPECT_EQ(ReadFrame(good.substr(0, 17), 0).what, "truncated payload (1 of 3 bytes)");
  EXPECT_EQ(ReadFrame(good.substr(0, 20), 0).what, "truncated padding");
  EXPECT_EQ(ReadFrame(std::string(32, '\0'), 0).kind, FrameKind::kZeros);
  EXPECT_EQ(ReadFrame(good, good.size()).kind, FrameKind::kEnd);
  // Valid CRCs over values the format does not allow.
  std::string payload = "abc";
  std::string bad_type;
  internal::BatchEncoder(&bad_type, 1, 0).Add(static_cast<RecordType>(9), payload);
  EXPECT_EQ(ReadFrame(bad_type, 0).what, "bad header: unknown record type 9");
  std::string huge = good;
  huge[7] = 0x10;  // length 0x10000003 > 128 MiB
  EXPECT_THAT(ReadFrame(huge, 0).what, ::testing::HasSubstr("exceeds the maximum"));
}

TEST(WalFormatTest, FastEntryDecoderAgreesWithRaftpb) {
  Rand rng(42);
  for (int i = 0; i < 2000; ++i) {
    raftpb::Entry e;
    e.type = static_cast<raftpb::EntryType>(rng.Uniform(3));
    e.term = Term(rng.Next() >> rng.Uniform(64));
    e.index = Index(rng.Next() >> rng.Uniform(64));
    switch (rng.Uniform(3)) {
      case 0:
        break;  // null data
      case 1:
        e.data = Bytes::Empty();
        break;
      default:
        e.data = Bytes(std::string(rng.Uniform(300), static_cast<char>(rng.Next())));
    }
    const std::string bytes = raftpb::Encode(e);
    raftpb::Entry fast;
    ASSERT_TRUE(internal::DecodeEntryFast(bytes, &fast));
    EXPECT_EQ(fast, raftpb::DecodeEntry(bytes).value());
    EXPECT_EQ(fast, e);
  }
}

TEST(WalFormatTest, NonCanonicalEntriesFallBackToRaftpb) {
  raftpb::Entry e = MakeEntry(5, 2);
  e.unknown_fields = Bytes(std::string("\x30\x01", 2));
  const std::string with_unknown = raftpb::Encode(e);
  raftpb::Entry scratch;
  EXPECT_FALSE(internal::DecodeEntryFast(with_unknown, &scratch));
  EXPECT_EQ(internal::DecodeEntryPayload(with_unknown).value(), e);
  // Fields out of order: index before term.
  const std::string reordered("\x08\x00\x18\x05\x10\x02", 6);
  EXPECT_FALSE(internal::DecodeEntryFast(reordered, &scratch));
  EXPECT_EQ(internal::DecodeEntryPayload(reordered).value(),
            raftpb::DecodeEntry(reordered).value());
  // A negative type (sign-extended int32) is left to protobuf.
  raftpb::Entry neg = MakeEntry(1, 1);
  neg.type = static_cast<raftpb::EntryType>(-1);
  const std::string neg_bytes = raftpb::Encode(neg);
  EXPECT_FALSE(internal::DecodeEntryFast(neg_bytes, &scratch));
  EXPECT_EQ(internal::DecodeEntryPayload(neg_bytes).value(), neg);
  // Garbage is an error, not a crash.
  EXPECT_FALSE(internal::DecodeEntryPayload("\x22\x7f").ok());
}

TEST(WalFormatTest, SegmentNamesAreStrictLowerCaseHex) {
  EXPECT_EQ(internal::SegmentFileName(0x1a, Index(0x2b)), "000000000000001a-000000000000002b.wal");
  internal::SegmentId id;
  ASSERT_TRUE(internal::ParseSegmentFileName("000000000000001a-000000000000002b.wal", &id));
  EXPECT_EQ(id.seq, 0x1au);
  EXPECT_EQ(id.first_index, Index(0x2b));
  for (const char* bad :
       {"000000000000001A-000000000000002b.wal", "1a-2b.wal",
        "000000000000001a_000000000000002b.wal", "000000000000001a-000000000000002b.wal.tmp",
        "000000000000001a-000000000000002bx.wal"}) {
    EXPECT_FALSE(internal::ParseSegmentFileName(bad, &id)) << bad;
  }
}

TEST(WalFormatTest, SnapshotMarkerPayloadCarriesTheResetFlag) {
  const SnapshotMarker m{Index(7), Term(3), true};
  const std::string p = internal::EncodeSnapshotMarker(m);
  ASSERT_EQ(p.size(), 24u);
  EXPECT_EQ(internal::DecodeSnapshotMarker(p), m);
  std::string bad = p;
  bad[16] = 0x02;  // an unknown flag
  EXPECT_FALSE(internal::DecodeSnapshotMarker(bad).has_value());
}

// --- the fuzz seed corpus -----------------------------------------------------------------------

// Small real segments: what tests/fuzz/corpus/wal/ holds. Regenerate with
// RAFTKIT_WAL_WRITE_CORPUS=<dir> ./wal_test --gtest_filter='*SeedCorpus*'.
std::map<std::string, std::string> SeedSegments() {
  std::map<std::string, std::string> out;
  MemEnv env;
  {
    auto w = Wal::Create(MemOptions(&env, 1024), Metadata{1, 0x1000, "kv"}).value();
    out["empty"] = env.Contents(SegPath("0000000000000000-0000000000000001.wal")).value();
    EXPECT_TRUE(w->Save(MakeHardState(1, 1, 0), MakeEntries(1, 3, 1)).ok());
    out["three_entries"] = env.Contents(SegPath(w->segments().back())).value();
    EXPECT_TRUE(w->Save(MakeHardState(2, 2, 2), MakeEntries(3, 4, 2)).ok());  // an overwrite
    EXPECT_TRUE(w->SaveSnapshot(SnapshotMarker{Index(2), Term(1), false}).ok());
    out["overwrite_and_marker"] = env.Contents(SegPath(w->segments().back())).value();
    for (uint64_t i = 5; w->segments().size() < 3; ++i)
      EXPECT_TRUE(w->Save(MakeHardState(2, 2, i - 1), MakeEntries(i, i, 2)).ok());
    const Index reset = w->last_index() + 5;  // a leader's snapshot beyond the local log
    EXPECT_TRUE(w->SaveSnapshot(SnapshotMarker{reset, Term(3), true}).ok());
    EXPECT_TRUE(w->Save(MakeHardState(3, 0, reset.value()),
                        MakeEntries(reset.value() + 1, reset.value() + 1, 3))
                    .ok());
    const auto segs = w->segments();
    EXPECT_TRUE(w->Close().ok());
    out["full_first_segment"] = env.Contents(SegPath(segs[0])).value();
    out["second_segment"] = env.Contents(SegPath(segs[1])).value();
    out["resets_log"] = env.Contents(SegPath(segs[2])).value();
  }
  std::string torn = out["three_entries"];
  torn.resize(torn.size() - 5);
  out["torn_tail"] = torn;
  return out;
}

TEST(WalFormatTest, SeedCorpusIsSmallRealSegmentsThatScanCleanly) {
  const std::map<std::string, std::string> seeds = SeedSegments();
  if (const char* dir = std::getenv("RAFTKIT_WAL_WRITE_CORPUS")) {
    std::filesystem::create_directories(dir);
    for (const auto& [name, bytes] : seeds)
      std::ofstream(std::filesystem::path(dir) / name, std::ios::binary) << bytes;
  }
  for (const auto& [name, bytes] : seeds) {
    EXPECT_LT(bytes.size(), 4096u) << name;
    MemEnv env;
    env.SetContents(SegPath("0000000000000000-0000000000000001.wal"), bytes);
    auto damage = Scan(&env, kDir, {});
    ASSERT_TRUE(damage.ok());
    // The first segment is self-contained; later ones start with a chain Scan cannot verify
    // alone, and the torn one has a crash tail.
    if (name == "empty" || name == "three_entries" || name == "overwrite_and_marker" ||
        name == "full_first_segment") {
      EXPECT_FALSE(damage->has_value()) << name << ": " << (*damage)->what;
    }
  }
  // The committed corpus is what this test generates.
  const char* src = std::getenv("RAFTKIT_SOURCE_DIR");
  if (src == nullptr || *src == '\0') src = RAFTKIT_TEST_SOURCE_DIR;
  for (const auto& [name, bytes] : seeds) {
    const auto path = std::filesystem::path(src) / "tests/fuzz/corpus/wal" / name;
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(in.good()) << path;
    const std::string committed((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
    EXPECT_EQ(committed, bytes) << path;
  }
}

}  // namespace
}  // namespace raftkit::storage::wal
