// Storage with a durability model, for the simulator.
//
// A real node writes its Ready to a log file and fsyncs it. Until the fsync returns, the writes sit
// in the page cache: the running process sees them, a power cut may lose them. SimStorage models
// exactly that:
//
//   live view    what the running RawNode reads (every write, synced or not)
//   durable      what survives a crash (everything up to the last Sync)
//   unsynced     the ordered writes since the last Sync
//
// Crash(rand): a random prefix of the unsynced writes survives (a write-ahead log with checksums
// keeps the longest valid prefix), the last surviving append possibly torn to a prefix of its
// entries; the rest is lost. Restart reads only the durable state. Snapshots are written durably
// (as a snapshot file with fsync would be), after syncing what came before.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "raftkit/core/storage.h"
#include "raftkit/util/rand.h"

namespace raftkit::sim {

class SimStorage final : public raft::Storage {
 public:
  SimStorage();

  // --- raft::Storage (the live view) ---
  [[nodiscard]] Result<InitialState> GetInitialState() const override {
    return live_->GetInitialState();
  }
  [[nodiscard]] Result<std::vector<raftpb::Entry>> Entries(Index lo, Index hi,
                                                           uint64_t max_size) const override {
    return live_->Entries(lo, hi, max_size);
  }
  [[nodiscard]] Result<Term> TermAt(Index i) const override { return live_->TermAt(i); }
  [[nodiscard]] Result<Index> LastIndex() const override { return live_->LastIndex(); }
  [[nodiscard]] Result<Index> FirstIndex() const override { return live_->FirstIndex(); }
  [[nodiscard]] Result<raftpb::Snapshot> GetSnapshot() const override {
    return live_->GetSnapshot();
  }

  // --- the application's writes (not durable until Sync) ---
  void ApplySnapshot(const raftpb::Snapshot& s);
  void Append(const std::vector<raftpb::Entry>& ents);
  void SetHardState(const raftpb::HardState& hs);
  /// Makes every write so far durable (fsync).
  void Sync();
  [[nodiscard]] size_t UnsyncedWrites() const { return unsynced_.size(); }

  /// Creates a snapshot at `index` (<= the durable last index) and compacts the log to
  /// index - keep; both durable at once. Syncs pending writes first. Returns false if `index` is
  /// not newer than the current snapshot.
  bool SnapshotAndCompact(Index index, const raftpb::ConfState& cs, Bytes data, uint64_t keep);

  /// Simulates a power cut: keeps a random prefix of the unsynced writes (the last one possibly
  /// torn) and forgets the rest; the live view becomes the durable state. Returns a one-line
  /// description of what survived, for the trace.
  std::string Crash(Rand& rand);

  /// The durable HardState (for checks).
  [[nodiscard]] raftpb::HardState DurableHardState() const;
  /// The last index that would survive a crash.
  [[nodiscard]] Index DurableLastIndex() const { return *durable_->LastIndex(); }

 private:
  struct SnapshotWrite {
    raftpb::Snapshot snap;
  };
  struct AppendWrite {
    std::vector<raftpb::Entry> ents;
  };
  struct HardStateWrite {
    raftpb::HardState hs;
  };
  using Write = std::variant<SnapshotWrite, AppendWrite, HardStateWrite>;

  static void ApplyTo(raft::MemoryStorage& s, const Write& w);
  void RebuildLive();

  // MemoryStorage holds a mutex and cannot be reassigned: the live view is rebuilt as a new object.
  std::unique_ptr<raft::MemoryStorage> live_;
  std::unique_ptr<raft::MemoryStorage> durable_;
  std::vector<Write> unsynced_;
};

}  // namespace raftkit::sim
