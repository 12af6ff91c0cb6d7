// Tests of the inflight window that bounds optimistic replication to a follower in
// StateReplicate (etcd's tracker.Inflights, plus a byte budget).
#include "raftkit/core/tracker/inflights.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "raftkit/util/panic.h"
#include "raftkit/util/rand.h"

namespace raftkit::raft::tracker {
namespace {

using Slot = std::pair<uint64_t, uint64_t>;  // (last index, bytes)

Index Idx(uint64_t v) {
  return Index(v);
}

// The smallest index currently in the window, found by probing a copy with FreeLE.
uint64_t FirstIndex(const Inflights& in) {
  uint64_t lo = 0;
  uint64_t hi = UINT64_MAX;  // FreeLE(UINT64_MAX) frees everything, so the answer is <= hi
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    Inflights probe = in;
    probe.FreeLE(Idx(mid));
    if (probe.Count() < in.Count()) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

// The window's contents, oldest first, read through the public interface only.
std::vector<Slot> Contents(Inflights in) {
  std::vector<Slot> out;
  while (in.Count() > 0) {
    const uint64_t first = FirstIndex(in);
    const uint64_t bytes_before = in.Bytes();
    const size_t count_before = in.Count();
    in.FreeFirstOne();
    EXPECT_EQ(in.Count(), count_before - 1);
    out.emplace_back(first, bytes_before - in.Bytes());
  }
  return out;
}

// Indexes only.
std::vector<uint64_t> Indexes(const Inflights& in) {
  std::vector<uint64_t> out;
  for (auto [idx, bytes] : Contents(in))
    out.push_back(idx);
  return out;
}

std::vector<uint64_t> Range(uint64_t from, uint64_t to_inclusive) {
  std::vector<uint64_t> out;
  for (uint64_t i = from; i <= to_inclusive; ++i)
    out.push_back(i);
  return out;
}

class InflightsTest : public ::testing::Test {
 protected:
  void SetUp() override { previous_ = SetPanicHandler(&ThrowingPanicHandler); }
  void TearDown() override { SetPanicHandler(previous_); }

 private:
  PanicHandler previous_ = nullptr;
};

TEST_F(InflightsTest, NewWindowIsEmpty) {
  Inflights in(4, 100);
  EXPECT_EQ(in.Count(), 0u);
  EXPECT_EQ(in.Bytes(), 0u);
  EXPECT_FALSE(in.Full());
  EXPECT_EQ(in.MaxCount(), 4u);
  EXPECT_EQ(in.MaxBytes(), 100u);
  EXPECT_TRUE(Indexes(in).empty());
}

TEST_F(InflightsTest, FullOnlyOnceCountLimitReached) {
  Inflights in(10, 0);
  for (uint64_t i = 0; i < 10; ++i) {
    EXPECT_FALSE(in.Full()) << i;
    in.Add(Idx(i), 1);
    EXPECT_EQ(in.Count(), i + 1);
  }
  EXPECT_TRUE(in.Full());
  EXPECT_EQ(Indexes(in), Range(0, 9));
  EXPECT_EQ(in.Bytes(), 10u);
}

TEST_F(InflightsTest, SingleSlotWindow) {
  Inflights in(1, 0);
  in.Add(Idx(7), 3);
  EXPECT_TRUE(in.Full());
  in.FreeLE(Idx(7));
  EXPECT_FALSE(in.Full());
  in.Add(Idx(8), 3);
  EXPECT_TRUE(in.Full());
  EXPECT_EQ(Contents(in), (std::vector<Slot>{{8, 3}}));
}

TEST_F(InflightsTest, FreeLEFreesEverythingUpToTheIndex) {
  Inflights in(10, 0);
  for (uint64_t i = 0; i < 10; ++i)
    in.Add(Idx(i), 10 + i);

  in.FreeLE(Idx(4));  // partial: 0..4 acknowledged
  EXPECT_EQ(in.Count(), 5u);
  EXPECT_EQ(Indexes(in), Range(5, 9));
  EXPECT_FALSE(in.Full());

  in.FreeLE(Idx(8));
  EXPECT_EQ(Contents(in), (std::vector<Slot>{{9, 19}}));

  in.FreeLE(Idx(9));  // complete
  EXPECT_EQ(in.Count(), 0u);
  EXPECT_EQ(in.Bytes(), 0u);
}

TEST_F(InflightsTest, FreeLEBelowOldestFreesNothing) {
  Inflights in(5, 0);
  for (uint64_t i : {10, 20, 30})
    in.Add(Idx(i), i);
  in.FreeLE(Idx(9));  // stale ack, older than anything in flight
  EXPECT_EQ(in.Count(), 3u);
  EXPECT_EQ(in.Bytes(), 60u);
  in.FreeLE(Idx(0));
  EXPECT_EQ(Indexes(in), (std::vector<uint64_t>{10, 20, 30}));
}

TEST_F(InflightsTest, FreeLEBetweenIndexesFreesTheLowerOnes) {
  // Messages ending at 10, 20, 30; an ack for 25 covers the first two only.
  Inflights in(5, 0);
  for (uint64_t i : {10, 20, 30})
    in.Add(Idx(i), i);
  in.FreeLE(Idx(25));
  EXPECT_EQ(Contents(in), (std::vector<Slot>{{30, 30}}));
  EXPECT_EQ(in.Bytes(), 30u);
  // Beyond the newest: frees everything.
  in.FreeLE(Idx(1000));
  EXPECT_EQ(in.Count(), 0u);
}

TEST_F(InflightsTest, FreeOnEmptyWindowIsNoop) {
  Inflights in(3, 0);
  in.FreeLE(Idx(100));
  in.FreeFirstOne();
  EXPECT_EQ(in.Count(), 0u);
  EXPECT_EQ(in.Bytes(), 0u);
  in.Add(Idx(1), 1);
  EXPECT_EQ(Indexes(in), (std::vector<uint64_t>{1}));
}

TEST_F(InflightsTest, FreeFirstOneFreesOnlyTheOldest) {
  Inflights in(10, 0);
  for (uint64_t i = 0; i < 10; ++i)
    in.Add(Idx(i), 1u << i);
  ASSERT_TRUE(in.Full());
  in.FreeFirstOne();
  EXPECT_FALSE(in.Full());  // room for exactly one more message
  EXPECT_EQ(in.Count(), 9u);
  EXPECT_EQ(in.Bytes(), (1u << 10) - 1 - 1);  // message 0 carried 1 byte
  EXPECT_EQ(Indexes(in), Range(1, 9));
  in.Add(Idx(10), 0);
  EXPECT_TRUE(in.Full());
}

TEST_F(InflightsTest, RingWrapsAroundAndKeepsOrder) {
  Inflights in(10, 0);
  for (uint64_t i = 0; i < 10; ++i)
    in.Add(Idx(i), 1);
  in.FreeLE(Idx(8));  // one left, at the last slot of the ring
  for (uint64_t i = 10; i < 15; ++i)
    in.Add(Idx(i), 1);  // these land at the start of the ring
  EXPECT_EQ(Indexes(in), Range(9, 14));
  in.FreeLE(Idx(12));  // frees across the wrap point
  EXPECT_EQ(Indexes(in), Range(13, 14));
  // Fill completely while wrapped.
  for (uint64_t i = 15; i < 23; ++i)
    in.Add(Idx(i), 1);
  EXPECT_TRUE(in.Full());
  EXPECT_EQ(Indexes(in), Range(13, 22));
  in.FreeLE(Idx(22));
  EXPECT_EQ(in.Count(), 0u);
  // Emptied: refilling from scratch still holds max_count messages.
  for (uint64_t i = 23; i < 33; ++i)
    in.Add(Idx(i), 1);
  EXPECT_TRUE(in.Full());
  EXPECT_EQ(Indexes(in), Range(23, 32));
}

TEST_F(InflightsTest, BufferGrowthPreservesMessagesWhenWindowStartMoved) {
  // The buffer grows lazily. Free messages before it reached its full size so that the window
  // no longer starts at slot 0, then keep adding through every growth step and around the ring.
  Inflights in(8, 0);
  in.Add(Idx(1), 1);
  in.Add(Idx(2), 2);
  in.FreeLE(Idx(1));
  for (uint64_t i = 3; i <= 9; ++i) {
    in.Add(Idx(i), i);
    EXPECT_EQ(Indexes(in), Range(2, i)) << "after adding " << i;
  }
  EXPECT_TRUE(in.Full());
  EXPECT_EQ(in.Bytes(), 44u);  // 2 + 3 + ... + 9
  in.FreeLE(Idx(5));
  for (uint64_t i = 10; i <= 13; ++i)
    in.Add(Idx(i), i);
  EXPECT_TRUE(in.Full());
  EXPECT_EQ(Indexes(in), Range(6, 13));
}

TEST_F(InflightsTest, LargeWindowHoldsMaxCountMessages) {
  Inflights in(256, 0);
  for (uint64_t i = 1; i <= 256; ++i) {
    ASSERT_FALSE(in.Full()) << i;
    in.Add(Idx(i * 2), 0);
  }
  EXPECT_TRUE(in.Full());
  EXPECT_EQ(in.Bytes(), 0u);
  in.FreeLE(Idx(256));  // messages 2, 4, ..., 256
  EXPECT_EQ(in.Count(), 128u);
}

TEST_F(InflightsTest, FullByByteBudget) {
  Inflights in(10, 100);
  in.Add(Idx(1), 40);
  in.Add(Idx(2), 40);
  EXPECT_FALSE(in.Full());  // 80 < 100
  // The message that crosses the budget is still allowed; afterwards the window is full.
  in.Add(Idx(3), 30);
  EXPECT_EQ(in.Bytes(), 110u);
  EXPECT_TRUE(in.Full());
  EXPECT_EQ(in.Count(), 3u);
  in.FreeFirstOne();
  EXPECT_EQ(in.Bytes(), 70u);
  EXPECT_FALSE(in.Full());
  // Reaching the budget exactly also fills the window.
  in.Add(Idx(4), 30);
  EXPECT_EQ(in.Bytes(), 100u);
  EXPECT_TRUE(in.Full());
}

TEST_F(InflightsTest, ZeroMaxBytesMeansNoByteLimit) {
  Inflights in(3, 0);
  in.Add(Idx(1), UINT64_MAX / 4);
  in.Add(Idx(2), UINT64_MAX / 4);
  EXPECT_FALSE(in.Full());
  in.Add(Idx(3), 0);
  EXPECT_TRUE(in.Full());  // by count
}

TEST_F(InflightsTest, CountLimitAppliesUnderByteBudget) {
  Inflights in(2, 1000);
  in.Add(Idx(1), 1);
  in.Add(Idx(2), 1);
  EXPECT_TRUE(in.Full());
  EXPECT_EQ(in.Bytes(), 2u);
}

TEST_F(InflightsTest, BytesAccountingFollowsFrees) {
  Inflights in(8, 0);
  const std::vector<Slot> sent = {{3, 100}, {5, 7}, {6, 0}, {9, 33}, {12, 1}};
  for (auto [idx, bytes] : sent)
    in.Add(Idx(idx), bytes);
  EXPECT_EQ(in.Bytes(), 141u);
  EXPECT_EQ(Contents(in), sent);
  in.FreeLE(Idx(5));
  EXPECT_EQ(in.Bytes(), 34u);
  in.FreeFirstOne();  // the zero-byte message
  EXPECT_EQ(in.Bytes(), 34u);
  EXPECT_EQ(in.Count(), 2u);
  in.FreeLE(Idx(11));
  EXPECT_EQ(in.Bytes(), 1u);
  in.FreeLE(Idx(12));
  EXPECT_EQ(in.Bytes(), 0u);
}

TEST_F(InflightsTest, ResetEmptiesWindowAndAcceptsAnyIndexAgain) {
  Inflights in(3, 50);
  in.Add(Idx(10), 20);
  in.Add(Idx(11), 40);
  ASSERT_TRUE(in.Full());
  in.Reset();
  EXPECT_EQ(in.Count(), 0u);
  EXPECT_EQ(in.Bytes(), 0u);
  EXPECT_FALSE(in.Full());
  // After a reset the leader may resend from an earlier index (e.g. back in StateProbe).
  in.Add(Idx(4), 5);
  in.Add(Idx(5), 5);
  in.Add(Idx(6), 5);
  EXPECT_TRUE(in.Full());
  EXPECT_EQ(Contents(in), (std::vector<Slot>{{4, 5}, {5, 5}, {6, 5}}));
}

TEST_F(InflightsTest, AddToFullWindowPanics) {
  Inflights in(2, 0);
  in.Add(Idx(1), 1);
  in.Add(Idx(2), 1);
  EXPECT_THROW(in.Add(Idx(3), 1), PanicError);
  // The failed Add left the window untouched.
  EXPECT_EQ(Contents(in), (std::vector<Slot>{{1, 1}, {2, 1}}));

  Inflights by_bytes(5, 10);
  by_bytes.Add(Idx(1), 10);
  EXPECT_THROW(by_bytes.Add(Idx(2), 1), PanicError);
  EXPECT_EQ(by_bytes.Count(), 1u);
}

TEST_F(InflightsTest, AddWithNonIncreasingIndexPanics) {
  Inflights in(5, 0);
  in.Add(Idx(5), 1);
  EXPECT_THROW(in.Add(Idx(5), 1), PanicError);  // equal
  EXPECT_THROW(in.Add(Idx(4), 1), PanicError);  // lower
  EXPECT_EQ(Contents(in), (std::vector<Slot>{{5, 1}}));
  in.Add(Idx(6), 1);  // increasing is fine
  EXPECT_EQ(in.Count(), 2u);
  // Also across the wrap point of the ring.
  Inflights ring(3, 0);
  for (uint64_t i = 1; i <= 3; ++i)
    ring.Add(Idx(i), 0);
  ring.FreeLE(Idx(2));
  ring.Add(Idx(4), 0);  // wraps to slot 0
  EXPECT_THROW(ring.Add(Idx(4), 0), PanicError);
  EXPECT_EQ(Indexes(ring), (std::vector<uint64_t>{3, 4}));
}

TEST_F(InflightsTest, PanicMessageNamesTheProblem) {
  Inflights in(1, 0);
  in.Add(Idx(1), 0);
  try {
    in.Add(Idx(2), 0);
    FAIL() << "expected a panic";
  } catch (const PanicError& e) {
    EXPECT_NE(e.message.find("full"), std::string::npos) << e.message;
  }
}

// Random sequences of operations against a plain deque model.
TEST_F(InflightsTest, MatchesQueueModelUnderRandomOperations) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Rand rng(seed);
    const size_t max_count = 1 + rng.Uniform(12);
    const uint64_t max_bytes = rng.Uniform(2) == 0 ? 0 : 1 + rng.Uniform(200);
    Inflights in(max_count, max_bytes);
    std::deque<Slot> model;
    uint64_t model_bytes = 0;
    uint64_t last = 0;
    for (int step = 0; step < 400; ++step) {
      const bool model_full =
          model.size() == max_count || (max_bytes != 0 && model_bytes >= max_bytes);
      ASSERT_EQ(in.Full(), model_full) << "seed " << seed << " step " << step;
      const uint64_t op = rng.Uniform(10);
      if (op < 6) {
        if (model_full) continue;
        last += 1 + rng.Uniform(3);
        const uint64_t bytes = rng.Uniform(40);
        in.Add(Idx(last), bytes);
        model.emplace_back(last, bytes);
        model_bytes += bytes;
      } else if (op < 8) {
        const uint64_t to = last >= 6 ? last - rng.Uniform(6) : last;
        in.FreeLE(Idx(to));
        while (!model.empty() && model.front().first <= to) {
          model_bytes -= model.front().second;
          model.pop_front();
        }
      } else if (op < 9) {
        in.FreeFirstOne();
        if (!model.empty()) {
          model_bytes -= model.front().second;
          model.pop_front();
        }
      } else if (rng.Uniform(8) == 0) {
        in.Reset();
        model.clear();
        model_bytes = 0;
      }
      ASSERT_EQ(in.Count(), model.size()) << "seed " << seed << " step " << step;
      ASSERT_EQ(in.Bytes(), model_bytes) << "seed " << seed << " step " << step;
      if (step % 16 == 0) {
        ASSERT_EQ(Contents(in), std::vector<Slot>(model.begin(), model.end()))
            << "seed " << seed << " step " << step;
      }
    }
  }
}

}  // namespace
}  // namespace raftkit::raft::tracker
