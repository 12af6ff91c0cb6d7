// raftkit-dump's commands, separated from argument parsing so they can be tested.
#pragma once

#include <iosfwd>
#include <string>

#include "raftkit/storage/fs/env.h"

namespace raftkit::tools {

/// Exit codes: 0 = read cleanly, 1 = damage found (reported, not fatal), 2 = could not read.
enum ExitCode { kClean = 0, kDamaged = 1, kFailed = 2 };

/// Prints every record of the WAL in `dir` (text or JSON) and any damage found.
int DumpWal(storage::Env* env, const std::string& dir, bool json, std::ostream& out);
/// Prints a snapshot file's metadata and verifies its checksums by streaming it.
int DumpSnapshot(storage::Env* env, const std::string& path, bool json, std::ostream& out);
/// A data directory of DiskStorage: its WAL (`wal/`) and snapshot files (`snap/`).
int DumpDataDir(storage::Env* env, const std::string& dir, bool json, std::ostream& out);
/// Runs wal::Repair on `dir` and prints what it did.
int RepairWal(storage::Env* env, const std::string& dir, bool accept_loss, std::ostream& out);

}  // namespace raftkit::tools
