// The rafthttp stream codecs against etcd's own Go encoders and decoders.
//
// tests/transport/rafthttp/testdata/stream_vectors.txt was produced by
// tests/interop/rafthttp_golden/gen_rafthttp_golden.go with etcd 3.4's messageEncoder/Decoder and
// msgAppV2Encoder/Decoder (scripts/gen_golden.sh regenerates it; the file header documents the
// format). For every case this test
//   * decodes the whole stream with raftkit's decoder, fed whole, one byte at a time, in random
//     pieces, and (for short streams) split in two at every offset, and requires exactly the items
//     etcd's decoder produced, then the same ending (clean end, truncated frame, or an error where
//     etcd errs or panics);
//   * re-encodes every message handed to etcd's encoder with a fresh raftkit encoder and requires
//     each frame byte for byte.
// Go is not needed at test time.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "raftkit/raftpb/codec.h"
#include "raftkit/raftpb/types.h"
#include "raftkit/util/ids.h"
#include "raftkit/util/status.h"
#include "testlib/hex.h"
#include "transport/rafthttp/msg_codec.h"
#include "transport/rafthttp/msgappv2_codec.h"

#ifndef RAFTKIT_TEST_SOURCE_DIR
#error "RAFTKIT_TEST_SOURCE_DIR must be defined by tests/transport/rafthttp/CMakeLists.txt"
#endif

namespace raftkit::rafthttp {
namespace {

constexpr std::string_view kRelativePath = "tests/transport/rafthttp/testdata/stream_vectors.txt";

std::string Hex(std::string_view bytes) {
  return raftkit::testing::ToHex(bytes);
}

// "-" is zero bytes. Returns false on anything but lowercase hex digit pairs.
bool Unhex(std::string_view hex, std::string* out) {
  if (hex == "-") {
    out->clear();
    return true;
  }
  return !hex.empty() && raftkit::testing::FromHex(hex, out);
}

// ---------------------------------------------------------------------------------------------
// The vector file
// ---------------------------------------------------------------------------------------------

struct Input {
  std::string message;  // raftpb encoding handed to etcd's encoder
  std::string frame;    // what the encoder wrote
};

struct StreamCase {
  std::string codec;  // "message" or "msgappv2"
  std::string name;
  NodeId local;
  NodeId remote;
  std::vector<Input> inputs;
  bool has_raw = false;
  std::string stream;                // every in frame and raw piece, in order
  std::vector<std::string> outputs;  // "hb" or the raftpb encoding of a decoded message
  std::string end;                   // "ok", "truncated", "error", "panic"
  std::string end_text;
};

std::string VectorPath() {
  const char* dir = std::getenv("RAFTKIT_SOURCE_DIR");
  return fmt::format("{}/{}", dir != nullptr ? dir : RAFTKIT_TEST_SOURCE_DIR, kRelativePath);
}

std::vector<std::string> Split(const std::string& line, size_t max_fields) {
  std::vector<std::string> f;
  size_t pos = 0;
  while (pos <= line.size() && f.size() + 1 < max_fields) {
    const size_t sp = line.find(' ', pos);
    if (sp == std::string::npos) break;
    f.push_back(line.substr(pos, sp - pos));
    pos = sp + 1;
  }
  f.push_back(line.substr(pos));
  return f;
}

// Parses the file; a malformed line is a test failure (reported with its line number).
std::vector<StreamCase> LoadCases() {
  std::vector<StreamCase> cases;
  std::ifstream in(VectorPath());
  if (!in) {
    ADD_FAILURE() << "cannot open " << VectorPath();
    return cases;
  }
  std::string line;
  int lineno = 0;
  StreamCase* cur = nullptr;
  auto bad = [&](std::string_view why) {
    ADD_FAILURE() << VectorPath() << ":" << lineno << ": " << why << ": " << line;
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    const std::vector<std::string> f = Split(line, line.rfind("end ", 0) == 0 ? 3 : 10);
    if (f[0] == "case") {
      if (f.size() != 5 || (f[1] != "message" && f[1] != "msgappv2")) {
        bad("bad case line");
        continue;
      }
      cases.push_back(StreamCase{});
      cur = &cases.back();
      cur->codec = f[1];
      cur->name = f[2];
      cur->local = NodeId(std::stoull(f[3]));
      cur->remote = NodeId(std::stoull(f[4]));
      continue;
    }
    if (cur == nullptr || !cur->end.empty()) {
      bad("line outside a case");
      continue;
    }
    if (f[0] == "in" && f.size() == 3) {
      Input input;
      if (!Unhex(f[1], &input.message) || !Unhex(f[2], &input.frame)) bad("bad hex");
      cur->stream += input.frame;
      cur->inputs.push_back(std::move(input));
    } else if (f[0] == "raw" && f.size() == 2) {
      std::string raw;
      if (!Unhex(f[1], &raw)) bad("bad hex");
      cur->stream += raw;
      cur->has_raw = true;
    } else if (f[0] == "out" && f.size() == 2) {
      std::string bytes;
      if (f[1] != "hb" && !Unhex(f[1], &bytes)) bad("bad hex");
      cur->outputs.push_back(f[1] == "hb" ? "hb" : bytes);
    } else if (f[0] == "end" && f.size() >= 2) {
      cur->end = f[1];
      cur->end_text = f.size() == 3 ? f[2] : "";
      if (cur->end != "ok" && cur->end != "truncated" && cur->end != "error" &&
          cur->end != "panic") {
        bad("bad end");
      }
    } else {
      bad("unknown line");
    }
  }
  for (const StreamCase& c : cases) {
    if (c.end.empty()) ADD_FAILURE() << "case " << c.codec << " " << c.name << " has no end line";
  }
  return cases;
}

const std::vector<StreamCase>& Cases() {
  static const std::vector<StreamCase> kCases = LoadCases();
  return kCases;
}

// ---------------------------------------------------------------------------------------------
// Decoding in pieces
// ---------------------------------------------------------------------------------------------

// What a decoder made of a stream: the items in the vector file's notation, its status, and
// whether the stream ended inside a frame.
struct Decoded {
  std::vector<std::string> items;
  Status status;
  bool mid_frame = false;
  uint64_t link_heartbeats = 0;
};

std::string Notation(const StreamItem& item) {
  if (std::holds_alternative<LinkHeartbeat>(item)) return "hb";
  return raftpb::Encode(std::get<raftpb::Message>(item));
}

// Feeds `stream` cut at `cuts` (ascending offsets) and drains the decoder after every piece.
template <class Decoder>
Decoded DecodePieces(Decoder dec, std::string_view stream, const std::vector<size_t>& cuts) {
  Decoded out;
  size_t pos = 0;
  auto feed = [&](size_t end) {
    // A copy per piece, so that a decoder keeping a view past Feed() would be caught by ASan.
    const std::string piece(stream.substr(pos, end - pos));
    pos = end;
    Status st = dec.Feed(piece);
    while (std::optional<StreamItem> item = dec.Next())
      out.items.push_back(Notation(*item));
    return st;
  };
  for (size_t cut : cuts) {
    if (!feed(cut).ok()) break;
  }
  if (dec.status().ok()) (void)feed(stream.size());
  out.status = dec.status();
  out.mid_frame = dec.mid_frame();
  out.link_heartbeats = dec.link_heartbeats();
  return out;
}

Decoded DecodeWith(const StreamCase& c, const std::vector<size_t>& cuts) {
  if (c.codec == "message") return DecodePieces(MessageDecoder(), c.stream, cuts);
  return DecodePieces(MsgAppV2Decoder(c.local, c.remote), c.stream, cuts);
}

std::string Describe(const std::vector<std::string>& items) {
  std::string s;
  for (const std::string& i : items)
    s += "  " + (i == "hb" ? i : Hex(i)) + "\n";
  return s;
}

void ExpectLikeGo(const StreamCase& c, const Decoded& d, const std::string& how) {
  SCOPED_TRACE(fmt::format("{} {} fed {}", c.codec, c.name, how));
  EXPECT_EQ(d.items, c.outputs) << "raftkit decoded:\n"
                                << Describe(d.items) << "etcd decoded:\n"
                                << Describe(c.outputs);
  uint64_t hbs = 0;
  for (const std::string& o : c.outputs)
    hbs += o == "hb" ? 1 : 0;
  EXPECT_EQ(d.link_heartbeats, hbs);
  if (c.end == "ok") {
    EXPECT_TRUE(d.status.ok()) << d.status.ToString();
    EXPECT_FALSE(d.mid_frame);
  } else if (c.end == "truncated") {
    EXPECT_TRUE(d.status.ok()) << d.status.ToString();
    EXPECT_TRUE(d.mid_frame);
  } else {
    // etcd errs ("error") or crashes ("panic"): raftkit reports a sticky error either way.
    EXPECT_EQ(d.status.code(), ErrorCode::kCorruption) << "etcd: " << c.end << " " << c.end_text;
  }
}

class StreamVectorTest : public ::testing::TestWithParam<size_t> {
 protected:
  const StreamCase& Case() const { return Cases()[GetParam()]; }
};

TEST_P(StreamVectorTest, DecodesToEtcdsMessagesWhateverTheChunking) {
  const StreamCase& c = Case();
  const size_t n = c.stream.size();
  ExpectLikeGo(c, DecodeWith(c, {}), "whole");

  std::vector<size_t> every_byte;
  for (size_t i = 1; i < n; ++i)
    every_byte.push_back(i);
  ExpectLikeGo(c, DecodeWith(c, every_byte), "one byte at a time");

  std::mt19937_64 rng(0x5eed0000u + GetParam());
  for (int round = 0; round < 20; ++round) {
    std::vector<size_t> cuts;
    const size_t max_piece = size_t{1} << (round % 12);
    for (size_t pos = 0;;) {
      pos += 1 + rng() % max_piece;
      if (pos >= n) break;
      cuts.push_back(pos);
    }
    ExpectLikeGo(c, DecodeWith(c, cuts), fmt::format("in random pieces of <= {} bytes", max_piece));
  }

  if (n <= 2048) {
    for (size_t i = 0; i <= n; ++i) {
      ExpectLikeGo(c, DecodeWith(c, {i}), fmt::format("split at {}", i));
      if (HasFailure()) break;
    }
  }
}

TEST_P(StreamVectorTest, EncodesEtcdsFramesByteForByte) {
  const StreamCase& c = Case();
  MessageEncoder message_encoder;
  MsgAppV2Encoder msgapp_encoder;
  std::string stream;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    SCOPED_TRACE(fmt::format("{} {} input {}", c.codec, c.name, i));
    Result<raftpb::Message> m = raftpb::DecodeMessage(c.inputs[i].message);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_EQ(raftpb::Encode(*m), c.inputs[i].message);
    std::string frame;
    if (c.codec == "message") {
      message_encoder.Encode(*m, &frame);
    } else {
      msgapp_encoder.Encode(*m, &frame);
    }
    EXPECT_EQ(Hex(frame), Hex(c.inputs[i].frame));
    stream += frame;
    // The dedicated heartbeat call writes the same frame as encoding the heartbeat message.
    if (*m == LinkHeartbeatMessage()) {
      std::string hb;
      if (c.codec == "message") {
        message_encoder.EncodeLinkHeartbeat(&hb);
      } else {
        msgapp_encoder.EncodeLinkHeartbeat(&hb);
      }
      EXPECT_EQ(Hex(hb), Hex(frame));
    }
  }
  if (!c.has_raw) {
    EXPECT_EQ(Hex(stream), Hex(c.stream));
  }
}

std::string CaseName(const ::testing::TestParamInfo<size_t>& info) {
  const StreamCase& c = Cases()[info.param];
  return c.codec + "_" + c.name;
}

std::vector<size_t> CaseIndexes() {
  std::vector<size_t> v;
  for (size_t i = 0; i < Cases().size(); ++i)
    v.push_back(i);
  return v;
}

INSTANTIATE_TEST_SUITE_P(Etcd, StreamVectorTest, ::testing::ValuesIn(CaseIndexes()), CaseName);

// The file must hold what the issue asks for, so a regenerated file cannot silently lose coverage.
TEST(StreamVectorFile, CoversEveryMessageTypeShortcutsAndFullFrames) {
  std::vector<bool> types_on_message_stream(19, false);
  int shortcut_frames = 0;
  int commit_only_shortcuts = 0;
  int multi_entry_shortcuts = 0;
  int full_msgapp_frames = 0;
  int msgapp_heartbeats = 0;
  for (const StreamCase& c : Cases()) {
    for (const Input& in : c.inputs) {
      Result<raftpb::Message> m = raftpb::DecodeMessage(in.message);
      ASSERT_TRUE(m.ok());
      if (c.codec == "message") {
        const auto t = static_cast<size_t>(m->type);
        if (t < types_on_message_stream.size()) types_on_message_stream[t] = true;
        continue;
      }
      switch (static_cast<uint8_t>(in.frame.at(0))) {
        case 0:
          ++msgapp_heartbeats;
          break;
        case 1:
          ++shortcut_frames;
          commit_only_shortcuts += m->entries.empty() ? 1 : 0;
          multi_entry_shortcuts += m->entries.size() > 1 ? 1 : 0;
          break;
        case 2:
          full_msgapp_frames += m->type == raftpb::MessageType::MsgApp ? 1 : 0;
          break;
        default:
          ADD_FAILURE() << "unexpected frame type in " << c.name;
      }
    }
  }
  for (size_t t = 0; t < types_on_message_stream.size(); ++t)
    EXPECT_TRUE(types_on_message_stream[t]) << "no message of type " << t;
  EXPECT_GE(shortcut_frames, 10);
  EXPECT_GE(commit_only_shortcuts, 3);
  EXPECT_GE(multi_entry_shortcuts, 2);
  EXPECT_GE(full_msgapp_frames, 10);
  EXPECT_GE(msgapp_heartbeats, 3);
  EXPECT_GE(Cases().size(), 30u);
}

}  // namespace
}  // namespace raftkit::rafthttp
