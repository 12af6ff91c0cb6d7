// DiskStorage: what a restart sees. Every test runs on MemEnv, so a "crash" is a simulated power
// failure: unsynced bytes and unsynced directory changes are gone, synced ones survive.
#include "raftkit/storage/disk_storage.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "raftkit/core/raw_node.h"
#include "raftkit/raftpb/codec.h"
#include "raftkit/storage/fs/mem_env.h"
#include "raftkit/util/rand.h"

namespace raftkit::storage {
namespace {

using raftpb::ConfState;
using raftpb::Entry;
using raftpb::HardState;
using raftpb::Snapshot;

Entry E(uint64_t index, uint64_t term, std::string data = "") {
  Entry e;
  e.index = Index(index);
  e.term = Term(term);
  e.data = Bytes(data.empty() ? "e" + std::to_string(index) + "t" + std::to_string(term) : data);
  return e;
}

HardState HS(uint64_t term, uint64_t vote, uint64_t commit) {
  HardState hs;
  hs.term = Term(term);
  hs.vote = NodeId(vote);
  hs.commit = Index(commit);
  return hs;
}

ConfState Voters(std::vector<uint64_t> ids) {
  ConfState cs;
  for (auto id : ids)
    cs.voters.push_back(NodeId(id));
  return cs;
}

class DiskStorageTest : public ::testing::Test {
 protected:
  DiskStorageOptions Opts() {
    DiskStorageOptions o;
    o.env = &env_;
    o.dir = "/data";
    o.node_id = 1;
    o.cluster_id = 0xc1;
    o.segment_size = 4096;  // many cuts
    o.background_spare = false;
    return o;
  }
  std::unique_ptr<DiskStorage> MustOpen(OpenReport* rep = nullptr) {
    auto s = DiskStorage::Open(Opts(), rep);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  static std::vector<Entry> Log(const DiskStorage& s) {
    auto lo = s.FirstIndex().value();
    auto hi = s.LastIndex().value();
    if (hi < lo) return {};
    return s.Entries(lo, hi + 1, UINT64_MAX).value();
  }
  MemEnv env_;
};

TEST_F(DiskStorageTest, FreshDirectoryIsCreatedEmpty) {
  OpenReport rep;
  auto s = MustOpen(&rep);
  ASSERT_TRUE(s);
  EXPECT_TRUE(rep.created);
  EXPECT_EQ(s->LastIndex().value(), Index(0));
  EXPECT_EQ(s->FirstIndex().value(), Index(1));
  EXPECT_TRUE(s->GetInitialState()->hard_state.IsEmpty());
  EXPECT_TRUE(env_.Exists("/data/wal"));
  EXPECT_TRUE(env_.Exists("/data/snap"));
}

TEST_F(DiskStorageTest, SyncedEntriesAndHardStateSurviveAPowerFailure) {
  {
    auto s = MustOpen();
    ASSERT_TRUE(s->Save(HS(1, 1, 0), std::vector<Entry>{E(1, 1), E(2, 1)}, {}, true).ok());
    ASSERT_TRUE(s->Save(HS(1, 1, 2), std::vector<Entry>{E(3, 1)}, {}, true).ok());
  }
  env_.Crash(UnsyncedFate::kLose, 1);
  OpenReport rep;
  auto s = MustOpen(&rep);
  EXPECT_FALSE(rep.created);
  EXPECT_EQ(Log(*s), (std::vector<Entry>{E(1, 1), E(2, 1), E(3, 1)}));
  EXPECT_TRUE(s->GetInitialState()->hard_state.SameAs(HS(1, 1, 2)));
  EXPECT_EQ(rep.last_index, Index(3));
}

TEST_F(DiskStorageTest, AnUnsyncedSaveIsLostWholeOnPowerFailure) {
  {
    auto s = MustOpen();
    ASSERT_TRUE(s->Save(HS(1, 1, 1), std::vector<Entry>{E(1, 1)}, {}, true).ok());
    ASSERT_TRUE(s->Save(HS(1, 1, 2), std::vector<Entry>{E(2, 1), E(3, 1)}, {}, false).ok());
    // The power fails while the storage is still open (closing it would sync).
    env_.Crash(UnsyncedFate::kLose, 1);
  }
  auto s = MustOpen();
  EXPECT_EQ(Log(*s), (std::vector<Entry>{E(1, 1)}));
  EXPECT_TRUE(s->GetInitialState()->hard_state.SameAs(HS(1, 1, 1)));
}

TEST_F(DiskStorageTest, ALaterLeadersEntriesReplaceTheConflictingSuffixAcrossRestarts) {
  {
    auto s = MustOpen();
    ASSERT_TRUE(s->Save(HS(1, 1, 1), std::vector<Entry>{E(1, 1), E(2, 1), E(3, 1)}, {}, true).ok());
    ASSERT_TRUE(s->Save(HS(2, 2, 1), std::vector<Entry>{E(2, 2)}, {}, true).ok());
  }
  env_.Crash(UnsyncedFate::kKeepAll, 1);
  auto s = MustOpen();
  EXPECT_EQ(Log(*s), (std::vector<Entry>{E(1, 1), E(2, 2)}));
}

TEST_F(DiskStorageTest, ASecondOpenOfTheSameDirectoryFailsFast) {
  auto s = MustOpen();
  auto again = DiskStorage::Open(Opts());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.code(), ErrorCode::kAlreadyExists);
  EXPECT_NE(again.status().message().find("/data/LOCK"), std::string::npos)
      << again.status().message();
  ASSERT_TRUE(s->Close().ok());
  EXPECT_TRUE(DiskStorage::Open(Opts()).ok());
}

TEST_F(DiskStorageTest, AWalOfAnotherClusterIsRefused) {
  { MustOpen(); }
  auto o = Opts();
  o.cluster_id = 0xbad;
  auto s = DiskStorage::Open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("cluster"), std::string::npos) << s.status().ToString();
}

TEST_F(DiskStorageTest, SnapshotAndCompactionRestoreTheSnapshotAndTheLogAfterIt) {
  {
    auto s = MustOpen();
    std::vector<Entry> ents;
    for (uint64_t i = 1; i <= 50; ++i)
      ents.push_back(E(i, 1));
    ASSERT_TRUE(s->Save(HS(1, 1, 50), ents, {}, true).ok());
    auto snap = s->CreateSnapshot(Index(40), Voters({1, 2, 3}), Bytes("state@40"));
    ASSERT_TRUE(snap.ok()) << snap.status().ToString();
    ASSERT_TRUE(s->Compact(Index(40)).ok());
  }
  env_.Crash(UnsyncedFate::kLose, 2);
  OpenReport rep;
  auto s = MustOpen(&rep);
  EXPECT_EQ(rep.snapshot_index, Index(40));
  EXPECT_EQ(s->FirstIndex().value(), Index(41));
  EXPECT_EQ(s->LastIndex().value(), Index(50));
  auto snap = s->GetSnapshot().value();
  EXPECT_EQ(snap.data.view(), "state@40");
  EXPECT_EQ(snap.metadata.term, Term(1));
  EXPECT_TRUE(raftpb::Equivalent(s->GetInitialState()->conf_state, Voters({1, 2, 3})));
}

TEST_F(DiskStorageTest, ASnapshotFromTheLeaderVoidsTheOlderLogAboveIt) {
  {
    auto s = MustOpen();
    ASSERT_TRUE(
        s->Save(HS(1, 1, 1), std::vector<Entry>{E(1, 1), E(2, 1), E(3, 1), E(4, 1)}, {}, true)
            .ok());
    Snapshot snap;
    snap.metadata.index = Index(3);
    snap.metadata.term = Term(2);
    snap.metadata.conf_state = Voters({1, 2});
    snap.data = Bytes("leader-state");
    ASSERT_TRUE(s->Save(HS(2, 0, 3), {}, snap, true).ok());
    EXPECT_EQ(s->LastIndex().value(), Index(3));
  }
  env_.Crash(UnsyncedFate::kLose, 3);
  auto s = MustOpen();
  EXPECT_EQ(s->FirstIndex().value(), Index(4));
  EXPECT_EQ(s->LastIndex().value(), Index(3)) << "entry 4 of the old term must not come back";
  EXPECT_EQ(s->GetSnapshot()->data.view(), "leader-state");
  // The log continues right after the snapshot.
  ASSERT_TRUE(s->Save(HS(2, 0, 3), std::vector<Entry>{E(4, 2)}, {}, true).ok());
  EXPECT_EQ(Log(*s), (std::vector<Entry>{E(4, 2)}));
}

TEST_F(DiskStorageTest, ACorruptNewestSnapshotFallsBackToTheOlderOne) {
  {
    auto s = MustOpen();
    std::vector<Entry> ents;
    for (uint64_t i = 1; i <= 30; ++i)
      ents.push_back(E(i, 1));
    ASSERT_TRUE(s->Save(HS(1, 1, 30), ents, {}, true).ok());
    ASSERT_TRUE(s->CreateSnapshot(Index(10), Voters({1}), Bytes("s10")).ok());
    ASSERT_TRUE(s->Compact(Index(10)).ok());
    ASSERT_TRUE(s->CreateSnapshot(Index(20), Voters({1}), Bytes("s20")).ok());
    ASSERT_TRUE(s->Compact(Index(20)).ok());
  }
  const std::string newest = "/data/snap/" + snap::Snapshotter::FileName(Term(1), Index(20));
  auto size = env_.FileSize(newest);
  ASSERT_TRUE(size.ok());
  env_.FlipByte(newest, *size - 12);  // inside the data
  OpenReport rep;
  auto s = MustOpen(&rep);
  ASSERT_EQ(rep.broken_snapshots.size(), 1u);
  EXPECT_EQ(rep.snapshot_index, Index(10));
  EXPECT_EQ(s->GetSnapshot()->data.view(), "s10");
  EXPECT_EQ(s->FirstIndex().value(), Index(11));
  EXPECT_EQ(s->LastIndex().value(), Index(30));
}

TEST_F(DiskStorageTest, ASnapshotFileWithoutItsWalMarkerIsIgnored) {
  {
    auto s = MustOpen();
    ASSERT_TRUE(s->Save(HS(1, 1, 5), std::vector<Entry>{E(1, 1), E(2, 1), E(3, 1)}, {}, true).ok());
  }
  // The process stopped between writing the snapshot file and its WAL marker.
  snap::Options so;
  so.env = &env_;
  so.dir = "/data/snap";
  snap::Snapshotter sn(so);
  Snapshot orphan;
  orphan.metadata.index = Index(3);
  orphan.metadata.term = Term(1);
  orphan.data = Bytes("orphan");
  ASSERT_TRUE(sn.Save(orphan).ok());
  OpenReport rep;
  auto s = MustOpen(&rep);
  EXPECT_EQ(rep.snapshot_index, Index(0));
  EXPECT_EQ(s->FirstIndex().value(), Index(1));
  EXPECT_EQ(s->LastIndex().value(), Index(3));
}

class VectorSource : public snap::DataSource {
 public:
  explicit VectorSource(std::string data) : data_(std::move(data)) {}
  Status Next(size_t max, std::string* out) override {
    out->assign(data_.substr(pos_, max));
    pos_ += out->size();
    return Status::Ok();
  }

 private:
  std::string data_;
  size_t pos_ = 0;
};

TEST_F(DiskStorageTest, AStreamedSnapshotIsReadBackFromItsFileWhenTheCoreAsks) {
  std::string state(300000, 'x');
  for (size_t i = 0; i < state.size(); i += 7)
    state[i] = static_cast<char>('a' + i % 26);
  {
    auto s = MustOpen();
    std::vector<Entry> ents;
    for (uint64_t i = 1; i <= 8; ++i)
      ents.push_back(E(i, 1));
    ASSERT_TRUE(s->Save(HS(1, 1, 8), ents, {}, true).ok());
    VectorSource src(state);
    auto m = s->CreateSnapshotStream(Index(6), Voters({1, 2}), state.size(), &src);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(s->GetSnapshot()->data.view(), state);
  }
  env_.Crash(UnsyncedFate::kLose, 4);
  auto s = MustOpen();
  EXPECT_EQ(s->GetSnapshot()->data.view(), state);
  EXPECT_EQ(s->FirstIndex().value(), Index(7));
}

TEST_F(DiskStorageTest, SnapshotFilesWithoutAWalAreRefused) {
  { MustOpen(); }
  const auto names = env_.ListDir("/data/wal").value();
  for (const auto& name : names) {
    ASSERT_TRUE(env_.Remove("/data/wal/" + name).ok());
  }
  snap::Options so;
  so.env = &env_;
  so.dir = "/data/snap";
  Snapshot snap;
  snap.metadata.index = Index(5);
  snap.metadata.term = Term(1);
  ASSERT_TRUE(snap::Snapshotter(so).Save(snap).ok());
  auto s = DiskStorage::Open(Opts());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kCorruption);
}

// ------------------------------------------------------------------------------------------
// A randomized model test: random saves (with overwrites), local snapshots with compaction,
// leader snapshots, and power failures at random points (including in the middle of a write, via
// FailAfter). After each failure the reopened storage must equal the model after the last
// completed operation — or, when the failure hit an operation, the model before or after it.
// ------------------------------------------------------------------------------------------

struct Model {
  HardState hs;
  Snapshot snap;            // metadata and data of the latest snapshot
  std::vector<Entry> ents;  // the log after the snapshot
  Index last() const { return ents.empty() ? snap.metadata.index : ents.back().index; }
  Term term_at(Index i) const {
    if (i == snap.metadata.index) return snap.metadata.term;
    return ents[i - snap.metadata.index - 1].term;
  }
  void Append(const std::vector<Entry>& es) {
    if (es.empty()) return;
    ents.resize(es.front().index - snap.metadata.index - 1);
    ents.insert(ents.end(), es.begin(), es.end());
  }
  bool operator==(const Model& o) const {
    return hs.SameAs(o.hs) && snap.metadata.index == o.snap.metadata.index &&
           snap.metadata.term == o.snap.metadata.term && snap.data == o.snap.data && ents == o.ents;
  }
};

std::string Describe(const Model& m) {
  std::string s = "hs(" + std::to_string(m.hs.term.value()) + "," +
                  std::to_string(m.hs.commit.value()) + ") snap(" +
                  std::to_string(m.snap.metadata.index.value()) + ") ents[";
  for (const auto& e : m.ents) {
    s += std::to_string(e.index.value()) + "/" + std::to_string(e.term.value()) + " ";
  }
  return s + "]";
}

Model Read(const DiskStorage& s) {
  Model m;
  m.hs = s.GetInitialState()->hard_state;
  m.snap = s.GetSnapshot().value();
  if (m.snap.data.is_null()) m.snap.data = Bytes();
  const Index first = s.FirstIndex().value();
  const Index last = s.LastIndex().value();
  if (last >= first) m.ents = s.Entries(first, last + 1, UINT64_MAX).value();
  return m;
}

TEST(DiskStorageModelTest, RestartAlwaysYieldsTheLastSyncedStateUnderRandomCrashes) {
  const bool long_budget =
      std::getenv("RAFTKIT_BUDGET") && std::string(std::getenv("RAFTKIT_BUDGET")) == "long";
  const int seeds = long_budget ? 5000 : 300;
  int crashes = 0;
  int mid_op_failures = 0;
  for (int seed = 1; seed <= seeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Rand r(static_cast<uint64_t>(seed));
    MemEnv env;
    DiskStorageOptions o;
    o.env = &env;
    o.dir = "/d";
    o.node_id = 1;
    o.cluster_id = 7;
    o.segment_size = 1024 + r.Uniform(4096);
    o.snapshots_to_keep = 2;
    o.background_spare = false;  // a seed replays the same file operations
    Model model;
    model.snap.data = Bytes();
    uint64_t term = 1;
    auto s = DiskStorage::Open(o).value();
    for (int step = 0; step < 120; ++step) {
      Model before = model;
      const uint64_t dice = r.Uniform(100);
      const bool inject = r.Uniform(12) == 0;
      if (inject) env.FailAfter(1 + r.Uniform(6));
      Status st;
      if (dice < 70) {
        // Save: overwrite anything above the commit index, sometimes in a new term.
        if (r.Uniform(5) == 0) ++term;
        const Index commit = model.hs.commit;
        const Index lo = std::max(commit, model.snap.metadata.index) + 1;
        const Index start = lo + r.Uniform(model.last() - lo + 2);
        std::vector<Entry> es;
        const uint64_t n = r.Uniform(6);
        for (uint64_t k = 0; k < n; ++k) {
          es.push_back(E(start.value() + k, term, std::string(1 + r.Uniform(300), 'a' + k)));
        }
        model.Append(es);
        HardState hs = HS(term, 1, commit.value());
        if (model.last() > commit && r.Uniform(2) == 0) {
          hs.commit = commit + 1 + r.Uniform(model.last() - commit);
        }
        model.hs = hs;
        st = s->Save(hs, es, {}, true);
      } else if (dice < 85) {
        // A local snapshot at the commit index, then compaction.
        const Index at = model.hs.commit;
        if (at <= model.snap.metadata.index) {
          env.ClearFailure();
          continue;
        }
        const Term t = model.term_at(at);
        const std::string data = "state@" + std::to_string(at.value());
        model.ents.erase(
            model.ents.begin(),
            model.ents.begin() + static_cast<ptrdiff_t>(at - model.snap.metadata.index));
        model.snap.metadata.index = at;
        model.snap.metadata.term = t;
        model.snap.data = Bytes(data);
        auto cs = s->CreateSnapshot(at, Voters({1, 2, 3}), Bytes(data));
        st = cs.status();
        if (st.ok()) st = s->Compact(at);
      } else if (dice < 92) {
        // A snapshot from a leader, ahead of the log.
        ++term;
        const Index at = model.last() + 1 + r.Uniform(5);
        Snapshot snap;
        snap.metadata.index = at;
        snap.metadata.term = Term(term);
        snap.metadata.conf_state = Voters({1, 2, 3});
        snap.data = Bytes("leader@" + std::to_string(at.value()));
        model.snap = snap;
        model.ents.clear();
        model.hs = HS(term, 0, at.value());
        st = s->Save(model.hs, {}, snap, true);
      } else {
        // A power failure between operations.
        env.Crash(r.Uniform(2) ? UnsyncedFate::kLose : UnsyncedFate::kKeepAll, r.Next());
        s.reset();
        s = DiskStorage::Open(o).value();
        ++crashes;
        const Model got = Read(*s);
        ASSERT_TRUE(got == model) << "step " << step << "\n got " << Describe(got) << "\nwant "
                                  << Describe(model);
        continue;
      }
      if (!st.ok()) {
        // The process "died" inside the operation: what reached the disk is the state before it
        // or after it, nothing else.
        ASSERT_TRUE(inject) << st.ToString();
        ++mid_op_failures;
        s.reset();
        env.Crash(UnsyncedFate::kLose, r.Next());
        auto reopened = DiskStorage::Open(o);
        ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
        s = std::move(reopened).value();
        const Model got = Read(*s);
        ASSERT_TRUE(got == before || got == model)
            << "step " << step << "\n   got " << Describe(got) << "\nbefore " << Describe(before)
            << "\n after " << Describe(model);
        model = got;
        term = std::max(term, model.hs.term.value());
      }
      env.ClearFailure();
    }
  }
  EXPECT_GT(crashes, 0);
  EXPECT_GT(mid_op_failures, 0);
  std::printf("model test: %d seeds, %d power failures between operations, %d inside one\n", seeds,
              crashes, mid_op_failures);
}

// ------------------------------------------------------------------------------------------
// The Ready loop over DiskStorage: a single-node RawNode elects itself, commits proposals, and
// after a power failure restarts from disk with the same term, vote, commit and log.
// ------------------------------------------------------------------------------------------

void Drain(raft::RawNode& node, DiskStorage& s, std::vector<std::string>* applied) {
  while (node.HasReady()) {
    raft::Ready rd = node.GetReady();
    ASSERT_TRUE(s.SaveReady(rd).ok());
    for (const auto& e : rd.committed_entries) {
      if (e.type == raftpb::EntryType::EntryNormal && !e.data.empty()) {
        applied->push_back(e.data.str());
      } else if (e.type == raftpb::EntryType::EntryConfChange) {
        auto cc = raftpb::DecodeConfChange(e.data.view());
        ASSERT_TRUE(cc.ok());
        node.ApplyConfChange(*cc);
      }
    }
    node.Advance(rd);
  }
}

TEST(DiskStorageRawNodeTest, ASingleNodeRestartsFromDiskWithItsStateAndCommittedLog) {
  MemEnv env;
  DiskStorageOptions o;
  o.env = &env;
  o.dir = "/node1";
  o.node_id = 1;
  o.cluster_id = 1;
  std::vector<std::string> applied;
  raftpb::HardState hs_before;
  {
    OpenReport rep;
    auto s = DiskStorage::Open(o, &rep).value();
    ASSERT_TRUE(rep.created);
    raft::Config c;
    c.id = NodeId(1);
    c.storage = s.get();
    auto node = raft::RawNode::Create(c).value();
    ASSERT_TRUE(node->Bootstrap({raft::Peer{NodeId(1), Bytes()}}).ok());
    Drain(*node, *s, &applied);  // applies the bootstrap configuration
    ASSERT_TRUE(node->Campaign().ok());
    Drain(*node, *s, &applied);
    for (int i = 0; i < 20; ++i) {
      Status st = node->Propose(Bytes("cmd" + std::to_string(i)));
      ASSERT_TRUE(st.ok()) << st.ToString() << " " << node->GetStatus().ToJson();
      Drain(*node, *s, &applied);
    }
    hs_before = s->GetInitialState()->hard_state;
  }
  ASSERT_EQ(applied.size(), 20u);
  env.Crash(UnsyncedFate::kLose, 9);

  auto s = DiskStorage::Open(o).value();
  EXPECT_TRUE(s->GetInitialState()->hard_state.SameAs(hs_before));
  raft::Config c;
  c.id = NodeId(1);
  c.storage = s.get();
  auto node = raft::RawNode::Create(c).value();
  std::vector<std::string> replayed;
  Drain(*node, *s, &replayed);  // replays the committed log, configuration included
  ASSERT_TRUE(node->Campaign().ok());
  Drain(*node, *s, &replayed);
  EXPECT_EQ(replayed, applied) << "the committed log replays in the same order after a restart";
  ASSERT_TRUE(node->Propose(Bytes("after-restart")).ok());
  Drain(*node, *s, &replayed);
  EXPECT_EQ(replayed.back(), "after-restart");
}

}  // namespace
}  // namespace raftkit::storage
