// The chaos harness's stand-in for a power loss: what a crash can leave in a WAL after the last
// fdatasync, written onto a stopped member's WAL (docs/chaos.md, "Torn WAL tails").
#pragma once

#include <filesystem>
#include <random>
#include <string>

#include "raftkit/util/status.h"

namespace raftkit::chaos {

/// Leaves at the end of the records of the newest segment in `wal_dir` part of a batch that was
/// being appended and never synced: a torn header (1-15 of its 16 bytes), a header with its
/// payload cut short, or a whole record with a garbled byte — drawn from `rng`. Nothing before the
/// end of the records is touched. `what` says which and where. Errors: kNotFound (no segment),
/// kIoError.
Status TearWalTail(const std::filesystem::path& wal_dir, std::mt19937_64& rng, std::string* what);

}  // namespace raftkit::chaos
