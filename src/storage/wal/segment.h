// Segment files: their names, listing a WAL directory, and reading a segment into memory.
//
// A segment is named `<seq:016x>-<first_index:016x>.wal` in lower-case hex: `seq` counts segments
// from 0 without gaps, `first_index` is one more than the index of the last entry written before
// the segment was cut. The directory may also hold `LOCK` (the directory lock) and `spare.tmp`
// (the next segment, preallocated ahead of time); every other name is ignored, except that a
// `.wal` name that does not parse is damage.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "raftkit/storage/fs/env.h"
#include "raftkit/util/ids.h"
#include "raftkit/util/status.h"

namespace raftkit::storage::wal::internal {

inline constexpr std::string_view kLockFileName = "LOCK";
inline constexpr std::string_view kSpareFileName = "spare.tmp";
inline constexpr std::string_view kSegmentSuffix = ".wal";

struct SegmentId {
  uint64_t seq = 0;
  Index first_index;
  std::string name;
};

std::string SegmentFileName(uint64_t seq, Index first_index);
/// Parses a segment name strictly (exactly 16 lower-case hex digits on each side).
bool ParseSegmentFileName(std::string_view name, SegmentId* out);

struct DirListing {
  std::vector<SegmentId> segments;     ///< sorted by seq (then name)
  std::vector<std::string> bad_names;  ///< `.wal` names that do not parse, sorted
};

/// Lists the segments of `dir`. kNotFound if the directory does not exist.
Result<DirListing> ListSegments(Env* env, const std::string& dir);

/// Reads the whole content of `path` into `*out`.
Status ReadWholeFile(Env* env, const std::string& path, std::string* out);

/// Reads a segment sequentially through a window holding the bytes being parsed, so that a replay
/// neither holds nor first-touches a whole segment (64 MiB by default) in memory.
class SegmentWindow {
 public:
  /// Starts reading `path` from offset 0.
  Status Open(Env* env, const std::string& path);
  /// Makes file bytes [from, to) available (fewer at the end of the file); bytes before `from` may
  /// be dropped. `from` never decreases.
  Status Ensure(uint64_t from, uint64_t to);
  /// Makes everything from `from` to the end of the file available.
  Status EnsureAll(uint64_t from);
  /// File bytes [base(), base() + data().size()).
  [[nodiscard]] std::string_view data() const noexcept { return buf_; }
  [[nodiscard]] uint64_t base() const noexcept { return base_; }

 private:
  std::unique_ptr<SequentialFile> file_;
  std::string buf_;
  std::string chunk_;
  uint64_t base_ = 0;
  bool eof_ = false;
};

}  // namespace raftkit::storage::wal::internal
