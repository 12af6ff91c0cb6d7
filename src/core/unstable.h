// The tail of the log that has not been persisted yet (etcd: log_unstable.go): entries appended
// since the last Ready, and possibly an incoming snapshot.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "raftkit/raftpb/types.h"
#include "raftkit/util/logger.h"

namespace raftkit::raft {

class Unstable {
 public:
  explicit Unstable(Logger& logger) : logger_(&logger) {}

  /// The first index after the unstable snapshot, if there is one.
  [[nodiscard]] std::optional<Index> MaybeFirstIndex() const {
    if (snapshot_) return snapshot_->metadata.index + 1;
    return std::nullopt;
  }
  /// The last index of the unstable entries, or of the unstable snapshot.
  [[nodiscard]] std::optional<Index> MaybeLastIndex() const {
    if (!entries_.empty()) return offset_ + (entries_.size() - 1);
    if (snapshot_) return snapshot_->metadata.index;
    return std::nullopt;
  }
  /// The term of entry i if the unstable part knows it.
  [[nodiscard]] std::optional<Term> MaybeTerm(Index i) const {
    if (i < offset_) {
      if (snapshot_ && snapshot_->metadata.index == i) return snapshot_->metadata.term;
      return std::nullopt;
    }
    if (i - offset_ >= entries_.size()) return std::nullopt;
    return entries_[i - offset_].term;
  }

  /// Entries up to (i, t) were persisted: drop them. Ignored if the entry at i has a different
  /// term (it was overwritten since the Ready that carried it) or is not unstable.
  void StableTo(Index i, Term t);
  /// The snapshot at index i was persisted: drop it.
  void StableSnapTo(Index i);
  /// Replaces everything with snapshot s.
  void Restore(const raftpb::Snapshot& s);
  /// Appends ents, first truncating any unstable entries at or after ents[0].index.
  void TruncateAndAppend(std::span<const raftpb::Entry> ents);
  /// Copies of the entries in [lo, hi). Panics if out of the unstable range.
  [[nodiscard]] std::vector<raftpb::Entry> Slice(Index lo, Index hi) const;

  [[nodiscard]] const std::vector<raftpb::Entry>& entries() const noexcept { return entries_; }
  [[nodiscard]] const raftpb::Snapshot* snapshot() const noexcept {
    return snapshot_ ? &*snapshot_ : nullptr;
  }
  /// Index of entries()[0]. Invariant: offset == snapshot index + 1 when there is a snapshot.
  [[nodiscard]] Index offset() const noexcept { return offset_; }
  void set_offset(Index o) noexcept { offset_ = o; }

 private:
  void MustCheckOutOfBounds(Index lo, Index hi) const;

  std::optional<raftpb::Snapshot> snapshot_;
  std::vector<raftpb::Entry> entries_;
  Index offset_;
  Logger* logger_;
};

}  // namespace raftkit::raft
