#include "raftkit/raftpb/types.h"

#include <algorithm>
#include <charconv>

#include "raftkit/util/panic.h"

namespace raftkit::raftpb {

namespace {

// Bytes needed to encode `v` as a protobuf varint.
size_t VarintSize(uint64_t v) noexcept {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Enums are int32 on the wire; negative values are sign-extended to 10 bytes, as Go does.
size_t EnumSize(int32_t v) noexcept {
  return VarintSize(static_cast<uint64_t>(static_cast<int64_t>(v)));
}

}  // namespace

std::string Name(MessageType t) {
  static constexpr std::string_view kNames[] = {
      "MsgHup",           "MsgBeat",           "MsgProp",        "MsgApp",
      "MsgAppResp",       "MsgVote",           "MsgVoteResp",    "MsgSnap",
      "MsgHeartbeat",     "MsgHeartbeatResp",  "MsgUnreachable", "MsgSnapStatus",
      "MsgCheckQuorum",   "MsgTransferLeader", "MsgTimeoutNow",  "MsgReadIndex",
      "MsgReadIndexResp", "MsgPreVote",        "MsgPreVoteResp"};
  const auto i = static_cast<int32_t>(t);
  if (i >= 0 && i < static_cast<int32_t>(std::size(kNames))) return std::string(kNames[i]);
  return std::to_string(i);
}

std::string Name(EntryType t) {
  switch (t) {
    case EntryType::EntryNormal:
      return "EntryNormal";
    case EntryType::EntryConfChange:
      return "EntryConfChange";
    case EntryType::EntryConfChangeV2:
      return "EntryConfChangeV2";
  }
  return std::to_string(static_cast<int32_t>(t));
}

std::string Name(ConfChangeType t) {
  switch (t) {
    case ConfChangeType::ConfChangeAddNode:
      return "ConfChangeAddNode";
    case ConfChangeType::ConfChangeRemoveNode:
      return "ConfChangeRemoveNode";
    case ConfChangeType::ConfChangeUpdateNode:
      return "ConfChangeUpdateNode";
    case ConfChangeType::ConfChangeAddLearnerNode:
      return "ConfChangeAddLearnerNode";
  }
  return std::to_string(static_cast<int32_t>(t));
}

std::string Name(ConfChangeTransition t) {
  switch (t) {
    case ConfChangeTransition::ConfChangeTransitionAuto:
      return "ConfChangeTransitionAuto";
    case ConfChangeTransition::ConfChangeTransitionJointImplicit:
      return "ConfChangeTransitionJointImplicit";
    case ConfChangeTransition::ConfChangeTransitionJointExplicit:
      return "ConfChangeTransitionJointExplicit";
  }
  return std::to_string(static_cast<int32_t>(t));
}

size_t Entry::ByteSize() const noexcept {
  // Type, Term, Index are always written (tag byte + varint); Data only when non-null.
  size_t n = 1 + EnumSize(static_cast<int32_t>(type)) + 1 + VarintSize(term.value()) + 1 +
             VarintSize(index.value());
  if (!data.is_null()) n += 1 + VarintSize(data.size()) + data.size();
  return n + unknown_fields.size();
}

bool Equivalent(const ConfState& a, const ConfState& b) {
  auto sorted = [](std::vector<NodeId> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  return sorted(a.voters) == sorted(b.voters) && sorted(a.learners) == sorted(b.learners) &&
         sorted(a.voters_outgoing) == sorted(b.voters_outgoing) &&
         sorted(a.learners_next) == sorted(b.learners_next) && a.auto_leave == b.auto_leave;
}

ConfChangeV2 ConfChangeV2::FromV1(const ConfChange& cc) {
  ConfChangeV2 out;
  out.changes.push_back(ConfChangeSingle{cc.type, cc.node_id, Bytes()});
  out.context = cc.context;
  return out;
}

bool ConfChangeV2::EnterJoint(bool* auto_leave) const {
  // A change uses joint consensus when it asks for it explicitly or when it changes more than one
  // member at once (a simple change may alter at most one voter; thesis §4.3).
  if (transition == ConfChangeTransition::ConfChangeTransitionAuto && changes.size() <= 1) {
    return false;
  }
  switch (transition) {
    case ConfChangeTransition::ConfChangeTransitionAuto:
    case ConfChangeTransition::ConfChangeTransitionJointImplicit:
      *auto_leave = true;
      break;
    case ConfChangeTransition::ConfChangeTransitionJointExplicit:
      *auto_leave = false;
      break;
    default:
      RAFTKIT_PANIC("unknown conf change transition {}", static_cast<int32_t>(transition));
  }
  return true;
}

bool ConfChangeV2::LeaveJoint() const noexcept {
  // etcd compares the change, context cleared, with the zero value (unknown fields included).
  return transition == ConfChangeTransition::ConfChangeTransitionAuto && changes.empty() &&
         unknown_fields.empty();
}

bool IsLocalMsg(MessageType t) noexcept {
  return t == MessageType::MsgHup || t == MessageType::MsgBeat ||
         t == MessageType::MsgUnreachable || t == MessageType::MsgSnapStatus ||
         t == MessageType::MsgCheckQuorum;
}

bool IsResponseMsg(MessageType t) noexcept {
  return t == MessageType::MsgAppResp || t == MessageType::MsgVoteResp ||
         t == MessageType::MsgHeartbeatResp || t == MessageType::MsgUnreachable ||
         t == MessageType::MsgPreVoteResp;
}

MessageType VoteResponseType(MessageType t) {
  if (t == MessageType::MsgVote) return MessageType::MsgVoteResp;
  if (t == MessageType::MsgPreVote) return MessageType::MsgPreVoteResp;
  RAFTKIT_PANIC("not a vote message: {}", Name(t));
}

std::string ConfChangesToString(const std::vector<ConfChangeSingle>& changes) {
  std::string out;
  for (const auto& cc : changes) {
    if (!out.empty()) out += ' ';
    switch (cc.type) {
      case ConfChangeType::ConfChangeAddNode:
        out += 'v';
        break;
      case ConfChangeType::ConfChangeAddLearnerNode:
        out += 'l';
        break;
      case ConfChangeType::ConfChangeRemoveNode:
        out += 'r';
        break;
      case ConfChangeType::ConfChangeUpdateNode:
        out += 'u';
        break;
      default:
        out += "unknown";
        break;
    }
    out += std::to_string(cc.node_id.value());
  }
  return out;
}

bool ConfChangesFromString(std::string_view s, std::vector<ConfChangeSingle>* out) {
  out->clear();
  // Trim ASCII whitespace at both ends, then split on single spaces: an empty token (two spaces in
  // a row) is an error, as in etcd.
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  const size_t first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return true;  // nothing but whitespace: no changes
  s = s.substr(first, s.find_last_not_of(kSpace) - first + 1);
  size_t pos = 0;
  for (;;) {
    size_t end = s.find(' ', pos);
    if (end == std::string_view::npos) end = s.size();
    std::string_view tok = s.substr(pos, end - pos);
    if (tok.size() < 2) return false;
    ConfChangeSingle cc;
    switch (tok[0]) {
      case 'v':
        cc.type = ConfChangeType::ConfChangeAddNode;
        break;
      case 'l':
        cc.type = ConfChangeType::ConfChangeAddLearnerNode;
        break;
      case 'r':
        cc.type = ConfChangeType::ConfChangeRemoveNode;
        break;
      case 'u':
        cc.type = ConfChangeType::ConfChangeUpdateNode;
        break;
      default:
        return false;
    }
    uint64_t id = 0;
    auto [p, ec] = std::from_chars(tok.data() + 1, tok.data() + tok.size(), id);
    if (ec != std::errc() || p != tok.data() + tok.size()) return false;
    cc.node_id = NodeId(id);
    out->push_back(cc);
    if (end == s.size()) return true;
    pos = end + 1;
  }
}

}  // namespace raftkit::raftpb
