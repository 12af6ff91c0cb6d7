// Codec edge cases and a randomized round-trip property.
//
// The golden test (codec_golden_test.cc) pins raftkit to Go's bytes for a fixed set of values;
// this file checks error handling and, over thousands of random values, that Encode agrees with
// an independent reference encoder written here from the rules of the wire spec (§2.1), that
// decoding inverts encoding, and that the size functions are exact.
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "raftkit/raftpb/codec.h"
#include "raftkit/raftpb/types.h"
#include "raftkit/util/bytes.h"
#include "raftkit/util/rand.h"
#include "raftkit/util/status.h"
#include "testlib/hex.h"

namespace raftkit::raftpb {
namespace {

// Bytes from a hex string with optional spaces.
std::string H(std::string_view hex) {
  std::string out;
  int hi = -1;
  for (char c : hex) {
    if (c == ' ') continue;
    const int v = c <= '9' ? c - '0' : c - 'a' + 10;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<char>(hi * 16 + v));
      hi = -1;
    }
  }
  return out;
}

std::string Hex(std::string_view bytes) {
  return raftkit::testing::ToHex(bytes);
}

// ---------------------------------------------------------------------------------------------
// A reference encoder, written from the spec's rules and independent of protobuf.
// ---------------------------------------------------------------------------------------------

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
void PutUint(std::string* out, int field, uint64_t v) {
  PutVarint(out, static_cast<uint64_t>(field) << 3);
  PutVarint(out, v);
}
// Enums are int32; negative values are sign-extended to 64 bits (10 bytes on the wire).
void PutEnum(std::string* out, int field, int32_t v) {
  PutUint(out, field, static_cast<uint64_t>(static_cast<int64_t>(v)));
}
void PutBool(std::string* out, int field, bool v) {
  PutUint(out, field, v ? 1 : 0);
}
void PutLen(std::string* out, int field, std::string_view payload) {
  PutVarint(out, (static_cast<uint64_t>(field) << 3) | 2);
  PutVarint(out, payload.size());
  out->append(payload);
}
void PutNullable(std::string* out, int field, const Bytes& b) {
  if (!b.is_null()) PutLen(out, field, b.view());
}

std::string Ref(const Entry& e) {
  std::string out;
  PutEnum(&out, 1, static_cast<int32_t>(e.type));
  PutUint(&out, 2, e.term.value());
  PutUint(&out, 3, e.index.value());
  PutNullable(&out, 4, e.data);
  out.append(e.unknown_fields.view());
  return out;
}

std::string Ref(const ConfState& cs) {
  std::string out;
  for (NodeId id : cs.voters)
    PutUint(&out, 1, id.value());
  for (NodeId id : cs.learners)
    PutUint(&out, 2, id.value());
  for (NodeId id : cs.voters_outgoing)
    PutUint(&out, 3, id.value());
  for (NodeId id : cs.learners_next)
    PutUint(&out, 4, id.value());
  PutBool(&out, 5, cs.auto_leave);
  out.append(cs.unknown_fields.view());
  return out;
}

std::string Ref(const SnapshotMetadata& m) {
  std::string out;
  PutLen(&out, 1, Ref(m.conf_state));
  PutUint(&out, 2, m.index.value());
  PutUint(&out, 3, m.term.value());
  out.append(m.unknown_fields.view());
  return out;
}

std::string Ref(const Snapshot& s) {
  std::string out;
  PutNullable(&out, 1, s.data);
  PutLen(&out, 2, Ref(s.metadata));
  out.append(s.unknown_fields.view());
  return out;
}

std::string Ref(const Message& m) {
  std::string out;
  PutEnum(&out, 1, static_cast<int32_t>(m.type));
  PutUint(&out, 2, m.to.value());
  PutUint(&out, 3, m.from.value());
  PutUint(&out, 4, m.term.value());
  PutUint(&out, 5, m.log_term.value());
  PutUint(&out, 6, m.index.value());
  for (const Entry& e : m.entries)
    PutLen(&out, 7, Ref(e));
  PutUint(&out, 8, m.commit.value());
  PutLen(&out, 9, Ref(m.snapshot));
  PutBool(&out, 10, m.reject);
  PutUint(&out, 11, m.reject_hint.value());
  PutNullable(&out, 12, m.context);
  out.append(m.unknown_fields.view());
  return out;
}

std::string Ref(const HardState& hs) {
  std::string out;
  PutUint(&out, 1, hs.term.value());
  PutUint(&out, 2, hs.vote.value());
  PutUint(&out, 3, hs.commit.value());
  out.append(hs.unknown_fields.view());
  return out;
}

std::string Ref(const ConfChange& cc) {
  std::string out;
  PutUint(&out, 1, cc.id);
  PutEnum(&out, 2, static_cast<int32_t>(cc.type));
  PutUint(&out, 3, cc.node_id.value());
  PutNullable(&out, 4, cc.context);
  out.append(cc.unknown_fields.view());
  return out;
}

std::string Ref(const ConfChangeSingle& c) {
  std::string out;
  PutEnum(&out, 1, static_cast<int32_t>(c.type));
  PutUint(&out, 2, c.node_id.value());
  out.append(c.unknown_fields.view());
  return out;
}

std::string Ref(const ConfChangeV2& cc) {
  std::string out;
  PutEnum(&out, 1, static_cast<int32_t>(cc.transition));
  for (const ConfChangeSingle& c : cc.changes)
    PutLen(&out, 2, Ref(c));
  PutNullable(&out, 3, cc.context);
  out.append(cc.unknown_fields.view());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fixed cases
// ---------------------------------------------------------------------------------------------

TEST(Codec, DefaultMessageIsThe30BytesOfTheSpec) {
  const Message zero;
  const std::string bytes = Encode(zero);
  EXPECT_EQ(Hex(bytes), Hex(H("08 00 10 00 18 00 20 00 28 00 30 00 40 00 4a 0a 12 08 0a 02 28 00 "
                              "10 00 18 00 50 00 58 00")));
  EXPECT_EQ(bytes.size(), 30u);
  EXPECT_EQ(EncodedSize(zero), 30u);

  Message hb;
  hb.type = MessageType::MsgHeartbeat;
  EXPECT_EQ(Hex(Encode(hb)), Hex(H("08 08 10 00 18 00 20 00 28 00 30 00 40 00 4a 0a 12 08 0a 02 "
                                   "28 00 10 00 18 00 50 00 58 00")));
}

TEST(Codec, EmptyNestedMessagesAreAlwaysWritten) {
  EXPECT_EQ(Hex(Encode(ConfState{})), "2800");
  EXPECT_EQ(Hex(Encode(SnapshotMetadata{})),
            "0a022800"
            "10001800");
  EXPECT_EQ(Hex(Encode(Snapshot{})),
            "1208"
            "0a022800"
            "10001800");
  EXPECT_EQ(Hex(Encode(HardState{})), "080010001800");
  EXPECT_EQ(Hex(Encode(Entry{})), "080010001800");
  EXPECT_EQ(Hex(Encode(ConfChange{})), "080010001800");
  EXPECT_EQ(Hex(Encode(ConfChangeSingle{})), "08001000");
  EXPECT_EQ(Hex(Encode(ConfChangeV2{})), "0800");
}

TEST(Codec, NilAndEmptyBytesEncodeDifferently) {
  Entry e{EntryType::EntryNormal, Term(2), Index(4), Bytes(), Bytes()};
  EXPECT_EQ(Hex(Encode(e)), "080010021804");
  e.data = Bytes::Empty();
  EXPECT_EQ(Hex(Encode(e)), "0800100218042200");
  e.data = Bytes(std::string());  // a non-null empty Bytes made another way
  EXPECT_EQ(Hex(Encode(e)), "0800100218042200");

  Message m;
  m.type = MessageType::MsgHeartbeatResp;
  const std::string without = Encode(m);
  m.context = Bytes::Empty();
  const std::string with = Encode(m);
  EXPECT_EQ(Hex(with), Hex(without) + "6200");
  EXPECT_EQ(EncodedSize(m), with.size());

  Snapshot s;
  const std::string snap_nil = Encode(s);
  s.data = Bytes::Empty();
  EXPECT_EQ(Hex(Encode(s)), "0a00" + Hex(snap_nil));

  ConfChange cc;
  cc.context = Bytes::Empty();
  EXPECT_EQ(Hex(Encode(cc)), "0800100018002200");

  ConfChangeV2 v2;
  v2.context = Bytes::Empty();
  EXPECT_EQ(Hex(Encode(v2)), "08001a00");
}

TEST(Codec, DecodeKeepsNilAndEmptyApart) {
  auto absent = DecodeEntry(H("08 00 10 02 18 04"));
  ASSERT_TRUE(absent.ok()) << absent.status().ToString();
  EXPECT_TRUE(absent->data.is_null());

  auto empty = DecodeEntry(H("08 00 10 02 18 04 22 00"));
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_FALSE(empty->data.is_null());
  EXPECT_TRUE(empty->data.empty());
  EXPECT_NE(*absent, *empty);

  auto msg = DecodeMessage(H("08 09 62 00"));
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  EXPECT_FALSE(msg->context.is_null());
  EXPECT_TRUE(msg->context.empty());
  EXPECT_TRUE(msg->snapshot.data.is_null());

  auto snap = DecodeSnapshot(H("0a 00"));
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_FALSE(snap->data.is_null());

  auto cc = DecodeConfChange(H("22 00"));
  ASSERT_TRUE(cc.ok()) << cc.status().ToString();
  EXPECT_FALSE(cc->context.is_null());

  auto v2 = DecodeConfChangeV2(H("1a 00"));
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_FALSE(v2->context.is_null());
  auto v2_nil = DecodeConfChangeV2(H("08 00"));
  ASSERT_TRUE(v2_nil.ok()) << v2_nil.status().ToString();
  EXPECT_TRUE(v2_nil->context.is_null());
}

TEST(Codec, WrongWireTypeForAKnownFieldIsCorruption) {
  // Message.to (field 2) as length-delimited, Message.entries (7) as varint, Message.context (12)
  // as varint, Message.type (1) as fixed64.
  EXPECT_EQ(DecodeMessage(H("12 00")).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeMessage(H("38 01")).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeMessage(H("60 00")).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeMessage(H("09 08 00 00 00 00 00 00 00")).code(), ErrorCode::kCorruption);
  // Nested: Entry.data as varint inside Message.entries; ConfState.auto_leave as bytes inside
  // Message.snapshot.metadata.conf_state.
  EXPECT_EQ(DecodeMessage(H("3a 02 20 01")).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeMessage(H("4a 06 12 04 0a 02 2a 00")).code(), ErrorCode::kCorruption);
  // Other kinds.
  EXPECT_EQ(DecodeEntry(H("12 01 00")).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeConfState(H("09 01 00 00 00 00 00 00 00")).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeSnapshotMetadata(H("08 01")).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeSnapshot(H("08 01")).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeHardState(H("12 00")).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeConfChange(H("20 00")).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeConfChangeSingle(H("15 00 00 00 00")).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeConfChangeV2(H("10 01")).code(), ErrorCode::kCorruption);
  // The error says what failed.
  auto r = DecodeMessage(H("12 00"));
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.status().message().empty());
}

TEST(Codec, TruncatedInputIsCorruption) {
  EXPECT_EQ(DecodeMessage(H("08")).code(), ErrorCode::kCorruption);           // tag, no value
  EXPECT_EQ(DecodeMessage(H("08 08 10 80")).code(), ErrorCode::kCorruption);  // varint cut
  EXPECT_EQ(DecodeEntry(H("22 02 61")).code(), ErrorCode::kCorruption);       // payload cut
  EXPECT_EQ(DecodeHardState(H("08 01 18")).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeMessage(H("08 08 71 01 02 03")).code(), ErrorCode::kCorruption);  // fixed64 cut
  EXPECT_EQ(DecodeMessage(H("08 08 7d 01 02")).code(), ErrorCode::kCorruption);     // fixed32 cut

  // Every prefix of a rich message either fails with kCorruption or decodes to something that
  // re-encodes consistently; a prefix that ends inside a length-delimited field always fails.
  Message m;
  m.type = MessageType::MsgSnap;
  m.to = NodeId(3);
  m.from = NodeId(1);
  m.term = Term(300);
  m.entries.push_back(Entry{EntryType::EntryNormal, Term(2), Index(6), Bytes("payload"), Bytes()});
  m.snapshot.data = Bytes("snapshot-data");
  m.snapshot.metadata.conf_state.voters = {NodeId(1), NodeId(2), NodeId(3)};
  m.snapshot.metadata.index = Index(10);
  m.context = Bytes("ctx");
  const std::string full = Encode(m);
  ASSERT_TRUE(DecodeMessage(full).ok());
  int failures = 0;
  for (size_t n = 0; n < full.size(); ++n) {
    auto r = DecodeMessage(std::string_view(full).substr(0, n));
    if (!r.ok()) {
      EXPECT_EQ(r.code(), ErrorCode::kCorruption) << "prefix " << n;
      ++failures;
    } else {
      EXPECT_EQ(EncodedSize(*r), Encode(*r).size()) << "prefix " << n;
    }
  }
  EXPECT_GT(failures, static_cast<int>(full.size() / 2));
  // Every cut inside the entries record (its tag 0x3a, a one-byte length, then the entry).
  const size_t entries_at = full.find('\x3a');
  ASSERT_NE(entries_at, std::string::npos);
  const size_t record_len = static_cast<unsigned char>(full[entries_at + 1]);
  ASSERT_EQ(record_len, m.entries[0].ByteSize());
  for (size_t n = entries_at + 1; n < entries_at + 2 + record_len; ++n) {
    EXPECT_EQ(DecodeMessage(std::string_view(full).substr(0, n)).code(), ErrorCode::kCorruption)
        << "prefix " << n;
  }
}

TEST(Codec, LengthPastEndIsCorruption) {
  EXPECT_EQ(DecodeMessage(H("08 08 62 05 61")).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeMessage(H("3a 05 08 00")).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeMessage(H("4a 7f 0a")).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeConfState(H("0a 05 01 02")).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeMessage(H("08 08 a2 01 05 61")).code(), ErrorCode::kCorruption);  // unknown
  // A length that does not fit in an int (2^63 and 2^64-1).
  EXPECT_EQ(DecodeEntry(H("22 80 80 80 80 80 80 80 80 80 01")).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeEntry(H("22 ff ff ff ff ff ff ff ff ff 01")).code(), ErrorCode::kCorruption);
}

TEST(Codec, OverlongVarintIsCorruption) {
  // 11 bytes: one more than a 64-bit varint can have.
  EXPECT_EQ(DecodeMessage(H("10 ff ff ff ff ff ff ff ff ff ff 01")).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeMessage(H("10 80 80 80 80 80 80 80 80 80 80 00")).code(), ErrorCode::kCorruption);
  EXPECT_EQ(DecodeHardState(H("08 ff ff ff ff ff ff ff ff ff ff ff ff")).code(),
            ErrorCode::kCorruption);
  // An overlong tag.
  EXPECT_EQ(DecodeMessage(H("88 80 80 80 80 80 80 80 80 80 80 00 01")).code(),
            ErrorCode::kCorruption);
  // But 10 bytes is fine: 2^64-1.
  auto r = DecodeHardState(H("08 ff ff ff ff ff ff ff ff ff 01"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->term, Term(std::numeric_limits<uint64_t>::max()));
}

TEST(Codec, InvalidTagsAreCorruption) {
  EXPECT_EQ(DecodeMessage(H("00 01")).code(), ErrorCode::kCorruption);        // field 0
  EXPECT_EQ(DecodeMessage(H("08 08 6f")).code(), ErrorCode::kCorruption);     // wire type 7
  EXPECT_EQ(DecodeEntry(H("2e 00")).code(), ErrorCode::kCorruption);          // wire type 6
  EXPECT_EQ(DecodeMessage(H("08 08 8c 01")).code(), ErrorCode::kCorruption);  // lone end group
}

TEST(Codec, EmptyInputDecodesToTheZeroValue) {
  auto m = DecodeMessage("");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, Message{});
  auto e = DecodeEntry("");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, Entry{});
  auto hs = DecodeHardState("");
  ASSERT_TRUE(hs.ok());
  EXPECT_TRUE(hs->IsEmpty());
}

TEST(Codec, UnknownFieldsSurviveAndGoLast) {
  // Field 13 (varint 42) first, then type, then field 20 (bytes "abc"), then to=1.
  auto r = DecodeMessage(H("68 2a 08 08 a2 01 03 61 62 63 10 01"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->type, MessageType::MsgHeartbeat);
  EXPECT_EQ(r->to, NodeId(1));
  EXPECT_EQ(Hex(r->unknown_fields.view()), "682aa20103616263");
  const std::string out = Encode(*r);
  EXPECT_EQ(Hex(out),
            "08081001180020002800300040004a0a12080a0228001000180050005800"
            "682aa20103616263");
  EXPECT_EQ(EncodedSize(*r), out.size());

  // Inside a nested entry.
  auto app = DecodeMessage(H("08 03 3a 08 08 00 10 02 18 06 28 07"));
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  ASSERT_EQ(app->entries.size(), 1u);
  EXPECT_EQ(Hex(app->entries[0].unknown_fields.view()), "2807");
  EXPECT_EQ(app->entries[0].ByteSize(), 8u);
  EXPECT_EQ(EncodedSize(*app), Encode(*app).size());
}

TEST(Codec, PackedConfStateIsAcceptedAndWrittenUnpacked) {
  auto r = DecodeConfState(H("0a 03 01 02 03 12 02 04 05 28 01"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->voters, (std::vector<NodeId>{NodeId(1), NodeId(2), NodeId(3)}));
  EXPECT_EQ(r->learners, (std::vector<NodeId>{NodeId(4), NodeId(5)}));
  EXPECT_TRUE(r->auto_leave);
  EXPECT_EQ(Hex(Encode(*r)),
            "08010802080310041005"
            "2801");
}

TEST(Codec, EnumsAreNotRangeChecked) {
  Message m;
  m.type = static_cast<MessageType>(99);
  auto back = DecodeMessage(Encode(m));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(static_cast<int32_t>(back->type), 99);

  m.type = static_cast<MessageType>(-1);
  const std::string neg = Encode(m);
  EXPECT_EQ(Hex(neg.substr(0, 11)), "08ffffffffffffffffff01");
  EXPECT_EQ(EncodedSize(m), neg.size());
  back = DecodeMessage(neg);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(static_cast<int32_t>(back->type), -1);

  Entry e;
  e.type = static_cast<EntryType>(-5);
  EXPECT_EQ(e.ByteSize(), Encode(e).size());
  EXPECT_EQ(e.ByteSize(), 15u);  // 1+10 (type) + 1+1 (term) + 1+1 (index)
}

TEST(Codec, MarshalConfChangePicksTheEntryType) {
  ConfChange v1{7, ConfChangeType::ConfChangeAddNode, NodeId(4), Bytes("ctx"), Bytes()};
  EncodedConfChange a = MarshalConfChange(v1);
  EXPECT_EQ(a.type, EntryType::EntryConfChange);
  EXPECT_EQ(a.data.view(), Encode(v1));
  auto back1 = DecodeConfChange(a.data.view());
  ASSERT_TRUE(back1.ok());
  EXPECT_EQ(*back1, v1);

  ConfChangeV2 v2;
  v2.changes.push_back({ConfChangeType::ConfChangeAddLearnerNode, NodeId(4), Bytes()});
  EncodedConfChange b = MarshalConfChange(v2);
  EXPECT_EQ(b.type, EntryType::EntryConfChangeV2);
  EXPECT_EQ(Hex(b.data.view()), "0800120408031004");
  EXPECT_FALSE(b.data.is_null());
}

// ---------------------------------------------------------------------------------------------
// Randomized property
// ---------------------------------------------------------------------------------------------

class Gen {
 public:
  explicit Gen(uint64_t seed) : rand_(seed) {}

  bool OneIn(uint64_t n) { return rand_.Uniform(n) == 0; }

  // Small values most of the time, then varint boundaries and the extremes.
  uint64_t U64() {
    switch (rand_.Uniform(8)) {
      case 0:
        return 0;
      case 1:
        return rand_.Uniform(128);
      case 2:
        return 127 + rand_.Uniform(3);  // 1/2-byte boundary
      case 3:
        return rand_.Uniform(1 << 20);
      case 4:
        return std::numeric_limits<uint64_t>::max() - rand_.Uniform(2);
      case 5:
        return (uint64_t{1} << 63) + rand_.Uniform(2) - 1;
      case 6:
        return uint64_t{1} << rand_.Uniform(64);
      default:
        return rand_.Next();
    }
  }

  // Mostly valid enum values, sometimes out of range (including negative ones).
  int32_t Enum(int32_t count) {
    switch (rand_.Uniform(10)) {
      case 0:
        return 99;
      case 1:
        return -1 - static_cast<int32_t>(rand_.Uniform(3));
      case 2:
        return rand_.Uniform(2) == 0 ? std::numeric_limits<int32_t>::max()
                                     : std::numeric_limits<int32_t>::min();
      default:
        return static_cast<int32_t>(rand_.Uniform(static_cast<uint64_t>(count)));
    }
  }

  Bytes Data(size_t max_len) {
    switch (rand_.Uniform(4)) {
      case 0:
        return Bytes();
      case 1:
        return Bytes::Empty();
      default: {
        std::string s(rand_.Uniform(max_len + 1), '\0');
        for (char& c : s)
          c = static_cast<char>(rand_.Uniform(256));
        return Bytes(std::move(s));
      }
    }
  }

  // Canonically encoded unknown fields with numbers >= first_free (so they stay unknown), or null.
  Bytes Unknown(int first_free) {
    if (!OneIn(4)) return Bytes();
    std::string out;
    const int n = 1 + static_cast<int>(rand_.Uniform(3));
    for (int i = 0; i < n; ++i) {
      const int field = first_free + static_cast<int>(rand_.Uniform(40));
      if (rand_.Uniform(2) == 0) {
        PutUint(&out, field, U64());
      } else {
        Bytes payload = Data(20);
        PutLen(&out, field, payload.view());
      }
    }
    return Bytes(std::move(out));
  }

  std::vector<NodeId> Ids() {
    std::vector<NodeId> ids(rand_.Uniform(5));
    for (NodeId& id : ids)
      id = NodeId(U64());
    return ids;
  }

  Entry RandomEntry() {
    Entry e;
    e.type = static_cast<EntryType>(Enum(3));
    e.term = Term(U64());
    e.index = Index(U64());
    e.data = Data(300);
    e.unknown_fields = Unknown(5);
    return e;
  }

  ConfState RandomConfState() {
    ConfState cs;
    cs.voters = Ids();
    cs.learners = Ids();
    cs.voters_outgoing = Ids();
    cs.learners_next = Ids();
    cs.auto_leave = OneIn(2);
    cs.unknown_fields = Unknown(6);
    return cs;
  }

  Snapshot RandomSnapshot() {
    Snapshot s;
    if (OneIn(3)) return s;  // the empty snapshot every non-MsgSnap message carries
    s.data = Data(200);
    s.metadata.conf_state = RandomConfState();
    s.metadata.index = Index(U64());
    s.metadata.term = Term(U64());
    s.metadata.unknown_fields = Unknown(4);
    s.unknown_fields = Unknown(3);
    return s;
  }

  Message RandomMessage() {
    Message m;
    m.type = static_cast<MessageType>(Enum(19));
    m.to = NodeId(U64());
    m.from = NodeId(U64());
    m.term = Term(U64());
    m.log_term = Term(U64());
    m.index = Index(U64());
    const uint64_t n = rand_.Uniform(6);
    for (uint64_t i = 0; i < n; ++i)
      m.entries.push_back(RandomEntry());
    m.commit = Index(U64());
    m.snapshot = RandomSnapshot();
    m.reject = OneIn(2);
    m.reject_hint = Index(U64());
    m.context = Data(40);
    m.unknown_fields = Unknown(13);
    return m;
  }

  ConfChangeV2 RandomConfChangeV2() {
    ConfChangeV2 cc;
    cc.transition = static_cast<ConfChangeTransition>(Enum(3));
    const uint64_t n = rand_.Uniform(5);
    for (uint64_t i = 0; i < n; ++i) {
      cc.changes.push_back(
          ConfChangeSingle{static_cast<ConfChangeType>(Enum(4)), NodeId(U64()), Unknown(3)});
    }
    cc.context = Data(30);
    cc.unknown_fields = Unknown(4);
    return cc;
  }

  ConfChange RandomConfChange() {
    return ConfChange{U64(), static_cast<ConfChangeType>(Enum(4)), NodeId(U64()), Data(30),
                      Unknown(5)};
  }

  HardState RandomHardState() {
    return HardState{Term(U64()), NodeId(U64()), Index(U64()), Unknown(4)};
  }

 private:
  Rand rand_;
};

TEST(CodecProperty, RandomMessagesRoundTripAndMatchTheReferenceEncoder) {
  Gen gen(0x5eed'0001);
  constexpr int kIterations = 5000;
  for (int i = 0; i < kIterations; ++i) {
    const Message m = gen.RandomMessage();
    const std::string bytes = Encode(m);
    ASSERT_EQ(Hex(bytes), Hex(Ref(m))) << "iteration " << i;
    ASSERT_EQ(EncodedSize(m), bytes.size()) << "iteration " << i;
    for (const Entry& e : m.entries) {
      ASSERT_EQ(e.ByteSize(), Encode(e).size()) << "iteration " << i;
      ASSERT_EQ(Encode(e), Ref(e)) << "iteration " << i;
    }
    auto back = DecodeMessage(bytes);
    ASSERT_TRUE(back.ok()) << "iteration " << i << ": " << back.status().ToString();
    ASSERT_EQ(*back, m) << "iteration " << i;
  }
}

TEST(CodecProperty, RandomSnapshotsAndConfChangesRoundTrip) {
  Gen gen(0x5eed'0002);
  for (int i = 0; i < 2000; ++i) {
    const Snapshot s = gen.RandomSnapshot();
    ASSERT_EQ(Encode(s), Ref(s)) << "iteration " << i;
    auto s2 = DecodeSnapshot(Encode(s));
    ASSERT_TRUE(s2.ok()) << s2.status().ToString();
    ASSERT_EQ(*s2, s) << "iteration " << i;

    const ConfState cs = gen.RandomConfState();
    ASSERT_EQ(Encode(cs), Ref(cs)) << "iteration " << i;
    auto cs2 = DecodeConfState(Encode(cs));
    ASSERT_TRUE(cs2.ok()) << cs2.status().ToString();
    ASSERT_EQ(*cs2, cs) << "iteration " << i;

    const ConfChangeV2 v2 = gen.RandomConfChangeV2();
    ASSERT_EQ(Encode(v2), Ref(v2)) << "iteration " << i;
    auto v2b = DecodeConfChangeV2(Encode(v2));
    ASSERT_TRUE(v2b.ok()) << v2b.status().ToString();
    ASSERT_EQ(*v2b, v2) << "iteration " << i;

    const ConfChange v1 = gen.RandomConfChange();
    ASSERT_EQ(Encode(v1), Ref(v1)) << "iteration " << i;
    auto v1b = DecodeConfChange(Encode(v1));
    ASSERT_TRUE(v1b.ok()) << v1b.status().ToString();
    ASSERT_EQ(*v1b, v1) << "iteration " << i;

    const HardState hs = gen.RandomHardState();
    ASSERT_EQ(Encode(hs), Ref(hs)) << "iteration " << i;
    auto hs2 = DecodeHardState(Encode(hs));
    ASSERT_TRUE(hs2.ok()) << hs2.status().ToString();
    ASSERT_EQ(*hs2, hs) << "iteration " << i;
  }
}

TEST(CodecProperty, RandomGarbageNeverCrashesAndDecodedValuesReencodeConsistently) {
  Rand rand(0x5eed'0003);
  for (int i = 0; i < 5000; ++i) {
    std::string junk(rand.Uniform(64), '\0');
    for (char& c : junk)
      c = static_cast<char>(rand.Uniform(256));
    auto r = DecodeMessage(junk);
    if (!r.ok()) {
      ASSERT_EQ(r.code(), ErrorCode::kCorruption);
      continue;
    }
    const std::string again = Encode(*r);
    ASSERT_EQ(EncodedSize(*r), again.size());
    auto r2 = DecodeMessage(again);
    ASSERT_TRUE(r2.ok()) << r2.status().ToString();
    ASSERT_EQ(Encode(*r2), again);
  }
}

}  // namespace
}  // namespace raftkit::raftpb

namespace raftkit::raftpb {
namespace {

// DecodeEntry's fast path for Go's layout must agree with protobuf on every input: on Go's own
// encodings, and on what a flipped, cut or extended byte makes of them.

// `enc` with one byte overwritten, cut off, appended or inserted.
std::string Damage(std::string enc, Rand& rng) {
  switch (rng.Uniform(4)) {
    case 0:
      enc[rng.Uniform(enc.size())] = static_cast<char>(rng.Next());
      break;
    case 1:
      enc.resize(rng.Uniform(enc.size()));
      break;
    case 2:
      enc.push_back(static_cast<char>(rng.Next()));
      break;
    default:
      enc.insert(rng.Uniform(enc.size() + 1), 1, static_cast<char>(rng.Next()));
  }
  return enc;
}
void ExpectSameDecoding(std::string_view bytes) {
  const Result<Entry> fast = DecodeEntry(bytes);
  const Result<Entry> slow = internal::DecodeEntryWithProtobuf(bytes);
  ASSERT_EQ(fast.ok(), slow.ok()) << raftkit::testing::ToHex(bytes);
  if (fast.ok()) {
    EXPECT_EQ(fast.value(), slow.value()) << raftkit::testing::ToHex(bytes);
  }
}

TEST(Codec, EntryFastPathAgreesWithProtobufOnValidAndDamagedEncodings) {
  Rand rng(20261122);
  const uint64_t edge[] = {
      0, 1, 127, 128, 16383, 16384, uint64_t{1} << 35, std::numeric_limits<uint64_t>::max()};
  for (int i = 0; i < 20000; ++i) {
    Entry e;
    e.type = static_cast<EntryType>(rng.Uniform(3));
    e.term = Term(rng.Uniform(2) ? edge[rng.Uniform(8)] : rng.Next() >> rng.Uniform(64));
    e.index = Index(rng.Uniform(2) ? edge[rng.Uniform(8)] : rng.Next() >> rng.Uniform(64));
    switch (rng.Uniform(3)) {
      case 0:
        break;  // null data
      case 1:
        e.data = Bytes::Empty();
        break;
      default: {
        std::string d(rng.Uniform(300), '\0');
        for (char& c : d)
          c = static_cast<char>(rng.Next());
        e.data = Bytes(std::move(d));
      }
    }
    const std::string enc = Encode(e);
    const Result<Entry> back = DecodeEntry(enc);
    ASSERT_TRUE(back.ok());
    ASSERT_EQ(back.value(), e);
    ExpectSameDecoding(enc);
    const std::string damaged = Damage(enc, rng);
    ExpectSameDecoding(damaged);
  }
  // Layouts the fast path leaves to protobuf: unknown type, fields out of order, a repeated
  // field, an unknown field, a 10-byte enum.
  ExpectSameDecoding(std::string("\x08\x07\x10\x01\x18\x02", 6));
  ExpectSameDecoding(std::string("\x10\x01\x08\x00\x18\x02", 6));
  ExpectSameDecoding(std::string("\x08\x00\x10\x01\x18\x02\x18\x03", 8));
  ExpectSameDecoding(std::string("\x08\x00\x10\x01\x18\x02\x28\x05", 8));
  ExpectSameDecoding(
      std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x10\x01\x18\x02", 15));
}

void ExpectSameMessageDecoding(std::string_view bytes) {
  const Result<Message> fast = DecodeMessage(bytes);
  const Result<Message> slow = internal::DecodeMessageWithProtobuf(bytes);
  ASSERT_EQ(fast.ok(), slow.ok()) << raftkit::testing::ToHex(bytes);
  if (fast.ok()) {
    EXPECT_EQ(fast.value(), slow.value()) << raftkit::testing::ToHex(bytes);
  }
}

TEST(Codec, MessageFastPathAgreesWithProtobufOnValidAndDamagedEncodings) {
  Rand rng(112026);
  auto num = [&] { return rng.Uniform(3) == 0 ? rng.Next() : rng.Uniform(300); };
  auto bytes = [&](size_t max) {
    std::string d(rng.Uniform(max), '\0');
    for (char& c : d)
      c = static_cast<char>(rng.Next());
    return Bytes(std::move(d));
  };
  for (int i = 0; i < 20000; ++i) {
    Message m;
    m.type = static_cast<MessageType>(rng.Uniform(19));
    m.to = NodeId(num());
    m.from = NodeId(num());
    m.term = Term(num());
    m.log_term = Term(num());
    m.index = Index(num());
    for (uint64_t k = rng.Uniform(4); k > 0; --k) {
      Entry e;
      e.type = static_cast<EntryType>(rng.Uniform(3));
      e.term = Term(num());
      e.index = Index(num());
      if (rng.Uniform(2)) e.data = bytes(40);
      m.entries.push_back(std::move(e));
    }
    m.commit = Index(num());
    if (rng.Uniform(4) == 0) {
      m.snapshot.data = bytes(20);
      m.snapshot.metadata.index = Index(num());
      m.snapshot.metadata.term = Term(num());
      m.snapshot.metadata.conf_state.voters = {NodeId(1), NodeId(num())};
    }
    m.reject = rng.Uniform(2) == 1;
    m.reject_hint = Index(num());
    switch (rng.Uniform(3)) {
      case 0:
        break;
      case 1:
        m.context = Bytes::Empty();
        break;
      default:
        m.context = bytes(10);
    }
    const std::string enc = Encode(m);
    const Result<Message> back = DecodeMessage(enc);
    ASSERT_TRUE(back.ok());
    ASSERT_EQ(back.value(), m);
    ExpectSameMessageDecoding(enc);
    const std::string damaged = Damage(enc, rng);
    ExpectSameMessageDecoding(damaged);
  }
}

}  // namespace
}  // namespace raftkit::raftpb
