// The load generator's latency histogram (tools/bench/histogram.h): exactness of small values,
// the 3-significant-digit bound over the whole range, percentiles, saturation and merging; plus
// the generator's base64 and option checks.
#include "histogram.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>

#include "loadgen.h"

namespace raftkit::bench {
namespace {

TEST(HistogramTest, EmptyHistogramReportsZeros) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.ValueAtPercentile(50), 0);
  EXPECT_EQ(h.ValueAtPercentile(100), 0);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(HistogramTest, ValuesBelowTwoThousandAreExact) {
  Histogram h;
  for (int64_t v = 1; v <= 2000; ++v)
    h.Record(v);
  EXPECT_EQ(h.count(), 2000u);
  EXPECT_EQ(h.ValueAtPercentile(50), 1000);
  EXPECT_EQ(h.ValueAtPercentile(90), 1800);
  EXPECT_EQ(h.ValueAtPercentile(99), 1980);
  EXPECT_EQ(h.ValueAtPercentile(99.9), 1998);
  EXPECT_EQ(h.ValueAtPercentile(100), 2000);
  EXPECT_EQ(h.min(), 1);
  EXPECT_DOUBLE_EQ(h.mean(), 1000.5);
}

TEST(HistogramTest, EveryValueIsKeptToThreeSignificantDigits) {
  Histogram h(60'000'000, 3);
  for (int64_t v = 1; v <= 60'000'000; v += 1 + v / 3) {
    const int64_t up = h.HighestEquivalent(v);
    ASSERT_GE(up, v) << v;
    ASSERT_LE(up - v, v / 1000) << v;
  }
  // Bucket edges around a power of two stay tight on both sides.
  for (int64_t v : {4095, 4096, 4097, 1 << 20, (1 << 20) + 1, 59'999'999, 60'000'000}) {
    EXPECT_LE(h.HighestEquivalent(v) - v, v / 1000) << v;
  }
}

TEST(HistogramTest, PercentilesOfAUniformRangeAreWithinOnePerMille) {
  Histogram h;
  for (int64_t v = 1; v <= 1'000'000; ++v)
    h.Record(v);
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const auto want = static_cast<double>(p / 100 * 1'000'000);
    const auto got = static_cast<double>(h.ValueAtPercentile(p));
    EXPECT_GE(got, want) << p;
    EXPECT_LE(got, want * 1.001) << p;
  }
  EXPECT_EQ(h.ValueAtPercentile(100), 1'000'000);
  EXPECT_EQ(h.max(), 1'000'000);
}

TEST(HistogramTest, PercentileNeverExceedsTheExactMaximum) {
  Histogram h;
  h.Record(123'456);
  // 123456 shares a bucket with larger values, but nothing larger was recorded.
  EXPECT_GT(h.HighestEquivalent(123'456), 123'456);
  EXPECT_EQ(h.ValueAtPercentile(50), 123'456);
  EXPECT_EQ(h.ValueAtPercentile(0), 123'456);
}

TEST(HistogramTest, ValuesOutsideTheRangeAreClampedAndCounted) {
  Histogram h(1'000'000, 3);
  h.Record(-5);
  h.Record(5'000'000, 2);
  EXPECT_EQ(h.count(), 3u);
  EXPECT_EQ(h.saturated(), 2u);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 1'000'000);
  EXPECT_EQ(h.ValueAtPercentile(100), 1'000'000);
}

TEST(HistogramTest, MergingEqualsRecordingEverythingInOne) {
  Histogram a, b, all;
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> latency(7.0, 1.5);  // around 1 ms, long tail
  for (int i = 0; i < 200'000; ++i) {
    const auto v = static_cast<int64_t>(latency(rng));
    (i % 3 == 0 ? a : b).Record(v);
    all.Record(v);
  }
  Histogram merged;
  merged.Merge(a);
  merged.Merge(b);
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_DOUBLE_EQ(merged.mean(), all.mean());
  for (double p : {0.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    EXPECT_EQ(merged.ValueAtPercentile(p), all.ValueAtPercentile(p)) << p;
  }
}

TEST(HistogramTest, MergingAnEmptyHistogramChangesNothing) {
  Histogram h, empty;
  h.Record(10);
  h.Record(20);
  h.Merge(empty);
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.min(), 10);
  EXPECT_EQ(h.max(), 20);
}

TEST(HistogramTest, ResetForgetsEverything) {
  Histogram h;
  h.Record(50);
  h.Record(70'000'000);
  h.Reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.saturated(), 0u);
  EXPECT_EQ(h.ValueAtPercentile(99), 0);
  h.Record(3);
  EXPECT_EQ(h.min(), 3);
  EXPECT_EQ(h.max(), 3);
}

TEST(HistogramDeathTest, MergingHistogramsOfDifferentShapeAborts) {
  Histogram a(60'000'000, 3), b(60'000'000, 2);
  EXPECT_DEATH(a.Merge(b), "another shape");
}

TEST(LoadgenTest, Base64MatchesTheRfc4648Vectors) {
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(Base64("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64("foobar"), "Zm9vYmFy");
}

TEST(LoadgenTest, RunLoadRejectsInvalidOptions) {
  LoadOptions o;
  o.endpoints = {"http://127.0.0.1:1"};
  o.clients = 0;
  EXPECT_EQ(RunLoad(o).status(), ErrorCode::kInvalidArgument);
  o.clients = 1;
  o.key_size = 3;  // cannot hold keys up to 99999
  EXPECT_EQ(RunLoad(o).status(), ErrorCode::kInvalidArgument);
  o.key_size = 16;
  o.endpoints = {"https://127.0.0.1:1"};
  EXPECT_EQ(RunLoad(o).status(), ErrorCode::kInvalidArgument);
  o.endpoints = {"127.0.0.1"};
  EXPECT_EQ(RunLoad(o).status(), ErrorCode::kInvalidArgument);
}

TEST(LoadgenTest, ParseTargetKnowsBothSystems) {
  EXPECT_EQ(ParseTarget("raftkit").value(), Target::kRaftkit);
  EXPECT_EQ(ParseTarget("etcd").value(), Target::kEtcd);
  EXPECT_FALSE(ParseTarget("redis").ok());
}

}  // namespace
}  // namespace raftkit::bench
