// The "msgapp" stream codec of etcd 3.4's rafthttp, called msgappv2 (wire spec §5.3).
//
// A msgapp stream body (the response body of `GET /raft/stream/msgapp/<id>`) is a sequence of
// frames; the first byte of each selects its type:
//
//   type 0, link heartbeat:  | 00 |
//   type 2, full message:    | 02 | BE64 n | n bytes raftpb.Message |
//   type 1, AppEntries:      | 01 | BE64 k | k times (BE64 len, len bytes raftpb.Entry) | BE64
//   commit |
//
// Type 1 is a MsgApp with its header elided: encoder and decoder keep the same state (term, index),
// (0, 0) on a new connection, i.e. per codec object:
//   * after a type 2 frame: term := m.term; index := the last entry's index, or m.index when m has
//     no entries;
//   * after a type 1 frame of k entries: index += k;
//   * after a type 0 frame: unchanged.
// A type 1 frame stands for MsgApp{from: remote, to: local, term: term, log_term: term,
// index: index (before adding k), entries, commit}, everything else zero.
//
// The encoder chooses type 1 for a MsgApp exactly when etcd does: m.index == index &&
// m.log_term == term && m.term == term (it continues where the previous frame ended, in the same
// term); otherwise type 2 (first MsgApp of a connection, after a term change, after a probe or a
// rejection rewound the index). Deviation from etcd: etcd applies that rule to any message, and to
// MsgApps carrying fields a type 1 frame cannot hold (reject, reject_hint, context, a snapshot,
// unknown fields), which would lose them; raftkit sends those as type 2. Raft never produces such
// messages, so the bytes are etcd's for every message Raft sends.
//
// Deviation from etcd's decoder, which allocates whatever a length says and crashes its process on
// an undecodable entry or message: this decoder enforces limits (Limits) and reports every kind of
// garbage as a sticky error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "raftkit/raftpb/types.h"
#include "raftkit/util/ids.h"
#include "raftkit/util/status.h"
#include "transport/rafthttp/msg_codec.h"

namespace raftkit::rafthttp {

/// The frame-type byte of a msgappv2 frame.
enum class MsgAppV2FrameType : uint8_t {
  kLinkHeartbeat = 0,
  kAppEntries = 1,  ///< the MsgApp shortcut, header elided
  kMessage = 2,     ///< a full raftpb.Message
};

/// Encodes msgappv2 frames for one connection. Not thread-safe.
class MsgAppV2Encoder {
 public:
  /// Appends the frame of `m` to `*out` and advances the shared state (see the file comment). A
  /// link heartbeat (IsLinkHeartbeat) becomes the one byte 00, whatever its other fields hold.
  /// Returns the frame type written.
  MsgAppV2FrameType Encode(const raftpb::Message& m, std::string* out);
  /// Appends a link heartbeat (the byte 00) to `*out`.
  void EncodeLinkHeartbeat(std::string* out) const;

  /// The shared state: the term of the last full message and the index the next shortcut must
  /// continue from.
  [[nodiscard]] Term term() const noexcept { return term_; }
  [[nodiscard]] Index index() const noexcept { return index_; }

 private:
  Term term_;
  Index index_;
};

/// Decodes a msgappv2 stream body fed in arbitrary pieces, for the member `local` reading the
/// stream it dialed at `remote`.
///
/// Errors are sticky: after the first error (an unknown frame type, a count or length above the
/// limits, an entry or message that does not decode) every Feed() returns that error and ignores
/// its input; the stream must be dropped. Items decoded before the error stay available from
/// Next(). Garbage never crashes the decoder.
///
/// Memory: never more than the bytes that arrived for the frame being decoded (its entries as
/// decoded values, at most max_entries_per_frame of them, and one incomplete field), plus the
/// items not yet taken by Next(). Nothing is allocated because a count or length says so.
class MsgAppV2Decoder {
 public:
  /// Limits etcd does not have. The defaults are far above what etcd or raftkit send (etcd's
  /// MaxSizePerMsg is 1 MiB of entries per MsgApp, its request limit 1.5 MiB) and bound the memory
  /// one frame can take.
  struct Limits {
    /// Largest type 2 message, and largest sum of entry lengths in one type 1 frame.
    uint64_t max_message_size = kDefaultMaxFrameSize;
    /// Largest encoded entry in a type 1 frame.
    uint64_t max_entry_size = kDefaultMaxFrameSize;
    /// Most entries in one type 1 frame.
    uint64_t max_entries_per_frame = uint64_t{1} << 20;
  };

  MsgAppV2Decoder(NodeId local, NodeId remote) : MsgAppV2Decoder(local, remote, Limits{}) {}
  MsgAppV2Decoder(NodeId local, NodeId remote, Limits limits)
      : local_(local), remote_(remote), limits_(limits) {}

  /// Consumes `bytes` (any length, including 0) and decodes every frame they complete. Returns the
  /// decoder's status: OK, or the (sticky) kCorruption error that ended the stream (its message
  /// starts with kErrLimitExceeded when a limit was hit).
  Status Feed(std::string_view bytes);

  /// The next decoded item in stream order, or std::nullopt when every complete frame fed so far
  /// was taken. A type 0 frame, and a type 2 frame holding a link-heartbeat message, are
  /// LinkHeartbeat; everything else is a Message.
  std::optional<StreamItem> Next();

  /// OK, or the first error.
  [[nodiscard]] const Status& status() const noexcept { return status_; }
  /// Whether the bytes fed so far end inside a frame.
  [[nodiscard]] bool mid_frame() const noexcept { return state_ != State::kFrameType; }
  /// The shared state (see the file comment).
  [[nodiscard]] Term term() const noexcept { return term_; }
  [[nodiscard]] Index index() const noexcept { return index_; }
  /// Link heartbeats decoded so far (they are also returned by Next()).
  [[nodiscard]] uint64_t link_heartbeats() const noexcept { return link_heartbeats_; }

 private:
  enum class State {
    kFrameType,      ///< expecting the type byte of the next frame
    kMessageLength,  ///< type 2: expecting BE64 n
    kMessageBody,    ///< type 2: expecting n bytes
    kEntryCount,     ///< type 1: expecting BE64 k
    kEntryLength,    ///< type 1: expecting the BE64 length of entry number entries.size()
    kEntryBody,      ///< type 1: expecting its bytes
    kCommit,         ///< type 1: expecting BE64 commit
  };

  /// Decodes from `*bytes` until it is used up or a frame is incomplete; false after an error.
  bool Step(std::string_view* bytes);
  bool StepFrameType(std::string_view* bytes);
  bool StepMessage(std::string_view* bytes);
  bool StepAppEntries(std::string_view* bytes);
  void Emit(raftpb::Message m);
  bool Fail(std::string message);

  NodeId local_;
  NodeId remote_;
  Limits limits_;
  Status status_;
  Term term_;
  Index index_;
  State state_ = State::kFrameType;
  internal::FieldCollector field_;
  uint64_t length_ = 0;       ///< type 2: n; type 1: the current entry's length
  uint64_t entry_count_ = 0;  ///< type 1: k
  uint64_t frame_bytes_ = 0;  ///< type 1: sum of the entry lengths so far
  raftpb::Message building_;  ///< type 1: the MsgApp being rebuilt
  uint64_t link_heartbeats_ = 0;
  std::deque<StreamItem> items_;
};

}  // namespace raftkit::rafthttp
