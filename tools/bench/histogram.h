// A latency histogram with log-linear buckets (the HDR histogram layout): values below
// 2 * 10^digits (rounded up to a power of two) each have their own bucket; above that, every
// power-of-two range [2^k, 2^(k+1)) is split into the same number of equal sub-buckets, so any
// recorded value is known to within a relative error of 10^-digits ("3 significant digits").
//
// Units are the caller's (the load generator records microseconds: 1 us .. 60 s by default).
// Memory is fixed at construction (about 18k counters for 60e6 with 3 digits, 150 KB) and
// recording is a few shifts and one increment, so one histogram per thread and a Merge() at the
// end is the way to use it from several threads; a Histogram itself is not thread-safe.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace raftkit::bench {

class Histogram {
 public:
  /// Tracks values in [0, highest] with `significant_digits` (1..5) digits of precision.
  /// Requires: highest >= 2 * 10^significant_digits.
  explicit Histogram(int64_t highest = 60'000'000, int significant_digits = 3);

  /// Records `count` occurrences of `value`. Negative values count as 0; values above highest()
  /// count as highest() and are also counted in saturated(). max() keeps the exact largest value.
  void Record(int64_t value, uint64_t count = 1);

  /// Adds every count of `other`. Requires: same highest() and significant_digits() (a broken
  /// requirement aborts: it is a programming error, not an input error).
  void Merge(const Histogram& other);

  /// Forgets every recorded value.
  void Reset();

  /// The smallest value v such that at least `percentile`% of the recorded values are <= v, as
  /// the upper end of v's bucket (never above max()). percentile is clamped to [0, 100];
  /// 100 returns max(). 0 when nothing was recorded.
  [[nodiscard]] int64_t ValueAtPercentile(double percentile) const;

  [[nodiscard]] uint64_t count() const noexcept { return total_; }
  [[nodiscard]] uint64_t saturated() const noexcept { return saturated_; }
  /// Exact smallest and largest recorded values (after the clamping of Record); 0 when empty.
  [[nodiscard]] int64_t min() const noexcept { return total_ == 0 ? 0 : min_; }
  [[nodiscard]] int64_t max() const noexcept { return total_ == 0 ? 0 : max_; }
  /// Mean of the recorded values (exact, from a running sum); 0 when empty.
  [[nodiscard]] double mean() const noexcept;
  [[nodiscard]] int64_t highest() const noexcept { return highest_; }
  [[nodiscard]] int significant_digits() const noexcept { return digits_; }

  /// Largest value that lands in the same bucket as `value` (what percentiles report): the
  /// precision the histogram guarantees, exposed for tests.
  [[nodiscard]] int64_t HighestEquivalent(int64_t value) const;

 private:
  [[nodiscard]] size_t IndexOf(int64_t value) const;
  [[nodiscard]] int64_t UpperBoundOf(size_t index) const;

  int64_t highest_;
  int digits_;
  // Values below sub_count_ map one to one; above, each power-of-two range has half_ buckets.
  int64_t sub_count_;
  int64_t half_;
  int sub_bits_;  // bit width of sub_count_ - 1
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  uint64_t saturated_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace raftkit::bench
