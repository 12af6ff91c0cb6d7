// Edge cases of the rafthttp stream codecs that the golden vectors (stream_codec_golden_test.cc)
// cannot show: the limits raftkit adds, sticky errors, memory that grows only with the bytes that
// arrive, the per-connection msgappv2 state, the shortcut raftkit refuses where etcd would lose
// fields, and a randomized encode/decode round trip.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <malloc.h>

#include "raftkit/raftpb/codec.h"
#include "raftkit/raftpb/types.h"
#include "raftkit/util/bytes.h"
#include "raftkit/util/ids.h"
#include "raftkit/util/status.h"
#include "transport/rafthttp/msg_codec.h"
#include "transport/rafthttp/msgappv2_codec.h"

namespace raftkit::rafthttp {
namespace {

using raftpb::Entry;
using raftpb::Message;
using raftpb::MessageType;

constexpr NodeId kLocal{1};
constexpr NodeId kRemote{2};

std::string BE64(uint64_t v) {
  std::string s;
  AppendBE64(v, &s);
  return s;
}

Entry MakeEntry(uint64_t term, uint64_t index, std::string_view data) {
  Entry e;
  e.term = Term(term);
  e.index = Index(index);
  e.data = Bytes(data);
  return e;
}

// A MsgApp from the leader kRemote to the follower kLocal, as Raft builds it.
Message App(uint64_t term, uint64_t log_term, uint64_t index, uint64_t commit,
            std::vector<Entry> entries = {}) {
  Message m;
  m.type = MessageType::MsgApp;
  m.from = kRemote;
  m.to = kLocal;
  m.term = Term(term);
  m.log_term = Term(log_term);
  m.index = Index(index);
  m.commit = Index(commit);
  m.entries = std::move(entries);
  return m;
}

template <class Decoder>
std::vector<StreamItem> Drain(Decoder* d) {
  std::vector<StreamItem> out;
  while (std::optional<StreamItem> item = d->Next())
    out.push_back(std::move(*item));
  return out;
}

// Bytes currently allocated through malloc (glibc's heap and its mmapped blocks), to show that a
// decoder allocates what arrives, not what a length prefix claims. Under a sanitizer, whose
// allocator glibc does not see, it reads 0 and the checks below hold trivially.
size_t HeapInUse() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// ---------------------------------------------------------------------------------------------
// Message stream
// ---------------------------------------------------------------------------------------------

TEST(MessageDecoder, FrameAboveTheLimitIsEtcdsLimitErrorBeforeAnyBodyByte) {
  MessageDecoder dec(MessageDecoder::Options{.max_frame_size = 100});
  Status st = dec.Feed(BE64(101));
  EXPECT_EQ(st.code(), ErrorCode::kCorruption);
  EXPECT_TRUE(StartsWith(st.message(), kErrLimitExceeded)) << st.message();
}

TEST(MessageDecoder, FrameExactlyAtTheLimitDecodes) {
  Message m = App(2, 2, 5, 5, {MakeEntry(2, 6, std::string(40, 'x'))});
  std::string frame;
  MessageEncoder().Encode(m, &frame);
  MessageDecoder dec(MessageDecoder::Options{.max_frame_size = frame.size() - 8});
  ASSERT_TRUE(dec.Feed(frame).ok());
  std::vector<StreamItem> items = Drain(&dec);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(std::get<Message>(items[0]), m);
}

TEST(MessageDecoder, DefaultLimitIsEtcds512MiB) {
  MessageDecoder at_limit;
  EXPECT_TRUE(at_limit.Feed(BE64(uint64_t{512} << 20)).ok());
  EXPECT_TRUE(at_limit.mid_frame());
  MessageDecoder above;
  EXPECT_FALSE(above.Feed(BE64((uint64_t{512} << 20) + 1)).ok());
}

TEST(MessageDecoder, ErrorIsStickyAndEarlierMessagesStayAvailable) {
  MessageEncoder enc;
  std::string stream;
  enc.Encode(App(2, 2, 5, 5), &stream);
  stream += BE64(2) + "\x08\x80";  // a truncated varint: not a Message
  std::string good;
  enc.Encode(App(2, 2, 6, 6), &good);

  MessageDecoder dec;
  Status st = dec.Feed(stream);
  EXPECT_EQ(st.code(), ErrorCode::kCorruption);
  EXPECT_EQ(dec.Feed(good).code(), ErrorCode::kCorruption);
  std::vector<StreamItem> items = Drain(&dec);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(std::get<Message>(items[0]), App(2, 2, 5, 5));
}

TEST(MessageDecoder, AHugeLengthPrefixAllocatesOnlyWhatArrives) {
  MessageDecoder dec;
  const size_t before = HeapInUse();
  ASSERT_TRUE(dec.Feed(BE64(uint64_t{500} << 20)).ok());
  for (int i = 0; i < 64; ++i)
    ASSERT_TRUE(dec.Feed(std::string(1024, 'x')).ok());
  EXPECT_TRUE(dec.mid_frame());
  EXPECT_LT(HeapInUse(), before + (size_t{1} << 20));
}

TEST(MessageDecoder, LinkHeartbeatsAreCountedAndNeverReturnedAsMessages) {
  MessageEncoder enc;
  std::string stream;
  enc.EncodeLinkHeartbeat(&stream);
  enc.Encode(App(2, 2, 5, 5), &stream);
  enc.EncodeLinkHeartbeat(&stream);
  MessageDecoder dec;
  ASSERT_TRUE(dec.Feed(stream).ok());
  std::vector<StreamItem> items = Drain(&dec);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<LinkHeartbeat>(items[0]));
  EXPECT_TRUE(std::holds_alternative<Message>(items[1]));
  EXPECT_TRUE(std::holds_alternative<LinkHeartbeat>(items[2]));
  EXPECT_EQ(dec.link_heartbeats(), 2u);
  EXPECT_FALSE(dec.mid_frame());
}

TEST(MessageDecoder, EmptyFeedsChangeNothing) {
  MessageDecoder dec;
  EXPECT_TRUE(dec.Feed("").ok());
  EXPECT_FALSE(dec.mid_frame());
  EXPECT_FALSE(dec.Next().has_value());
}

// ---------------------------------------------------------------------------------------------
// msgappv2 stream
// ---------------------------------------------------------------------------------------------

TEST(MsgAppV2Encoder, FirstMsgAppOfAConnectionIsAFullFrameAndTheNextAShortcut) {
  MsgAppV2Encoder enc;
  std::string out;
  EXPECT_EQ(enc.Encode(App(2, 1, 3, 3, {MakeEntry(2, 4, "")}), &out), MsgAppV2FrameType::kMessage);
  EXPECT_EQ(enc.term(), Term(2));
  EXPECT_EQ(enc.index(), Index(4));
  EXPECT_EQ(enc.Encode(App(2, 2, 4, 4, {MakeEntry(2, 5, "a"), MakeEntry(2, 6, "b")}), &out),
            MsgAppV2FrameType::kAppEntries);
  EXPECT_EQ(enc.index(), Index(6));
  // State is per connection: a new encoder starts over with a full frame.
  MsgAppV2Encoder fresh;
  EXPECT_EQ(fresh.Encode(App(2, 2, 6, 6), &out), MsgAppV2FrameType::kMessage);
}

TEST(MsgAppV2Encoder, ShortcutAdvancesByTheEntryCountNotTheEntryIndexes) {
  MsgAppV2Encoder enc;
  std::string out;
  (void)enc.Encode(App(2, 2, 5, 5), &out);
  // Entries with odd indexes: etcd counts them (index 5 + 2 = 7) without looking.
  EXPECT_EQ(enc.Encode(App(2, 2, 5, 5, {MakeEntry(2, 40, "a"), MakeEntry(2, 41, "b")}), &out),
            MsgAppV2FrameType::kAppEntries);
  EXPECT_EQ(enc.index(), Index(7));
}

TEST(MsgAppV2Encoder, FieldsAShortcutCannotCarryForceAFullFrame) {
  std::vector<Message> lossy;
  Message with_context = App(2, 2, 5, 5);
  with_context.context = Bytes("c");
  lossy.push_back(with_context);
  Message with_reject = App(2, 2, 5, 5);
  with_reject.reject = true;
  lossy.push_back(with_reject);
  Message with_hint = App(2, 2, 5, 5);
  with_hint.reject_hint = Index(3);
  lossy.push_back(with_hint);
  Message with_snapshot = App(2, 2, 5, 5);
  with_snapshot.snapshot.metadata.index = Index(9);
  lossy.push_back(with_snapshot);
  Message heartbeat = App(2, 2, 5, 5);
  heartbeat.type = MessageType::MsgHeartbeat;
  lossy.push_back(heartbeat);

  for (const Message& m : lossy) {
    MsgAppV2Encoder enc;
    std::string stream;
    (void)enc.Encode(App(2, 2, 5, 5), &stream);  // state (2, 5): m matches etcd's rule
    EXPECT_EQ(enc.Encode(m, &stream), MsgAppV2FrameType::kMessage);
    MsgAppV2Decoder dec(kLocal, kRemote);
    ASSERT_TRUE(dec.Feed(stream).ok());
    std::vector<StreamItem> items = Drain(&dec);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(std::get<Message>(items[1]), m);
  }
}

TEST(MsgAppV2Decoder, UnknownFrameTypeIsAStickyError) {
  MsgAppV2Decoder dec(kLocal, kRemote);
  std::string stream("\x00\x07\x00", 3);
  EXPECT_EQ(dec.Feed(stream).code(), ErrorCode::kCorruption);
  EXPECT_EQ(dec.status().message(), "failed to parse type 7 in msgappv2 stream");
  EXPECT_EQ(dec.Feed(std::string(1, '\0')).code(), ErrorCode::kCorruption);
  std::vector<StreamItem> items = Drain(&dec);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<LinkHeartbeat>(items[0]));
}

TEST(MsgAppV2Decoder, LimitsOnEntryCountEntrySizeAndFrameSize) {
  const MsgAppV2Decoder::Limits limits{
      .max_message_size = 100, .max_entry_size = 60, .max_entries_per_frame = 3};
  const std::string entry = raftpb::Encode(MakeEntry(2, 6, std::string(40, 'e')));  // 48 bytes
  ASSERT_LE(entry.size(), 60u);
  struct Case {
    const char* name;
    std::string stream;
    bool ok;
  };
  const std::vector<Case> cases = {
      {"count at limit", "\x01" + BE64(3), true},
      {"count above limit", "\x01" + BE64(4), false},
      {"entry at limit", "\x01" + BE64(1) + BE64(60), true},
      {"entry above limit", "\x01" + BE64(1) + BE64(61), false},
      {"two entries within frame limit", "\x01" + BE64(2) + BE64(48) + entry + BE64(48), true},
      {"third entry above frame limit",
       "\x01" + BE64(3) + BE64(48) + entry + BE64(48) + entry + BE64(5), false},
      {"message at limit", "\x02" + BE64(100), true},
      {"message above limit", "\x02" + BE64(101), false},
  };
  for (const Case& c : cases) {
    MsgAppV2Decoder dec(kLocal, kRemote, limits);
    Status st = dec.Feed(c.stream);
    EXPECT_EQ(st.ok(), c.ok) << c.name << ": " << st.ToString();
    if (!c.ok) {
      EXPECT_TRUE(StartsWith(st.message(), kErrLimitExceeded)) << c.name;
    }
  }
}

TEST(MsgAppV2Decoder, HugeCountsAndLengthsAllocateOnlyWhatArrives) {
  const std::vector<std::string> prefixes = {
      "\x01" + BE64(uint64_t{1} << 20),              // k at the default limit
      "\x01" + BE64(1) + BE64(uint64_t{500} << 20),  // one 500 MiB entry
      "\x02" + BE64(uint64_t{500} << 20),            // a 500 MiB message
  };
  for (const std::string& prefix : prefixes) {
    MsgAppV2Decoder dec(kLocal, kRemote);
    const size_t before = HeapInUse();
    ASSERT_TRUE(dec.Feed(prefix).ok());
    ASSERT_TRUE(dec.Feed(std::string(4096, '\0')).ok());
    EXPECT_TRUE(dec.mid_frame());
    EXPECT_LT(HeapInUse(), before + (size_t{1} << 20));
  }
}

TEST(MsgAppV2Decoder, UndecodableEntryIsAnErrorNotACrash) {
  MsgAppV2Decoder dec(kLocal, kRemote);
  std::string stream = "\x01" + BE64(1) + BE64(2) + "\x10\x80" + BE64(1);
  EXPECT_EQ(dec.Feed(stream).code(), ErrorCode::kCorruption);
  EXPECT_FALSE(dec.Next().has_value());
}

TEST(MsgAppV2Decoder, ShortcutIsRebuiltWithTheStreamsIdsAndState) {
  MsgAppV2Encoder enc;
  std::string stream;
  (void)enc.Encode(App(3, 2, 10, 9, {MakeEntry(3, 11, "a")}), &stream);
  (void)enc.Encode(App(3, 3, 11, 11, {MakeEntry(3, 12, "b")}), &stream);
  MsgAppV2Decoder dec(kLocal, kRemote);
  ASSERT_TRUE(dec.Feed(stream).ok());
  std::vector<StreamItem> items = Drain(&dec);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(std::get<Message>(items[1]), App(3, 3, 11, 11, {MakeEntry(3, 12, "b")}));
  EXPECT_EQ(dec.term(), enc.term());
  EXPECT_EQ(dec.index(), enc.index());
}

// Random Raft-like MsgApp sequences (replication runs, probes back, term changes, heartbeats) fed
// in random pieces decode to the messages encoded, and both sides keep the same state.
TEST(MsgAppV2Codec, RandomSequencesRoundTripInRandomPieces) {
  std::mt19937_64 rng(20261122);
  for (int round = 0; round < 200; ++round) {
    MsgAppV2Encoder enc;
    std::string stream;
    std::vector<StreamItem> sent;
    uint64_t term = 1 + rng() % 3;
    uint64_t last = rng() % 20;
    uint64_t last_term = term;
    for (int i = 0; i < 30; ++i) {
      const uint64_t r = rng() % 10;
      if (r == 0) {
        enc.EncodeLinkHeartbeat(&stream);
        sent.emplace_back(LinkHeartbeat{});
        continue;
      }
      if (r == 1) ++term;                                // new leader term
      if (r == 2 && last > 0) last -= 1 + rng() % last;  // probe back after a rejection
      std::vector<Entry> entries;
      const uint64_t n = rng() % 4;
      for (uint64_t k = 1; k <= n; ++k) {
        std::string data(rng() % 3 == 0 ? 0 : rng() % 200, static_cast<char>('a' + k));
        entries.push_back(MakeEntry(term, last + k, data));
        if (rng() % 5 == 0) entries.back().data = Bytes();
      }
      Message m = App(term, last_term, last, last + n / 2, entries);
      (void)enc.Encode(m, &stream);
      sent.emplace_back(m);
      last += n;
      if (n > 0) last_term = term;
    }
    MsgAppV2Decoder dec(kLocal, kRemote);
    std::vector<StreamItem> got;
    for (size_t pos = 0; pos < stream.size();) {
      const size_t len = std::min<size_t>(stream.size() - pos, 1 + rng() % 64);
      ASSERT_TRUE(dec.Feed(std::string_view(stream).substr(pos, len)).ok());
      pos += len;
      for (StreamItem& item : Drain(&dec))
        got.push_back(std::move(item));
    }
    EXPECT_FALSE(dec.mid_frame());
    ASSERT_EQ(got, sent) << "round " << round;
    EXPECT_EQ(dec.term(), enc.term());
    EXPECT_EQ(dec.index(), enc.index());
  }
}

}  // namespace
}  // namespace raftkit::rafthttp
