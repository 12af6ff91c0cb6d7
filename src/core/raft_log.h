// The Raft log as the algorithm sees it (etcd: log.go): the persisted part read through Storage,
// followed by the unstable part not yet persisted, plus the committed and applied cursors.
//
//   snapshot | storage entries ............ | unstable entries ......
//            ^ FirstIndex()                                          ^ LastIndex()
//   Invariant: applied <= committed <= LastIndex().
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/unstable.h"
#include "raftkit/core/storage.h"
#include "raftkit/util/logger.h"

namespace raftkit::raft {

class RaftLog {
 public:
  /// Opens the log over `storage` (which must outlive it). Committed and applied start just
  /// before the storage's first index. `max_next_ents_size` caps NextEnts().
  RaftLog(Storage& storage, Logger& logger, uint64_t max_next_ents_size);

  /// The follower side of AppendEntries (thesis §5.3): if the entry at `index` has term
  /// `log_term`, appends `ents` after it (truncating conflicting entries), raises committed to
  /// min(committed, last new index) and returns the last new index; otherwise nullopt.
  std::optional<Index> MaybeAppend(Index index, Term log_term, Index committed,
                                   std::span<const raftpb::Entry> ents);
  /// Appends entries (which must not start at or below committed). Returns the new last index.
  Index Append(std::span<const raftpb::Entry> ents);
  /// The index of the first entry of ents that is missing or has a different term in the log,
  /// or 0 if all are present.
  [[nodiscard]] Index FindConflict(std::span<const raftpb::Entry> ents) const;

  [[nodiscard]] const std::vector<raftpb::Entry>& UnstableEntries() const {
    return unstable_.entries();
  }
  /// Committed entries not yet applied, at most max_next_ents_size bytes (at least one entry).
  [[nodiscard]] std::vector<raftpb::Entry> NextEnts() const;
  [[nodiscard]] bool HasNextEnts() const;
  /// The unstable snapshot if there is one, else the storage's snapshot.
  [[nodiscard]] Result<raftpb::Snapshot> GetSnapshot() const;

  [[nodiscard]] Index FirstIndex() const;
  [[nodiscard]] Index LastIndex() const;
  [[nodiscard]] Term LastTerm() const;
  /// The term of entry i; 0 (no error) if i is outside [FirstIndex() - 1, LastIndex()];
  /// kCompacted or kUnavailable from storage.
  [[nodiscard]] Result<Term> TermAt(Index i) const;
  /// Entries from i to the end, at most max_size bytes (at least one entry).
  [[nodiscard]] Result<std::vector<raftpb::Entry>> EntriesFrom(Index i, uint64_t max_size) const;
  /// Every entry from FirstIndex() on.
  [[nodiscard]] std::vector<raftpb::Entry> AllEntries() const;
  /// Entries in [lo, hi), at most max_size bytes (at least one). kCompacted if lo was compacted.
  [[nodiscard]] Result<std::vector<raftpb::Entry>> Slice(Index lo, Index hi,
                                                         uint64_t max_size) const;

  /// Whether a log ending at (lasti, term) is at least as up to date as ours (thesis §5.4.1).
  [[nodiscard]] bool IsUpToDate(Index lasti, Term term) const;
  [[nodiscard]] bool MatchTerm(Index i, Term t) const;
  /// Commits up to max_index if that entry has term `term` (a leader only commits entries of its
  /// own term by counting replicas; §5.4.2). Returns whether committed moved.
  bool MaybeCommit(Index max_index, Term term);
  /// Raises committed to `to` (never lowers it). Panics if `to` is past the last index: the log
  /// was lost or corrupted.
  void CommitTo(Index to);
  /// The application applied up to i. Panics if i is outside [applied, committed].
  void AppliedTo(Index i);
  void StableTo(Index i, Term t) { unstable_.StableTo(i, t); }
  void StableSnapTo(Index i) { unstable_.StableSnapTo(i); }
  /// Replaces the log with snapshot s (committed = its index).
  void Restore(const raftpb::Snapshot& s);
  /// The term of a TermAt() result, 0 if it was compacted; panics on other errors.
  [[nodiscard]] Term ZeroTermOnErrCompacted(const Result<Term>& t) const;

  [[nodiscard]] Index committed() const noexcept { return committed_; }
  [[nodiscard]] Index applied() const noexcept { return applied_; }
  /// Direct setter for loading a HardState and for Bootstrap (no checks).
  void set_committed(Index c) noexcept { committed_ = c; }
  [[nodiscard]] const Unstable& unstable() const noexcept { return unstable_; }
  [[nodiscard]] Storage& storage() const noexcept { return *storage_; }

  /// "committed=5, applied=3, unstable.offset=6, len(unstable.Entries)=2"
  [[nodiscard]] std::string String() const;

 private:
  // kCompacted if lo is compacted; panics if [lo, hi) is not within the log.
  Status MustCheckOutOfBounds(Index lo, Index hi) const;

  Storage* storage_;
  Unstable unstable_;
  Index committed_;
  Index applied_;
  Logger* logger_;
  uint64_t max_next_ents_size_;
};

}  // namespace raftkit::raft
