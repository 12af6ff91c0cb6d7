#include "storage/snap/format.h"

#include <fmt/format.h>

#include "raftkit/util/crc32c.h"
#include "raftkit/util/panic.h"

namespace raftkit::storage::snap::format {

namespace {

// Fixed-width little-endian integers, written byte by byte so the layout does not depend on the
// host's byte order.
void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t GetU32(std::string_view b, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<size_t>(i)]);
  return v;
}
uint64_t GetU64(std::string_view b, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<size_t>(i)]);
  return v;
}

constexpr size_t kCrcCovered = 24;  // the header CRC covers magic, version and both lengths

// Parses exactly 16 lowercase hex digits.
std::optional<uint64_t> ParseHex16(std::string_view s) {
  if (s.size() != 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    uint64_t d;
    if (c >= '0' && c <= '9') {
      d = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    v = (v << 4) | d;
  }
  return v;
}

}  // namespace

std::string EncodeHeader(Lengths lengths) {
  RAFTKIT_CHECK(lengths.metadata_size <= kMaxMetadataSize, "metadata of {} bytes over the limit",
                lengths.metadata_size);
  std::string out(kMagic);
  out.reserve(kHeaderSize);
  PutU32(&out, kVersion);
  PutU32(&out, lengths.metadata_size);
  PutU64(&out, lengths.data_size);
  PutU32(&out, crc32c::Mask(crc32c::Value(out.data(), kCrcCovered)));
  PutU32(&out, 0);
  return out;
}

Result<Lengths> DecodeHeader(std::string_view header, uint64_t file_size) {
  const auto bad = [](std::string what) { return Status(ErrorCode::kCorruption, std::move(what)); };
  if (header.size() != kHeaderSize || file_size < kHeaderSize + kTrailerSize) {
    return bad(fmt::format("file of {} bytes is shorter than a header and a trailer", file_size));
  }
  if (header.substr(0, kMagic.size()) != kMagic) return bad("bad magic (not a snapshot file)");
  // The CRC is checked before the fields it covers are trusted: a flipped bit in a length must
  // read as damage, not as a file of another size.
  const uint32_t stored = GetU32(header, kCrcCovered);
  const uint32_t actual = crc32c::Value(header.data(), kCrcCovered);
  if (crc32c::Unmask(stored) != actual) {
    return bad(fmt::format("header CRC mismatch (stored {:08x}, computed {:08x})",
                           crc32c::Unmask(stored), actual));
  }
  const uint32_t version = GetU32(header, 8);
  if (version != kVersion) return bad(fmt::format("unsupported version {}", version));
  if (const uint32_t reserved = GetU32(header, 28); reserved != 0) {
    return bad(fmt::format("reserved header word is {:08x}, not 0", reserved));
  }
  Lengths l{GetU32(header, 12), GetU64(header, 16)};
  if (l.metadata_size > kMaxMetadataSize) {
    return bad(
        fmt::format("metadata length {} over the limit of {}", l.metadata_size, kMaxMetadataSize));
  }
  // file_size >= 40 here, so the subtraction cannot wrap; comparing D against what is left avoids
  // overflowing 32 + M + D + 8 for a huge D.
  const uint64_t room = file_size - kHeaderSize - kTrailerSize;
  if (l.metadata_size > room || l.data_size != room - l.metadata_size) {
    return bad(fmt::format("size mismatch: header says {} + {} + {} + {} bytes, file has {}",
                           kHeaderSize, l.metadata_size, l.data_size, kTrailerSize, file_size));
  }
  return l;
}

std::string EncodeTrailer(uint32_t crc) {
  std::string out;
  out.reserve(kTrailerSize);
  PutU32(&out, crc32c::Mask(crc));
  out.append(kEndMagic);
  return out;
}

Status CheckTrailer(std::string_view trailer, uint32_t crc) {
  if (trailer.size() != kTrailerSize) {
    return Status(ErrorCode::kCorruption, "truncated trailer");
  }
  if (trailer.substr(4) != kEndMagic) return Status(ErrorCode::kCorruption, "bad end magic");
  const uint32_t stored = crc32c::Unmask(GetU32(trailer, 0));
  if (stored != crc) {
    return Status(
        ErrorCode::kCorruption,
        fmt::format("payload CRC mismatch (stored {:08x}, computed {:08x})", stored, crc));
  }
  return Status::Ok();
}

std::optional<std::pair<Term, Index>> ParseName(std::string_view name, std::string_view suffix) {
  // 16 hex digits, '-', 16 hex digits, suffix.
  if (name.size() != 33 + suffix.size() || name.substr(33) != suffix || name[16] != '-') {
    return std::nullopt;
  }
  const auto term = ParseHex16(name.substr(0, 16));
  const auto index = ParseHex16(name.substr(17, 16));
  if (!term || !index) return std::nullopt;
  return std::pair{Term(*term), Index(*index)};
}

}  // namespace raftkit::storage::snap::format
