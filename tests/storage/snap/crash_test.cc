// Crash safety of Save: the process dies at every mutating file-system operation of a Save
// (MemEnv::FailAfter(k) for every k), then the power fails with each fate for unsynced bytes
// (MemEnv::Crash). After the reboot LoadNewest must answer with the previous newest snapshot or
// the new one, complete and exact — never a damaged file, never another error than kNotFound,
// and kNotFound only when no snapshot had ever been completely saved.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "raftkit/storage/fs/mem_env.h"
#include "raftkit/storage/snap/snapshotter.h"
#include "storage/snap/snap_test_util.h"

namespace raftkit::storage::snap {
namespace {

using testing::PatternSnap;
using testing::SameSnapshot;
using testing::Snap;

constexpr const char* kDir = "/node/snap";
constexpr UnsyncedFate kFates[] = {UnsyncedFate::kLose, UnsyncedFate::kKeepTornPrefix,
                                   UnsyncedFate::kGarble, UnsyncedFate::kKeepAll};

struct Scenario {
  const char* what;
  std::vector<raftpb::Snapshot> before;  // saved completely before the crashing Save
  raftpb::Snapshot saving;
  size_t chunk;
};

std::vector<Scenario> Scenarios() {
  return {
      {"first snapshot in a new directory", {}, PatternSnap(1, 10, 300), 64},
      {"a newer snapshot over two older ones",
       {PatternSnap(1, 10, 200), PatternSnap(2, 20, 100)},
       PatternSnap(2, 30, 300),
       64},
      {"the same term and index saved again with other data",
       {PatternSnap(2, 20, 100)},
       Snap(2, 20, std::string(150, 'n')),
       32},
      {"empty data", {PatternSnap(1, 5, 10)}, Snap(1, 6, ""), 16},
  };
}

// The mutating operations a clean Save performs in this scenario.
uint64_t CountOps(const Scenario& sc) {
  MemEnv env;
  Snapshotter s(Options{&env, kDir, sc.chunk});
  for (const raftpb::Snapshot& snap : sc.before)
    EXPECT_TRUE(s.Save(snap).ok());
  const uint64_t start = env.mutating_ops();
  EXPECT_TRUE(s.Save(sc.saving).ok());
  return env.mutating_ops() - start;
}

TEST(SnapshotCrashTest, CrashAtEveryOperationOfSaveLeavesTheOldOrTheNewSnapshot) {
  for (const Scenario& sc : Scenarios()) {
    SCOPED_TRACE(sc.what);
    const uint64_t ops = CountOps(sc);
    ASSERT_GE(ops, 5u);  // open, appends, sync, rename, sync dir
    // k == ops + 1 arms a failure the Save never reaches: the crash then follows a clean Save.
    for (uint64_t k = 1; k <= ops + 1; ++k) {
      for (const UnsyncedFate fate : kFates) {
        for (uint64_t seed = 1; seed <= 3; ++seed) {
          SCOPED_TRACE("fail at op " + std::to_string(k) + " of " + std::to_string(ops) +
                       ", fate " + std::to_string(static_cast<int>(fate)) + ", seed " +
                       std::to_string(seed));
          MemEnv env;
          {
            Snapshotter s(Options{&env, kDir, sc.chunk});
            for (const raftpb::Snapshot& snap : sc.before)
              ASSERT_TRUE(s.Save(snap).ok());
            env.FailAfter(k);
            const Status st = s.Save(sc.saving);
            if (k <= ops) {
              EXPECT_EQ(st.code(), ErrorCode::kIoError) << st.ToString();
            } else {
              EXPECT_TRUE(st.ok()) << st.ToString();
            }
          }
          env.Crash(fate, seed);

          Snapshotter after(Options{&env, kDir, sc.chunk});
          std::vector<std::string> broken;
          auto loaded = after.LoadNewest(nullptr, &broken);
          EXPECT_TRUE(broken.empty()) << broken.front();
          if (loaded.ok()) {
            const bool is_new = SameSnapshot(*loaded, sc.saving);
            const bool is_old = !sc.before.empty() && SameSnapshot(*loaded, sc.before.back());
            EXPECT_TRUE(is_new || is_old);
            if (k > ops) {
              EXPECT_TRUE(is_new);
            }
          } else {
            EXPECT_EQ(loaded.code(), ErrorCode::kNotFound) << loaded.status().ToString();
            EXPECT_TRUE(sc.before.empty());
            EXPECT_LE(k, ops);
          }
          // Nothing half-written survives the next start.
          for (const std::string& name : env.ListDir(kDir).value_or({}))
            EXPECT_TRUE(Snapshotter::ParseFileName(name).has_value()) << name;
          if (::testing::Test::HasFailure()) return;  // one detailed failure is enough
        }
      }
    }
  }
}

}  // namespace
}  // namespace raftkit::storage::snap
