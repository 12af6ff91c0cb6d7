#include "storage/wal/record.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "raftkit/raftpb/codec.h"
#include "raftkit/util/crc32c.h"
#include "raftkit/util/panic.h"

namespace raftkit::storage::wal::internal {

void PutFixed32(std::string* out, uint32_t v) {
  char b[4];
  for (size_t i = 0; i < 4; ++i)
    b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(b, 4);
}

void PutFixed64(std::string* out, uint64_t v) {
  char b[8];
  for (size_t i = 0; i < 8; ++i)
    b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(b, 8);
}

uint32_t GetFixed32(const char* p) noexcept {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

uint64_t GetFixed64(const char* p) noexcept {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

namespace {

bool AllZeroBytes(const char* p, size_t n) noexcept {
  // Eight bytes at a time: zero tails of a preallocated file can be megabytes long.
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w != 0) return false;
  }
  for (; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

// The CRC a record's header stores, for the header bytes [4,16) at `h` and the payload after them.
uint32_t RecordCrc(const char* h, std::string_view payload) noexcept {
  return crc32c::Mask(crc32c::Extend(crc32c::Value(h + 4, 12), payload.data(), payload.size()));
}

Frame Damaged(std::string what, uint64_t extent_end) {
  Frame f;
  f.kind = FrameKind::kDamaged;
  f.what = std::move(what);
  f.extent_end = extent_end;
  return f;
}

}  // namespace

bool AllZero(std::string_view data, uint64_t from) noexcept {
  if (from >= data.size()) return true;
  return AllZeroBytes(data.data() + from, data.size() - from);
}

Frame ReadFrame(std::string_view data, uint64_t offset) {
  const uint64_t size = data.size();
  if (offset >= size) return Frame{};
  const uint64_t remaining = size - offset;
  const char* h = data.data() + offset;
  if (remaining < kHeaderSize) {
    if (AllZeroBytes(h, remaining)) return Frame{FrameKind::kZeros, {}, {}, 0};
    return Damaged(fmt::format("truncated header ({} of {} bytes)", remaining, kHeaderSize), size);
  }
  if (AllZeroBytes(h, kHeaderSize)) return Frame{FrameKind::kZeros, {}, {}, 0};

  const uint32_t len = GetFixed32(h + 4);
  if (len > kMaxPayload) {
    // The length itself is not believable, so the record claims nothing beyond its header.
    return Damaged(
        fmt::format("bad header: payload length {} exceeds the maximum {}", len, kMaxPayload),
        offset + kHeaderSize);
  }
  if (len > remaining - kHeaderSize) {
    return Damaged(fmt::format("truncated payload ({} of {} bytes)", remaining - kHeaderSize, len),
                   size);
  }
  const std::string_view payload(h + kHeaderSize, len);
  const uint64_t end = offset + kHeaderSize + AlignUp(len);
  const uint64_t extent = std::min(end, size);
  if (GetFixed32(h) != RecordCrc(h, payload)) return Damaged("bad crc", extent);

  // The CRC matched, so these bytes are what a writer wrote: a value this reader does not know is
  // a format it cannot read, not noise.
  const auto type = static_cast<uint8_t>(h[8]);
  const auto flags = static_cast<uint8_t>(h[9]);
  if (type < static_cast<uint8_t>(RecordType::kCrcChain) ||
      type > static_cast<uint8_t>(RecordType::kSnapshot)) {
    return Damaged(fmt::format("bad header: unknown record type {}", type), extent);
  }
  if ((flags & ~kFlagLastInBatch) != 0) {
    return Damaged(fmt::format("bad header: unknown flags {:#04x}", flags), extent);
  }
  if (h[10] != 0 || h[11] != 0) return Damaged("bad header: reserved bytes are not zero", extent);
  if (end > size) return Damaged("truncated padding", size);
  if (!AllZeroBytes(h + kHeaderSize + len, end - offset - kHeaderSize - len)) {
    return Damaged("non-zero padding", extent);
  }

  Frame f;
  f.kind = FrameKind::kRecord;
  f.record.offset = offset;
  f.record.stored_crc = GetFixed32(h);
  f.record.type = static_cast<RecordType>(type);
  f.record.flags = flags;
  f.record.batch = GetFixed32(h + 12);
  f.record.payload = payload;
  f.record.end = end;
  return f;
}

// --- payloads -----------------------------------------------------------------------------------

std::string EncodeCrcChain(const CrcChain& c) {
  std::string out;
  PutFixed32(&out, c.crc);
  PutFixed32(&out, 0);
  PutFixed64(&out, c.prev_seq);
  return out;
}

std::optional<CrcChain> DecodeCrcChain(std::string_view p) {
  if (p.size() != 16 || GetFixed32(p.data() + 4) != 0) return std::nullopt;
  return CrcChain{GetFixed32(p.data()), GetFixed64(p.data() + 8)};
}

std::string EncodeMetadata(const Metadata& m) {
  std::string out;
  out.reserve(16 + m.app_data.size());
  PutFixed64(&out, m.node_id);
  PutFixed64(&out, m.cluster_id);
  out.append(m.app_data);
  return out;
}

std::optional<Metadata> DecodeMetadata(std::string_view p) {
  if (p.size() < 16) return std::nullopt;
  return Metadata{GetFixed64(p.data()), GetFixed64(p.data() + 8), std::string(p.substr(16))};
}

namespace {
constexpr uint64_t kMarkerResetsLog = 0x01;
}  // namespace

std::string EncodeSnapshotMarker(const SnapshotMarker& m) {
  std::string out;
  PutFixed64(&out, m.index.value());
  PutFixed64(&out, m.term.value());
  PutFixed64(&out, m.resets_log ? kMarkerResetsLog : 0);
  return out;
}

std::optional<SnapshotMarker> DecodeSnapshotMarker(std::string_view p) {
  if (p.size() != 24) return std::nullopt;
  const uint64_t flags = GetFixed64(p.data() + 16);
  if ((flags & ~kMarkerResetsLog) != 0) return std::nullopt;
  return SnapshotMarker{Index(GetFixed64(p.data())), Term(GetFixed64(p.data() + 8)),
                        (flags & kMarkerResetsLog) != 0};
}

// --- entries ------------------------------------------------------------------------------------

namespace {

// A varint that protobuf and this decoder read the same way: at most 10 bytes, fitting in 64 bits.
bool ReadVarint(const char** p, const char* end, uint64_t* v) noexcept {
  uint64_t result = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (*p == end) return false;
    const auto b = static_cast<unsigned char>(*(*p)++);
    if (shift == 63 && b > 1) return false;
    result |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

bool ReadTaggedVarint(const char** p, const char* end, char tag, uint64_t* v) noexcept {
  if (*p == end || **p != tag) return false;
  ++*p;
  return ReadVarint(p, end, v);
}

}  // namespace

bool DecodeEntryFast(std::string_view payload, raftpb::Entry* out) {
  // raftpb's Encode(Entry) writes fields 1 (type), 2 (term), 3 (index) as varints and field 4
  // (data) only when non-null, in that order; replay decodes millions of these, and protobuf's
  // generic parser plus the copy into the plain struct costs several times more than this.
  const char* p = payload.data();
  const char* end = p + payload.size();
  uint64_t type = 0;
  uint64_t term = 0;
  uint64_t index = 0;
  if (!ReadTaggedVarint(&p, end, 0x08, &type) || !ReadTaggedVarint(&p, end, 0x10, &term) ||
      !ReadTaggedVarint(&p, end, 0x18, &index)) {
    return false;
  }
  // Enums are int32 on the wire; leave sign extension and truncation to protobuf.
  if (type > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) return false;
  out->type = static_cast<raftpb::EntryType>(static_cast<int32_t>(type));
  out->term = Term(term);
  out->index = Index(index);
  out->unknown_fields = Bytes();
  if (p == end) {
    out->data = Bytes();
    return true;
  }
  uint64_t len = 0;
  if (!ReadTaggedVarint(&p, end, 0x22, &len)) return false;
  if (len != static_cast<uint64_t>(end - p)) return false;  // anything after data: unknown fields
  out->data = len == 0 ? Bytes::Empty() : Bytes(std::string_view(p, len));
  return true;
}

Result<raftpb::Entry> DecodeEntryPayload(std::string_view p) {
  raftpb::Entry e;
  if (DecodeEntryFast(p, &e)) return e;
  return raftpb::DecodeEntry(p);
}

// --- writing ------------------------------------------------------------------------------------

void BatchEncoder::Add(RecordType type, std::string_view payload) {
  RAFTKIT_CHECK(payload.size() <= kMaxPayload, "record payload of {} bytes exceeds {}",
                payload.size(), kMaxPayload);
  last_offset_ = out_->size();
  RAFTKIT_CHECK(last_offset_ % kAlignment == 0, "record at unaligned buffer offset {}",
                last_offset_);
  PutFixed32(out_, 0);  // CRC, filled in below
  PutFixed32(out_, static_cast<uint32_t>(payload.size()));
  out_->push_back(static_cast<char>(type));
  out_->push_back(0);  // flags: Finish() sets last-in-batch on the final record
  out_->push_back(0);
  out_->push_back(0);
  PutFixed32(out_, batch_);
  out_->append(payload);
  out_->append(AlignUp(payload.size()) - payload.size(), '\0');
  char* h = out_->data() + last_offset_;
  const uint32_t crc = RecordCrc(h, payload);
  for (size_t i = 0; i < 4; ++i)
    h[i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  ++records_;
}

void BatchEncoder::Finish() {
  if (records_ == 0) return;
  char* h = out_->data() + last_offset_;
  h[9] = static_cast<char>(kFlagLastInBatch);
  const uint32_t len = GetFixed32(h + 4);
  const uint32_t crc = RecordCrc(h, std::string_view(h + kHeaderSize, len));
  for (size_t i = 0; i < 4; ++i)
    h[i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  // Every CRC is final now: fold the batch's records into the rolling CRC.
  for (size_t off = first_offset_; off < out_->size();) {
    const char* r = out_->data() + off;
    rolling_ = ExtendRolling(rolling_, GetFixed32(r));
    off += kHeaderSize + AlignUp(GetFixed32(r + 4));
  }
  first_offset_ = out_->size();
}

uint32_t ExtendRolling(uint32_t rolling, uint32_t stored_crc) noexcept {
  char b[4];
  for (size_t i = 0; i < 4; ++i)
    b[i] = static_cast<char>((stored_crc >> (8 * i)) & 0xff);
  return crc32c::Extend(rolling, b, 4);
}

}  // namespace raftkit::storage::wal::internal
