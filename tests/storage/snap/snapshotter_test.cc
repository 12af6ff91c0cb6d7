// Snapshotter behaviour on in-memory files (MemEnv), plus one round trip on the real file system:
// save/load, naming and order, streaming in bounded chunks, refusal of wrong-sized sources, and
// the recovery rules (damaged files set aside as .broken, leftovers removed, purging).
#include "raftkit/storage/snap/snapshotter.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "raftkit/raftpb/codec.h"
#include "raftkit/storage/fs/mem_env.h"
#include "raftkit/util/crc32c.h"
#include "storage/snap/snap_test_util.h"

namespace raftkit::storage::snap {
namespace {

using testing::FailingSource;
using testing::GreedySource;
using testing::Metadata;
using testing::PatternSnap;
using testing::PatternSource;
using testing::RecordingEnv;
using testing::SameSnapshot;
using testing::Snap;

constexpr const char* kDir = "/data/snap";

class SnapshotterTest : public ::testing::Test {
 protected:
  Snapshotter Make(size_t chunk = 1u << 20) { return Snapshotter(Options{&env_, kDir, chunk}); }
  static std::string Path(const std::string& name) { return std::string(kDir) + "/" + name; }
  static std::string NameOf(uint64_t term, uint64_t index) {
    return Snapshotter::FileName(Term(term), Index(index));
  }
  std::vector<std::string> Names() { return env_.ListDir(kDir).value(); }
  // The file of (term, index) as saved, for damaging copies of it.
  std::string Contents(uint64_t term, uint64_t index) {
    return env_.Contents(Path(NameOf(term, index))).value();
  }

  MemEnv env_;
};

TEST_F(SnapshotterTest, SaveThenLoadReturnsTheSameMetadataAndData) {
  Snapshotter s = Make();
  raftpb::Snapshot snap = PatternSnap(3, 42, 1000);
  snap.metadata.conf_state.learners = {NodeId(9)};
  snap.metadata.conf_state.voters_outgoing = {NodeId(1), NodeId(2)};
  snap.metadata.conf_state.learners_next = {NodeId(3)};
  snap.metadata.conf_state.auto_leave = true;
  ASSERT_TRUE(s.Save(snap).ok());

  auto files = s.List();
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].name, NameOf(3, 42));
  EXPECT_EQ((*files)[0].term, Term(3));
  EXPECT_EQ((*files)[0].index, Index(42));
  EXPECT_EQ((*files)[0].size, 32 + raftpb::Encode(snap.metadata).size() + 1000 + 8);

  auto loaded = s.Load(NameOf(3, 42));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_TRUE(SameSnapshot(*loaded, snap));
  auto newest = s.LoadNewest();
  ASSERT_TRUE(newest.ok()) << newest.status().ToString();
  EXPECT_TRUE(SameSnapshot(*newest, snap));
}

TEST_F(SnapshotterTest, EmptyDataRoundTrips) {
  Snapshotter s = Make();
  ASSERT_TRUE(s.Save(Snap(1, 1, "")).ok());
  auto loaded = s.LoadNewest();
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_TRUE(SameSnapshot(*loaded, Snap(1, 1, "")));
  EXPECT_TRUE(loaded->data.empty());
}

TEST_F(SnapshotterTest, SavingAnEmptySnapshotIsRefused) {
  Snapshotter s = Make();
  EXPECT_EQ(s.Save(Snap(1, 0, "x")).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.LoadNewest().code(), ErrorCode::kNotFound);
}

TEST_F(SnapshotterTest, SavingTheSameTermAndIndexAgainReplacesTheFile) {
  Snapshotter s = Make();
  ASSERT_TRUE(s.Save(Snap(2, 10, "old")).ok());
  ASSERT_TRUE(s.Save(Snap(2, 10, "new state")).ok());
  EXPECT_EQ(Names(), std::vector<std::string>{NameOf(2, 10)});
  auto loaded = s.LoadNewest();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->data.view(), "new state");
}

TEST_F(SnapshotterTest, FileNameIsSixteenHexDigitsOfTermAndIndex) {
  EXPECT_EQ(Snapshotter::FileName(Term(0x1a), Index(0x2b)),
            "000000000000001a-000000000000002b.snap");
  EXPECT_EQ(Snapshotter::FileName(Term(~0ull), Index(1)), "ffffffffffffffff-0000000000000001.snap");

  const auto parsed = Snapshotter::ParseFileName("000000000000001a-000000000000002b.snap");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->first, Term(0x1a));
  EXPECT_EQ(parsed->second, Index(0x2b));
  const std::vector<std::string> bad_names = {
      "000000000000001A-000000000000002b.snap",         // uppercase
      "00000000000001a-000000000000002b.snap",          // 15 digits
      "000000000000001a_000000000000002b.snap",         // separator
      "000000000000001a-000000000000002g.snap",         // not hex
      "000000000000001a-000000000000002b.wal",          // suffix
      "000000000000001a-000000000000002b.snap.tmp",     // a temporary
      "000000000000001a-000000000000002b.snap.broken",  // set aside
      "",
      "snap",
  };
  for (const std::string& bad : bad_names) {
    EXPECT_FALSE(Snapshotter::ParseFileName(bad).has_value()) << bad;
  }
}

TEST_F(SnapshotterTest, ListSortsNewestFirstByTermThenIndexAndIgnoresOtherFiles) {
  Snapshotter s = Make();
  for (auto [term, index] : {std::pair{1, 10}, {2, 5}, {1, 20}, {2, 7}, {1, 15}}) {
    ASSERT_TRUE(s.Save(PatternSnap(term, index)).ok());
  }
  env_.SetContents(Path("README"), "not a snapshot");
  env_.SetContents(Path("000000000000000A-0000000000000001.snap"), "uppercase: not ours");

  auto files = s.List();
  ASSERT_TRUE(files.ok());
  std::vector<std::pair<uint64_t, uint64_t>> order;
  for (const FileInfo& f : *files)
    order.emplace_back(f.term.value(), f.index.value());
  EXPECT_EQ(order, (std::vector<std::pair<uint64_t, uint64_t>>{
                       {2, 7}, {2, 5}, {1, 20}, {1, 15}, {1, 10}}));

  auto newest = s.LoadNewest();
  ASSERT_TRUE(newest.ok());
  EXPECT_TRUE(SameSnapshot(*newest, PatternSnap(2, 7)));
  EXPECT_TRUE(env_.Exists(Path("README")));
}

TEST_F(SnapshotterTest, MissingDirectoryIsCreatedAndHoldsNoSnapshot) {
  Snapshotter s = Make();
  EXPECT_FALSE(env_.Exists(kDir));
  EXPECT_EQ(s.LoadNewest().code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.FindNewest().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(env_.Exists(kDir));
}

// 40 MiB of state goes through SaveStream and comes back through OpenReader without any read,
// write or source request larger than chunk_size.
TEST_F(SnapshotterTest, StreamsFortyMiBInChunksNoLargerThanChunkSize) {
  constexpr uint64_t kSize = uint64_t{40} << 20;
  constexpr size_t kChunk = 256u << 10;
  RecordingEnv rec(&env_);
  Snapshotter s(Options{&rec, kDir, kChunk});
  PatternSource source(kSize);
  ASSERT_TRUE(s.SaveStream(Metadata(4, 1000), kSize, &source).ok());
  EXPECT_LE(source.max_request(), kChunk);
  EXPECT_LE(rec.max_append(), kChunk);
  EXPECT_GT(rec.max_append(), 0u);

  auto found = s.FindNewest();  // verifies by streaming, too
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->name, NameOf(4, 1000));

  auto reader = s.OpenReader(found->name);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->header().data_size, kSize);
  EXPECT_EQ((*reader)->header().metadata, Metadata(4, 1000));
  std::string chunk;
  uint64_t total = 0;
  uint32_t crc = 0;
  bool first_bytes_match = true;
  while (true) {
    const Status st = (*reader)->Next(&chunk);
    ASSERT_TRUE(st.ok()) << st.ToString();
    if (chunk.empty()) break;
    ASSERT_LE(chunk.size(), kChunk);
    if (total == 0) {
      for (size_t i = 0; i < 64; ++i)
        first_bytes_match &= chunk[i] == PatternSource::ByteAt(i);
    }
    crc = crc32c::Extend(crc, chunk.data(), chunk.size());
    total += chunk.size();
  }
  EXPECT_EQ(total, kSize);
  EXPECT_EQ(crc, source.crc());
  EXPECT_TRUE(first_bytes_match);
  EXPECT_LE(rec.max_read(), kChunk);
}

TEST_F(SnapshotterTest, SourceEndingEarlyIsRefusedAndLeavesNothing) {
  Snapshotter s = Make(64);
  ASSERT_TRUE(s.Save(PatternSnap(1, 5)).ok());
  PatternSource source(1000, 0, /*short_by=*/1);
  EXPECT_EQ(s.SaveStream(Metadata(1, 9), 1000, &source).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(Names(), std::vector<std::string>{NameOf(1, 5)});
  auto newest = s.LoadNewest();
  ASSERT_TRUE(newest.ok());
  EXPECT_TRUE(SameSnapshot(*newest, PatternSnap(1, 5)));
}

TEST_F(SnapshotterTest, SourceYieldingMoreThanAnnouncedIsRefusedAndLeavesNothing) {
  Snapshotter s = Make(64);
  PatternSource longer(1000, /*extra=*/1);
  EXPECT_EQ(s.SaveStream(Metadata(1, 9), 1000, &longer).code(), ErrorCode::kInvalidArgument);
  // A source that ignores `max` is refused the same way, even if the total would be right.
  GreedySource greedy(std::string(1000, 'g'));
  EXPECT_EQ(s.SaveStream(Metadata(1, 9), 1000, &greedy).code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Names().empty());
  EXPECT_EQ(s.LoadNewest().code(), ErrorCode::kNotFound);
}

TEST_F(SnapshotterTest, DataSizeThatCannotFitInAFileIsRefusedBeforeReading) {
  Snapshotter s = Make(64);
  PatternSource source(0);
  EXPECT_EQ(s.SaveStream(Metadata(1, 9), ~uint64_t{0} - 10, &source).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(source.max_request(), 0u);
}

TEST_F(SnapshotterTest, SourceErrorIsReturnedAsIsAndLeavesNothing) {
  Snapshotter s = Make(64);
  FailingSource source(300);
  EXPECT_EQ(s.SaveStream(Metadata(1, 9), 1000, &source).code(), ErrorCode::kIoError);
  EXPECT_TRUE(Names().empty());
}

// Every single-byte change anywhere in the newest file is caught: header fields by the header
// CRC, magic and reserved word by their own checks, metadata and data by the payload CRC, the
// trailer by itself. The file is set aside as .broken and the older snapshot is loaded.
TEST_F(SnapshotterTest, AnyDamagedByteSetsTheFileAsideAndTheOlderOneIsLoaded) {
  Snapshotter s = Make(16);
  ASSERT_TRUE(s.Save(PatternSnap(1, 10, 50)).ok());
  ASSERT_TRUE(s.Save(PatternSnap(1, 20, 50)).ok());
  const std::string good = Contents(1, 20);
  const std::string name = NameOf(1, 20);
  for (size_t off = 0; off < good.size(); ++off) {
    SCOPED_TRACE("offset " + std::to_string(off));
    env_.SetContents(Path(name), good);
    env_.FlipByte(Path(name), off, 0x01);
    std::vector<std::string> broken;
    auto loaded = s.LoadNewest(nullptr, &broken);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_TRUE(SameSnapshot(*loaded, PatternSnap(1, 10, 50)));
    EXPECT_EQ(broken, std::vector<std::string>{name});
    EXPECT_EQ(Names(), (std::vector<std::string>{NameOf(1, 10), name + ".broken"}));
    ASSERT_TRUE(env_.Remove(Path(name + ".broken")).ok());
  }
}

TEST_F(SnapshotterTest, TruncatedFileIsSetAsideAtEveryLength) {
  Snapshotter s = Make(16);
  ASSERT_TRUE(s.Save(PatternSnap(1, 10, 30)).ok());
  ASSERT_TRUE(s.Save(PatternSnap(1, 20, 30)).ok());
  const std::string good = Contents(1, 20);
  const std::string name = NameOf(1, 20);
  for (size_t len = 0; len < good.size(); ++len) {
    SCOPED_TRACE("length " + std::to_string(len));
    env_.SetContents(Path(name), good.substr(0, len));
    std::vector<std::string> broken;
    auto found = s.FindNewest(nullptr, &broken);
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    EXPECT_EQ(found->name, NameOf(1, 10));
    EXPECT_EQ(broken, std::vector<std::string>{name});
    ASSERT_TRUE(env_.Remove(Path(name + ".broken")).ok());
  }
}

TEST_F(SnapshotterTest, TrailingGarbageIsASizeMismatch) {
  Snapshotter s = Make();
  ASSERT_TRUE(s.Save(PatternSnap(1, 20)).ok());
  env_.SetContents(Path(NameOf(1, 20)), Contents(1, 20) + "x");
  auto reader = s.OpenReader(NameOf(1, 20));
  EXPECT_EQ(reader.code(), ErrorCode::kCorruption);
  EXPECT_NE(reader.status().message().find("size mismatch"), std::string::npos)
      << reader.status().ToString();
}

TEST_F(SnapshotterTest, BadHeaderIsCorruptionNamingTheFile) {
  Snapshotter s = Make();
  ASSERT_TRUE(s.Save(PatternSnap(1, 20)).ok());
  env_.FlipByte(Path(NameOf(1, 20)), 0);  // the magic
  auto reader = s.OpenReader(NameOf(1, 20));
  ASSERT_EQ(reader.code(), ErrorCode::kCorruption);
  EXPECT_NE(reader.status().message().find(Path(NameOf(1, 20))), std::string::npos);
  EXPECT_NE(reader.status().message().find("magic"), std::string::npos);
  EXPECT_EQ(s.Load(NameOf(1, 20)).code(), ErrorCode::kCorruption);
  EXPECT_EQ(s.OpenReader("not-a-snapshot").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.OpenReader(NameOf(9, 9)).code(), ErrorCode::kNotFound);
}

TEST_F(SnapshotterTest, FileWhoseNameDisagreesWithItsMetadataIsSetAside) {
  Snapshotter s = Make();
  ASSERT_TRUE(s.Save(PatternSnap(1, 20)).ok());
  // An intact file under a newer name: trusting the name would order it wrongly.
  env_.SetContents(Path(NameOf(1, 30)), Contents(1, 20));
  EXPECT_EQ(s.OpenReader(NameOf(1, 30)).code(), ErrorCode::kCorruption);
  std::vector<std::string> broken;
  auto loaded = s.LoadNewest(nullptr, &broken);
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(SameSnapshot(*loaded, PatternSnap(1, 20)));
  EXPECT_EQ(broken, std::vector<std::string>{NameOf(1, 30)});
}

TEST_F(SnapshotterTest, ReaderReportsPayloadDamageWithTheLastChunkAndKeepsReportingIt) {
  Snapshotter s = Make(10);
  ASSERT_TRUE(s.Save(PatternSnap(1, 20, 95)).ok());
  const std::string name = NameOf(1, 20);
  const uint64_t size = env_.FileSize(Path(name)).value();
  env_.FlipByte(Path(name), size - 8 - 50);  // a data byte
  auto reader = s.OpenReader(name);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::string chunk;
  uint64_t delivered = 0;
  Status st;
  while ((st = (*reader)->Next(&chunk)).ok() && !chunk.empty())
    delivered += chunk.size();
  EXPECT_EQ(st.code(), ErrorCode::kCorruption);
  EXPECT_NE(st.message().find("CRC"), std::string::npos) << st.ToString();
  EXPECT_EQ(delivered, 90u);  // nine full chunks; the tenth came with the verdict
  EXPECT_TRUE(chunk.empty());
  EXPECT_EQ((*reader)->Next(&chunk).code(), ErrorCode::kCorruption);
  // Opening it is not loading it: OpenReader and Load never rename anything.
  EXPECT_EQ(s.Load(name).code(), ErrorCode::kCorruption);
  EXPECT_TRUE(env_.Exists(Path(name)));
}

TEST_F(SnapshotterTest, LeftoverTmpFilesAreRemovedDurably) {
  Snapshotter s = Make();
  ASSERT_TRUE(s.Save(PatternSnap(1, 10)).ok());
  const std::string tmp = Path(NameOf(1, 20) + ".tmp");
  env_.SetContents(tmp, "half a snapshot");
  env_.SetContents(Path("other.tmp"), "not one of ours");

  auto files = s.List();
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 1u);
  EXPECT_FALSE(env_.Exists(tmp));
  EXPECT_TRUE(env_.Exists(Path("other.tmp")));
  env_.Crash(UnsyncedFate::kLose, 1);  // the removal was synced
  EXPECT_FALSE(env_.Exists(tmp));
}

TEST_F(SnapshotterTest, AcceptPredicateSkipsNewerSnapshots) {
  Snapshotter s = Make();
  for (uint64_t index : {10, 20, 30})
    ASSERT_TRUE(s.Save(PatternSnap(1, index)).ok());
  const auto upto20 = [](const raftpb::SnapshotMetadata& m) { return m.index <= Index(20); };
  auto loaded = s.LoadNewest(upto20);
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(SameSnapshot(*loaded, PatternSnap(1, 20)));
  auto found = s.FindNewest(upto20);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->name, NameOf(1, 20));
  const auto none = [](const raftpb::SnapshotMetadata&) { return false; };
  EXPECT_EQ(s.LoadNewest(none).code(), ErrorCode::kNotFound);
}

TEST_F(SnapshotterTest, RejectedSnapshotsDataIsNotReadSoItsDamageGoesUnnoticed) {
  Snapshotter s = Make();
  ASSERT_TRUE(s.Save(PatternSnap(1, 10)).ok());
  ASSERT_TRUE(s.Save(PatternSnap(1, 30)).ok());
  const uint64_t size = env_.FileSize(Path(NameOf(1, 30))).value();
  env_.FlipByte(Path(NameOf(1, 30)), size - 20);
  std::vector<std::string> broken;
  auto loaded =
      s.LoadNewest([](const raftpb::SnapshotMetadata& m) { return m.index <= Index(20); }, &broken);
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(SameSnapshot(*loaded, PatternSnap(1, 10)));
  EXPECT_TRUE(broken.empty());
  EXPECT_TRUE(env_.Exists(Path(NameOf(1, 30))));
}

TEST_F(SnapshotterTest, AllDamagedMeansNotFoundWithEveryFileSetAside) {
  Snapshotter s = Make();
  ASSERT_TRUE(s.Save(PatternSnap(1, 10)).ok());
  ASSERT_TRUE(s.Save(PatternSnap(2, 10)).ok());
  env_.FlipByte(Path(NameOf(1, 10)), 40);
  env_.FlipByte(Path(NameOf(2, 10)), 3);
  std::vector<std::string> broken;
  EXPECT_EQ(s.LoadNewest(nullptr, &broken).code(), ErrorCode::kNotFound);
  EXPECT_EQ(broken, (std::vector<std::string>{NameOf(2, 10), NameOf(1, 10)}));
  env_.Crash(UnsyncedFate::kLose, 1);  // the renames were synced
  EXPECT_EQ(Names(),
            (std::vector<std::string>{NameOf(1, 10) + ".broken", NameOf(2, 10) + ".broken"}));
}

TEST_F(SnapshotterTest, PurgeKeepsTheNewestKSnapshotsAndBrokenFiles) {
  Snapshotter s = Make();
  for (uint64_t index : {10, 20, 30, 40, 50})
    ASSERT_TRUE(s.Save(PatternSnap(1, index)).ok());
  for (uint64_t index : {1, 2, 3})
    env_.SetContents(Path(NameOf(1, index) + ".broken"), "damaged");
  env_.SetContents(Path("keep-me"), "");

  ASSERT_TRUE(s.Purge(2).ok());
  env_.Crash(UnsyncedFate::kLose, 1);  // the removals were synced
  EXPECT_EQ(Names(), (std::vector<std::string>{NameOf(1, 2) + ".broken", NameOf(1, 3) + ".broken",
                                               NameOf(1, 40), NameOf(1, 50), "keep-me"}));
  auto newest = s.LoadNewest();
  ASSERT_TRUE(newest.ok());
  EXPECT_TRUE(SameSnapshot(*newest, PatternSnap(1, 50)));

  ASSERT_TRUE(s.Purge(0).ok());
  EXPECT_EQ(Names(), std::vector<std::string>{"keep-me"});
}

TEST_F(SnapshotterTest, IoErrorWhileSavingIsReturned) {
  Snapshotter s = Make(64);
  ASSERT_TRUE(s.Save(PatternSnap(1, 10)).ok());
  env_.FailAfter(3);
  EXPECT_EQ(s.Save(PatternSnap(1, 20)).code(), ErrorCode::kIoError);
  env_.ClearFailure();
  auto newest = s.LoadNewest();
  ASSERT_TRUE(newest.ok());
  EXPECT_TRUE(SameSnapshot(*newest, PatternSnap(1, 10)));
}

// The same protocol on the real file system, in a temporary directory removed even on failure.
class PosixSnapshotterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/raftkit-snap-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    if (!root_.empty()) std::filesystem::remove_all(root_);
  }
  std::string root_;
};

TEST_F(PosixSnapshotterTest, RoundTripOnTheRealFileSystem) {
  const std::string dir = root_ + "/member/snap";
  Snapshotter s(Options{PosixEnv(), dir, 4096});
  const raftpb::Snapshot older = PatternSnap(2, 100, 10'000);
  const raftpb::Snapshot newer = PatternSnap(3, 150, 100'000);
  ASSERT_TRUE(s.Save(older).ok());
  ASSERT_TRUE(s.Save(newer).ok());
  ASSERT_TRUE(std::filesystem::is_directory(dir));
  const std::string leftover = dir + "/" + Snapshotter::FileName(Term(3), Index(200)) + ".tmp";
  std::ofstream(leftover) << "an interrupted save";
  ASSERT_TRUE(std::filesystem::exists(leftover));
  auto loaded = s.LoadNewest();
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_TRUE(SameSnapshot(*loaded, newer));
  EXPECT_FALSE(std::filesystem::exists(leftover));
  auto again = s.Load(Snapshotter::FileName(Term(2), Index(100)));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(SameSnapshot(*again, older));
  EXPECT_EQ(std::filesystem::file_size(dir + "/" + Snapshotter::FileName(Term(3), Index(150))),
            32 + raftpb::Encode(newer.metadata).size() + 100'000 + 8);
  ASSERT_TRUE(s.Purge(1).ok());
  auto files = s.List();
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].index, Index(150));
}

}  // namespace
}  // namespace raftkit::storage::snap
