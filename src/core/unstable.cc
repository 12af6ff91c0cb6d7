#include "core/unstable.h"
#include "core/log.h"

#include "raftkit/util/panic.h"

namespace raftkit::raft {

using raftpb::Entry;

void Unstable::StableTo(Index i, Term t) {
  auto gt = MaybeTerm(i);
  if (!gt) return;
  // Only drop entries if the persisted entry is still the one we have: a newer leader may have
  // overwritten it (with a different term) after the Ready was handed out.
  if (*gt == t && i >= offset_) {
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(i + 1 - offset_));
    offset_ = i + 1;
    // Release memory after a burst so an idle node does not hold a large buffer.
    if (entries_.empty()) {
      std::vector<Entry>().swap(entries_);
    } else if (entries_.size() * 2 < entries_.capacity()) {
      entries_.shrink_to_fit();
    }
  }
}

void Unstable::StableSnapTo(Index i) {
  if (snapshot_ && snapshot_->metadata.index == i) snapshot_.reset();
}

void Unstable::Restore(const raftpb::Snapshot& s) {
  offset_ = s.metadata.index + 1;
  entries_.clear();
  snapshot_ = s;
}

void Unstable::TruncateAndAppend(std::span<const Entry> ents) {
  const Index after = ents.front().index;
  if (after == offset_ + entries_.size()) {
    // The common case: ents follow the unstable entries directly.
    entries_.insert(entries_.end(), ents.begin(), ents.end());
  } else if (after <= offset_) {
    // Everything unstable is replaced (the log was truncated back into the stable part).
    RAFT_INFO("replace the unstable entries from index {}", after);
    offset_ = after;
    entries_.assign(ents.begin(), ents.end());
  } else {
    // Keep the unstable entries before `after`, then append.
    RAFT_INFO("truncate the unstable entries before index {}", after);
    MustCheckOutOfBounds(offset_, after);  // a gap after the unstable entries is a caller bug
    entries_.resize(after - offset_);
    entries_.insert(entries_.end(), ents.begin(), ents.end());
  }
}

std::vector<Entry> Unstable::Slice(Index lo, Index hi) const {
  MustCheckOutOfBounds(lo, hi);
  return std::vector<Entry>(entries_.begin() + static_cast<ptrdiff_t>(lo - offset_),
                            entries_.begin() + static_cast<ptrdiff_t>(hi - offset_));
}

void Unstable::MustCheckOutOfBounds(Index lo, Index hi) const {
  RAFTKIT_CHECK(lo <= hi, "invalid unstable.slice {} > {}", lo, hi);
  const Index upper = offset_ + entries_.size();
  RAFTKIT_CHECK(lo >= offset_ && hi <= upper, "unstable.slice[{},{}) out of bound [{},{}]", lo, hi,
                offset_, upper);
}

}  // namespace raftkit::raft
