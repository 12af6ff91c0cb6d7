// The byte layout of a snapshot file (docs/formats/snapshot.md), private to the snapshotter:
//
//   offset  size  field
//   0       8     magic "RKSNAP01"
//   8       4     version (1), u32 little-endian
//   12      4     metadata length M, u32
//   16      8     data length D, u64
//   24      4     masked CRC32C of bytes [0, 24)
//   28      4     reserved, 0
//   32      M     SnapshotMetadata, etcd's raftpb encoding
//   32+M    D     the application's state
//   32+M+D  4     masked CRC32C of metadata || data
//   36+M+D  4     end magic "RKSE"
//
// A file is well formed only if its size is exactly 32 + M + D + 8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "raftkit/util/ids.h"
#include "raftkit/util/status.h"

namespace raftkit::storage::snap::format {

inline constexpr size_t kHeaderSize = 32;
inline constexpr size_t kTrailerSize = 8;
inline constexpr std::string_view kMagic = "RKSNAP01";
inline constexpr std::string_view kEndMagic = "RKSE";
inline constexpr uint32_t kVersion = 1;
inline constexpr uint64_t kMaxMetadataSize = uint64_t{64} << 20;
inline constexpr std::string_view kSuffix = ".snap";
inline constexpr std::string_view kTmpSuffix = ".tmp";
inline constexpr std::string_view kBrokenSuffix = ".broken";

/// The lengths a header announces.
struct Lengths {
  uint32_t metadata_size = 0;
  uint64_t data_size = 0;
};

/// The 32 header bytes for a file with these lengths.
/// Requires metadata_size <= kMaxMetadataSize.
std::string EncodeHeader(Lengths lengths);

/// Validates the 32 header bytes `header` of a file of `file_size` bytes: magic, version, header
/// CRC, reserved word, the metadata limit, and file_size == 32 + M + D + 8. kCorruption with a
/// description (without the file name) otherwise.
Result<Lengths> DecodeHeader(std::string_view header, uint64_t file_size);

/// The 8 trailer bytes for metadata || data whose (unmasked) CRC32C is `crc`.
std::string EncodeTrailer(uint32_t crc);

/// Checks the 8 trailer bytes against the CRC32C computed over metadata || data. kCorruption with a
/// description otherwise.
Status CheckTrailer(std::string_view trailer, uint32_t crc);

/// The term and index of a canonical name `<term:016x>-<index:016x>` followed by `suffix`
/// (lowercase hex only); nullopt for anything else.
std::optional<std::pair<Term, Index>> ParseName(std::string_view name, std::string_view suffix);

}  // namespace raftkit::storage::snap::format
