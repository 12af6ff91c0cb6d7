// The raftpb value types and helpers, checked against etcd 3.4's behaviour
// (raftpb/raft.pb.go enum names, raftpb/confchange.go, raftpb/confstate.go, raft/util.go).
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "raftkit/raftpb/codec.h"
#include "raftkit/raftpb/types.h"
#include "raftkit/util/bytes.h"
#include "raftkit/util/panic.h"

namespace raftkit::raftpb {
namespace {

using std::string_view_literals::operator""sv;

// ---------------------------------------------------------------------------------------------
// Enum names (etcd's MessageType_name etc.)
// ---------------------------------------------------------------------------------------------

TEST(Types, MessageTypeNames) {
  const std::vector<std::string_view> expected = {
      "MsgHup",           "MsgBeat",           "MsgProp",        "MsgApp",
      "MsgAppResp",       "MsgVote",           "MsgVoteResp",    "MsgSnap",
      "MsgHeartbeat",     "MsgHeartbeatResp",  "MsgUnreachable", "MsgSnapStatus",
      "MsgCheckQuorum",   "MsgTransferLeader", "MsgTimeoutNow",  "MsgReadIndex",
      "MsgReadIndexResp", "MsgPreVote",        "MsgPreVoteResp"};
  ASSERT_EQ(expected.size(), 19u);
  for (int32_t i = 0; i < 19; ++i) {
    EXPECT_EQ(Name(static_cast<MessageType>(i)), expected[static_cast<size_t>(i)]) << i;
  }
  EXPECT_EQ(Name(MessageType::MsgPreVoteResp), "MsgPreVoteResp");
}

TEST(Types, EntryTypeNames) {
  EXPECT_EQ(Name(EntryType::EntryNormal), "EntryNormal");
  EXPECT_EQ(Name(EntryType::EntryConfChange), "EntryConfChange");
  EXPECT_EQ(Name(EntryType::EntryConfChangeV2), "EntryConfChangeV2");
}

TEST(Types, ConfChangeTypeNames) {
  EXPECT_EQ(Name(ConfChangeType::ConfChangeAddNode), "ConfChangeAddNode");
  EXPECT_EQ(Name(ConfChangeType::ConfChangeRemoveNode), "ConfChangeRemoveNode");
  EXPECT_EQ(Name(ConfChangeType::ConfChangeUpdateNode), "ConfChangeUpdateNode");
  EXPECT_EQ(Name(ConfChangeType::ConfChangeAddLearnerNode), "ConfChangeAddLearnerNode");
}

TEST(Types, ConfChangeTransitionNames) {
  EXPECT_EQ(Name(ConfChangeTransition::ConfChangeTransitionAuto), "ConfChangeTransitionAuto");
  EXPECT_EQ(Name(ConfChangeTransition::ConfChangeTransitionJointImplicit),
            "ConfChangeTransitionJointImplicit");
  EXPECT_EQ(Name(ConfChangeTransition::ConfChangeTransitionJointExplicit),
            "ConfChangeTransitionJointExplicit");
}

// types.h promises "a number for unknown values", which is also what Go prints
// (proto.EnumName falls back to strconv.Itoa): MessageType(99).String() == "99",
// EntryType(-1).String() == "-1".
TEST(Types, NameOfAnUnknownEnumValueIsItsNumber) {
  EXPECT_EQ(Name(static_cast<MessageType>(99)), "99"sv);
  EXPECT_EQ(Name(static_cast<MessageType>(19)), "19"sv);
  EXPECT_EQ(Name(static_cast<MessageType>(-1)), "-1"sv);
  EXPECT_EQ(Name(static_cast<EntryType>(3)), "3"sv);
  EXPECT_EQ(Name(static_cast<EntryType>(-1)), "-1"sv);
  EXPECT_EQ(Name(static_cast<ConfChangeType>(7)), "7"sv);
  EXPECT_EQ(Name(static_cast<ConfChangeTransition>(5)), "5"sv);
}

// ---------------------------------------------------------------------------------------------
// Entry
// ---------------------------------------------------------------------------------------------

TEST(Types, EntryByteSize) {
  Entry e;
  EXPECT_EQ(e.ByteSize(), 6u);  // 08 00 10 00 18 00
  EXPECT_EQ(e.PayloadSize(), 0u);

  e = Entry{EntryType::EntryNormal, Term(2), Index(3), Bytes("hi"), Bytes()};
  EXPECT_EQ(e.ByteSize(), 10u);  // spec: 08 00 10 02 18 03 22 02 68 69
  EXPECT_EQ(e.PayloadSize(), 2u);

  e.data = Bytes::Empty();
  EXPECT_EQ(e.ByteSize(), 8u);  // tag + zero length still written
  EXPECT_EQ(e.PayloadSize(), 0u);

  e.data = Bytes(std::string(128, 'x'));  // two-byte length
  EXPECT_EQ(e.ByteSize(), 6u + 1 + 2 + 128);

  e = Entry{};
  e.term = Term(std::numeric_limits<uint64_t>::max());
  e.index = Index(uint64_t{1} << 63);
  EXPECT_EQ(e.ByteSize(), 1u + 1 + 1 + 10 + 1 + 10);

  e = Entry{};
  e.type = static_cast<EntryType>(-1);  // sign-extended: ten bytes
  EXPECT_EQ(e.ByteSize(), 1u + 10 + 2 + 2);

  e = Entry{};
  e.unknown_fields = Bytes(std::string("\x28\x07", 2));
  EXPECT_EQ(e.ByteSize(), 8u);

  for (const Entry& x : {Entry{}, Entry{EntryType::EntryConfChangeV2, Term(300), Index(70000),
                                        Bytes("abc"), Bytes()}}) {
    EXPECT_EQ(x.ByteSize(), Encode(x).size());
  }
}

TEST(Types, SnapshotAndHardStateEmptiness) {
  Snapshot s;
  EXPECT_TRUE(s.IsEmpty());
  s.data = Bytes("data");
  s.metadata.term = Term(3);
  EXPECT_TRUE(s.IsEmpty()) << "only the index decides (etcd's IsEmptySnap)";
  s.metadata.index = Index(1);
  EXPECT_FALSE(s.IsEmpty());

  HardState hs;
  EXPECT_TRUE(hs.IsEmpty());
  for (HardState h : {HardState{Term(1), kNoNode, Index(0), Bytes()},
                      HardState{Term(0), NodeId(1), Index(0), Bytes()},
                      HardState{Term(0), kNoNode, Index(1), Bytes()}}) {
    EXPECT_FALSE(h.IsEmpty());
  }

  const HardState a{Term(2), NodeId(1), Index(5), Bytes()};
  const HardState b{Term(2), NodeId(1), Index(5), Bytes("\x20\x01")};
  EXPECT_TRUE(a.SameAs(b));
  EXPECT_NE(a, b);
  EXPECT_FALSE(a.SameAs(HardState{Term(2), NodeId(1), Index(6), Bytes()}));
  EXPECT_FALSE(a.SameAs(HardState{Term(2), NodeId(2), Index(5), Bytes()}));
  EXPECT_FALSE(a.SameAs(HardState{Term(3), NodeId(1), Index(5), Bytes()}));
}

// ---------------------------------------------------------------------------------------------
// ConfChangeV2 (etcd raftpb/confchange.go)
// ---------------------------------------------------------------------------------------------

ConfChangeV2 V2(ConfChangeTransition t, size_t n_changes) {
  ConfChangeV2 cc;
  cc.transition = t;
  for (size_t i = 0; i < n_changes; ++i) {
    cc.changes.push_back({ConfChangeType::ConfChangeAddNode, NodeId(i + 1), Bytes()});
  }
  return cc;
}

TEST(Types, EnterJoint) {
  using T = ConfChangeTransition;
  struct Case {
    T transition;
    size_t changes;
    bool joint;
    bool auto_leave;
  };
  const Case cases[] = {
      // Auto: joint only with more than one change, and then left automatically.
      {T::ConfChangeTransitionAuto, 0, false, false},
      {T::ConfChangeTransitionAuto, 1, false, false},
      {T::ConfChangeTransitionAuto, 2, true, true},
      {T::ConfChangeTransitionAuto, 5, true, true},
      // JointImplicit: always joint, left automatically.
      {T::ConfChangeTransitionJointImplicit, 0, true, true},
      {T::ConfChangeTransitionJointImplicit, 1, true, true},
      {T::ConfChangeTransitionJointImplicit, 3, true, true},
      // JointExplicit: always joint, left only by an explicit empty change.
      {T::ConfChangeTransitionJointExplicit, 0, true, false},
      {T::ConfChangeTransitionJointExplicit, 1, true, false},
      {T::ConfChangeTransitionJointExplicit, 2, true, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << Name(c.transition) << " with " << c.changes << " changes");
    const ConfChangeV2 cc = V2(c.transition, c.changes);
    bool auto_leave = !c.auto_leave;  // poisoned, must be overwritten when joint
    EXPECT_EQ(cc.EnterJoint(&auto_leave), c.joint);
    if (c.joint) {
      EXPECT_EQ(auto_leave, c.auto_leave);
    }
  }
}

TEST(Types, EnterJointPanicsOnAnUnknownTransition) {
  ScopedPanicHandler panics(ThrowingPanicHandler);
  bool auto_leave = false;
  const ConfChangeV2 cc = V2(static_cast<ConfChangeTransition>(7), 1);
  EXPECT_THROW((void)cc.EnterJoint(&auto_leave), PanicError);
  // An unknown transition with no changes is still "not Auto", so it panics too (as in Go).
  const ConfChangeV2 empty = V2(static_cast<ConfChangeTransition>(99), 0);
  EXPECT_THROW((void)empty.EnterJoint(&auto_leave), PanicError);
}

TEST(Types, LeaveJoint) {
  ConfChangeV2 cc;
  EXPECT_TRUE(cc.LeaveJoint());
  cc.context = Bytes("ignored");
  EXPECT_TRUE(cc.LeaveJoint()) << "the context does not matter";
  cc.context = Bytes::Empty();
  EXPECT_TRUE(cc.LeaveJoint());

  EXPECT_FALSE(V2(ConfChangeTransition::ConfChangeTransitionAuto, 1).LeaveJoint());
  EXPECT_FALSE(V2(ConfChangeTransition::ConfChangeTransitionJointImplicit, 0).LeaveJoint());
  EXPECT_FALSE(V2(ConfChangeTransition::ConfChangeTransitionJointExplicit, 0).LeaveJoint());

  // proto.Equal with the zero value also compares unknown fields.
  ConfChangeV2 with_unknown;
  with_unknown.unknown_fields = Bytes(std::string("\x20\x01", 2));
  EXPECT_FALSE(with_unknown.LeaveJoint());
}

TEST(Types, FromV1) {
  const ConfChange v1{42, ConfChangeType::ConfChangeRemoveNode, NodeId(3), Bytes("ctx"), Bytes()};
  const ConfChangeV2 v2 = ConfChangeV2::FromV1(v1);
  EXPECT_EQ(v2.transition, ConfChangeTransition::ConfChangeTransitionAuto);
  ASSERT_EQ(v2.changes.size(), 1u);
  EXPECT_EQ(v2.changes[0].type, ConfChangeType::ConfChangeRemoveNode);
  EXPECT_EQ(v2.changes[0].node_id, NodeId(3));
  EXPECT_EQ(v2.context, Bytes("ctx"));
  bool auto_leave = false;
  EXPECT_FALSE(v2.EnterJoint(&auto_leave));
  EXPECT_FALSE(v2.LeaveJoint());

  const ConfChange nil_ctx{0, ConfChangeType::ConfChangeAddNode, NodeId(1), Bytes(), Bytes()};
  EXPECT_TRUE(ConfChangeV2::FromV1(nil_ctx).context.is_null());
  // Go: AsV2 of ConfChange{AddNode, 1} marshals as 08 00 12 04 08 00 10 01.
  EXPECT_EQ(Encode(ConfChangeV2::FromV1(nil_ctx)),
            std::string("\x08\x00\x12\x04\x08\x00\x10\x01", 8));
}

// ---------------------------------------------------------------------------------------------
// ConfChangesToString / ConfChangesFromString
// ---------------------------------------------------------------------------------------------

TEST(Types, ConfChangesToString) {
  const std::vector<ConfChangeSingle> ccs = {
      {ConfChangeType::ConfChangeAddNode, NodeId(1), Bytes()},
      {ConfChangeType::ConfChangeAddLearnerNode, NodeId(2), Bytes()},
      {ConfChangeType::ConfChangeRemoveNode, NodeId(3), Bytes()},
      {ConfChangeType::ConfChangeUpdateNode, NodeId(18446744073709551615ULL), Bytes()},
  };
  EXPECT_EQ(ConfChangesToString(ccs), "v1 l2 r3 u18446744073709551615");
  EXPECT_EQ(ConfChangesToString({}), "");
  EXPECT_EQ(ConfChangesToString({{static_cast<ConfChangeType>(9), NodeId(5), Bytes()}}),
            "unknown5");
}

TEST(Types, ConfChangesRoundTrip) {
  for (std::string_view s : {"", "v1", "v1 l2 r3 u4", "l18446744073709551615 v0", "r7 r7"}) {
    std::vector<ConfChangeSingle> ccs = {{ConfChangeType::ConfChangeAddNode, NodeId(99), Bytes()}};
    ASSERT_TRUE(ConfChangesFromString(s, &ccs)) << s;
    EXPECT_EQ(ConfChangesToString(ccs), s);
  }
  std::vector<ConfChangeSingle> ccs;
  ASSERT_TRUE(ConfChangesFromString("v1 l2 r3 u4", &ccs));
  ASSERT_EQ(ccs.size(), 4u);
  EXPECT_EQ(ccs[0].type, ConfChangeType::ConfChangeAddNode);
  EXPECT_EQ(ccs[1].type, ConfChangeType::ConfChangeAddLearnerNode);
  EXPECT_EQ(ccs[2].type, ConfChangeType::ConfChangeRemoveNode);
  EXPECT_EQ(ccs[3].type, ConfChangeType::ConfChangeUpdateNode);
  EXPECT_EQ(ccs[3].node_id, NodeId(4));

  // Surrounding spaces are trimmed (Go: strings.TrimSpace).
  ASSERT_TRUE(ConfChangesFromString("  v1 v2 ", &ccs));
  EXPECT_EQ(ConfChangesToString(ccs), "v1 v2");
}

TEST(Types, ConfChangesFromStringRejectsMalformedInput) {
  for (std::string_view bad : {"x1", "v", "1", "vx", "v1x", "v-1", "v+1", "v 1",
                               "v18446744073709551616", "V1", "v1 q2", "unknown5"}) {
    std::vector<ConfChangeSingle> ccs;
    EXPECT_FALSE(ConfChangesFromString(bad, &ccs)) << "'" << bad << "'";
  }
}

// ---------------------------------------------------------------------------------------------
// ConfState equivalence (etcd raftpb/confstate.go)
// ---------------------------------------------------------------------------------------------

std::vector<NodeId> Ids(std::initializer_list<uint64_t> v) {
  std::vector<NodeId> out;
  for (uint64_t x : v)
    out.emplace_back(x);
  return out;
}

TEST(Types, Equivalent) {
  ConfState a;
  a.voters = Ids({1, 2, 3});
  a.learners = Ids({5, 4});
  a.voters_outgoing = Ids({1, 2, 6});
  a.learners_next = Ids({7, 8});
  a.auto_leave = true;

  ConfState b = a;
  EXPECT_TRUE(Equivalent(a, b));
  b.voters = Ids({3, 1, 2});
  b.learners = Ids({4, 5});
  b.voters_outgoing = Ids({6, 2, 1});
  b.learners_next = Ids({8, 7});
  EXPECT_TRUE(Equivalent(a, b)) << "order does not matter";
  EXPECT_NE(a, b) << "but operator== is exact";

  b.unknown_fields = Bytes(std::string("\x30\x01", 2));
  EXPECT_TRUE(Equivalent(a, b)) << "unknown fields are ignored";

  ConfState c = a;
  c.auto_leave = false;
  EXPECT_FALSE(Equivalent(a, c));
  c = a;
  c.voters = Ids({1, 2});
  EXPECT_FALSE(Equivalent(a, c));
  c = a;
  c.learners = Ids({4, 5, 5});
  EXPECT_FALSE(Equivalent(a, c)) << "duplicates count";
  c = a;
  c.voters_outgoing = {};
  EXPECT_FALSE(Equivalent(a, c));
  c = a;
  c.learners_next = Ids({7, 9});
  EXPECT_FALSE(Equivalent(a, c));
  c = a;
  std::swap(c.voters, c.learners);
  EXPECT_FALSE(Equivalent(a, c)) << "the lists are not interchangeable";
  EXPECT_TRUE(Equivalent(ConfState{}, ConfState{}));
}

// ---------------------------------------------------------------------------------------------
// Message classification (etcd raft/util.go)
// ---------------------------------------------------------------------------------------------

TEST(Types, IsLocalMsgAndIsResponseMsg) {
  using M = MessageType;
  const std::vector<M> local = {M::MsgHup, M::MsgBeat, M::MsgUnreachable, M::MsgSnapStatus,
                                M::MsgCheckQuorum};
  const std::vector<M> response = {M::MsgAppResp, M::MsgVoteResp, M::MsgHeartbeatResp,
                                   M::MsgUnreachable, M::MsgPreVoteResp};
  auto contains = [](const std::vector<M>& v, M t) {
    for (M x : v) {
      if (x == t) return true;
    }
    return false;
  };
  for (int32_t i = 0; i <= 18; ++i) {
    const M t = static_cast<M>(i);
    EXPECT_EQ(IsLocalMsg(t), contains(local, t)) << Name(t);
    EXPECT_EQ(IsResponseMsg(t), contains(response, t)) << Name(t);
  }
  EXPECT_FALSE(IsLocalMsg(static_cast<M>(99)));
  EXPECT_FALSE(IsResponseMsg(static_cast<M>(99)));
}

TEST(Types, VoteResponseType) {
  EXPECT_EQ(VoteResponseType(MessageType::MsgVote), MessageType::MsgVoteResp);
  EXPECT_EQ(VoteResponseType(MessageType::MsgPreVote), MessageType::MsgPreVoteResp);
  ScopedPanicHandler panics(ThrowingPanicHandler);
  EXPECT_THROW((void)VoteResponseType(MessageType::MsgApp), PanicError);
  try {
    (void)VoteResponseType(MessageType::MsgHeartbeat);
    ADD_FAILURE() << "no panic";
  } catch (const PanicError& e) {
    EXPECT_NE(e.message.find("not a vote message"), std::string::npos) << e.message;
  }
}

}  // namespace
}  // namespace raftkit::raftpb
