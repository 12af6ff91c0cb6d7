// Acting on damage found by ReadLog: cutting the log (shared by Open's crash-tail truncation and
// Repair) and describing what a cut drops.
#pragma once

#include <string>
#include <vector>

#include "raftkit/storage/fs/env.h"
#include "raftkit/util/ids.h"
#include "raftkit/util/status.h"
#include "storage/wal/reader.h"

namespace raftkit::storage::wal::internal {

/// Cuts the log at `d`: removes the segments after the damaged one (newest first), then truncates
/// the damaged segment at d.cut_offset (and syncs it) or, if d.removes_segment, removes it; the
/// directory is synced after each removal. Requires d.cuttable.
Status CutLog(Env* env, const std::string& dir, const ReadResult& r, const ReadDamage& d);

/// The indexes of the entries a cut at `d` drops that can still be read (the damaged record itself
/// cannot), sorted and without duplicates.
Result<std::vector<Index>> DroppedEntryIndexes(Env* env, const std::string& dir,
                                               const ReadResult& r, const ReadDamage& d);

/// "none", or ranges such as "7..9, 12".
std::string DescribeIndexes(const std::vector<Index>& indexes);

}  // namespace raftkit::storage::wal::internal
