// The read side of the persisted Raft log, as the core sees it (etcd: raft.Storage), and
// MemoryStorage, an in-memory implementation for tests, simulations and benchmarks.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "raftkit/raftpb/types.h"
#include "raftkit/util/status.h"

namespace raftkit::raft {

/// What the core needs to read back from stable storage.
///
/// The core calls these from inside Step/Tick/Ready; an implementation must be callable from the
/// thread driving the RawNode. If any method returns an error other than the documented ones, the
/// core panics: it cannot continue without its log. Writing (appending entries, saving the
/// HardState, applying a snapshot) is the application's job, driven by Ready.
///
/// Invariant: the log is contiguous from FirstIndex() to LastIndex(); the entry just before
/// FirstIndex() is covered by the snapshot, whose index and term TermAt(FirstIndex() - 1) returns.
class Storage {
 public:
  virtual ~Storage() = default;

  struct InitialState {
    raftpb::HardState hard_state;
    raftpb::ConfState conf_state;
  };
  /// The saved HardState and the ConfState of the latest snapshot (and of any committed conf
  /// changes applied since, if the application tracks them).
  [[nodiscard]] virtual Result<InitialState> GetInitialState() const = 0;

  /// Entries in [lo, hi), at most `max_size` encoded bytes in total but always at least one entry
  /// if any is available. Errors: kCompacted if lo <= the snapshot index; kUnavailable if the
  /// entries are not present. Requires lo <= hi <= LastIndex() + 1.
  [[nodiscard]] virtual Result<std::vector<raftpb::Entry>> Entries(Index lo, Index hi,
                                                                   uint64_t max_size) const = 0;
  /// The term of entry i, for i in [FirstIndex() - 1, LastIndex()]. Errors: kCompacted if i is
  /// below FirstIndex() - 1; kUnavailable if above LastIndex().
  [[nodiscard]] virtual Result<Term> TermAt(Index i) const = 0;
  /// The index of the last entry (the snapshot's index if the log is empty).
  [[nodiscard]] virtual Result<Index> LastIndex() const = 0;
  /// The index of the first entry that may be returned by Entries (older ones are in the snapshot).
  [[nodiscard]] virtual Result<Index> FirstIndex() const = 0;
  /// The latest snapshot. Error kSnapshotTemporarilyUnavailable tells the core that a snapshot is
  /// being prepared and to try again later.
  [[nodiscard]] virtual Result<raftpb::Snapshot> GetSnapshot() const = 0;
};

/// Trims `ents` to its longest prefix whose total encoded size is at most `max_size`, keeping at
/// least one entry (etcd's limitSize).
void LimitSize(std::vector<raftpb::Entry>* ents, uint64_t max_size);

/// A thread-safe in-memory Storage (etcd's MemoryStorage). The application appends what each
/// Ready asks it to persist; nothing survives the process.
class MemoryStorage final : public Storage {
 public:
  MemoryStorage();

  [[nodiscard]] Result<InitialState> GetInitialState() const override;
  [[nodiscard]] Result<std::vector<raftpb::Entry>> Entries(Index lo, Index hi,
                                                           uint64_t max_size) const override;
  [[nodiscard]] Result<Term> TermAt(Index i) const override;
  [[nodiscard]] Result<Index> LastIndex() const override;
  [[nodiscard]] Result<Index> FirstIndex() const override;
  [[nodiscard]] Result<raftpb::Snapshot> GetSnapshot() const override;

  /// Saves the HardState.
  void SetHardState(const raftpb::HardState& hs);
  /// Replaces the contents with `snap` (which must be newer: else kSnapOutOfDate).
  Status ApplySnapshot(const raftpb::Snapshot& snap);
  /// Records a snapshot at index i (<= LastIndex()) with the given data and, if non-null,
  /// ConfState; returns it. kSnapOutOfDate if i is not newer than the current snapshot. Does not
  /// discard entries: call Compact for that.
  Result<raftpb::Snapshot> CreateSnapshot(Index i, const raftpb::ConfState* cs, Bytes data);
  /// Discards entries before `compact_index` (which becomes the new dummy entry). kCompacted if
  /// already compacted that far; panics if beyond LastIndex().
  Status Compact(Index compact_index);
  /// Appends entries, overwriting any existing entries at the same or later indexes (a new
  /// leader's log wins). Entries already compacted are ignored. Panics on a gap.
  Status Append(std::vector<raftpb::Entry> entries);

 private:
  Index LastIndexLocked() const;
  Index FirstIndexLocked() const;

  mutable std::mutex mu_;
  raftpb::HardState hard_state_;
  raftpb::Snapshot snapshot_;
  // ents_[0] is a dummy entry holding the index and term of the last compacted entry (the
  // snapshot's); real entries follow. Invariant: ents_ is never empty and indexes are contiguous.
  std::vector<raftpb::Entry> ents_;
};

}  // namespace raftkit::raft
