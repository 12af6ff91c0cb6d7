// Fuzz target for the rafthttp stream decoders (src/transport/rafthttp/msg_codec.h and
// msgappv2_codec.h): arbitrary bytes must never crash, hang or make either decoder allocate more
// than the input. Checked properties:
//   * chunking does not matter: the body fed whole and fed in pieces (sizes drawn from the first
//     input byte) gives the same items, the same status and the same end-of-frame state;
//   * round trip: the items decoded are re-encoded with a fresh encoder and decoded again into
//     the same items, with a clean end (for msgappv2 only when every decoded MsgApp has the
//     stream's ids, since a shortcut frame carries no ids by design).
//
// Input layout: byte 0 seeds the piece sizes, the rest is the stream body; both decoders read it.
// Seed corpus: tests/fuzz/corpus/stream/ (streams from the golden vectors, prefixed by one seed
// byte). Builds as a libFuzzer target with clang, and with g++ as a plain object for a replay
// driver.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "raftkit/raftpb/types.h"
#include "raftkit/util/ids.h"
#include "raftkit/util/status.h"
#include "transport/rafthttp/msg_codec.h"
#include "transport/rafthttp/msgappv2_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using raftkit::NodeId;
using raftkit::rafthttp::LinkHeartbeat;
using raftkit::rafthttp::MessageDecoder;
using raftkit::rafthttp::MessageEncoder;
using raftkit::rafthttp::MsgAppV2Decoder;
using raftkit::rafthttp::MsgAppV2Encoder;
using raftkit::rafthttp::StreamItem;

constexpr NodeId kLocal{1};
constexpr NodeId kRemote{2};

// Limits well below the defaults keep a fuzzing process small; the logic is the same.
constexpr uint64_t kMaxSize = 1 << 20;

MessageDecoder NewMessageDecoder() {
  return MessageDecoder(MessageDecoder::Options{.max_frame_size = kMaxSize});
}

MsgAppV2Decoder NewMsgAppV2Decoder() {
  return MsgAppV2Decoder(
      kLocal, kRemote,
      MsgAppV2Decoder::Limits{
          .max_message_size = kMaxSize, .max_entry_size = kMaxSize, .max_entries_per_frame = 4096});
}

void Check(bool ok) {
  if (!ok) std::abort();
}

struct Outcome {
  std::vector<StreamItem> items;
  bool ok = true;
  bool mid_frame = false;
};

// Feeds `body` in pieces whose sizes come from a small generator seeded with `seed` (seed 0: one
// piece), draining the decoder after every piece.
template <class Decoder>
Outcome Decode(Decoder dec, std::string_view body, uint8_t seed) {
  Outcome out;
  uint32_t state = seed * 2654435761u + 1;
  const size_t max_piece = seed == 0 ? body.size() : 1 + (seed & 0x3f);
  size_t pos = 0;
  do {
    size_t len = body.size() - pos;
    if (seed != 0) {
      state ^= state << 13;
      state ^= state >> 17;
      state ^= state << 5;
      len = std::min(len, 1 + state % max_piece);
    }
    const raftkit::Status st = dec.Feed(body.substr(pos, len));
    pos += len;
    while (std::optional<StreamItem> item = dec.Next())
      out.items.push_back(std::move(*item));
    if (!st.ok()) break;
  } while (pos < body.size());
  out.ok = dec.status().ok();
  out.mid_frame = dec.mid_frame();
  return out;
}

void CheckSame(const Outcome& a, const Outcome& b) {
  Check(a.items == b.items);
  Check(a.ok == b.ok);
  if (a.ok) Check(a.mid_frame == b.mid_frame);
}

template <class Encoder>
std::string Reencode(Encoder enc, const std::vector<StreamItem>& items) {
  std::string out;
  for (const StreamItem& item : items) {
    if (std::holds_alternative<LinkHeartbeat>(item)) {
      enc.EncodeLinkHeartbeat(&out);
    } else {
      (void)enc.Encode(std::get<raftkit::raftpb::Message>(item), &out);
    }
  }
  return out;
}

bool MsgAppsHaveStreamIds(const std::vector<StreamItem>& items) {
  for (const StreamItem& item : items) {
    const auto* m = std::get_if<raftkit::raftpb::Message>(&item);
    if (m != nullptr && m->type == raftkit::raftpb::MessageType::MsgApp &&
        (m->from != kRemote || m->to != kLocal)) {
      return false;
    }
  }
  return true;
}

void CheckRoundTrip(const Outcome& first, const Outcome& again) {
  Check(again.ok);
  Check(!again.mid_frame);
  Check(again.items == first.items);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t seed = data[0];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  const Outcome message_whole = Decode(NewMessageDecoder(), body, 0);
  CheckSame(message_whole, Decode(NewMessageDecoder(), body, seed));
  // Re-encoding may grow a message (fields Go always writes, packed ids written unpacked), so the
  // second pass uses the default limits.
  const std::string message_again = Reencode(MessageEncoder(), message_whole.items);
  CheckRoundTrip(message_whole, Decode(MessageDecoder(), message_again, seed));

  const Outcome msgapp_whole = Decode(NewMsgAppV2Decoder(), body, 0);
  CheckSame(msgapp_whole, Decode(NewMsgAppV2Decoder(), body, seed));
  if (MsgAppsHaveStreamIds(msgapp_whole.items)) {
    const std::string msgapp_again = Reencode(MsgAppV2Encoder(), msgapp_whole.items);
    CheckRoundTrip(msgapp_whole, Decode(MsgAppV2Decoder(kLocal, kRemote), msgapp_again, seed));
  }
  return 0;
}
