// The codec converts between the plain structs and the protobuf classes generated from raft.proto,
// and lets protobuf do the byte work. What makes the output identical to etcd's is spelled out in
// codec.h; the conversions below implement it field by field.
#include "raftkit/raftpb/codec.h"

#include <initializer_list>

#include <google/protobuf/unknown_field_set.h>

#include "raft.pb.h"
#include "raftkit/util/panic.h"

namespace raftkit::raftpb {

namespace w = ::raftkit::raftpb::wire;
using google::protobuf::UnknownFieldSet;

namespace {

// ---------------------------------------------------------------------------------------------
// Unknown fields
// ---------------------------------------------------------------------------------------------

void PutUnknown(const Bytes& unknown, google::protobuf::Message* out) {
  if (unknown.empty()) return;
  UnknownFieldSet* set = out->GetReflection()->MutableUnknownFields(out);
  // The bytes came out of a successful decode, so they parse.
  RAFTKIT_CHECK(set->ParseFromArray(unknown.data(), static_cast<int>(unknown.size())),
                "unknown fields do not parse");
}

// Moves the unknown fields of a decoded message into `*unknown`. A field whose number the schema
// knows can only be here because it arrived with a different wire type, which Go rejects.
Status TakeUnknown(const google::protobuf::Message& in, std::initializer_list<int> known,
                   std::string_view what, Bytes* unknown) {
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
  std::string raw;
  set.SerializeToString(&raw);
  *unknown = Bytes(std::move(raw));
  return Status::Ok();
}

Bytes TakeBytes(bool present, const std::string& v) {
  if (!present) return Bytes();
  return v.empty() ? Bytes::Empty() : Bytes(std::string_view(v));
}

// ---------------------------------------------------------------------------------------------
// Plain -> wire. Every field etcd always writes is set, even to zero, so that it has presence.
// ---------------------------------------------------------------------------------------------

void ToWire(const Entry& in, w::Entry* out) {
  out->set_type(static_cast<w::EntryType>(in.type));
  out->set_term(in.term.value());
  out->set_index(in.index.value());
  if (!in.data.is_null()) out->set_data(in.data.data(), in.data.size());
  PutUnknown(in.unknown_fields, out);
}

void ToWire(const ConfState& in, w::ConfState* out) {
  for (NodeId id : in.voters)
    out->add_voters(id.value());
  for (NodeId id : in.learners)
    out->add_learners(id.value());
  for (NodeId id : in.voters_outgoing)
    out->add_voters_outgoing(id.value());
  for (NodeId id : in.learners_next)
    out->add_learners_next(id.value());
  out->set_auto_leave(in.auto_leave);
  PutUnknown(in.unknown_fields, out);
}

void ToWire(const SnapshotMetadata& in, w::SnapshotMetadata* out) {
  ToWire(in.conf_state, out->mutable_conf_state());
  out->set_index(in.index.value());
  out->set_term(in.term.value());
  PutUnknown(in.unknown_fields, out);
}

void ToWire(const Snapshot& in, w::Snapshot* out) {
  if (!in.data.is_null()) out->set_data(in.data.data(), in.data.size());
  ToWire(in.metadata, out->mutable_metadata());
  PutUnknown(in.unknown_fields, out);
}

void ToWire(const Message& in, w::Message* out) {
  out->set_type(static_cast<w::MessageType>(in.type));
  out->set_to(in.to.value());
  out->set_from(in.from.value());
  out->set_term(in.term.value());
  out->set_logterm(in.log_term.value());
  out->set_index(in.index.value());
  out->mutable_entries()->Reserve(static_cast<int>(in.entries.size()));
  for (const Entry& e : in.entries)
    ToWire(e, out->add_entries());
  out->set_commit(in.commit.value());
  ToWire(in.snapshot, out->mutable_snapshot());
  out->set_reject(in.reject);
  out->set_rejecthint(in.reject_hint.value());
  if (!in.context.is_null()) out->set_context(in.context.data(), in.context.size());
  PutUnknown(in.unknown_fields, out);
}

void ToWire(const HardState& in, w::HardState* out) {
  out->set_term(in.term.value());
  out->set_vote(in.vote.value());
  out->set_commit(in.commit.value());
  PutUnknown(in.unknown_fields, out);
}

void ToWire(const ConfChange& in, w::ConfChange* out) {
  out->set_id(in.id);
  out->set_type(static_cast<w::ConfChangeType>(in.type));
  out->set_node_id(in.node_id.value());
  if (!in.context.is_null()) out->set_context(in.context.data(), in.context.size());
  PutUnknown(in.unknown_fields, out);
}

void ToWire(const ConfChangeSingle& in, w::ConfChangeSingle* out) {
  out->set_type(static_cast<w::ConfChangeType>(in.type));
  out->set_node_id(in.node_id.value());
  PutUnknown(in.unknown_fields, out);
}

void ToWire(const ConfChangeV2& in, w::ConfChangeV2* out) {
  out->set_transition(static_cast<w::ConfChangeTransition>(in.transition));
  for (const ConfChangeSingle& c : in.changes)
    ToWire(c, out->add_changes());
  if (!in.context.is_null()) out->set_context(in.context.data(), in.context.size());
  PutUnknown(in.unknown_fields, out);
}

// ---------------------------------------------------------------------------------------------
// Wire -> plain
// ---------------------------------------------------------------------------------------------

Status FromWire(const w::Entry& in, Entry* out) {
  out->type = static_cast<EntryType>(in.type());
  out->term = Term(in.term());
  out->index = Index(in.index());
  out->data = TakeBytes(in.has_data(), in.data());
  return TakeUnknown(in, {1, 2, 3, 4}, "Entry", &out->unknown_fields);
}

Status FromWire(const w::ConfState& in, ConfState* out) {
  for (uint64_t id : in.voters())
    out->voters.emplace_back(id);
  for (uint64_t id : in.learners())
    out->learners.emplace_back(id);
  for (uint64_t id : in.voters_outgoing())
    out->voters_outgoing.emplace_back(id);
  for (uint64_t id : in.learners_next())
    out->learners_next.emplace_back(id);
  out->auto_leave = in.auto_leave();
  return TakeUnknown(in, {1, 2, 3, 4, 5}, "ConfState", &out->unknown_fields);
}

Status FromWire(const w::SnapshotMetadata& in, SnapshotMetadata* out) {
  RAFTKIT_RETURN_IF_ERROR(FromWire(in.conf_state(), &out->conf_state));
  out->index = Index(in.index());
  out->term = Term(in.term());
  return TakeUnknown(in, {1, 2, 3}, "SnapshotMetadata", &out->unknown_fields);
}

Status FromWire(const w::Snapshot& in, Snapshot* out) {
  out->data = TakeBytes(in.has_data(), in.data());
  RAFTKIT_RETURN_IF_ERROR(FromWire(in.metadata(), &out->metadata));
  return TakeUnknown(in, {1, 2}, "Snapshot", &out->unknown_fields);
}

Status FromWire(const w::Message& in, Message* out) {
  out->type = static_cast<MessageType>(in.type());
  out->to = NodeId(in.to());
  out->from = NodeId(in.from());
  out->term = Term(in.term());
  out->log_term = Term(in.logterm());
  out->index = Index(in.index());
  out->entries.resize(static_cast<size_t>(in.entries_size()));
  for (int i = 0; i < in.entries_size(); ++i) {
    RAFTKIT_RETURN_IF_ERROR(FromWire(in.entries(i), &out->entries[static_cast<size_t>(i)]));
  }
  out->commit = Index(in.commit());
  RAFTKIT_RETURN_IF_ERROR(FromWire(in.snapshot(), &out->snapshot));
  out->reject = in.reject();
  out->reject_hint = Index(in.rejecthint());
  out->context = TakeBytes(in.has_context(), in.context());
  return TakeUnknown(in, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, "Message", &out->unknown_fields);
}

Status FromWire(const w::HardState& in, HardState* out) {
  out->term = Term(in.term());
  out->vote = NodeId(in.vote());
  out->commit = Index(in.commit());
  return TakeUnknown(in, {1, 2, 3}, "HardState", &out->unknown_fields);
}

Status FromWire(const w::ConfChange& in, ConfChange* out) {
  out->id = in.id();
  out->type = static_cast<ConfChangeType>(in.type());
  out->node_id = NodeId(in.node_id());
  out->context = TakeBytes(in.has_context(), in.context());
  return TakeUnknown(in, {1, 2, 3, 4}, "ConfChange", &out->unknown_fields);
}

Status FromWire(const w::ConfChangeSingle& in, ConfChangeSingle* out) {
  out->type = static_cast<ConfChangeType>(in.type());
  out->node_id = NodeId(in.node_id());
  return TakeUnknown(in, {1, 2}, "ConfChangeSingle", &out->unknown_fields);
}

Status FromWire(const w::ConfChangeV2& in, ConfChangeV2* out) {
  out->transition = static_cast<ConfChangeTransition>(in.transition());
  out->changes.resize(static_cast<size_t>(in.changes_size()));
  for (int i = 0; i < in.changes_size(); ++i) {
    RAFTKIT_RETURN_IF_ERROR(FromWire(in.changes(i), &out->changes[static_cast<size_t>(i)]));
  }
  out->context = TakeBytes(in.has_context(), in.context());
  return TakeUnknown(in, {1, 2, 3}, "ConfChangeV2", &out->unknown_fields);
}

template <class Wire, class Plain>
std::string EncodeVia(const Plain& v) {
  Wire wire;
  ToWire(v, &wire);
  std::string out;
  // Deterministic serialization writes fields in number order and unknown fields last, which is
  // exactly what gogoproto's generated Marshal does.
  RAFTKIT_CHECK(wire.SerializeToString(&out), "protobuf serialization failed");
  return out;
}

template <class Wire, class Plain>
Result<Plain> DecodeVia(std::string_view bytes, std::string_view what) {
  Wire wire;
  if (!wire.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status(ErrorCode::kCorruption,
                  fmt::format("{}: malformed protobuf ({} bytes)", what, bytes.size()));
  }
  Plain out;
  if (Status st = FromWire(wire, &out); !st.ok()) return st;
  return out;
}

// --- sizes, computed without building the bytes ---

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
size_t EnumSize(int32_t v) {
  return VarintSize(static_cast<uint64_t>(static_cast<int64_t>(v)));
}
size_t LenField(size_t len) {
  return 1 + VarintSize(len) + len;
}  // one-byte tag + length + body
size_t BytesField(const Bytes& b) {
  return b.is_null() ? 0 : LenField(b.size());
}

size_t SizeOf(const ConfState& cs) {
  size_t n = 0;
  for (const auto* ids : {&cs.voters, &cs.learners, &cs.voters_outgoing, &cs.learners_next}) {
    for (NodeId id : *ids)
      n += 1 + VarintSize(id.value());
  }
  return n + 2 /* auto_leave */ + cs.unknown_fields.size();
}

size_t SizeOf(const Snapshot& s) {
  const SnapshotMetadata& m = s.metadata;
  const size_t meta = LenField(SizeOf(m.conf_state)) + 1 + VarintSize(m.index.value()) + 1 +
                      VarintSize(m.term.value()) + m.unknown_fields.size();
  return BytesField(s.data) + LenField(meta) + s.unknown_fields.size();
}

}  // namespace

std::string Encode(const Entry& v) {
  return EncodeVia<w::Entry>(v);
}
std::string Encode(const ConfState& v) {
  return EncodeVia<w::ConfState>(v);
}
std::string Encode(const SnapshotMetadata& v) {
  return EncodeVia<w::SnapshotMetadata>(v);
}
std::string Encode(const Snapshot& v) {
  return EncodeVia<w::Snapshot>(v);
}
std::string Encode(const Message& v) {
  return EncodeVia<w::Message>(v);
}
std::string Encode(const HardState& v) {
  return EncodeVia<w::HardState>(v);
}
std::string Encode(const ConfChange& v) {
  return EncodeVia<w::ConfChange>(v);
}
std::string Encode(const ConfChangeSingle& v) {
  return EncodeVia<w::ConfChangeSingle>(v);
}
std::string Encode(const ConfChangeV2& v) {
  return EncodeVia<w::ConfChangeV2>(v);
}

size_t EncodedSize(const Message& m) {
  size_t n = 1 + EnumSize(static_cast<int32_t>(m.type));
  for (uint64_t v : {m.to.value(), m.from.value(), m.term.value(), m.log_term.value(),
                     m.index.value(), m.commit.value(), m.reject_hint.value()}) {
    n += 1 + VarintSize(v);
  }
  for (const Entry& e : m.entries)
    n += LenField(e.ByteSize());
  n += LenField(SizeOf(m.snapshot));
  n += 2;  // reject
  n += BytesField(m.context);
  return n + m.unknown_fields.size();
}

Result<Entry> DecodeEntry(std::string_view b) {
  return DecodeVia<w::Entry, Entry>(b, "Entry");
}
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
