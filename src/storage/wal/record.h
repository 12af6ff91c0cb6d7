// The WAL's record layer: framing of one record, payload codecs, and batch encoding.
//
// Layout (docs/formats/wal.md is the specification; this is the code's summary). A record is
// 8-byte aligned and starts with a 16-byte little-endian header:
//
//   [0,4)   masked CRC32C of header bytes [4,16) followed by the payload (crc32c::Mask)
//   [4,8)   payload length (at most kMaxPayload)
//   [8]     type (RecordType)
//   [9]     flags: bit 0 = last record of its batch; the other bits are 0
//   [10,12) reserved, 0
//   [12,16) batch number
//
// then the payload, then zero padding up to the next multiple of 8 (not covered by the CRC). An
// all-zero header means "no record here".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "raftkit/raftpb/types.h"
#include "raftkit/storage/wal/wal.h"
#include "raftkit/util/status.h"

namespace raftkit::storage::wal::internal {

inline constexpr size_t kHeaderSize = 16;
inline constexpr size_t kAlignment = 8;
inline constexpr uint32_t kMaxPayload = 128u << 20;
inline constexpr uint8_t kFlagLastInBatch = 0x01;

/// `n` rounded up to a multiple of kAlignment.
constexpr uint64_t AlignUp(uint64_t n) noexcept {
  return (n + kAlignment - 1) & ~static_cast<uint64_t>(kAlignment - 1);
}

/// Serial-number order on batch numbers (RFC 1982 style): true if `a` comes after `b`.
constexpr bool BatchAfter(uint32_t a, uint32_t b) noexcept {
  return static_cast<int32_t>(a - b) > 0;
}

// --- little-endian fixed-width coding -----------------------------------------------------------

void PutFixed32(std::string* out, uint32_t v);
void PutFixed64(std::string* out, uint64_t v);
/// Reads from `p`, which must hold at least 4 (8) bytes.
uint32_t GetFixed32(const char* p) noexcept;
uint64_t GetFixed64(const char* p) noexcept;

// --- one record as read -------------------------------------------------------------------------

/// A record whose header and CRC verified. `payload` points into the buffer it was read from.
struct Record {
  uint64_t offset = 0;  ///< of the header in the segment file
  RecordType type{};
  uint8_t flags = 0;
  uint32_t batch = 0;
  uint32_t stored_crc =
      0;  ///< the header's CRC field as stored (masked); the rolling CRC chains these
  std::string_view payload;
  uint64_t end = 0;  ///< offset of the next record (after the padding)
  [[nodiscard]] bool last_in_batch() const noexcept { return (flags & kFlagLastInBatch) != 0; }
};

enum class FrameKind {
  kRecord,   ///< a valid record
  kEnd,      ///< the offset is the end of the data
  kZeros,    ///< an all-zero header (or fewer than 16 bytes left, all zero)
  kDamaged,  ///< anything else
};

/// What ReadFrame found at an offset.
struct Frame {
  FrameKind kind = FrameKind::kEnd;
  Record record;     ///< kRecord only
  std::string what;  ///< kDamaged: what is wrong, e.g. "bad crc"
  /// kDamaged: the end of the bytes the damaged record claims (its header, its payload and padding
  /// when the length is believable), capped at the data's size.
  uint64_t extent_end = 0;
};

/// Decodes the record at `offset` (a multiple of 8, <= data.size()) of a segment's bytes.
Frame ReadFrame(std::string_view data, uint64_t offset);

/// True if every byte of data[from, end) is zero.
bool AllZero(std::string_view data, uint64_t from) noexcept;

// --- payloads -----------------------------------------------------------------------------------

struct CrcChain {
  uint32_t crc = 0;       ///< rolling CRC of the previous segment (see RollingCrc)
  uint64_t prev_seq = 0;  ///< the previous segment's sequence number
};

std::string EncodeCrcChain(const CrcChain& c);
std::optional<CrcChain> DecodeCrcChain(std::string_view p);
std::string EncodeMetadata(const Metadata& m);
std::optional<Metadata> DecodeMetadata(std::string_view p);
std::string EncodeSnapshotMarker(const SnapshotMarker& m);
std::optional<SnapshotMarker> DecodeSnapshotMarker(std::string_view p);

/// Decodes an Entry payload. The canonical layout raftkit writes (type, term, index, optional
/// data, nothing else) is decoded by hand; anything else goes through raftpb::DecodeEntry, so the
/// result is always what DecodeEntry would return.
Result<raftpb::Entry> DecodeEntryPayload(std::string_view p);

/// The hand decoder alone: false if `p` is not in the canonical layout (then `*out` is garbage).
bool DecodeEntryFast(std::string_view p, raftpb::Entry* out);

// --- writing ------------------------------------------------------------------------------------

/// Extends a segment's rolling CRC by one record: CRC32C over the 4 stored (masked, little-endian)
/// CRC bytes of every record in order. Each record CRC covers its header and payload, so the chain
/// covers the whole segment while costing 4 bytes of CRC work per record (not a second pass over
/// the payloads).
uint32_t ExtendRolling(uint32_t rolling, uint32_t stored_crc) noexcept;

/// Appends the records of one batch to a buffer and keeps the segment's rolling CRC.
class BatchEncoder {
 public:
  /// Records go to `*out` (appended); `rolling` is the segment's rolling CRC so far.
  BatchEncoder(std::string* out, uint32_t batch, uint32_t rolling) noexcept
      : out_(out), batch_(batch), rolling_(rolling) {}

  /// Appends one record. Requires payload.size() <= kMaxPayload.
  void Add(RecordType type, std::string_view payload);
  /// Sets the last-in-batch flag on the last record added (a no-op if none was).
  void Finish();

  /// The rolling CRC after the records added so far.
  [[nodiscard]] uint32_t rolling() const noexcept { return rolling_; }
  /// Starts a new segment's rolling CRC (at a cut, before the new segment's header records).
  void ResetRolling() noexcept {
    rolling_ = 0;
    first_offset_ = out_->size();
  }
  [[nodiscard]] size_t records() const noexcept { return records_; }

 private:
  std::string* out_;
  uint32_t batch_;
  uint32_t rolling_;  // up to the records before first_offset_ until Finish() folds in the rest
  size_t first_offset_ = out_->size();  // the first record not yet in rolling_
  size_t records_ = 0;
  size_t last_offset_ = 0;  // of the last record's header in *out_
};

}  // namespace raftkit::storage::wal::internal
