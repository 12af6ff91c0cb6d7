// The Describe* printers. Every expected string below is what etcd 3.4's raft.DescribeEntry,
// DescribeMessage, DescribeHardState, DescribeConfState and DescribeSnapshot print for the same
// value (checked by running them with Go on these values).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "raftkit/raftpb/codec.h"
#include "raftkit/raftpb/describe.h"
#include "raftkit/raftpb/types.h"
#include "raftkit/util/bytes.h"

namespace raftkit::raftpb {
namespace {

Entry E(uint64_t term, uint64_t index, Bytes data = Bytes(),
        EntryType type = EntryType::EntryNormal) {
  return Entry{type, Term(term), Index(index), std::move(data), Bytes()};
}

std::vector<NodeId> Ids(std::initializer_list<uint64_t> v) {
  std::vector<NodeId> out;
  for (uint64_t x : v)
    out.emplace_back(x);
  return out;
}

std::string LengthFormatter(const Bytes& b) {
  return "<" + std::to_string(b.size()) + " bytes>";
}

TEST(Describe, EntryNormal) {
  EXPECT_EQ(DescribeEntry(E(2, 5, Bytes("data"))), R"(2/5 EntryNormal "data")");
  EXPECT_EQ(DescribeEntry(E(2, 5)), R"(2/5 EntryNormal "")");
  EXPECT_EQ(DescribeEntry(E(2, 5, Bytes::Empty())), R"(2/5 EntryNormal "")");
}

TEST(Describe, EntryConfChanges) {
  const ConfChange cc{0, ConfChangeType::ConfChangeAddNode, NodeId(4), Bytes("x"), Bytes()};
  EXPECT_EQ(DescribeEntry(E(3, 10, Bytes(Encode(cc)), EntryType::EntryConfChange)),
            "3/10 EntryConfChange v4");

  ConfChangeV2 v2;
  v2.changes = {{ConfChangeType::ConfChangeAddNode, NodeId(1), Bytes()},
                {ConfChangeType::ConfChangeAddLearnerNode, NodeId(2), Bytes()},
                {ConfChangeType::ConfChangeRemoveNode, NodeId(3), Bytes()},
                {ConfChangeType::ConfChangeUpdateNode, NodeId(4), Bytes()}};
  EXPECT_EQ(DescribeEntry(E(3, 11, Bytes(Encode(v2)), EntryType::EntryConfChangeV2)),
            "3/11 EntryConfChangeV2 v1 l2 r3 u4");

  // An empty V2 change (leave joint) formats as nothing, and no trailing space is printed.
  EXPECT_EQ(DescribeEntry(E(1, 2, Bytes(), EntryType::EntryConfChangeV2)), "1/2 EntryConfChangeV2");

  // Undecodable payload: Go prints its error text ("unexpected EOF"); raftkit prints its own
  // error, after the same prefix.
  const std::string bad =
      DescribeEntry(E(1, 2, Bytes(std::string("\x08", 1)), EntryType::EntryConfChange));
  EXPECT_EQ(bad.rfind("1/2 EntryConfChange ", 0), 0u) << bad;
  EXPECT_GT(bad.size(), std::string("1/2 EntryConfChange ").size()) << bad;
}

TEST(Describe, EntryQuotingLikeGoPercentQ) {
  EXPECT_EQ(DescribeEntry(E(1, 1, Bytes(std::string("a\"b\\c\n\t\r\x00\xff\x7f", 11)))),
            R"(1/1 EntryNormal "a\"b\\c\n\t\r\x00\xff\x7f")");
  EXPECT_EQ(QuoteBytes(""), R"("")");
  EXPECT_EQ(QuoteBytes("plain text 123 ~!"), R"("plain text 123 ~!")");
}

// Go's %q (strconv.Quote) uses \a \b \f \v for those control bytes and keeps printable UTF-8
// runes as they are; describe.h promises Go %q-style quoting.
TEST(Describe, EntryQuotingOfBellBackspaceFormFeedVerticalTabAndUtf8) {
  EXPECT_EQ(DescribeEntry(E(1, 1, Bytes("\a\b\f\v"))), R"(1/1 EntryNormal "\a\b\f\v")");
  EXPECT_EQ(DescribeEntry(E(1, 1, Bytes("h\xc3\xa9"))), "1/1 EntryNormal \"h\xc3\xa9\"");
}

TEST(Describe, EntryWithFormatter) {
  EXPECT_EQ(DescribeEntry(E(1, 1, Bytes("abc")), &LengthFormatter), "1/1 EntryNormal <3 bytes>");
  // A formatter that returns nothing leaves no trailing space.
  EXPECT_EQ(DescribeEntry(E(1, 1, Bytes("abc")), [](const Bytes&) { return std::string(); }),
            "1/1 EntryNormal");
}

TEST(Describe, Entries) {
  EXPECT_EQ(DescribeEntries({E(1, 1), E(1, 2, Bytes("x"))}),
            "1/1 EntryNormal \"\"\n1/2 EntryNormal \"x\"\n");
  EXPECT_EQ(DescribeEntries({}), "");
}

TEST(Describe, Message) {
  Message app;
  app.type = MessageType::MsgApp;
  app.from = NodeId(1);
  app.to = NodeId(2);
  app.term = Term(2);
  app.log_term = Term(2);
  app.index = Index(5);
  app.commit = Index(5);
  app.entries = {E(2, 6, Bytes("x")), E(2, 7)};
  EXPECT_EQ(
      DescribeMessage(app),
      R"(1->2 MsgApp Term:2 Log:2/5 Commit:5 Entries:[2/6 EntryNormal "x", 2/7 EntryNormal ""])");

  // Ids in hex, rejection with its hint, no Commit when it is 0.
  Message resp;
  resp.type = MessageType::MsgAppResp;
  resp.from = NodeId(0x1f);
  resp.to = NodeId(0xabc);
  resp.term = Term(3);
  resp.index = Index(9);
  resp.reject = true;
  resp.reject_hint = Index(7);
  EXPECT_EQ(DescribeMessage(resp), "1f->abc MsgAppResp Term:3 Log:0/9 Rejected (Hint: 7)");

  // The context is not printed.
  Message hb;
  hb.type = MessageType::MsgHeartbeat;
  hb.from = NodeId(1);
  hb.to = NodeId(2);
  hb.term = Term(2);
  hb.context = Bytes("ctx");
  EXPECT_EQ(DescribeMessage(hb), "1->2 MsgHeartbeat Term:2 Log:0/0");

  Message snap;
  snap.type = MessageType::MsgSnap;
  snap.from = NodeId(1);
  snap.to = NodeId(3);
  snap.term = Term(2);
  snap.snapshot.data = Bytes("{}");
  snap.snapshot.metadata.conf_state.voters = Ids({1, 2, 3});
  snap.snapshot.metadata.conf_state.learners = Ids({4});
  snap.snapshot.metadata.index = Index(10);
  snap.snapshot.metadata.term = Term(2);
  EXPECT_EQ(DescribeMessage(snap),
            "1->3 MsgSnap Term:2 Log:0/0 Snapshot: Index:10 Term:2 ConfState:Voters:[1 2 3] "
            "VotersOutgoing:[] Learners:[4] LearnersNext:[] AutoLeave:false");

  Message vote;
  vote.type = MessageType::MsgVoteResp;
  vote.from = NodeId(18446744073709551615ULL);
  vote.to = NodeId(2);
  vote.term = Term(18446744073709551615ULL);
  vote.reject = true;
  EXPECT_EQ(DescribeMessage(vote),
            "ffffffffffffffff->2 MsgVoteResp Term:18446744073709551615 Log:0/0 Rejected (Hint: 0)");

  Message prop;
  prop.type = MessageType::MsgProp;
  prop.from = NodeId(2);
  prop.to = NodeId(1);
  prop.entries = {E(0, 0, Bytes("abc"))};
  EXPECT_EQ(DescribeMessage(prop, &LengthFormatter),
            "2->1 MsgProp Term:0 Log:0/0 Entries:[0/0 EntryNormal <3 bytes>]");
}

TEST(Describe, HardState) {
  EXPECT_EQ(DescribeHardState(HardState{Term(2), NodeId(1), Index(5), Bytes()}),
            "Term:2 Vote:1 Commit:5");
  EXPECT_EQ(DescribeHardState(HardState{Term(2), kNoNode, Index(5), Bytes()}), "Term:2 Commit:5");
  EXPECT_EQ(DescribeHardState(HardState{}), "Term:0 Commit:0");
}

TEST(Describe, ConfState) {
  EXPECT_EQ(DescribeConfState(ConfState{}),
            "Voters:[] VotersOutgoing:[] Learners:[] LearnersNext:[] AutoLeave:false");
  ConfState cs;
  cs.voters = Ids({3, 1, 2});  // printed in the given order
  cs.learners = Ids({4, 5});
  cs.voters_outgoing = Ids({1, 2, 6});
  cs.learners_next = Ids({7});
  cs.auto_leave = true;
  EXPECT_EQ(DescribeConfState(cs),
            "Voters:[3 1 2] VotersOutgoing:[1 2 6] Learners:[4 5] LearnersNext:[7] AutoLeave:true");
}

TEST(Describe, Snapshot) {
  Snapshot s;
  EXPECT_EQ(DescribeSnapshot(s),
            "Index:0 Term:0 ConfState:Voters:[] VotersOutgoing:[] Learners:[] LearnersNext:[] "
            "AutoLeave:false");
  s.data = Bytes("x");  // the data is not printed
  s.metadata.conf_state.voters = Ids({1});
  s.metadata.index = Index(10);
  s.metadata.term = Term(2);
  EXPECT_EQ(DescribeSnapshot(s),
            "Index:10 Term:2 ConfState:Voters:[1] VotersOutgoing:[] Learners:[] LearnersNext:[] "
            "AutoLeave:false");
}

// Go prints an unknown type as its number: "1/1 99", "1->2 99 Term:0 Log:0/0".
TEST(Describe, UnknownTypesPrintAsNumbers) {
  EXPECT_EQ(DescribeEntry(E(1, 1, Bytes("z"), static_cast<EntryType>(99))), "1/1 99");
  Message m;
  m.type = static_cast<MessageType>(99);
  m.from = NodeId(1);
  m.to = NodeId(2);
  EXPECT_EQ(DescribeMessage(m), "1->2 99 Term:0 Log:0/0");
}

}  // namespace
}  // namespace raftkit::raftpb
