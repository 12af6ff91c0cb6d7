// The write-ahead log: what a Raft node persists before it may act on a Ready.
//
// On-disk layout, record format and crash semantics: docs/formats/wal.md (the one place they are
// specified). In short: a directory of segment files `<seq:016x>-<first_index:016x>.wal`, each a
// sequence of 8-byte-aligned records `[masked crc32c][length][type][flags][reserved][batch]
// [payload][zero padding]`; every segment opens with a CRC-chain record (the rolling CRC of the
// previous segment's record CRCs), then the metadata, the current HardState and the latest snapshot
// marker, so that any retained segment is self-contained.
//
// Group commit: Save() writes one batch (everything of one Ready) with a single write and, when
// asked, a single fdatasync. Batches are numbered; a batch is only started after the previous one
// was synced, so only the final batch on disk can ever be unacknowledged.
//
// Recovery (Open):
//   * a torn or zero-filled tail (the damage is followed only by zero bytes or by the end of the
//     last file) is a crash artifact: it is truncated and reported in Contents::truncated_tail;
//   * any other damage — a bad CRC followed by data, a missing segment, a broken CRC chain, a
//     wrong metadata record, a bad file name — refuses to open with kCorruption and a message
//     naming the file, the offset and what is wrong. Repair() handles what can be proven safe.
//
// Thread-safety: a Wal is used by one thread at a time (the Ready loop).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "raftkit/raftpb/types.h"
#include "raftkit/storage/fs/env.h"
#include "raftkit/util/ids.h"
#include "raftkit/util/status.h"

namespace raftkit::storage::wal {

/// Record types (docs/formats/wal.md). Values are part of the disk format.
enum class RecordType : uint8_t {
  kCrcChain = 1,   ///< payload: u32 rolling CRC of the previous segment, u32 0, u64 its seq
  kMetadata = 2,   ///< payload: u64 node id, u64 cluster id, then opaque application bytes
  kEntry = 3,      ///< payload: a raftpb Entry (etcd's encoding)
  kHardState = 4,  ///< payload: a raftpb HardState (etcd's encoding)
  kSnapshot = 5,   ///< payload: u64 index, u64 term, u64 flags (bit 0: resets_log) of a snapshot
};
std::string_view RecordTypeName(RecordType t);

/// Identifies the node and cluster a WAL belongs to; written at the start of every segment.
struct Metadata {
  uint64_t node_id = 0;
  uint64_t cluster_id = 0;
  std::string app_data;  ///< opaque bytes for the application (may be empty)
  friend bool operator==(const Metadata&, const Metadata&) = default;
};

/// A snapshot's position, recorded in the WAL once its file is durable.
struct SnapshotMarker {
  Index index;
  Term term;
  /// The snapshot replaced the log (it came from the leader and did not match the local log):
  /// entries above `index` written before this marker are void, and the reader drops them.
  bool resets_log = false;
  friend bool operator==(const SnapshotMarker&, const SnapshotMarker&) = default;
};

struct Options {
  Env* env = PosixEnv();
  std::string dir;                      ///< the WAL directory (created by Create)
  uint64_t segment_size = 64ull << 20;  ///< cut a new segment once the current one reaches this
  bool preallocate = true;              ///< reserve segment_size bytes for each segment
  /// Prepare the next segment file on a background thread (the default), so a cut costs no
  /// fsync on the caller's thread. Tests that enumerate crash points turn it off to make the order
  /// of file operations deterministic.
  bool background_spare = true;
  /// If set, Open() refuses a WAL whose metadata has a different cluster (or node) id.
  std::optional<uint64_t> expect_cluster_id;
  std::optional<uint64_t> expect_node_id;
};

/// What Open() read back.
struct Contents {
  Metadata metadata;
  raftpb::HardState hard_state;  ///< the last one saved (empty if none)
  /// Entries of the retained segments in index order, overwrites resolved (a later write of an
  /// index replaces it and everything after it). May start before the latest snapshot marker.
  std::vector<raftpb::Entry> entries;
  std::vector<SnapshotMarker> snapshots;  ///< every marker in the retained segments, in order
  /// Set when a crash tail was cut off: "file offset: what" and how many bytes were dropped.
  std::optional<std::string> truncated_tail;
  uint64_t truncated_bytes = 0;
};

/// One record as found on disk (for the inspector and tests).
struct RecordInfo {
  std::string file;     ///< segment file name
  uint64_t offset = 0;  ///< of the record header in the file
  RecordType type{};
  uint32_t batch = 0;
  bool last_in_batch = false;
  std::string payload;
};

/// A problem found while scanning. `tail` is true for a crash tail Open() would truncate.
struct Damage {
  std::string file;
  uint64_t offset = 0;
  std::string what;
  bool tail = false;
  /// True if every record after the damage belongs to the damaged record's batch, which is then
  /// the final batch on disk: the only one that can have been unacknowledged (see Repair).
  bool final_batch_only = false;
};

/// Reads every segment in `dir` without modifying or locking anything, calling `on_record` for
/// each valid record in order. Returns the first damage found (scanning stops there), or nullopt.
/// Errors only for I/O failures or a missing directory.
Result<std::optional<Damage>> Scan(Env* env, const std::string& dir,
                                   const std::function<void(const RecordInfo&)>& on_record);

/// What Repair() did.
struct RepairReport {
  bool changed = false;
  std::string description;  ///< human-readable: what was cut and why, or why nothing was
};

/// Repairs damage that Open() refuses, when it is provably confined to the final batch: a batch
/// is only written after the previous one was synced, so records of the final batch after the
/// damage point cannot have been acknowledged unless that batch completed its sync — Repair
/// truncates the final segment at the damage and reports which entry indexes it dropped.
/// Damage anywhere else is refused (kCorruption) unless `accept_loss` is true, in which case the
/// log is cut at the damage and the report names the acknowledged indexes that were lost (the
/// node must then rejoin as a new member). Takes the directory lock.
Result<RepairReport> Repair(const Options& options, bool accept_loss = false);

class Wal {
 public:
  /// Creates a new WAL in `options.dir` (created if missing; must hold no segment) with a first
  /// segment holding `metadata` and the empty snapshot marker (0, 0). Takes the lock.
  static Result<std::unique_ptr<Wal>> Create(const Options& options, const Metadata& metadata);

  /// Opens an existing WAL: takes the directory lock (kAlreadyExists if another process holds it,
  /// naming the lock file), reads every retained segment into `*contents`, truncates a crash tail,
  /// and prepares to append after the last valid record. kNotFound if there is no WAL.
  static Result<std::unique_ptr<Wal>> Open(const Options& options, Contents* contents);

  /// True if `dir` holds at least one segment.
  static bool Exists(Env* env, const std::string& dir);

  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  /// Appends one batch: `entries` (consecutive indexes; an index at or below the last one
  /// rewrites the log from there) and then `hs` unless it is empty. One write; with `sync`, one
  /// fdatasync. After a failure the Wal is unusable (every later call fails).
  Status Save(const raftpb::HardState& hs, std::span<const raftpb::Entry> entries,
              bool sync = true);
  /// Appends a snapshot marker and syncs. Call after the snapshot file itself is durable. With
  /// `marker.resets_log` the log restarts after marker.index: last_index() becomes marker.index,
  /// the next entry saved may be marker.index + 1 even if that skips indexes, and the reader drops
  /// entries above marker.index written before the marker.
  Status SaveSnapshot(const SnapshotMarker& marker);
  /// Makes everything appended durable (a no-op if nothing is pending).
  Status Sync();
  /// Removes whole segments that hold only entries below `index` (normally the index of the
  /// latest durable snapshot). The segment that may contain `index` and all later ones stay.
  Status ReleaseTo(Index index);
  /// Syncs and closes; releases the lock. Called by the destructor if needed (errors logged).
  Status Close();

  /// The index of the last entry written (0 if none).
  [[nodiscard]] Index last_index() const;
  /// The segment files currently retained, oldest first.
  [[nodiscard]] std::vector<std::string> segments() const;
  /// Number of fdatasync calls on segment files so far (tests check group commit with it).
  [[nodiscard]] uint64_t sync_count() const;

 private:
  struct Impl;
  explicit Wal(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace raftkit::storage::wal
