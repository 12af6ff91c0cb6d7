// The "message" stream codec of etcd 3.4's rafthttp (wire spec §5.2), and what both stream codecs
// share: the link heartbeat and the decoded-item type.
//
// A message stream body (the response body of `GET /raft/stream/message/<id>`) is a sequence of
// frames, each
//
//   | offset | size | content                                   |
//   | 0      | 8    | BE64 n = encoded size of the message      |
//   | 8      | n    | raftpb.Message bytes (gogoproto, codec.h) |
//
// A link heartbeat is the frame of Message{type: MsgHeartbeat} with every other field zero
// (00 00 00 00 00 00 00 1e + 30 bytes). A reader recognises it by type == MsgHeartbeat, from == 0,
// to == 0 (Raft ids are never 0) and does not hand it to Raft.
//
// The bytes of a stream arrive in arbitrary pieces (HTTP chunks are cut anywhere), so decoding is
// incremental: Feed() whatever arrived, then pop the decoded items with Next().
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "raftkit/raftpb/types.h"
#include "raftkit/util/status.h"

namespace raftkit::rafthttp {

/// The largest frame etcd's message decoder accepts (its readBytesLimit, 512 MiB).
inline constexpr uint64_t kDefaultMaxFrameSize = uint64_t{512} * 1024 * 1024;

/// The text of etcd's ErrExceedSizeLimit; the message of the Status a decoder returns when a length
/// prefix is above its limit starts with it.
inline constexpr std::string_view kErrLimitExceeded = "rafthttp: error limit exceeded";

/// A link heartbeat: proof that the stream is alive. It carries nothing.
struct LinkHeartbeat {
  friend bool operator==(const LinkHeartbeat&, const LinkHeartbeat&) = default;
};

/// One decoded unit of a stream body.
using StreamItem = std::variant<LinkHeartbeat, raftpb::Message>;

/// The message etcd writes as a link heartbeat: Message{type: MsgHeartbeat}, all else zero.
raftpb::Message LinkHeartbeatMessage();

/// Whether `m` is a link heartbeat (etcd's isLinkHeartbeatMessage): type MsgHeartbeat, from 0,
/// to 0. Other fields are not looked at.
[[nodiscard]] bool IsLinkHeartbeat(const raftpb::Message& m) noexcept;

/// Encodes message-stream frames. Stateless; one per stream for symmetry with the decoder.
class MessageEncoder {
 public:
  /// Appends the frame of `m` (BE64 EncodedSize(m), then raftpb::Encode(m)) to `*out`: exactly the
  /// bytes etcd's messageEncoder writes. A link heartbeat message is encoded like any other.
  void Encode(const raftpb::Message& m, std::string* out) const;
  /// Appends the link-heartbeat frame (38 bytes) to `*out`.
  void EncodeLinkHeartbeat(std::string* out) const;
};

namespace internal {

/// Collects the bytes of one fixed-length field (a length prefix, a message body) across Feed()
/// calls. Memory grows with the bytes that arrive, never with what a length prefix claims.
class FieldCollector {
 public:
  /// Takes up to `need` bytes for the current field from the front of `*in` (advancing it). Returns
  /// the complete field once `need` bytes were gathered (a view into `*in` when the field arrived
  /// in one piece, otherwise into an internal buffer), std::nullopt while it is incomplete. The
  /// view stays valid until the next call to Take() or Done(). `need` must be the same for every
  /// call until the field is complete.
  std::optional<std::string_view> Take(std::string_view* in, size_t need);
  /// Must be called once the complete field returned by Take() was consumed.
  void Done();
  /// Bytes held for an incomplete field.
  [[nodiscard]] size_t buffered() const noexcept { return buf_.size(); }

 private:
  std::string buf_;
};

}  // namespace internal

/// Decodes a message-stream body fed in arbitrary pieces.
///
/// Errors are sticky: after the first error (a length prefix above the limit, a message that does
/// not decode) every Feed() returns that error and ignores its input; the stream must be dropped.
/// Items decoded before the error stay available from Next(), in order, as etcd's reader delivers
/// the messages before the bad frame too. Garbage never crashes the decoder.
///
/// Memory: the decoder holds at most the bytes of one incomplete frame (≤ 8 + max_frame_size, and
/// never more than has arrived) plus the decoded items not yet taken by Next().
class MessageDecoder {
 public:
  struct Options {
    /// A frame whose length prefix is above this is an error (kErrLimitExceeded), as in etcd.
    uint64_t max_frame_size = kDefaultMaxFrameSize;
  };

  MessageDecoder() : MessageDecoder(Options{}) {}
  explicit MessageDecoder(Options options) : options_(options) {}

  /// Consumes `bytes` (any length, including 0) and decodes every frame they complete. Returns the
  /// decoder's status: OK, or the (sticky) kCorruption error that ended the stream.
  Status Feed(std::string_view bytes);

  /// The next decoded item in stream order (link heartbeats as LinkHeartbeat), or std::nullopt
  /// when every complete frame fed so far was taken.
  std::optional<StreamItem> Next();

  /// OK, or the first error.
  [[nodiscard]] const Status& status() const noexcept { return status_; }
  /// Whether the bytes fed so far end inside a frame (an end of stream here is a truncated frame).
  [[nodiscard]] bool mid_frame() const noexcept { return have_length_ || length_.buffered() > 0; }
  /// Link heartbeats decoded so far (they are also returned by Next()).
  [[nodiscard]] uint64_t link_heartbeats() const noexcept { return link_heartbeats_; }

 private:
  Status Fail(Status s);

  Options options_;
  Status status_;
  internal::FieldCollector length_;
  internal::FieldCollector body_;
  bool have_length_ = false;  ///< the current frame's length prefix is complete
  uint64_t frame_size_ = 0;   ///< valid when have_length_
  uint64_t link_heartbeats_ = 0;
  std::deque<StreamItem> items_;
};

/// The big-endian 8-byte encoding of `v`, appended to `*out` (rafthttp's framing integers).
void AppendBE64(uint64_t v, std::string* out);
/// Reads a big-endian 8-byte integer; `bytes` must hold exactly 8 bytes.
[[nodiscard]] uint64_t ReadBE64(std::string_view bytes);

}  // namespace raftkit::rafthttp
