// The Raft wire types as plain C++ values, mirroring etcd 3.4's raftpb field by field.
//
// These structs are what the core, the storage and the transport pass around. Encoding and
// decoding (codec.h) produce and accept exactly the bytes etcd's Go code does, including its
// quirks: fields etcd always writes are always written, `bytes` fields are nullable (Bytes), and
// fields this version does not know survive a decode/encode round trip in `unknown_fields` (Go
// keeps them in
// XXX_unrecognized and appends them after the known fields; so do we).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "raftkit/util/bytes.h"
#include "raftkit/util/ids.h"

namespace raftkit::raftpb {

// Enum values are etcd's. The underlying type is int32_t because, as in Go, a decoded value is not
// range-checked: MessageType 99 decodes and re-encodes unchanged.

enum class EntryType : int32_t {
  EntryNormal = 0,
  EntryConfChange = 1,    ///< data is an encoded ConfChange
  EntryConfChangeV2 = 2,  ///< data is an encoded ConfChangeV2
};

enum class MessageType : int32_t {
  MsgHup = 0,
  MsgBeat = 1,
  MsgProp = 2,
  MsgApp = 3,
  MsgAppResp = 4,
  MsgVote = 5,
  MsgVoteResp = 6,
  MsgSnap = 7,
  MsgHeartbeat = 8,
  MsgHeartbeatResp = 9,
  MsgUnreachable = 10,
  MsgSnapStatus = 11,
  MsgCheckQuorum = 12,
  MsgTransferLeader = 13,
  MsgTimeoutNow = 14,
  MsgReadIndex = 15,
  MsgReadIndexResp = 16,
  MsgPreVote = 17,
  MsgPreVoteResp = 18,
};

enum class ConfChangeTransition : int32_t {
  ConfChangeTransitionAuto = 0,
  ConfChangeTransitionJointImplicit = 1,
  ConfChangeTransitionJointExplicit = 2,
};

enum class ConfChangeType : int32_t {
  ConfChangeAddNode = 0,
  ConfChangeRemoveNode = 1,
  ConfChangeUpdateNode = 2,
  ConfChangeAddLearnerNode = 3,
};

/// etcd's names: "MsgApp", "EntryNormal", "ConfChangeAddNode", ...; the decimal number for values
/// outside the enum (as Go's generated String() prints them).
std::string Name(MessageType t);
std::string Name(EntryType t);
std::string Name(ConfChangeType t);
std::string Name(ConfChangeTransition t);

/// One log entry.
struct Entry {
  EntryType type = EntryType::EntryNormal;
  Term term;
  Index index;
  Bytes data;  ///< null for the leader's empty entry of a new term
  Bytes unknown_fields;

  /// The exact encoded size in bytes (etcd's Entry.Size()); MaxSizePerMsg counts this.
  [[nodiscard]] size_t ByteSize() const noexcept;
  /// Length of data (etcd's PayloadSize); the uncommitted-size limit counts this.
  [[nodiscard]] size_t PayloadSize() const noexcept { return data.size(); }

  friend bool operator==(const Entry&, const Entry&) = default;
};

/// The membership of a configuration. Order of ids is as given (not necessarily sorted).
struct ConfState {
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;
  std::vector<NodeId> voters_outgoing;  ///< voters of the outgoing config in a joint config
  std::vector<NodeId> learners_next;    ///< learners to add once the joint config is left
  bool auto_leave = false;
  Bytes unknown_fields;

  friend bool operator==(const ConfState&, const ConfState&) = default;
};

/// Whether two ConfStates describe the same configuration regardless of id order.
bool Equivalent(const ConfState& a, const ConfState& b);

struct SnapshotMetadata {
  ConfState conf_state;
  Index index;
  Term term;
  Bytes unknown_fields;

  friend bool operator==(const SnapshotMetadata&, const SnapshotMetadata&) = default;
};

struct Snapshot {
  Bytes data;
  SnapshotMetadata metadata;
  Bytes unknown_fields;

  /// A snapshot with index 0 is "no snapshot" (etcd's IsEmptySnap).
  [[nodiscard]] bool IsEmpty() const noexcept { return metadata.index == Index(0); }

  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

struct Message {
  MessageType type = MessageType::MsgHup;
  NodeId to;
  NodeId from;
  Term term;
  Term log_term;
  Index index;
  std::vector<Entry> entries;
  Index commit;
  Snapshot snapshot;  ///< always on the wire; empty unless type == MsgSnap
  bool reject = false;
  Index reject_hint;
  Bytes context;
  Bytes unknown_fields;

  friend bool operator==(const Message&, const Message&) = default;
};

/// The state Raft must persist before it answers (term, vote, commit).
struct HardState {
  Term term;
  NodeId vote;
  Index commit;
  Bytes unknown_fields;

  /// All-zero: "no update" in a Ready (etcd's IsEmptyHardState).
  [[nodiscard]] bool IsEmpty() const noexcept {
    return term == Term(0) && vote == kNoNode && commit == Index(0);
  }
  /// Equal ignoring unknown fields.
  [[nodiscard]] bool SameAs(const HardState& o) const noexcept {
    return term == o.term && vote == o.vote && commit == o.commit;
  }

  friend bool operator==(const HardState&, const HardState&) = default;
};

/// A single-change membership request (the v1 API). Stored as EntryConfChange.
struct ConfChange {
  uint64_t id = 0;  ///< opaque request id (etcd uses it to match proposals)
  ConfChangeType type = ConfChangeType::ConfChangeAddNode;
  NodeId node_id;
  Bytes context;
  Bytes unknown_fields;

  friend bool operator==(const ConfChange&, const ConfChange&) = default;
};

struct ConfChangeSingle {
  ConfChangeType type = ConfChangeType::ConfChangeAddNode;
  NodeId node_id;
  Bytes unknown_fields;

  friend bool operator==(const ConfChangeSingle&, const ConfChangeSingle&) = default;
};

/// A membership request of one or more changes (the v2 API). Stored as EntryConfChangeV2.
/// No changes means "leave the joint configuration".
struct ConfChangeV2 {
  ConfChangeTransition transition = ConfChangeTransition::ConfChangeTransitionAuto;
  std::vector<ConfChangeSingle> changes;
  Bytes context;
  Bytes unknown_fields;

  friend bool operator==(const ConfChangeV2&, const ConfChangeV2&) = default;

  /// The v2 form of a v1 change: one change, same context (etcd's ConfChange.AsV2).
  static ConfChangeV2 FromV1(const ConfChange& cc);

  /// Whether this change uses joint consensus, and if so whether the joint state is left
  /// automatically: transition != Auto or more than one change means joint. Returns false when the
  /// change is simple; otherwise sets *auto_leave. (etcd's EnterJoint.)
  [[nodiscard]] bool EnterJoint(bool* auto_leave) const;
  /// An empty change (no changes, Auto, context ignored) asks to leave the joint config.
  [[nodiscard]] bool LeaveJoint() const noexcept;
};

/// Message types that are generated locally and never cross the network (etcd's IsLocalMsg).
[[nodiscard]] bool IsLocalMsg(MessageType t) noexcept;
/// Response types, which are dropped when they come from a node without progress (IsResponseMsg).
[[nodiscard]] bool IsResponseMsg(MessageType t) noexcept;
/// The response type of MsgVote / MsgPreVote. Panics for other types.
[[nodiscard]] MessageType VoteResponseType(MessageType t);

/// Short text for conf changes: "v2 l3 r4 u5" (v=voter, l=learner, r=remove, u=update).
std::string ConfChangesToString(const std::vector<ConfChangeSingle>& changes);
/// The inverse of ConfChangesToString; returns false on malformed input. Like etcd's
/// ConfChangesFromString, leading/trailing whitespace is ignored and tokens are separated by
/// exactly one space.
bool ConfChangesFromString(std::string_view s, std::vector<ConfChangeSingle>* out);

}  // namespace raftkit::raftpb
