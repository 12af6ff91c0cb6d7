#include "raftkit/core/tracker/inflights.h"

#include <algorithm>

#include "raftkit/util/panic.h"

namespace raftkit::raft::tracker {

void Inflights::Add(Index index, uint64_t bytes) {
  RAFTKIT_CHECK(!Full(), "cannot add into a full inflights window");
  if (count_ > 0) {
    const size_t last = (start_ + count_ - 1) % max_count_;
    RAFTKIT_CHECK(buffer_[last].index < index, "inflight index {} does not increase (last {})",
                  index, buffer_[last].index);
  }
  size_t next = start_ + count_;
  if (next >= max_count_) next -= max_count_;
  if (next >= buffer_.size()) Grow();
  buffer_[next] = Slot{index, bytes};
  ++count_;
  bytes_ += bytes;
}

void Inflights::Grow() {
  // The ring only wraps once the buffer has reached max_count_, so growing never has to move
  // wrapped slots: before that, start_ + count_ < buffer_.size() always holds.
  size_t new_size = buffer_.empty() ? 1 : buffer_.size() * 2;
  new_size = std::min(new_size, max_count_);
  buffer_.resize(new_size);
}

void Inflights::FreeLE(Index to) {
  if (count_ == 0 || to < buffer_[start_].index) return;  // nothing to free
  size_t idx = start_;
  size_t freed = 0;
  uint64_t freed_bytes = 0;
  while (freed < count_ && buffer_[idx].index <= to) {
    freed_bytes += buffer_[idx].bytes;
    ++freed;
    if (++idx >= max_count_) idx -= max_count_;
  }
  count_ -= freed;
  bytes_ -= freed_bytes;
  start_ = count_ == 0 ? 0 : idx;
}

void Inflights::FreeFirstOne() {
  if (count_ == 0) return;
  FreeLE(buffer_[start_].index);
}

void Inflights::Reset() noexcept {
  count_ = 0;
  start_ = 0;
  bytes_ = 0;
}

}  // namespace raftkit::raft::tracker
