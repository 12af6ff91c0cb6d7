#include "transport/rafthttp/msgappv2_codec.h"

#include <utility>

#include <fmt/format.h>

#include "raftkit/raftpb/codec.h"

namespace raftkit::rafthttp {

namespace {

using raftpb::Message;
using raftpb::MessageType;

bool IsZeroConfState(const raftpb::ConfState& cs) {
  return cs.voters.empty() && cs.learners.empty() && cs.voters_outgoing.empty() &&
         cs.learners_next.empty() && !cs.auto_leave && cs.unknown_fields.empty();
}

bool IsZeroSnapshot(const raftpb::Snapshot& s) {
  return s.data.is_null() && s.unknown_fields.empty() && s.metadata.index == Index(0) &&
         s.metadata.term == Term(0) && s.metadata.unknown_fields.empty() &&
         IsZeroConfState(s.metadata.conf_state);
}

// Whether a type 1 frame can carry `m`: the decoder rebuilds only type, ids, term, log term, index,
// entries and commit. etcd does not ask (it would drop the rest); raftkit keeps such messages
// whole in a type 2 frame. Raft's own MsgApps always pass.
bool FitsAppEntries(const Message& m) {
  return m.type == MessageType::MsgApp && !m.reject && m.reject_hint == Index(0) &&
         m.context.is_null() && m.unknown_fields.empty() && IsZeroSnapshot(m.snapshot);
}

// The index a type 2 frame leaves in the shared state (the same rule on both sides).
Index LastIndexOf(const Message& m) {
  return m.entries.empty() ? m.index : m.entries.back().index;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------------------------

MsgAppV2FrameType MsgAppV2Encoder::Encode(const Message& m, std::string* out) {
  if (IsLinkHeartbeat(m)) {
    // etcd tests for the heartbeat first, so a link heartbeat never touches the state.
    EncodeLinkHeartbeat(out);
    return MsgAppV2FrameType::kLinkHeartbeat;
  }
  // etcd's condition, in its order: the append continues where the previous frame ended, and its
  // previous entry is of the current term, so the decoder can rebuild log_term and index.
  if (index_ == m.index && term_ == m.log_term && m.log_term == m.term && FitsAppEntries(m)) {
    out->push_back(static_cast<char>(MsgAppV2FrameType::kAppEntries));
    AppendBE64(m.entries.size(), out);
    for (const raftpb::Entry& e : m.entries) {
      const std::string bytes = raftpb::Encode(e);
      AppendBE64(bytes.size(), out);
      out->append(bytes);
      // etcd counts entries, it does not read their indexes: the state moves by k.
      ++index_;
    }
    AppendBE64(m.commit.value(), out);
    return MsgAppV2FrameType::kAppEntries;
  }
  out->push_back(static_cast<char>(MsgAppV2FrameType::kMessage));
  const std::string bytes = raftpb::Encode(m);
  AppendBE64(bytes.size(), out);
  out->append(bytes);
  term_ = m.term;
  index_ = LastIndexOf(m);
  return MsgAppV2FrameType::kMessage;
}

void MsgAppV2Encoder::EncodeLinkHeartbeat(std::string* out) const {
  out->push_back(static_cast<char>(MsgAppV2FrameType::kLinkHeartbeat));
}

// ---------------------------------------------------------------------------------------------
// Decoder
// ---------------------------------------------------------------------------------------------

Status MsgAppV2Decoder::Feed(std::string_view bytes) {
  if (!status_.ok()) return status_;
  while (Step(&bytes)) {
  }
  return status_;
}

std::optional<StreamItem> MsgAppV2Decoder::Next() {
  if (items_.empty()) return std::nullopt;
  StreamItem item = std::move(items_.front());
  items_.pop_front();
  return item;
}

bool MsgAppV2Decoder::Fail(std::string message) {
  status_ = Status(ErrorCode::kCorruption, std::move(message));
  field_.Done();
  building_ = Message{};
  return false;
}

void MsgAppV2Decoder::Emit(Message m) {
  // etcd's stream reader drops link heartbeats whichever frame carried them.
  if (IsLinkHeartbeat(m)) {
    ++link_heartbeats_;
    items_.emplace_back(LinkHeartbeat{});
    return;
  }
  items_.emplace_back(std::move(m));
}

// One field per call: returns true when a field was consumed (call again), false when the input
// ends inside a field or after an error. Fields of length 0 (k = 0, an empty entry or message)
// complete without input, so the state machine must get a call even when `*bytes` is empty.
bool MsgAppV2Decoder::Step(std::string_view* bytes) {
  switch (state_) {
    case State::kFrameType:
      return StepFrameType(bytes);
    case State::kMessageLength:
    case State::kMessageBody:
      return StepMessage(bytes);
    case State::kEntryCount:
    case State::kEntryLength:
    case State::kEntryBody:
    case State::kCommit:
      return StepAppEntries(bytes);
  }
  return Fail("rafthttp: msgappv2 decoder in an unknown state");
}

bool MsgAppV2Decoder::StepFrameType(std::string_view* bytes) {
  if (bytes->empty()) return false;
  const auto type = static_cast<uint8_t>((*bytes)[0]);
  bytes->remove_prefix(1);
  switch (type) {
    case static_cast<uint8_t>(MsgAppV2FrameType::kLinkHeartbeat):
      Emit(LinkHeartbeatMessage());
      return true;
    case static_cast<uint8_t>(MsgAppV2FrameType::kAppEntries):
      building_ = Message{};
      building_.type = MessageType::MsgApp;
      building_.from = remote_;
      building_.to = local_;
      building_.term = term_;
      building_.log_term = term_;
      building_.index = index_;
      frame_bytes_ = 0;
      state_ = State::kEntryCount;
      return true;
    case static_cast<uint8_t>(MsgAppV2FrameType::kMessage):
      state_ = State::kMessageLength;
      return true;
    default:
      // etcd's wording; its reader drops the stream and dials again.
      return Fail(fmt::format("failed to parse type {} in msgappv2 stream", type));
  }
}

bool MsgAppV2Decoder::StepMessage(std::string_view* bytes) {
  if (state_ == State::kMessageLength) {
    std::optional<std::string_view> f = field_.Take(bytes, 8);
    if (!f) return false;
    length_ = ReadBE64(*f);
    field_.Done();
    // etcd has no limit here and allocates whatever the prefix says.
    if (length_ > limits_.max_message_size) {
      return Fail(fmt::format("{}: msgappv2 message of {} bytes (limit {})", kErrLimitExceeded,
                              length_, limits_.max_message_size));
    }
    state_ = State::kMessageBody;
    return true;
  }
  std::optional<std::string_view> f = field_.Take(bytes, length_);
  if (!f) return false;
  Result<Message> m = raftpb::DecodeMessage(*f);
  field_.Done();
  if (!m.ok()) {
    // etcd panics here (pbutil.MustUnmarshal), taking its whole process down.
    return Fail(fmt::format("rafthttp: bad msgappv2 message: {}", m.status().message()));
  }
  // As in etcd, whatever the message type, it sets the state.
  term_ = m->term;
  index_ = LastIndexOf(*m);
  state_ = State::kFrameType;
  Emit(std::move(m).value());
  return true;
}

bool MsgAppV2Decoder::StepAppEntries(std::string_view* bytes) {
  switch (state_) {
    case State::kEntryCount: {
      std::optional<std::string_view> f = field_.Take(bytes, 8);
      if (!f) return false;
      entry_count_ = ReadBE64(*f);
      field_.Done();
      // etcd allocates k entries up front; here the vector grows as entries arrive.
      if (entry_count_ > limits_.max_entries_per_frame) {
        return Fail(fmt::format("{}: msgappv2 frame of {} entries (limit {})", kErrLimitExceeded,
                                entry_count_, limits_.max_entries_per_frame));
      }
      state_ = entry_count_ == 0 ? State::kCommit : State::kEntryLength;
      return true;
    }
    case State::kEntryLength: {
      std::optional<std::string_view> f = field_.Take(bytes, 8);
      if (!f) return false;
      length_ = ReadBE64(*f);
      field_.Done();
      if (length_ > limits_.max_entry_size) {
        return Fail(fmt::format("{}: msgappv2 entry of {} bytes (limit {})", kErrLimitExceeded,
                                length_, limits_.max_entry_size));
      }
      // Invariant: frame_bytes_ <= max_message_size, so the subtraction cannot wrap.
      if (length_ > limits_.max_message_size - frame_bytes_) {
        return Fail(fmt::format("{}: msgappv2 frame of more than {} entry bytes", kErrLimitExceeded,
                                limits_.max_message_size));
      }
      frame_bytes_ += length_;
      state_ = State::kEntryBody;
      return true;
    }
    case State::kEntryBody: {
      std::optional<std::string_view> f = field_.Take(bytes, length_);
      if (!f) return false;
      Result<raftpb::Entry> e = raftpb::DecodeEntry(*f);
      field_.Done();
      if (!e.ok()) {
        // etcd panics here (pbutil.MustUnmarshal).
        return Fail(fmt::format("rafthttp: bad msgappv2 entry: {}", e.status().message()));
      }
      building_.entries.push_back(std::move(e).value());
      // etcd advances its index once per entry read, before looking at the entry.
      ++index_;
      state_ = building_.entries.size() == entry_count_ ? State::kCommit : State::kEntryLength;
      return true;
    }
    case State::kCommit: {
      std::optional<std::string_view> f = field_.Take(bytes, 8);
      if (!f) return false;
      building_.commit = Index(ReadBE64(*f));
      field_.Done();
      state_ = State::kFrameType;
      Emit(std::exchange(building_, Message{}));
      return true;
    }
    case State::kFrameType:
    case State::kMessageLength:
    case State::kMessageBody:
      break;
  }
  return Fail("rafthttp: msgappv2 decoder in an unexpected state");
}

}  // namespace raftkit::rafthttp
