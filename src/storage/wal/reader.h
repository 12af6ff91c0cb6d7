// Reading a WAL directory: every segment in order, every record verified (framing, CRC, segment
// header, CRC chain, metadata, entry indexes), stopping at the first damage, which it classifies
// for Open (crash tail or not) and Repair (confined to the final batch or not).
//
// Open, Scan and Repair all read through ReadLog, so what Scan reports is exactly what Open would
// refuse or truncate.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "raftkit/raftpb/types.h"
#include "raftkit/storage/fs/env.h"
#include "raftkit/storage/wal/wal.h"
#include "raftkit/util/status.h"
#include "storage/wal/record.h"
#include "storage/wal/segment.h"

namespace raftkit::storage::wal::internal {

/// What the reader learned about one segment.
struct SegmentState {
  SegmentId id;
  bool read = false;        ///< the reader got to this segment (it stops at the first damage)
  uint64_t size = 0;        ///< bytes in the file (when read)
  uint64_t valid_end = 0;   ///< end of the last valid record read
  uint64_t header_end = 0;  ///< end of the header's snapshot record; 0 while incomplete
  uint32_t rolling = 0;     ///< rolling CRC (ExtendRolling) of the records read
  std::optional<uint32_t> last_batch;  ///< batch of the last valid record read
};

/// A record found (CRC verified) after a damage point.
struct FoundRecord {
  uint64_t offset = 0;
  RecordType type{};
  uint32_t batch = 0;
  std::optional<Index> entry_index;  ///< for entry records that decode
};

/// The first damage, with what Open and Repair need to act on it.
struct ReadDamage {
  Damage damage;
  /// Index into ReadResult::segments of the damaged segment; meaningless if !cuttable.
  size_t segment = 0;
  /// False when no cut of the log fixes it (a bad file name, two segments with one seq).
  bool cuttable = true;
  /// Where the log would be cut (== damage.offset): everything from here on goes.
  uint64_t cut_offset = 0;
  /// The cut leaves the segment without a complete header, so the cut removes the whole file.
  bool removes_segment = false;
  /// Valid records found after the damage in the same segment (scanning at 8-byte steps).
  std::vector<FoundRecord> after;
};

struct ReadResult {
  std::vector<SegmentState> segments;  ///< every segment in the directory, in seq order
  std::optional<ReadDamage> damage;
  std::optional<Metadata> metadata;
  raftpb::HardState hard_state;        ///< the last one read (empty if none)
  SnapshotMarker marker;               ///< the last marker read
  Index last_index;                    ///< index of the last entry read (see wal.h's last_index())
  std::optional<uint32_t> last_batch;  ///< batch of the last valid record read
};

/// One valid record, as handed to a RecordVisitor. Exactly one of the decoded pointers is set for
/// entry, HardState, snapshot and metadata records; none for CRC-chain records.
struct RecordEvent {
  const SegmentState* segment = nullptr;
  const Record* record = nullptr;
  /// A segment-header record restating state an earlier segment of this read already gave
  /// (metadata, HardState, snapshot marker of every segment but the first one read).
  bool header_repeat = false;
  raftpb::Entry* entry = nullptr;  ///< the visitor may move from it
  const raftpb::HardState* hard_state = nullptr;
  const SnapshotMarker* marker = nullptr;
  const Metadata* metadata = nullptr;
};
using RecordVisitor = std::function<void(const RecordEvent&)>;

/// Reads every segment of `dir` in order, calling `visit` (may be empty) for each valid record,
/// up to the first damage. Errors only for I/O failures and a missing directory.
Result<ReadResult> ReadLog(Env* env, const std::string& dir, const RecordVisitor& visit);

/// Valid records at 8-byte steps from `from` (skipping over each one found).
std::vector<FoundRecord> ScanForRecords(std::string_view data, uint64_t from);

/// "<dir>/<file> offset <n>: <what>".
std::string DamageMessage(const std::string& dir, const Damage& d);

}  // namespace raftkit::storage::wal::internal
