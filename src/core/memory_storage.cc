#include <fmt/format.h>

#include "raftkit/core/storage.h"
#include "raftkit/util/panic.h"

namespace raftkit::raft {

using raftpb::Entry;

void LimitSize(std::vector<Entry>* ents, uint64_t max_size) {
  if (ents->empty()) return;
  uint64_t size = (*ents)[0].ByteSize();
  size_t limit = 1;
  for (; limit < ents->size(); ++limit) {
    size += (*ents)[limit].ByteSize();
    if (size > max_size) break;
  }
  ents->resize(limit);
}

MemoryStorage::MemoryStorage() : ents_(1) {}

Result<Storage::InitialState> MemoryStorage::GetInitialState() const {
  std::lock_guard lock(mu_);
  return InitialState{hard_state_, snapshot_.metadata.conf_state};
}

void MemoryStorage::SetHardState(const raftpb::HardState& hs) {
  std::lock_guard lock(mu_);
  hard_state_ = hs;
}

Result<std::vector<Entry>> MemoryStorage::Entries(Index lo, Index hi, uint64_t max_size) const {
  std::lock_guard lock(mu_);
  const Index offset = ents_[0].index;
  if (lo <= offset) return Status(ErrorCode::kCompacted, "requested index is compacted");
  RAFTKIT_CHECK(hi <= LastIndexLocked() + 1, "entries' hi({}) is out of bound lastindex({})", hi,
                LastIndexLocked());
  // Only the dummy entry: nothing is available.
  if (ents_.size() == 1) return Status(ErrorCode::kUnavailable, "no entries");
  std::vector<Entry> out(ents_.begin() + static_cast<ptrdiff_t>(lo - offset),
                         ents_.begin() + static_cast<ptrdiff_t>(hi - offset));
  LimitSize(&out, max_size);
  return out;
}

Result<Term> MemoryStorage::TermAt(Index i) const {
  std::lock_guard lock(mu_);
  const Index offset = ents_[0].index;
  if (i < offset) return Status(ErrorCode::kCompacted, "requested index is compacted");
  if (i - offset >= ents_.size()) {
    return Status(ErrorCode::kUnavailable, "requested entry at index is unavailable");
  }
  return ents_[i - offset].term;
}

Result<Index> MemoryStorage::LastIndex() const {
  std::lock_guard lock(mu_);
  return LastIndexLocked();
}

Result<Index> MemoryStorage::FirstIndex() const {
  std::lock_guard lock(mu_);
  return FirstIndexLocked();
}

Index MemoryStorage::LastIndexLocked() const {
  return ents_[0].index + (ents_.size() - 1);
}
Index MemoryStorage::FirstIndexLocked() const {
  return ents_[0].index + 1;
}

Result<raftpb::Snapshot> MemoryStorage::GetSnapshot() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

Status MemoryStorage::ApplySnapshot(const raftpb::Snapshot& snap) {
  std::lock_guard lock(mu_);
  if (snapshot_.metadata.index >= snap.metadata.index) {
    return Status(ErrorCode::kSnapOutOfDate, "requested index is older than the existing snapshot");
  }
  snapshot_ = snap;
  ents_.assign(1, Entry{});
  ents_[0].term = snap.metadata.term;
  ents_[0].index = snap.metadata.index;
  return Status::Ok();
}

Result<raftpb::Snapshot> MemoryStorage::CreateSnapshot(Index i, const raftpb::ConfState* cs,
                                                       Bytes data) {
  std::lock_guard lock(mu_);
  if (i <= snapshot_.metadata.index) {
    return Status(ErrorCode::kSnapOutOfDate, "requested index is older than the existing snapshot");
  }
  const Index offset = ents_[0].index;
  RAFTKIT_CHECK(i <= LastIndexLocked(), "snapshot {} is out of bound lastindex({})", i,
                LastIndexLocked());
  snapshot_.metadata.index = i;
  snapshot_.metadata.term = ents_[i - offset].term;
  if (cs != nullptr) snapshot_.metadata.conf_state = *cs;
  snapshot_.data = std::move(data);
  return snapshot_;
}

Status MemoryStorage::Compact(Index compact_index) {
  std::lock_guard lock(mu_);
  const Index offset = ents_[0].index;
  if (compact_index <= offset) {
    return Status(ErrorCode::kCompacted, "requested index is compacted");
  }
  RAFTKIT_CHECK(compact_index <= LastIndexLocked(), "compact {} is out of bound lastindex({})",
                compact_index, LastIndexLocked());
  const size_t i = compact_index - offset;
  // The entry at compact_index becomes the dummy: keep only its index and term. Compacting in
  // place keeps the vector's capacity for the appends that follow.
  Entry dummy;
  dummy.index = ents_[i].index;
  dummy.term = ents_[i].term;
  ents_[0] = std::move(dummy);
  ents_.erase(ents_.begin() + 1, ents_.begin() + static_cast<ptrdiff_t>(i + 1));
  return Status::Ok();
}

Status MemoryStorage::Append(std::vector<Entry> entries) {
  if (entries.empty()) return Status::Ok();
  std::lock_guard lock(mu_);
  const Index first = FirstIndexLocked();
  const Index last = entries[0].index + (entries.size() - 1);
  // Entirely compacted already: nothing to do.
  if (last < first) return Status::Ok();
  // Drop the part that is already compacted.
  if (first > entries[0].index) {
    entries.erase(entries.begin(),
                  entries.begin() + static_cast<ptrdiff_t>(first - entries[0].index));
  }
  const uint64_t offset = entries[0].index - ents_[0].index;
  if (ents_.size() > offset) {
    // Overlap: the new entries win (a new leader's log replaces ours from here on).
    ents_.resize(offset);
    ents_.insert(ents_.end(), std::make_move_iterator(entries.begin()),
                 std::make_move_iterator(entries.end()));
  } else if (ents_.size() == offset) {
    ents_.insert(ents_.end(), std::make_move_iterator(entries.begin()),
                 std::make_move_iterator(entries.end()));
  } else {
    RAFTKIT_PANIC("missing log entry [last: {}, append at: {}]", LastIndexLocked(),
                  entries[0].index);
  }
  return Status::Ok();
}

}  // namespace raftkit::raft
