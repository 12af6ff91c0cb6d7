// The torn-WAL fault leaves only what a power loss can: WAL recovery cuts it and reads back every
// entry saved before, and the log carries on from there.
#include "chaos/torn_wal.h"

#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "raftkit/storage/wal/wal.h"

namespace raftkit::chaos {
namespace {

namespace wal = storage::wal;

raftpb::Entry Entry(uint64_t index, std::mt19937_64& rng) {
  raftpb::Entry e;
  e.index = Index(index);
  e.term = Term(1 + index / 50);
  e.data = Bytes(std::string(rng() % 300, static_cast<char>('a' + index % 26)));
  return e;
}

class TornWalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("raftkit-torn-wal-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(TornWalTest, RecoveryCutsTheTornTailAndKeepsEverySavedEntry) {
  int kinds_seen[3] = {0, 0, 0};
  for (uint64_t seed = 1; seed <= 120; ++seed) {
    std::mt19937_64 rng(seed);
    std::filesystem::remove_all(dir_);
    wal::Options o;
    o.dir = dir_.string();
    o.segment_size = seed % 3 == 0 ? 4096 : 1 << 20;  // sometimes several segments
    o.preallocate = seed % 2 == 0;
    std::vector<raftpb::Entry> saved;
    {
      auto w = wal::Wal::Create(o, wal::Metadata{1, 2, {}});
      ASSERT_TRUE(w.ok()) << w.status().ToString();
      const int batches = 1 + static_cast<int>(rng() % 20);
      for (int b = 0; b < batches; ++b) {
        std::vector<raftpb::Entry> batch;
        const int n = 1 + static_cast<int>(rng() % 5);
        for (int k = 0; k < n; ++k)
          batch.push_back(Entry(saved.size() + batch.size() + 1, rng));
        raftpb::HardState hs;
        hs.term = batch.back().term;
        hs.commit = batch.back().index;
        ASSERT_TRUE((*w)->Save(hs, batch).ok());
        saved.insert(saved.end(), batch.begin(), batch.end());
      }
      // Every Save was synced, so the files are as a kill -9 would leave them.
      ASSERT_TRUE((*w)->Close().ok());
    }
    std::string what;
    ASSERT_TRUE(TearWalTail(dir_, rng, &what).ok()) << "seed " << seed;
    kinds_seen[what.rfind("torn header", 0) == 0 ? 0 : what.rfind("payload", 0) == 0 ? 1 : 2]++;

    wal::Contents c;
    auto w = wal::Wal::Open(o, &c);
    ASSERT_TRUE(w.ok()) << "seed " << seed << " (" << what << "): " << w.status().ToString();
    EXPECT_TRUE(c.truncated_tail.has_value()) << "seed " << seed << ": " << what;
    ASSERT_EQ(c.entries.size(), saved.size()) << "seed " << seed << ": " << what;
    for (size_t i = 0; i < saved.size(); ++i) {
      ASSERT_EQ(c.entries[i].index, saved[i].index);
      ASSERT_EQ(c.entries[i].data.view(), saved[i].data.view()) << "seed " << seed;
    }
    // The log carries on after the cut.
    const raftpb::Entry next = Entry(saved.size() + 1, rng);
    ASSERT_TRUE((*w)->Save({}, std::vector<raftpb::Entry>{next}).ok());
    ASSERT_TRUE((*w)->Close().ok());
    w.value().reset();
    wal::Contents again;
    auto reopened = wal::Wal::Open(o, &again);
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
    EXPECT_FALSE(again.truncated_tail.has_value());
    EXPECT_EQ(again.entries.size(), saved.size() + 1);
  }
  for (int k = 0; k < 3; ++k)
    EXPECT_GT(kinds_seen[k], 10) << "every form of torn tail, often";
}

TEST_F(TornWalTest, NoWalIsNotFound) {
  std::filesystem::create_directories(dir_);
  std::mt19937_64 rng(1);
  std::string what;
  EXPECT_EQ(TearWalTail(dir_, rng, &what).code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace raftkit::chaos
