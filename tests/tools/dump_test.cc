// raftkit-dump: prints what is on disk, in text and JSON, and reports damage without crashing.
#include "dump.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

#include "raftkit/storage/disk_storage.h"
#include "raftkit/storage/fs/mem_env.h"
#include "raftkit/storage/snap/snapshotter.h"
#include "raftkit/storage/wal/wal.h"

namespace raftkit::tools {
namespace {

using storage::MemEnv;

raftpb::Entry E(uint64_t index, uint64_t term, std::string data) {
  raftpb::Entry e;
  e.index = Index(index);
  e.term = Term(term);
  e.data = Bytes(std::move(data));
  return e;
}

void WriteWal(MemEnv* env) {
  storage::wal::Options o;
  o.env = env;
  o.dir = "/d/wal";
  auto w = storage::wal::Wal::Create(o, storage::wal::Metadata{0x11, 0xc1, {}}).value();
  raftpb::HardState hs;
  hs.term = Term(2);
  hs.vote = NodeId(0x11);
  hs.commit = Index(2);
  std::vector<raftpb::Entry> es{E(1, 2, "alpha"), E(2, 2, "beta!")};
  ASSERT_TRUE(w->Save(hs, es, true).ok());
  ASSERT_TRUE(w->Close().ok());
}

TEST(DumpWalTest, PrintsEveryRecordAsTextAndReportsNoDamage) {
  MemEnv env;
  WriteWal(&env);
  std::ostringstream out;
  EXPECT_EQ(DumpWal(&env, "/d/wal", false, out), kClean);
  const std::string s = out.str();
  EXPECT_NE(s.find("2/1 EntryNormal 5 B"), std::string::npos) << s;
  EXPECT_NE(s.find("2/2 EntryNormal 5 B"), std::string::npos) << s;
  EXPECT_NE(s.find("term 2 vote 17 commit 2"), std::string::npos) << s;
  EXPECT_NE(s.find("cluster c1"), std::string::npos) << s;
  EXPECT_NE(s.find("no damage"), std::string::npos) << s;
}

TEST(DumpWalTest, JsonListsEntriesWithIndexTermTypeAndSize) {
  MemEnv env;
  WriteWal(&env);
  std::ostringstream out;
  EXPECT_EQ(DumpWal(&env, "/d/wal", true, out), kClean);
  auto doc = nlohmann::json::parse(out.str());
  EXPECT_EQ(doc["wal"]["last_entry_index"], 2);
  EXPECT_EQ(doc["wal"]["last_hardstate"]["commit"], 2);
  EXPECT_TRUE(doc["damage"].is_null());
  int entries = 0;
  for (const auto& r : doc["records"]) {
    if (r.contains("entry_type")) {
      ++entries;
      EXPECT_EQ(r["data_bytes"], 5);
      EXPECT_EQ(r["term"], 2);
    }
  }
  EXPECT_EQ(entries, 2);
}

TEST(DumpWalTest, DamageIsReportedWithFileAndOffsetAndExitCodeOne) {
  MemEnv env;
  WriteWal(&env);
  auto names = env.ListDir("/d/wal").value();
  std::string seg;
  for (const auto& n : names) {
    if (n.size() > 4 && n.substr(n.size() - 4) == ".wal") seg = n;
  }
  ASSERT_FALSE(seg.empty());
  // Damage the first record's payload: everything after it is data, so this is not a tail.
  env.FlipByte("/d/wal/" + seg, 20);
  std::ostringstream out;
  EXPECT_EQ(DumpWal(&env, "/d/wal", false, out), kDamaged);
  EXPECT_NE(out.str().find("DAMAGE " + seg + " offset 0"), std::string::npos) << out.str();
  std::ostringstream js;
  EXPECT_EQ(DumpWal(&env, "/d/wal", true, js), kDamaged);
  auto doc = nlohmann::json::parse(js.str());
  EXPECT_EQ(doc["damage"]["file"], seg);
  EXPECT_EQ(doc["damage"]["crash_tail"], false);
}

TEST(DumpWalTest, AMissingDirectoryIsAnErrorNotACrash) {
  MemEnv env;
  std::ostringstream out;
  EXPECT_EQ(DumpWal(&env, "/nowhere", false, out), kFailed);
  EXPECT_NE(out.str().find("error"), std::string::npos);
}

TEST(DumpSnapshotTest, PrintsMetadataAndVerifiesTheCrc) {
  MemEnv env;
  storage::snap::Options o;
  o.env = &env;
  o.dir = "/d/snap";
  storage::snap::Snapshotter sn(o);
  raftpb::Snapshot snap;
  snap.metadata.index = Index(9);
  snap.metadata.term = Term(3);
  snap.metadata.conf_state.voters = {NodeId(1), NodeId(2)};
  snap.data = Bytes(std::string(1000, 's'));
  ASSERT_TRUE(sn.Save(snap).ok());
  const std::string path = "/d/snap/" + storage::snap::Snapshotter::FileName(Term(3), Index(9));
  std::ostringstream out;
  EXPECT_EQ(DumpSnapshot(&env, path, false, out), kClean);
  EXPECT_NE(out.str().find("index 9 term 3"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("CRC ok"), std::string::npos) << out.str();

  env.FlipByte(path, env.FileSize(path).value() - 20);
  std::ostringstream bad;
  EXPECT_EQ(DumpSnapshot(&env, path, true, bad), kDamaged);
  auto doc = nlohmann::json::parse(bad.str());
  EXPECT_EQ(doc["crc"], "bad");
}

TEST(DumpDataDirTest, SummarizesTheWalAndTheSnapshots) {
  MemEnv env;
  WriteWal(&env);
  std::ostringstream out;
  EXPECT_EQ(DumpDataDir(&env, "/d", false, out), kClean);
  EXPECT_NE(out.str().find("entries 1..2"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("snapshots: 0"), std::string::npos) << out.str();
}

TEST(DumpDataDirTest, ReadsARealDataDirectoryWrittenByDiskStorage) {
  char tmpl[] = "/tmp/raftkit-dump-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  struct Cleanup {
    std::string d;
    ~Cleanup() { std::filesystem::remove_all(d); }
  } cleanup{tmpl};
  const std::string dir = std::string(tmpl) + "/node";
  {
    storage::DiskStorageOptions o;
    o.dir = dir;
    o.node_id = 3;
    o.cluster_id = 0xabc;
    o.segment_size = 2048;
    auto s = storage::DiskStorage::Open(o).value();
    raftpb::HardState hs;
    hs.term = Term(4);
    hs.vote = NodeId(3);
    std::vector<raftpb::Entry> es;
    for (uint64_t i = 1; i <= 40; ++i)
      es.push_back(E(i, 4, std::string(100, 'v')));
    hs.commit = Index(40);
    ASSERT_TRUE(s->Save(hs, es, {}, true).ok());
    raftpb::ConfState cs;
    cs.voters = {NodeId(3)};
    ASSERT_TRUE(s->CreateSnapshot(Index(30), cs, Bytes("state")).ok());
  }
  std::ostringstream out;
  EXPECT_EQ(DumpDataDir(storage::PosixEnv(), dir, false, out), kClean) << out.str();
  EXPECT_NE(out.str().find("entries 1..40"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("index 30 term 4"), std::string::npos) << out.str();
  std::ostringstream js;
  EXPECT_EQ(DumpDataDir(storage::PosixEnv(), dir, true, js), kClean);
  auto doc = nlohmann::json::parse(js.str());
  EXPECT_EQ(doc["wal"]["last_snapshot_marker"]["index"], 30);
  EXPECT_GT(doc["wal"]["segments"].size(), 1u);
  EXPECT_EQ(doc["snapshots"].size(), 1u);
  EXPECT_EQ(doc["snapshots"][0]["crc"], "ok");
}

}  // namespace
}  // namespace raftkit::tools
