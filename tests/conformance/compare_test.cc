// The comparator decides pass or fail of the differential suite: it must be exact.
#include <gtest/gtest.h>

#include "conformance/compare.h"
#include "conformance/harness.h"

namespace raftkit::conformance {
namespace {

TEST(ConformanceCompare, IdenticalOutputsAreIdentical) {
  const std::string out =
      "> 1 config nodes=1\n> 2 campaign 1\n> 3 ready 1\nready 1\n  must-sync=true\n";
  EXPECT_EQ(Compare(out, out).kind, Verdict::Kind::kIdentical);
}

TEST(ConformanceCompare, FirstDifferentStepIsReported) {
  const std::string a = "> 1 config nodes=1\n> 2 ready 1\nready 1\n  must-sync=true\n";
  const std::string b = "> 1 config nodes=1\n> 2 ready 1\nready 1\n  must-sync=false\n";
  const Verdict v = Compare(a, b);
  EXPECT_EQ(v.kind, Verdict::Kind::kDiverged);
  EXPECT_EQ(v.step, 2);
  EXPECT_NE(v.detail.find("must-sync=true"), std::string::npos);
  EXPECT_NE(v.detail.find("must-sync=false"), std::string::npos);
}

TEST(ConformanceCompare, MissingStepsDiverge) {
  EXPECT_EQ(Compare("> 1 a\n> 2 b\n", "> 1 a\n").kind, Verdict::Kind::kDiverged);
  EXPECT_EQ(Compare("> 1 a\n", "> 1 a\n> 2 b\n").kind, Verdict::Kind::kDiverged);
}

TEST(ConformanceCompare, DeviationStopsTheComparisonAtItsStep) {
  const std::string a = "> 1 a\n> 2 b\nx\n[deviation #5]\n> 3 c\nsomething\n";
  const std::string b = "> 1 a\n> 2 b\ny\n> 3 c\nother\n";
  const Verdict v = Compare(a, b);
  EXPECT_EQ(v.kind, Verdict::Kind::kExplained);
  EXPECT_EQ(v.deviation, 5);
  EXPECT_EQ(v.step, 2);
}

TEST(ConformanceCompare, DifferenceBeforeADeviationStillDiverges) {
  const std::string a = "> 1 a\nx\n> 2 b\n[deviation #13]\n";
  const std::string b = "> 1 a\ny\n> 2 b\n";
  EXPECT_EQ(Compare(a, b).kind, Verdict::Kind::kDiverged);
}

TEST(ConformanceCompare, PanicsAtTheSameStepAgree) {
  EXPECT_EQ(Compare("> 1 a\n> 2 b\npartial\nPANIC\n", "> 1 a\n> 2 b\nPANIC\n").kind,
            Verdict::Kind::kIdentical);
  EXPECT_EQ(Compare("> 1 a\n> 2 b\nPANIC\n", "> 1 a\n> 2 b\nfine\n").kind,
            Verdict::Kind::kDiverged);
}

TEST(ConformanceHarness, PrintsTheCanonicalForms) {
  raftpb::Message m;
  m.type = raftpb::MessageType::MsgApp;
  m.from = NodeId(1);
  m.to = NodeId(2);
  m.term = Term(2);
  m.entries.push_back(
      raftpb::Entry{raftpb::EntryType::EntryNormal, Term(2), Index(5), Bytes("x"), {}});
  m.entries.push_back(
      raftpb::Entry{raftpb::EntryType::EntryNormal, Term(2), Index(6), Bytes(), {}});
  m.context = Bytes::Empty();
  EXPECT_EQ(PrintMessage(m),
            "MsgApp 1->2 term=2 logterm=0 index=0 commit=0 reject=false hint=0 ctx=\"\" snap=none "
            "ents=[EntryNormal 2/5 78; EntryNormal 2/6 -]");
}

// Drives the harness until no node has a Ready and no message is pending.
std::string Stabilize(Harness& h, int& n) {
  std::string out;
  for (int round = 0; round < 100; ++round) {
    bool any = false;
    for (const auto& [id, node] : h.nodes()) {
      if (node.rn->HasReady()) {
        out += h.Execute(++n, "ready " + std::to_string(id.value()));
        any = true;
      }
    }
    while (!h.pending().empty()) {
      out += h.Execute(++n, "deliver 0");
      any = true;
    }
    if (!any) break;
  }
  return out;
}

TEST(ConformanceHarness, ReportsDeviationsAtTheirStep) {
  Harness h;
  int n = 0;
  h.Execute(++n, "config nodes=3");
  Stabilize(h, n);  // apply the bootstrap entries first
  h.Execute(++n, "campaign 1");
  Stabilize(h, n);
  ASSERT_EQ(h.RaftOf(NodeId(1)).state, raft::StateType::kLeader);
  h.Execute(++n, "propose-cc-v1 1 7 remove 3");
  Stabilize(h, n);
  ASSERT_TRUE(h.RaftOf(NodeId(3)).removed_voter);
  // A removed voter campaigning is deviation #10: etcd 3.4 ignores its MsgHup.
  const std::string out = h.Execute(++n, "campaign 3");
  EXPECT_NE(out.find("[deviation #10]"), std::string::npos) << out;
  // A normal command reports nothing.
  EXPECT_EQ(h.Execute(++n, "status 1").find("[deviation"), std::string::npos);
}

}  // namespace
}  // namespace raftkit::conformance
