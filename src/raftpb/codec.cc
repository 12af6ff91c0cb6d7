// Decoding: protobuf (classes generated from raft.proto) parses and validates the bytes, FromWire
// copies the fields into the plain structs, and — only when protobuf saw unknown fields — a raw
// scan recovers each message's unknown fields byte for byte, as Go keeps them in XXX_unrecognized.
//
// Encoding: a direct writer in field-number order. gogoproto's output (every non-nullable field,
// nullable bytes, unpacked repeated ids, unknown fields appended verbatim) is not something
// protobuf C++ can be asked to produce exactly — it re-encodes unknown fields from their parsed
// values, losing non-minimal varints — so the writer emits it directly. The golden vectors produced
// by etcd's own Go code (tests/raftpb/testdata/) pin every byte.
#include "raftkit/raftpb/codec.h"

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <optional>

#include <google/protobuf/unknown_field_set.h>

#include "raft.pb.h"
#include "raftkit/util/panic.h"

namespace raftkit::raftpb {

namespace w = ::raftkit::raftpb::wire;
using google::protobuf::UnknownFieldSet;

namespace {

// Validates the unknown fields protobuf collected for one message. A field whose number the schema
// knows can only be there because it arrived with a different wire type, which Go rejects.
Status CheckUnknown(const google::protobuf::Message& in, std::initializer_list<int> known,
                    std::string_view what, bool* any_unknown) {
  const UnknownFieldSet& set = in.GetReflection()->GetUnknownFields(in);
  if (set.empty()) return Status::Ok();
  for (int i = 0; i < set.field_count(); ++i) {
    const int number = set.field(i).number();
    for (int k : known) {
      if (number == k) {
        return Status(ErrorCode::kCorruption,
                      fmt::format("{}: field {} has the wrong wire type", what, number));
      }
    }
  }
  *any_unknown = true;
  return Status::Ok();
}

Bytes TakeBytes(bool present, const std::string& v) {
  if (!present) return Bytes();
  return v.empty() ? Bytes::Empty() : Bytes(std::string_view(v));
}

// ---------------------------------------------------------------------------------------------
// Wire -> plain
// ---------------------------------------------------------------------------------------------

Status FromWire(const w::Entry& in, Entry* out, bool* any) {
  out->type = static_cast<EntryType>(in.type());
  out->term = Term(in.term());
  out->index = Index(in.index());
  out->data = TakeBytes(in.has_data(), in.data());
  return CheckUnknown(in, {1, 2, 3, 4}, "Entry", any);
}

Status FromWire(const w::ConfState& in, ConfState* out, bool* any) {
  for (uint64_t id : in.voters())
    out->voters.emplace_back(id);
  for (uint64_t id : in.learners())
    out->learners.emplace_back(id);
  for (uint64_t id : in.voters_outgoing())
    out->voters_outgoing.emplace_back(id);
  for (uint64_t id : in.learners_next())
    out->learners_next.emplace_back(id);
  out->auto_leave = in.auto_leave();
  return CheckUnknown(in, {1, 2, 3, 4, 5}, "ConfState", any);
}

Status FromWire(const w::SnapshotMetadata& in, SnapshotMetadata* out, bool* any) {
  RAFTKIT_RETURN_IF_ERROR(FromWire(in.conf_state(), &out->conf_state, any));
  out->index = Index(in.index());
  out->term = Term(in.term());
  return CheckUnknown(in, {1, 2, 3}, "SnapshotMetadata", any);
}

Status FromWire(const w::Snapshot& in, Snapshot* out, bool* any) {
  out->data = TakeBytes(in.has_data(), in.data());
  RAFTKIT_RETURN_IF_ERROR(FromWire(in.metadata(), &out->metadata, any));
  return CheckUnknown(in, {1, 2}, "Snapshot", any);
}

Status FromWire(const w::Message& in, Message* out, bool* any) {
  out->type = static_cast<MessageType>(in.type());
  out->to = NodeId(in.to());
  out->from = NodeId(in.from());
  out->term = Term(in.term());
  out->log_term = Term(in.logterm());
  out->index = Index(in.index());
  out->entries.resize(static_cast<size_t>(in.entries_size()));
  for (int i = 0; i < in.entries_size(); ++i) {
    RAFTKIT_RETURN_IF_ERROR(FromWire(in.entries(i), &out->entries[static_cast<size_t>(i)], any));
  }
  out->commit = Index(in.commit());
  RAFTKIT_RETURN_IF_ERROR(FromWire(in.snapshot(), &out->snapshot, any));
  out->reject = in.reject();
  out->reject_hint = Index(in.rejecthint());
  out->context = TakeBytes(in.has_context(), in.context());
  return CheckUnknown(in, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, "Message", any);
}

Status FromWire(const w::HardState& in, HardState* out, bool* any) {
  out->term = Term(in.term());
  out->vote = NodeId(in.vote());
  out->commit = Index(in.commit());
  return CheckUnknown(in, {1, 2, 3}, "HardState", any);
}

Status FromWire(const w::ConfChange& in, ConfChange* out, bool* any) {
  out->id = in.id();
  out->type = static_cast<ConfChangeType>(in.type());
  out->node_id = NodeId(in.node_id());
  out->context = TakeBytes(in.has_context(), in.context());
  return CheckUnknown(in, {1, 2, 3, 4}, "ConfChange", any);
}

Status FromWire(const w::ConfChangeSingle& in, ConfChangeSingle* out, bool* any) {
  out->type = static_cast<ConfChangeType>(in.type());
  out->node_id = NodeId(in.node_id());
  return CheckUnknown(in, {1, 2}, "ConfChangeSingle", any);
}

Status FromWire(const w::ConfChangeV2& in, ConfChangeV2* out, bool* any) {
  out->transition = static_cast<ConfChangeTransition>(in.transition());
  out->changes.resize(static_cast<size_t>(in.changes_size()));
  for (int i = 0; i < in.changes_size(); ++i) {
    RAFTKIT_RETURN_IF_ERROR(FromWire(in.changes(i), &out->changes[static_cast<size_t>(i)], any));
  }
  out->context = TakeBytes(in.has_context(), in.context());
  return CheckUnknown(in, {1, 2, 3}, "ConfChangeV2", any);
}

// ---------------------------------------------------------------------------------------------
// Raw unknown fields. Runs only on input protobuf already accepted, and only when it reported
// unknown fields somewhere; walks the bytes again and gives each (nested) message the exact bytes
// of its unknown fields, in arrival order.
// ---------------------------------------------------------------------------------------------

class RawReader {
 public:
  explicit RawReader(std::string_view b) : b_(b) {}
  [[nodiscard]] bool done() const { return pos_ >= b_.size(); }

  // Reads one field: its number, wire type, the payload of a length-delimited field, and the raw
  // bytes of the whole field (tag included).
  bool Next(uint32_t* number, uint32_t* wire_type, std::string_view* payload,
            std::string_view* raw) {
    const size_t start = pos_;
    uint64_t tag = 0;
    if (!Varint(&tag)) return false;
    *number = static_cast<uint32_t>(tag >> 3);
    *wire_type = static_cast<uint32_t>(tag & 7);
    if (!Skip(*number, *wire_type, payload)) return false;
    *raw = b_.substr(start, pos_ - start);
    return true;
  }

 private:
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 70 && pos_ < b_.size(); shift += 7) {
      const auto c = static_cast<unsigned char>(b_[pos_++]);
      if (shift < 64) *v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if ((c & 0x80) == 0) return true;
    }
    return false;
  }
  bool Skip(uint32_t number, uint32_t wire_type, std::string_view* payload) {
    uint64_t n = 0;
    switch (wire_type) {
      case 0:
        return Varint(&n);
      case 1:
        return Advance(8);
      case 5:
        return Advance(4);
      case 2:
        if (!Varint(&n) || n > b_.size() - pos_) return false;
        *payload = b_.substr(pos_, n);
        pos_ += n;
        return true;
      case 3:  // a group: fields until the matching end-group tag
        for (;;) {
          if (done()) return false;
          uint64_t tag = 0;
          if (!Varint(&tag)) return false;
          const auto num = static_cast<uint32_t>(tag >> 3);
          const auto wt = static_cast<uint32_t>(tag & 7);
          if (wt == 4) return num == number;
          std::string_view ignored;
          if (!Skip(num, wt, &ignored)) return false;
        }
      default:
        return false;
    }
  }
  bool Advance(size_t n) {
    if (n > b_.size() - pos_) return false;
    pos_ += n;
    return true;
  }

  std::string_view b_;
  size_t pos_ = 0;
};

// Calls nested(number, payload) for length-delimited fields listed in `nested_fields`, appends
// every field whose number is not in `known` to *unknown, and skips the rest.
template <class Nested>
Status ScanFields(std::string_view b, std::initializer_list<uint32_t> known,
                  std::initializer_list<uint32_t> nested_fields, Bytes* unknown, Nested nested) {
  RawReader r(b);
  std::string raw_unknown = unknown->str();
  while (!r.done()) {
    uint32_t number = 0;
    uint32_t wt = 0;
    std::string_view payload;
    std::string_view raw;
    if (!r.Next(&number, &wt, &payload, &raw)) {
      return Status(ErrorCode::kCorruption, "malformed protobuf field");
    }
    bool is_known = false;
    for (uint32_t k : known)
      is_known = is_known || k == number;
    if (!is_known) {
      raw_unknown.append(raw);
      continue;
    }
    for (uint32_t k : nested_fields) {
      if (k == number && wt == 2) RAFTKIT_RETURN_IF_ERROR(nested(number, payload));
    }
  }
  if (!raw_unknown.empty()) *unknown = Bytes(std::move(raw_unknown));
  return Status::Ok();
}

auto NoNested() {
  return [](uint32_t, std::string_view) { return Status::Ok(); };
}

Status ScanUnknown(std::string_view b, Entry* v) {
  return ScanFields(b, {1, 2, 3, 4}, {}, &v->unknown_fields, NoNested());
}
Status ScanUnknown(std::string_view b, ConfState* v) {
  return ScanFields(b, {1, 2, 3, 4, 5}, {}, &v->unknown_fields, NoNested());
}
Status ScanUnknown(std::string_view b, SnapshotMetadata* v) {
  return ScanFields(b, {1, 2, 3}, {1}, &v->unknown_fields,
                    [&](uint32_t, std::string_view p) { return ScanUnknown(p, &v->conf_state); });
}
Status ScanUnknown(std::string_view b, Snapshot* v) {
  return ScanFields(b, {1, 2}, {2}, &v->unknown_fields,
                    [&](uint32_t, std::string_view p) { return ScanUnknown(p, &v->metadata); });
}
Status ScanUnknown(std::string_view b, Message* v) {
  size_t entry = 0;
  return ScanFields(b, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {7, 9}, &v->unknown_fields,
                    [&](uint32_t number, std::string_view p) -> Status {
                      if (number == 9) return ScanUnknown(p, &v->snapshot);
                      if (entry >= v->entries.size()) {
                        return Status(ErrorCode::kCorruption, "entry count mismatch");
                      }
                      return ScanUnknown(p, &v->entries[entry++]);
                    });
}
Status ScanUnknown(std::string_view b, HardState* v) {
  return ScanFields(b, {1, 2, 3}, {}, &v->unknown_fields, NoNested());
}
Status ScanUnknown(std::string_view b, ConfChange* v) {
  return ScanFields(b, {1, 2, 3, 4}, {}, &v->unknown_fields, NoNested());
}
Status ScanUnknown(std::string_view b, ConfChangeSingle* v) {
  return ScanFields(b, {1, 2}, {}, &v->unknown_fields, NoNested());
}
Status ScanUnknown(std::string_view b, ConfChangeV2* v) {
  size_t change = 0;
  return ScanFields(b, {1, 2, 3}, {2}, &v->unknown_fields,
                    [&](uint32_t, std::string_view p) -> Status {
                      if (change >= v->changes.size()) {
                        return Status(ErrorCode::kCorruption, "change count mismatch");
                      }
                      return ScanUnknown(p, &v->changes[change++]);
                    });
}

template <class Wire, class Plain>
Result<Plain> DecodeVia(std::string_view bytes, std::string_view what) {
  Wire wire;
  if (!wire.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status(ErrorCode::kCorruption,
                  fmt::format("{}: malformed protobuf ({} bytes)", what, bytes.size()));
  }
  Plain out;
  bool any_unknown = false;
  if (Status st = FromWire(wire, &out, &any_unknown); !st.ok()) return st;
  if (any_unknown) {
    if (Status st = ScanUnknown(bytes, &out); !st.ok()) return st;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sizes (etcd's Size()) and the writer (etcd's Marshal()).
// ---------------------------------------------------------------------------------------------

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
// Enums are int32 on the wire; a negative value is sign-extended to 10 bytes, as Go does.
uint64_t EnumBits(int32_t v) {
  return static_cast<uint64_t>(static_cast<int64_t>(v));
}
// Every field number here is < 16, so every tag is one byte.
size_t U64Field(uint64_t v) {
  return 1 + VarintSize(v);
}
size_t LenField(size_t len) {
  return 1 + VarintSize(len) + len;
}
size_t BytesField(const Bytes& b) {
  return b.is_null() ? 0 : LenField(b.size());
}

size_t SizeOf(const ConfState& v) {
  size_t n = 0;
  for (const auto* ids : {&v.voters, &v.learners, &v.voters_outgoing, &v.learners_next}) {
    for (NodeId id : *ids)
      n += U64Field(id.value());
  }
  return n + 2 /* auto_leave */ + v.unknown_fields.size();
}
size_t SizeOf(const SnapshotMetadata& v) {
  return LenField(SizeOf(v.conf_state)) + U64Field(v.index.value()) + U64Field(v.term.value()) +
         v.unknown_fields.size();
}
size_t SizeOf(const Snapshot& v) {
  return BytesField(v.data) + LenField(SizeOf(v.metadata)) + v.unknown_fields.size();
}
size_t SizeOf(const Message& m) {
  size_t n = U64Field(EnumBits(static_cast<int32_t>(m.type)));
  for (uint64_t v : {m.to.value(), m.from.value(), m.term.value(), m.log_term.value(),
                     m.index.value(), m.commit.value(), m.reject_hint.value()}) {
    n += U64Field(v);
  }
  for (const Entry& e : m.entries)
    n += LenField(e.ByteSize());
  return n + LenField(SizeOf(m.snapshot)) + 2 /* reject */ + BytesField(m.context) +
         m.unknown_fields.size();
}
size_t SizeOf(const HardState& v) {
  return U64Field(v.term.value()) + U64Field(v.vote.value()) + U64Field(v.commit.value()) +
         v.unknown_fields.size();
}
size_t SizeOf(const ConfChange& v) {
  return U64Field(v.id) + U64Field(EnumBits(static_cast<int32_t>(v.type))) +
         U64Field(v.node_id.value()) + BytesField(v.context) + v.unknown_fields.size();
}
size_t SizeOf(const ConfChangeSingle& v) {
  return U64Field(EnumBits(static_cast<int32_t>(v.type))) + U64Field(v.node_id.value()) +
         v.unknown_fields.size();
}
size_t SizeOf(const ConfChangeV2& v) {
  size_t n = U64Field(EnumBits(static_cast<int32_t>(v.transition)));
  for (const ConfChangeSingle& c : v.changes)
    n += LenField(SizeOf(c));
  return n + BytesField(v.context) + v.unknown_fields.size();
}

class Writer {
 public:
  explicit Writer(size_t size) { out_.reserve(size); }
  void U64(uint32_t field, uint64_t v) {
    Tag(field, 0);
    Varint(v);
  }
  void Enum(uint32_t field, int32_t v) { U64(field, EnumBits(v)); }
  void Bool(uint32_t field, bool v) { U64(field, v ? 1 : 0); }
  void Len(uint32_t field, size_t len) {
    Tag(field, 2);
    Varint(len);
  }
  void Data(uint32_t field, const Bytes& b) {
    if (b.is_null()) return;
    Len(field, b.size());
    out_.append(b.view());
  }
  void Raw(const Bytes& b) { out_.append(b.view()); }
  std::string Take() { return std::move(out_); }

 private:
  void Tag(uint32_t field, uint32_t wire_type) { Varint((field << 3) | wire_type); }
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  std::string out_;
};

void Write(Writer& w, const Entry& v) {
  w.Enum(1, static_cast<int32_t>(v.type));
  w.U64(2, v.term.value());
  w.U64(3, v.index.value());
  w.Data(4, v.data);
  w.Raw(v.unknown_fields);
}
void Write(Writer& w, const ConfState& v) {
  for (NodeId id : v.voters)
    w.U64(1, id.value());
  for (NodeId id : v.learners)
    w.U64(2, id.value());
  for (NodeId id : v.voters_outgoing)
    w.U64(3, id.value());
  for (NodeId id : v.learners_next)
    w.U64(4, id.value());
  w.Bool(5, v.auto_leave);
  w.Raw(v.unknown_fields);
}
void Write(Writer& w, const SnapshotMetadata& v) {
  w.Len(1, SizeOf(v.conf_state));
  Write(w, v.conf_state);
  w.U64(2, v.index.value());
  w.U64(3, v.term.value());
  w.Raw(v.unknown_fields);
}
void Write(Writer& w, const Snapshot& v) {
  w.Data(1, v.data);
  w.Len(2, SizeOf(v.metadata));
  Write(w, v.metadata);
  w.Raw(v.unknown_fields);
}
void Write(Writer& w, const Message& v) {
  w.Enum(1, static_cast<int32_t>(v.type));
  w.U64(2, v.to.value());
  w.U64(3, v.from.value());
  w.U64(4, v.term.value());
  w.U64(5, v.log_term.value());
  w.U64(6, v.index.value());
  for (const Entry& e : v.entries) {
    w.Len(7, e.ByteSize());
    Write(w, e);
  }
  w.U64(8, v.commit.value());
  w.Len(9, SizeOf(v.snapshot));
  Write(w, v.snapshot);
  w.Bool(10, v.reject);
  w.U64(11, v.reject_hint.value());
  w.Data(12, v.context);
  w.Raw(v.unknown_fields);
}
void Write(Writer& w, const HardState& v) {
  w.U64(1, v.term.value());
  w.U64(2, v.vote.value());
  w.U64(3, v.commit.value());
  w.Raw(v.unknown_fields);
}
void Write(Writer& w, const ConfChange& v) {
  w.U64(1, v.id);
  w.Enum(2, static_cast<int32_t>(v.type));
  w.U64(3, v.node_id.value());
  w.Data(4, v.context);
  w.Raw(v.unknown_fields);
}
void Write(Writer& w, const ConfChangeSingle& v) {
  w.Enum(1, static_cast<int32_t>(v.type));
  w.U64(2, v.node_id.value());
  w.Raw(v.unknown_fields);
}
void Write(Writer& w, const ConfChangeV2& v) {
  w.Enum(1, static_cast<int32_t>(v.transition));
  for (const ConfChangeSingle& c : v.changes) {
    w.Len(2, SizeOf(c));
    Write(w, c);
  }
  w.Data(3, v.context);
  w.Raw(v.unknown_fields);
}

template <class T>
std::string EncodeValue(const T& v, size_t size) {
  Writer w(size);
  Write(w, v);
  std::string out = w.Take();
  RAFTKIT_CHECK(out.size() == size, "encoded size {} differs from computed size {}", out.size(),
                size);
  return out;
}

}  // namespace

std::string Encode(const Entry& v) {
  return EncodeValue(v, v.ByteSize());
}
std::string Encode(const ConfState& v) {
  return EncodeValue(v, SizeOf(v));
}
std::string Encode(const SnapshotMetadata& v) {
  return EncodeValue(v, SizeOf(v));
}
std::string Encode(const Snapshot& v) {
  return EncodeValue(v, SizeOf(v));
}
std::string Encode(const Message& v) {
  return EncodeValue(v, SizeOf(v));
}
std::string Encode(const HardState& v) {
  return EncodeValue(v, SizeOf(v));
}
std::string Encode(const ConfChange& v) {
  return EncodeValue(v, SizeOf(v));
}
std::string Encode(const ConfChangeSingle& v) {
  return EncodeValue(v, SizeOf(v));
}
std::string Encode(const ConfChangeV2& v) {
  return EncodeValue(v, SizeOf(v));
}

size_t EncodedSize(const Message& m) {
  return SizeOf(m);
}

namespace {

// Reads a varint as protobuf does for a uint64 field, but only in the forms it reads unambiguously
// (at most 10 bytes, the 10th holding only the top bit); false otherwise, and the caller falls
// back to protobuf.
bool ReadVarint(std::string_view* b, uint64_t* v) {
  uint64_t out = 0;
  for (int i = 0; i < 10; ++i) {
    if (b->empty()) return false;
    const auto byte = static_cast<uint8_t>((*b)[0]);
    b->remove_prefix(1);
    if (i == 9 && byte > 1) return false;
    out |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      *v = out;
      return true;
    }
  }
  return false;
}

// The layout Go's Marshal writes (type, term, index, then data if present, nothing else) with a
// known entry type, decoded without protobuf's intermediate message and its copies: appends travel
// thousands of entries a second through here. Anything else returns nullopt for the general path.
std::optional<Entry> DecodeCanonicalEntry(std::string_view b,
                                          const std::shared_ptr<const char>* owner = nullptr) {
  Entry e;
  uint64_t v = 0;
  if (b.size() < 2 || b[0] != 0x08 || static_cast<uint8_t>(b[1]) > 2) return std::nullopt;
  e.type = static_cast<EntryType>(b[1]);
  b.remove_prefix(2);
  if (b.empty() || b[0] != 0x10) return std::nullopt;
  b.remove_prefix(1);
  if (!ReadVarint(&b, &v)) return std::nullopt;
  e.term = Term(v);
  if (b.empty() || b[0] != 0x18) return std::nullopt;
  b.remove_prefix(1);
  if (!ReadVarint(&b, &v)) return std::nullopt;
  e.index = Index(v);
  if (b.empty()) return e;
  if (b[0] != 0x22) return std::nullopt;
  b.remove_prefix(1);
  if (!ReadVarint(&b, &v) || v != b.size()) return std::nullopt;
  e.data = owner != nullptr ? Bytes::Share(*owner, b) : Bytes(b);
  return e;
}

// Reads `tag` then a varint; false if either is not there.
bool ReadVarintField(std::string_view* b, char tag, uint64_t* v) {
  if (b->empty() || (*b)[0] != tag) return false;
  b->remove_prefix(1);
  return ReadVarint(b, v);
}

// Reads `tag` then a length-delimited payload; false if either is not there.
bool ReadBytesField(std::string_view* b, char tag, std::string_view* payload) {
  uint64_t len = 0;
  if (!ReadVarintField(b, tag, &len) || len > b->size()) return false;
  *payload = b->substr(0, len);
  b->remove_prefix(len);
  return true;
}

// Message in the layout Go's Marshal writes (every field in order, entries through the Entry fast
// path, the empty snapshot recognised by its bytes), as DecodeCanonicalEntry for Entry. The
// message is copied once into one block that every entry's data and the context then share, so
// that an append of many entries costs one allocation instead of one per entry.
std::optional<Message> DecodeCanonicalMessage(std::string_view input) {
  static const std::string kEmptySnapshot = Encode(Snapshot{});
  if (input.size() < 2 || input[0] != 0x08) return std::nullopt;
  std::shared_ptr<char[]> block = std::make_shared_for_overwrite<char[]>(input.size());
  std::copy(input.begin(), input.end(), block.get());
  const char* base = block.get();
  const std::shared_ptr<const char> owner(std::move(block), base);
  std::string_view b(base, input.size());
  Message m;
  uint64_t v = 0;
  if (b.size() < 2 || b[0] != 0x08 || static_cast<uint8_t>(b[1]) > 18) return std::nullopt;
  m.type = static_cast<MessageType>(b[1]);
  b.remove_prefix(2);
  if (!ReadVarintField(&b, 0x10, &v)) return std::nullopt;
  m.to = NodeId(v);
  if (!ReadVarintField(&b, 0x18, &v)) return std::nullopt;
  m.from = NodeId(v);
  if (!ReadVarintField(&b, 0x20, &v)) return std::nullopt;
  m.term = Term(v);
  if (!ReadVarintField(&b, 0x28, &v)) return std::nullopt;
  m.log_term = Term(v);
  if (!ReadVarintField(&b, 0x30, &v)) return std::nullopt;
  m.index = Index(v);
  std::string_view payload;
  while (!b.empty() && b[0] == 0x3a) {
    if (!ReadBytesField(&b, 0x3a, &payload)) return std::nullopt;
    auto e = DecodeCanonicalEntry(payload, &owner);
    if (!e) return std::nullopt;
    m.entries.push_back(std::move(*e));
  }
  if (!ReadVarintField(&b, 0x40, &v)) return std::nullopt;
  m.commit = Index(v);
  if (!ReadBytesField(&b, 0x4a, &payload)) return std::nullopt;
  if (payload != kEmptySnapshot) {
    auto snap = DecodeVia<w::Snapshot, Snapshot>(payload, "Snapshot");
    if (!snap.ok()) return std::nullopt;
    m.snapshot = std::move(snap).value();
  }
  if (b.size() < 2 || b[0] != 0x50 || static_cast<uint8_t>(b[1]) > 1) return std::nullopt;
  m.reject = b[1] == 1;
  b.remove_prefix(2);
  if (!ReadVarintField(&b, 0x58, &v)) return std::nullopt;
  m.reject_hint = Index(v);
  if (!b.empty()) {
    if (!ReadBytesField(&b, 0x62, &payload) || !b.empty()) return std::nullopt;
    m.context = Bytes::Share(owner, payload);
  }
  return m;
}

}  // namespace

Result<Entry> DecodeEntry(std::string_view b) {
  if (auto e = DecodeCanonicalEntry(b)) return std::move(*e);
  return DecodeVia<w::Entry, Entry>(b, "Entry");
}

namespace internal {
Result<Entry> DecodeEntryWithProtobuf(std::string_view b) {
  return DecodeVia<w::Entry, Entry>(b, "Entry");
}
Result<Message> DecodeMessageWithProtobuf(std::string_view b) {
  return DecodeVia<w::Message, Message>(b, "Message");
}
}  // namespace internal
Result<ConfState> DecodeConfState(std::string_view b) {
  return DecodeVia<w::ConfState, ConfState>(b, "ConfState");
}
Result<SnapshotMetadata> DecodeSnapshotMetadata(std::string_view b) {
  return DecodeVia<w::SnapshotMetadata, SnapshotMetadata>(b, "SnapshotMetadata");
}
Result<Snapshot> DecodeSnapshot(std::string_view b) {
  return DecodeVia<w::Snapshot, Snapshot>(b, "Snapshot");
}
Result<Message> DecodeMessage(std::string_view b) {
  if (auto m = DecodeCanonicalMessage(b)) return std::move(*m);
  return DecodeVia<w::Message, Message>(b, "Message");
}
Result<HardState> DecodeHardState(std::string_view b) {
  return DecodeVia<w::HardState, HardState>(b, "HardState");
}
Result<ConfChange> DecodeConfChange(std::string_view b) {
  return DecodeVia<w::ConfChange, ConfChange>(b, "ConfChange");
}
Result<ConfChangeSingle> DecodeConfChangeSingle(std::string_view b) {
  return DecodeVia<w::ConfChangeSingle, ConfChangeSingle>(b, "ConfChangeSingle");
}
Result<ConfChangeV2> DecodeConfChangeV2(std::string_view b) {
  return DecodeVia<w::ConfChangeV2, ConfChangeV2>(b, "ConfChangeV2");
}

EncodedConfChange MarshalConfChange(const ConfChange& cc) {
  return {EntryType::EntryConfChange, Bytes(Encode(cc))};
}
EncodedConfChange MarshalConfChange(const ConfChangeV2& cc) {
  return {EntryType::EntryConfChangeV2, Bytes(Encode(cc))};
}

}  // namespace raftkit::raftpb
