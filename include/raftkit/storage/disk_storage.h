// DiskStorage: the core's Storage backed by the write-ahead log and snapshot files.
//
// A data directory holds:
//   <dir>/LOCK    an exclusive lock: a second process opening the directory fails fast
//   <dir>/wal/    the write-ahead log (wal/wal.h, docs/formats/wal.md)
//   <dir>/snap/   snapshot files (snap/snapshotter.h, docs/formats/snapshot.md)
//
// Contract: after a crash, Open() yields the same HardState, ConfState (of the newest usable
// snapshot) and log as before it, for everything that was synced; unsynced writes are either
// entirely present or absent. The read side (the Storage methods) is served from memory (the log
// since the snapshot is replayed from the WAL at Open), as etcd's MemoryStorage does.
//
// Write order (docs/ready_loop.md step 1): SaveReady() writes a Ready's snapshot file and its WAL
// marker first, then the Ready's entries and HardState as one WAL batch with one fdatasync.
//
// Thread-safety: the Storage methods may be called concurrently with each other; the write
// methods must be called from one thread (the Ready loop) at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "raftkit/core/raw_node.h"
#include "raftkit/core/storage.h"
#include "raftkit/storage/fs/env.h"
#include "raftkit/storage/snap/snapshotter.h"
#include "raftkit/storage/wal/wal.h"

namespace raftkit::storage {

struct DiskStorageOptions {
  Env* env = PosixEnv();
  std::string dir;  ///< the data directory (created if missing)
  /// Written into a new WAL; for an existing one, checked when non-zero (a mismatch refuses).
  uint64_t node_id = 0;
  uint64_t cluster_id = 0;
  uint64_t segment_size = 64ull << 20;  ///< WAL segment size
  size_t snapshots_to_keep = 3;         ///< older snapshot files are removed
  /// Prepare WAL segments on a background thread (wal::Options::background_spare).
  bool background_spare = true;
};

/// What Open() found, for the log and for operators.
struct OpenReport {
  bool created = false;  ///< a new, empty data directory: the caller bootstraps
  Index snapshot_index;  ///< of the snapshot restored (0 if none)
  Index last_index;      ///< of the log after replay
  std::optional<std::string> truncated_tail;  ///< a crash tail the WAL cut off
  uint64_t truncated_bytes = 0;               ///< how many bytes it held
  std::vector<std::string> broken_snapshots;  ///< files renamed aside as corrupt
};

class DiskStorage final : public raft::Storage {
 public:
  /// Opens (or creates) the data directory, takes its lock, restores the newest snapshot that
  /// verifies and has a WAL marker, and replays the WAL after it. Errors: kAlreadyExists (the
  /// directory is locked by another process), kCorruption (damage the WAL refuses, or a log that
  /// does not connect to any usable snapshot), kIoError.
  static Result<std::unique_ptr<DiskStorage>> Open(const DiskStorageOptions& options,
                                                   OpenReport* report = nullptr);
  ~DiskStorage() override;

  // --- raft::Storage (served from memory) ---
  [[nodiscard]] Result<InitialState> GetInitialState() const override;
  [[nodiscard]] Result<std::vector<raftpb::Entry>> Entries(Index lo, Index hi,
                                                           uint64_t max_size) const override;
  [[nodiscard]] Result<Term> TermAt(Index i) const override;
  [[nodiscard]] Result<Index> LastIndex() const override;
  [[nodiscard]] Result<Index> FirstIndex() const override;
  /// The latest snapshot, with its data (read from its file if it was saved by streaming).
  [[nodiscard]] Result<raftpb::Snapshot> GetSnapshot() const override;

  // --- the write side, driven by the Ready loop ---
  /// Persists what a Ready asks: its snapshot (file, then WAL marker), then its entries and
  /// HardState in one WAL batch, fsynced when `rd.must_sync` (or a snapshot is present).
  Status SaveReady(const raft::Ready& rd);
  /// The same with explicit parts. `snap` may be empty (IsEmpty()).
  Status Save(const raftpb::HardState& hs, std::span<const raftpb::Entry> entries,
              const raftpb::Snapshot& snap, bool sync);

  /// Records the application's snapshot of its state at `index` (<= the applied index), with the
  /// configuration `cs` in force there: writes the snapshot file, then its WAL marker, and removes
  /// snapshot files beyond `snapshots_to_keep`. Does not discard log entries (see Compact).
  Result<raftpb::Snapshot> CreateSnapshot(Index index, const raftpb::ConfState& cs, Bytes data);
  /// The same, streaming `size` bytes of state from `source` into the file; the state is not kept
  /// in memory (GetSnapshot reads it back from the file when the core needs it).
  Result<raftpb::SnapshotMetadata> CreateSnapshotStream(Index index, const raftpb::ConfState& cs,
                                                        uint64_t size, snap::DataSource* source);
  /// Discards log entries before `index` (<= the latest snapshot's index) from memory and
  /// removes WAL segments no snapshot still needs. The WAL is kept back to the second-newest
  /// snapshot, so a newest snapshot file that turns out corrupt can still be recovered from.
  Status Compact(Index index);

  /// Syncs and closes the WAL and releases the lock.
  Status Close();

  /// The snapshot files, for inspection and for a transport that streams snapshots from disk.
  [[nodiscard]] snap::Snapshotter& snapshotter();

 private:
  struct Impl;
  explicit DiskStorage(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace raftkit::storage
