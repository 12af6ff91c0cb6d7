// Encoding and decoding of the raftpb types, byte-compatible with etcd 3.4 (gogoproto, proto2).
//
// Encode() writes exactly the bytes Go's generated Marshal() writes for the same value:
//   * every non-nullable field, even when zero, in ascending field-number order;
//   * nested messages that etcd never omits (Message.snapshot, Snapshot.metadata,
//     SnapshotMetadata.conf_state), even when empty;
//   * `bytes` fields only when non-null (a non-null empty field is written as tag + length 0);
//   * repeated uint64 unpacked; repeated messages one record per element;
//   * unknown fields (kept from a decode) appended after the known ones.
// Decode() accepts what Go's Unmarshal() accepts: absent fields are zero, enum values are not range
// checked, packed and unpacked repeated uint64 are both read, unknown fields are kept. A known
// field with the wrong wire type, a truncated or overlong varint, or a length past the end is an
// error (ErrorCode::kCorruption).
//
// Decoding goes through protobuf (Debian's libprotobuf, schema src/raftpb/raft.proto); unknown
// fields are then recovered byte for byte. Encoding is written out directly in gogoproto's field
// order, because protobuf C++ re-encodes unknown fields from their values (src/raftpb/codec.cc).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "raftkit/raftpb/types.h"
#include "raftkit/util/status.h"

namespace raftkit::raftpb {

std::string Encode(const Entry& v);
std::string Encode(const ConfState& v);
std::string Encode(const SnapshotMetadata& v);
std::string Encode(const Snapshot& v);
std::string Encode(const Message& v);
std::string Encode(const HardState& v);
std::string Encode(const ConfChange& v);
std::string Encode(const ConfChangeSingle& v);
std::string Encode(const ConfChangeV2& v);

/// The exact length Encode(v) would produce (etcd's Message.Size()), without building the bytes.
/// (For an Entry, use Entry::ByteSize().)
size_t EncodedSize(const Message& v);

Result<Entry> DecodeEntry(std::string_view bytes);
Result<ConfState> DecodeConfState(std::string_view bytes);
Result<SnapshotMetadata> DecodeSnapshotMetadata(std::string_view bytes);
Result<Snapshot> DecodeSnapshot(std::string_view bytes);
Result<Message> DecodeMessage(std::string_view bytes);
Result<HardState> DecodeHardState(std::string_view bytes);
Result<ConfChange> DecodeConfChange(std::string_view bytes);
Result<ConfChangeSingle> DecodeConfChangeSingle(std::string_view bytes);
Result<ConfChangeV2> DecodeConfChangeV2(std::string_view bytes);

/// The entry type and payload for proposing a conf change: v1 changes are stored as
/// EntryConfChange, v2 ones as EntryConfChangeV2 (etcd's MarshalConfChange).
struct EncodedConfChange {
  EntryType type;
  Bytes data;
};
EncodedConfChange MarshalConfChange(const ConfChange& cc);
EncodedConfChange MarshalConfChange(const ConfChangeV2& cc);

namespace internal {
/// DecodeEntry without its fast path for Go's own layout (for the tests that compare the two).
Result<Entry> DecodeEntryWithProtobuf(std::string_view bytes);
/// DecodeMessage without its fast path for Go's own layout.
Result<Message> DecodeMessageWithProtobuf(std::string_view bytes);
}  // namespace internal

}  // namespace raftkit::raftpb
