#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "raftkit/util/panic.h"

namespace raftkit::bench {

Histogram::Histogram(int64_t highest, int significant_digits)
    : highest_(highest), digits_(significant_digits) {
  RAFTKIT_CHECK(significant_digits >= 1 && significant_digits <= 5, "significant digits {}",
                significant_digits);
  int64_t needed = 2;
  for (int i = 0; i < significant_digits; ++i)
    needed *= 10;
  // One bucket per value up to 2 * 10^d: above it, half_ >= 10^d sub-buckets per power of two
  // give a bucket width of at most value / 10^d.
  sub_count_ = static_cast<int64_t>(std::bit_ceil(static_cast<uint64_t>(needed)));
  half_ = sub_count_ / 2;
  sub_bits_ = std::bit_width(static_cast<uint64_t>(sub_count_ - 1));
  RAFTKIT_CHECK(highest >= needed, "highest {} below {}", highest, needed);
  counts_.assign(IndexOf(highest) + 1, 0);
}

size_t Histogram::IndexOf(int64_t value) const {
  if (value < sub_count_) return static_cast<size_t>(value);
  // value has `shift` more bits than the linear range; dropping them leaves a sub-bucket in
  // [half_, sub_count_).
  const int shift = std::bit_width(static_cast<uint64_t>(value)) - sub_bits_;
  const int64_t sub = value >> shift;
  return static_cast<size_t>(sub_count_ + (shift - 1) * half_ + (sub - half_));
}

int64_t Histogram::UpperBoundOf(size_t index) const {
  const auto i = static_cast<int64_t>(index);
  if (i < sub_count_) return i;
  const int64_t shift = (i - sub_count_) / half_ + 1;
  const int64_t sub = (i - sub_count_) % half_ + half_;
  return ((sub + 1) << shift) - 1;
}

int64_t Histogram::HighestEquivalent(int64_t value) const {
  value = std::clamp<int64_t>(value, 0, highest_);
  return UpperBoundOf(IndexOf(value));
}

void Histogram::Record(int64_t value, uint64_t count) {
  if (count == 0) return;
  if (value < 0) value = 0;
  if (value > highest_) {
    value = highest_;
    saturated_ += count;
  }
  counts_[IndexOf(value)] += count;
  if (total_ == 0 || value < min_) min_ = value;
  if (total_ == 0 || value > max_) max_ = value;
  total_ += count;
  sum_ += static_cast<long double>(value) * static_cast<long double>(count);
}

void Histogram::Merge(const Histogram& other) {
  RAFTKIT_CHECK(other.highest_ == highest_ && other.digits_ == digits_,
                "merging a histogram of another shape ({}, {} vs {}, {})", other.highest_,
                other.digits_, highest_, digits_);
  if (other.total_ == 0) return;
  for (size_t i = 0; i < counts_.size(); ++i)
    counts_[i] += other.counts_[i];
  min_ = total_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = total_ == 0 ? other.max_ : std::max(max_, other.max_);
  total_ += other.total_;
  saturated_ += other.saturated_;
  sum_ += other.sum_;
}

void Histogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_ = saturated_ = 0;
  min_ = max_ = 0;
  sum_ = 0;
}

double Histogram::mean() const noexcept {
  return total_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(total_));
}

int64_t Histogram::ValueAtPercentile(double percentile) const {
  if (total_ == 0) return 0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  if (percentile >= 100.0) return max_;
  // The rank of the wanted value, 1-based; at least 1 so that p0 is the smallest value's bucket.
  // The tiny relative slack keeps a rounding error (99.9% of 2000 = 1998.0000000000002) from
  // moving the rank up by one.
  const double exact = percentile / 100.0 * static_cast<double>(total_);
  auto rank = static_cast<uint64_t>(std::ceil(exact * (1 - 1e-12)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(UpperBoundOf(i), max_);
  }
  return max_;
}

}  // namespace raftkit::bench
