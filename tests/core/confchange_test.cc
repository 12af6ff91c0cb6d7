// Tests of membership transitions: simple changes (thesis §4.1: one voter at a time), joint
// consensus (thesis §4.3: enter C_old,new, then leave to C_new), learners and demotions, the
// configuration invariants, and rebuilding a configuration from a snapshot's ConfState.
#include "raftkit/core/confchange/confchange.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "raftkit/util/rand.h"

namespace raftkit::raft::confchange {
namespace {

using raftpb::ConfChangeSingle;
using raftpb::ConfChangeType;
using raftpb::ConfState;
using tracker::Config;
using tracker::ProgressMap;
using tracker::ProgressTracker;
using Changes = std::vector<ConfChangeSingle>;

NodeId Id(uint64_t v) {
  return NodeId(v);
}
Index Idx(uint64_t v) {
  return Index(v);
}

ConfChangeSingle Change(ConfChangeType t, uint64_t id) {
  ConfChangeSingle cc;
  cc.type = t;
  cc.node_id = Id(id);
  return cc;
}
// Shorthands: make a voter, make a learner, remove, update.
ConfChangeSingle V(uint64_t id) {
  return Change(ConfChangeType::ConfChangeAddNode, id);
}
ConfChangeSingle L(uint64_t id) {
  return Change(ConfChangeType::ConfChangeAddLearnerNode, id);
}
ConfChangeSingle R(uint64_t id) {
  return Change(ConfChangeType::ConfChangeRemoveNode, id);
}
ConfChangeSingle U(uint64_t id) {
  return Change(ConfChangeType::ConfChangeUpdateNode, id);
}

std::vector<NodeId> Ids(std::vector<uint64_t> raw) {
  std::vector<NodeId> out;
  for (uint64_t v : raw)
    out.push_back(Id(v));
  return out;
}

// A tracker that moves through transitions the way a node applying conf changes would: a
// successful change replaces config and progress, a failed one leaves them untouched.
class Membership {
 public:
  explicit Membership(size_t max_inflight = 10) : tracker_(max_inflight, 0) {}

  Status Simple(const Changes& ccs, uint64_t last_index) {
    return Take(Changer(tracker_, Idx(last_index)).Simple(ccs));
  }
  Status EnterJoint(bool auto_leave, const Changes& ccs, uint64_t last_index) {
    return Take(Changer(tracker_, Idx(last_index)).EnterJoint(auto_leave, ccs));
  }
  Status LeaveJoint(uint64_t last_index) {
    return Take(Changer(tracker_, Idx(last_index)).LeaveJoint());
  }

  std::string Cfg() const { return tracker_.config.String(); }
  std::string Prs() const { return tracker::ToString(tracker_.progress); }
  ProgressTracker& tracker() { return tracker_; }
  tracker::Progress& pr(uint64_t id) { return tracker_.progress.at(Id(id)); }
  bool Has(uint64_t id) const { return tracker_.progress.contains(Id(id)); }

 private:
  Status Take(Result<Changed> r) {
    if (!r.ok()) return r.status();
    tracker_.config = std::move(r->config);
    tracker_.progress = std::move(r->progress);
    return Status::Ok();
  }

  ProgressTracker tracker_;
};

#define ASSERT_OK(expr)                      \
  do {                                       \
    const Status st_ = (expr);               \
    ASSERT_TRUE(st_.ok()) << st_.ToString(); \
  } while (0)

// Expects `expr` to fail with kInvalidArgument and a message containing `needle`.
#define EXPECT_INVALID(expr, needle)                                           \
  do {                                                                         \
    const Status st_ = (expr);                                                 \
    EXPECT_EQ(st_.code(), ErrorCode::kInvalidArgument) << st_.ToString();      \
    EXPECT_NE(st_.message().find(needle), std::string::npos) << st_.message(); \
  } while (0)

// ---------------------------------------------------------------------------------------------
// Simple changes

TEST(ConfChangeSimpleTest, FirstVoterOfEmptyConfigStartsProbingAtLastIndex) {
  Membership m(/*max_inflight=*/7);
  ASSERT_OK(m.Simple({V(1)}, 5));
  EXPECT_EQ(m.Cfg(), "voters=(1)");
  EXPECT_EQ(m.Prs(), "1: StateProbe match=0 next=5\n");
  const tracker::Progress& p = m.pr(1);
  EXPECT_TRUE(p.recent_active);  // new members count as active for CheckQuorum
  EXPECT_FALSE(p.is_learner);
  EXPECT_FALSE(p.probe_sent);
  EXPECT_EQ(p.pending_snapshot, Idx(0));
  EXPECT_EQ(p.inflights.MaxCount(), 7u);
  EXPECT_EQ(p.inflights.Count(), 0u);
}

TEST(ConfChangeSimpleTest, ReAddingAMemberKeepsItsProgress) {
  Membership m;
  ASSERT_OK(m.Simple({V(1)}, 0));
  ASSERT_OK(m.Simple({V(2)}, 3));
  m.pr(2).match = Idx(3);
  m.pr(2).next = Idx(4);
  m.pr(2).recent_active = false;
  ASSERT_OK(m.Simple({V(2)}, 9));  // already a voter: no-op
  EXPECT_EQ(m.Cfg(), "voters=(1 2)");
  EXPECT_EQ(m.pr(2).match, Idx(3));
  EXPECT_EQ(m.pr(2).next, Idx(4));
  EXPECT_FALSE(m.pr(2).recent_active);
  ASSERT_OK(m.Simple({L(5)}, 10));
  ASSERT_OK(m.Simple({L(5)}, 11));  // already a learner: no-op
  EXPECT_EQ(m.Cfg(), "voters=(1 2) learners=(5)");
  EXPECT_EQ(m.pr(5).next, Idx(10));
}

TEST(ConfChangeSimpleTest, LearnerPromotionAndVoterDemotionKeepProgress) {
  Membership m;
  ASSERT_OK(m.Simple({V(1)}, 0));
  ASSERT_OK(m.Simple({V(2)}, 1));
  ASSERT_OK(m.Simple({L(3)}, 2));
  EXPECT_EQ(m.Cfg(), "voters=(1 2) learners=(3)");
  EXPECT_TRUE(m.pr(3).is_learner);
  m.pr(3).match = Idx(6);
  m.pr(3).next = Idx(7);

  // Promote the learner: same progress, now voting.
  ASSERT_OK(m.Simple({V(3)}, 20));
  EXPECT_EQ(m.Cfg(), "voters=(1 2 3)");
  EXPECT_FALSE(m.pr(3).is_learner);
  EXPECT_EQ(m.pr(3).match, Idx(6));
  EXPECT_EQ(m.pr(3).next, Idx(7));

  // Demote a voter: it keeps its progress and becomes a learner at once (not joint).
  ASSERT_OK(m.Simple({L(2)}, 21));
  EXPECT_EQ(m.Cfg(), "voters=(1 3) learners=(2)");
  EXPECT_EQ(m.Prs(),
            "1: StateProbe match=0 next=0\n"
            "2: StateProbe match=0 next=1 learner\n"
            "3: StateProbe match=6 next=7\n");

  // Remove the learner: its progress goes.
  ASSERT_OK(m.Simple({R(2)}, 22));
  EXPECT_EQ(m.Cfg(), "voters=(1 3)");
  EXPECT_FALSE(m.Has(2));
}

TEST(ConfChangeSimpleTest, DemoteAndPromoteInOneChangeLastOneWins) {
  Membership m;
  for (uint64_t id : {1, 2, 3})
    ASSERT_OK(m.Simple({V(id)}, id));
  // Demote then promote 3: back to a voter, progress kept (next from when it was added).
  ASSERT_OK(m.Simple({L(3), V(3)}, 10));
  EXPECT_EQ(m.Cfg(), "voters=(1 2 3)");
  EXPECT_EQ(m.pr(3).next, Idx(3));
  EXPECT_FALSE(m.pr(3).is_learner);
  // Promote then demote 3: ends as a learner.
  ASSERT_OK(m.Simple({V(3), L(3)}, 11));
  EXPECT_EQ(m.Cfg(), "voters=(1 2) learners=(3)");
  EXPECT_TRUE(m.pr(3).is_learner);
  EXPECT_EQ(m.pr(3).next, Idx(3));
}

TEST(ConfChangeSimpleTest, RemovingAbsentNodesIsNoop) {
  Membership m;
  ASSERT_OK(m.Simple({V(1)}, 0));
  ASSERT_OK(m.Simple({V(2)}, 1));
  ASSERT_OK(m.Simple({R(2)}, 2));
  ASSERT_OK(m.Simple({R(2)}, 3));   // twice
  ASSERT_OK(m.Simple({R(42)}, 4));  // never a member
  EXPECT_EQ(m.Cfg(), "voters=(1)");
  EXPECT_EQ(m.Prs(), "1: StateProbe match=0 next=0\n");
}

TEST(ConfChangeSimpleTest, ManyLearnerChangesWithOneVoterChange) {
  Membership m;
  ASSERT_OK(m.Simple({V(1)}, 1));
  ASSERT_OK(m.Simple({V(2), L(3)}, 2));
  EXPECT_EQ(m.Cfg(), "voters=(1 2) learners=(3)");
  // Demoting 2 is the only voter change; adding learners is free.
  ASSERT_OK(m.Simple({L(2), L(3), L(4), L(5)}, 8));
  EXPECT_EQ(m.Cfg(), "voters=(1) learners=(2 3 4 5)");
  EXPECT_EQ(m.Prs(),
            "1: StateProbe match=0 next=1\n"
            "2: StateProbe match=0 next=2 learner\n"
            "3: StateProbe match=0 next=2 learner\n"
            "4: StateProbe match=0 next=8 learner\n"
            "5: StateProbe match=0 next=8 learner\n");
  ASSERT_OK(m.Simple({R(2), R(3), R(4), R(5)}, 9));
  EXPECT_EQ(m.Cfg(), "voters=(1)");
  EXPECT_EQ(m.tracker().progress.size(), 1u);
}

// Thesis §4.1: changing more than one voter at a time without joint consensus could let two
// disjoint majorities exist during the transition.
TEST(ConfChangeSimpleTest, RejectsChangingMoreThanOneVoter) {
  Membership m;
  ASSERT_OK(m.Simple({V(1)}, 1));
  ASSERT_OK(m.Simple({V(2)}, 2));
  const std::string before = m.Cfg() + "\n" + m.Prs();
  EXPECT_INVALID(m.Simple({V(3), V(4)}, 3), "more than one voter changed");
  EXPECT_INVALID(m.Simple({R(1), V(5)}, 3), "more than one voter changed");
  EXPECT_INVALID(m.Simple({L(1), V(5)}, 3), "more than one voter changed");
  EXPECT_INVALID(m.Simple({R(2), L(1), V(1), V(3)}, 3), "more than one voter changed");
  EXPECT_EQ(m.Cfg() + "\n" + m.Prs(), before);  // nothing applied
  // Net effect is what counts: remove and re-add the same voter changes nothing.
  ASSERT_OK(m.Simple({R(2), V(2)}, 4));
  EXPECT_EQ(m.Cfg(), "voters=(1 2)");
}

TEST(ConfChangeSimpleTest, RejectsRemovingAllVoters) {
  Membership m;
  EXPECT_INVALID(m.Simple({L(1)}, 0), "removed all voters");  // a learner-only config
  EXPECT_INVALID(m.Simple({}, 0), "removed all voters");      // the empty config stays empty
  ASSERT_OK(m.Simple({V(1)}, 1));
  EXPECT_INVALID(m.Simple({R(1)}, 2), "removed all voters");
  EXPECT_INVALID(m.Simple({L(1)}, 2), "removed all voters");
  ASSERT_OK(m.Simple({V(2)}, 3));
  EXPECT_INVALID(m.Simple({R(1), R(2)}, 4), "removed all voters");
  EXPECT_INVALID(m.Simple({L(1), L(2)}, 4), "removed all voters");
  EXPECT_EQ(m.Cfg(), "voters=(1 2)");
}

TEST(ConfChangeSimpleTest, RejectsSimpleChangeInJointConfig) {
  Membership m;
  ASSERT_OK(m.Simple({V(1)}, 1));
  ASSERT_OK(m.EnterJoint(false, {V(2)}, 2));
  EXPECT_INVALID(m.Simple({L(9)}, 3), "joint config");
  EXPECT_INVALID(m.Simple({}, 3), "joint config");
  EXPECT_EQ(m.Cfg(), "voters=(1 2)&&(1)");
}

TEST(ConfChangeSimpleTest, NodeZeroIsIgnored) {
  // etcd zeroes the node id of changes the application decided not to apply.
  Membership m;
  ASSERT_OK(m.Simple({V(1), R(0), V(0), L(0)}, 0));
  EXPECT_EQ(m.Cfg(), "voters=(1)");
  EXPECT_EQ(m.Prs(), "1: StateProbe match=0 next=0\n");
  ASSERT_OK(m.EnterJoint(false, {V(0), L(0), V(2)}, 1));
  EXPECT_EQ(m.Cfg(), "voters=(1 2)&&(1)");
  EXPECT_FALSE(m.Has(0));
}

TEST(ConfChangeSimpleTest, UpdateNodeChangesNothing) {
  Membership m;
  ASSERT_OK(m.Simple({V(1)}, 0));
  ASSERT_OK(m.Simple({V(2), U(1)}, 1));
  EXPECT_EQ(m.Cfg(), "voters=(1 2)");
  const std::string prs = m.Prs();
  ASSERT_OK(m.Simple({U(1), U(2), U(3), U(1)}, 2));  // 3 is not a member: not added either
  EXPECT_EQ(m.Cfg(), "voters=(1 2)");
  EXPECT_EQ(m.Prs(), prs);
  EXPECT_FALSE(m.Has(3));
}

TEST(ConfChangeSimpleTest, RejectsUnknownChangeType) {
  Membership m;
  ASSERT_OK(m.Simple({V(1)}, 0));
  EXPECT_INVALID(m.Simple({Change(static_cast<ConfChangeType>(9), 2)}, 1), "unexpected conf type");
  EXPECT_INVALID(m.EnterJoint(false, {Change(static_cast<ConfChangeType>(-1), 2)}, 1),
                 "unexpected conf type");
  EXPECT_EQ(m.Cfg(), "voters=(1)");
}

TEST(ConfChangeSimpleTest, ChangerDoesNotModifyTheTracker) {
  Membership m;
  ASSERT_OK(m.Simple({V(1)}, 0));
  ASSERT_OK(m.Simple({V(2)}, 0));
  const Config before = m.tracker().config;
  Result<Changed> r = Changer(m.tracker(), Idx(5)).Simple(Changes{L(2), L(3)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.String(), "voters=(1) learners=(2 3)");
  EXPECT_EQ(m.tracker().config, before);
  EXPECT_FALSE(m.tracker().progress.at(Id(2)).is_learner);
  EXPECT_FALSE(m.tracker().progress.contains(Id(3)));
}

// ---------------------------------------------------------------------------------------------
// Joint consensus

// Thesis §4.3: C_old,new keeps the old voters as the outgoing half until the joint config is left.
TEST(ConfChangeJointTest, EnterAndLeaveReplacesVoters) {
  Membership m;
  for (uint64_t id : {1, 2, 3})
    ASSERT_OK(m.Simple({V(id)}, id));
  ASSERT_OK(m.EnterJoint(false, {R(1), V(4), V(5)}, 7));
  EXPECT_EQ(m.Cfg(), "voters=(2 3 4 5)&&(1 2 3)");
  // 1 left the incoming half but still votes in the outgoing one: its progress stays.
  EXPECT_EQ(m.Prs(),
            "1: StateProbe match=0 next=1\n"
            "2: StateProbe match=0 next=2\n"
            "3: StateProbe match=0 next=3\n"
            "4: StateProbe match=0 next=7\n"
            "5: StateProbe match=0 next=7\n");
  ASSERT_OK(m.LeaveJoint(8));
  EXPECT_EQ(m.Cfg(), "voters=(2 3 4 5)");
  EXPECT_FALSE(m.Has(1));
  EXPECT_EQ(m.tracker().progress.size(), 4u);
}

TEST(ConfChangeJointTest, EnterWithoutChangesDuplicatesTheConfig) {
  Membership m;
  ASSERT_OK(m.Simple({V(1)}, 3));
  ASSERT_OK(m.EnterJoint(false, {}, 4));
  EXPECT_EQ(m.Cfg(), "voters=(1)&&(1)");
  EXPECT_EQ(m.Prs(), "1: StateProbe match=0 next=3\n");
  ASSERT_OK(m.LeaveJoint(5));
  EXPECT_EQ(m.Cfg(), "voters=(1)");
  EXPECT_EQ(m.Prs(), "1: StateProbe match=0 next=3\n");
}

TEST(ConfChangeJointTest, AutoLeaveIsRecordedAndClearedOnLeave) {
  Membership m;
  ASSERT_OK(m.Simple({V(1)}, 0));
  ASSERT_OK(m.EnterJoint(true, {V(2), V(3)}, 1));
  EXPECT_EQ(m.Cfg(), "voters=(1 2 3)&&(1) autoleave");
  EXPECT_TRUE(m.tracker().config.auto_leave);
  EXPECT_INVALID(m.EnterJoint(false, {}, 2), "already joint");
  ASSERT_OK(m.LeaveJoint(3));
  EXPECT_EQ(m.Cfg(), "voters=(1 2 3)");
  EXPECT_FALSE(m.tracker().config.auto_leave);
}

TEST(ConfChangeJointTest, RejectsInvalidTransitions) {
  Membership m;
  EXPECT_INVALID(m.LeaveJoint(0), "non-joint");
  EXPECT_INVALID(m.EnterJoint(false, {}, 0), "zero-voter");
  EXPECT_INVALID(m.EnterJoint(false, {V(1)}, 0), "zero-voter");  // even if it would add one
  ASSERT_OK(m.Simple({V(1)}, 3));
  EXPECT_INVALID(m.LeaveJoint(4), "non-joint");
  ASSERT_OK(m.EnterJoint(false, {}, 5));
  EXPECT_INVALID(m.EnterJoint(false, {}, 6), "already joint");
  EXPECT_INVALID(m.EnterJoint(true, {V(12)}, 6), "already joint");
  ASSERT_OK(m.LeaveJoint(7));
  EXPECT_INVALID(m.LeaveJoint(8), "non-joint");
  // Joint configs may not end up with an empty incoming half either.
  EXPECT_INVALID(m.EnterJoint(false, {R(1)}, 9), "removed all voters");
  EXPECT_INVALID(m.EnterJoint(false, {L(1)}, 9), "removed all voters");
  EXPECT_EQ(m.Cfg(), "voters=(1)");
}

TEST(ConfChangeJointTest, ReenterAfterLeavingWithLearners) {
  Membership m;
  ASSERT_OK(m.Simple({V(1)}, 3));
  ASSERT_OK(m.EnterJoint(false, {}, 4));
  ASSERT_OK(m.LeaveJoint(5));
  ASSERT_OK(m.EnterJoint(false, {R(1), V(2), V(3), L(4)}, 9));
  EXPECT_EQ(m.Cfg(), "voters=(2 3)&&(1) learners=(4)");
  EXPECT_TRUE(m.pr(4).is_learner);
  ASSERT_OK(m.LeaveJoint(10));
  EXPECT_EQ(m.Cfg(), "voters=(2 3) learners=(4)");
  EXPECT_EQ(m.Prs(),
            "2: StateProbe match=0 next=9\n"
            "3: StateProbe match=0 next=9\n"
            "4: StateProbe match=0 next=9 learner\n");
  ASSERT_OK(m.Simple({L(9)}, 14));
  EXPECT_EQ(m.Cfg(), "voters=(2 3) learners=(4 9)");
  EXPECT_EQ(m.pr(9).next, Idx(14));
}

// A voter demoted in a joint config still votes in the outgoing half, so it cannot be a learner
// yet: it waits in learners_next and becomes a learner (same progress) when the joint config is
// left.
TEST(ConfChangeJointTest, DemotedVoterWaitsInLearnersNext) {
  Membership m;
  ASSERT_OK(m.Simple({V(1)}, 0));
  m.pr(1).match = Idx(4);
  m.pr(1).next = Idx(5);
  ASSERT_OK(m.EnterJoint(false, {V(2), L(1)}, 1));
  EXPECT_EQ(m.Cfg(), "voters=(2)&&(1) learners_next=(1)");
  EXPECT_FALSE(m.pr(1).is_learner);
  EXPECT_TRUE(CheckInvariants(m.tracker().config, m.tracker().progress).ok());
  ASSERT_OK(m.LeaveJoint(2));
  EXPECT_EQ(m.Cfg(), "voters=(2) learners=(1)");
  EXPECT_TRUE(m.pr(1).is_learner);
  EXPECT_EQ(m.pr(1).match, Idx(4));  // not reset by the demotion
  EXPECT_EQ(m.pr(1).next, Idx(5));
  EXPECT_EQ(m.Prs(),
            "1: StateProbe match=4 next=5 learner\n"
            "2: StateProbe match=0 next=1\n");
}

TEST(ConfChangeJointTest, DemotionCanBeUndoneInTheSameChange) {
  Membership m;
  for (uint64_t id : {1, 2, 3})
    ASSERT_OK(m.Simple({V(id)}, 0));
  ASSERT_OK(m.EnterJoint(false, {L(3), V(3)}, 1));
  EXPECT_EQ(m.Cfg(), "voters=(1 2 3)&&(1 2 3)");
  EXPECT_TRUE(m.tracker().config.learners_next.empty());
  // The other way round: promote then demote ends in learners_next.
  ASSERT_OK(m.LeaveJoint(2));
  ASSERT_OK(m.EnterJoint(false, {V(3), L(3)}, 3));
  EXPECT_EQ(m.Cfg(), "voters=(1 2)&&(1 2 3) learners_next=(3)");
}

TEST(ConfChangeJointTest, RemovingADemotedVoterDropsItFromLearnersNext) {
  Membership m;
  for (uint64_t id : {1, 2, 3})
    ASSERT_OK(m.Simple({V(id)}, 0));
  ASSERT_OK(m.EnterJoint(false, {L(3), R(3)}, 1));
  EXPECT_EQ(m.Cfg(), "voters=(1 2)&&(1 2 3)");
  EXPECT_TRUE(m.Has(3));  // still an outgoing voter
  ASSERT_OK(m.LeaveJoint(2));
  EXPECT_EQ(m.Cfg(), "voters=(1 2)");
  EXPECT_FALSE(m.Has(3));
}

TEST(ConfChangeJointTest, RepeatedAndRedundantChangesAreIdempotent) {
  Membership m;
  ASSERT_OK(m.Simple({V(1)}, 0));
  ASSERT_OK(m.EnterJoint(
      false, {R(1), R(2), R(7), V(2), V(3), V(5), V(2), V(5), L(2), L(2), R(5), R(5), L(1), L(1)},
      1));
  // 1: removed, then demoted (twice) while still an outgoing voter -> learners_next.
  // 2: added, then demoted -> learner right away (never an outgoing voter).
  // 3: added. 5: added then removed. 7: never a member.
  EXPECT_EQ(m.Cfg(), "voters=(3)&&(1) learners=(2) learners_next=(1)");
  EXPECT_EQ(m.Prs(),
            "1: StateProbe match=0 next=0\n"
            "2: StateProbe match=0 next=1 learner\n"
            "3: StateProbe match=0 next=1\n");
  ASSERT_OK(m.LeaveJoint(2));
  EXPECT_EQ(m.Cfg(), "voters=(3) learners=(1 2)");
  EXPECT_EQ(m.Prs(),
            "1: StateProbe match=0 next=0 learner\n"
            "2: StateProbe match=0 next=1 learner\n"
            "3: StateProbe match=0 next=1\n");
}

TEST(ConfChangeJointTest, ChangerDoesNotModifyTheTracker) {
  Membership m;
  ASSERT_OK(m.Simple({V(1)}, 0));
  ASSERT_OK(m.Simple({V(2)}, 0));
  const Config before = m.tracker().config;
  Result<Changed> r = Changer(m.tracker(), Idx(5)).EnterJoint(true, Changes{L(2), V(3)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.String(), "voters=(1 3)&&(1 2) learners_next=(2) autoleave");
  EXPECT_EQ(m.tracker().config, before);
  EXPECT_EQ(m.tracker().progress.size(), 2u);
}

// ---------------------------------------------------------------------------------------------
// CheckInvariants

struct ConfigAndProgress {
  Config cfg;
  ProgressMap prs;
};

// A valid joint setup: (1 2)&&(1 3), learner 4, 3 demoted (learners_next).
ConfigAndProgress ValidJoint() {
  ConfigAndProgress s;
  s.cfg.voters.incoming = quorum::MajorityConfig{Id(1), Id(2)};
  s.cfg.voters.outgoing = quorum::MajorityConfig{Id(1), Id(3)};
  s.cfg.learners = quorum::IdSet{Id(4)};
  s.cfg.learners_next = quorum::IdSet{Id(3)};
  s.cfg.auto_leave = true;
  for (uint64_t id : {1, 2, 3, 4}) {
    tracker::Progress pr(10, 0);
    pr.is_learner = id == 4;
    s.prs.emplace(Id(id), pr);
  }
  return s;
}

TEST(ConfChangeInvariantsTest, AcceptsValidConfigs) {
  const ConfigAndProgress s = ValidJoint();
  EXPECT_TRUE(CheckInvariants(s.cfg, s.prs).ok());
  EXPECT_TRUE(CheckInvariants(Config(), ProgressMap()).ok());
}

TEST(ConfChangeInvariantsTest, DetectsEachViolation) {
  {
    ConfigAndProgress s = ValidJoint();
    s.prs.erase(Id(2));
    EXPECT_INVALID(CheckInvariants(s.cfg, s.prs), "no progress for 2");
  }
  {
    ConfigAndProgress s = ValidJoint();
    s.prs.erase(Id(3));  // outgoing voter and learners_next
    EXPECT_INVALID(CheckInvariants(s.cfg, s.prs), "no progress for 3");
  }
  {
    ConfigAndProgress s = ValidJoint();
    s.prs.erase(Id(4));
    EXPECT_INVALID(CheckInvariants(s.cfg, s.prs), "no progress for 4");
  }
  {
    ConfigAndProgress s = ValidJoint();
    s.cfg.learners_next.insert(Id(2));  // 2 is not an outgoing voter
    EXPECT_INVALID(CheckInvariants(s.cfg, s.prs), "2 is in LearnersNext, but not Voters[1]");
  }
  {
    ConfigAndProgress s = ValidJoint();
    s.prs.at(Id(3)).is_learner = true;  // demotion applied too early
    EXPECT_INVALID(CheckInvariants(s.cfg, s.prs), "already marked as learner");
  }
  {
    ConfigAndProgress s = ValidJoint();
    s.cfg.learners.insert(Id(3));  // learner while an outgoing voter
    s.cfg.learners_next.clear();
    s.prs.at(Id(3)).is_learner = true;
    EXPECT_INVALID(CheckInvariants(s.cfg, s.prs), "3 is in Learners and Voters[1]");
  }
  {
    ConfigAndProgress s = ValidJoint();
    s.cfg.learners.insert(Id(2));  // learner while an incoming voter
    s.prs.at(Id(2)).is_learner = true;
    EXPECT_INVALID(CheckInvariants(s.cfg, s.prs), "2 is in Learners and Voters[0]");
  }
  {
    ConfigAndProgress s = ValidJoint();
    s.prs.at(Id(4)).is_learner = false;
    EXPECT_INVALID(CheckInvariants(s.cfg, s.prs), "4 is in Learners, but is not marked");
  }
  {
    ConfigAndProgress s = ValidJoint();
    s.cfg.voters.outgoing.clear();
    s.cfg.learners_next.clear();
    EXPECT_INVALID(CheckInvariants(s.cfg, s.prs), "AutoLeave must be false");
  }
  {
    ConfigAndProgress s = ValidJoint();
    s.cfg.voters.outgoing.clear();  // learners_next left behind without a joint config
    s.cfg.auto_leave = false;
    const Status st = CheckInvariants(s.cfg, s.prs);
    EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument) << st.ToString();
  }
}

TEST(ConfChangeInvariantsTest, ChangerRefusesToStartFromBrokenConfig) {
  ProgressTracker t(10, 0);
  t.config.voters.incoming = quorum::MajorityConfig{Id(1), Id(2)};
  t.progress.emplace(Id(1), t.NewProgress());  // no progress for 2
  EXPECT_INVALID(Changer(t, Idx(1)).Simple(Changes{V(3)}).status(), "no progress for 2");
  EXPECT_INVALID(Changer(t, Idx(1)).EnterJoint(false, Changes{}).status(), "no progress for 2");
  t.config.voters.outgoing = quorum::MajorityConfig{Id(1)};
  EXPECT_INVALID(Changer(t, Idx(1)).LeaveJoint().status(), "no progress for 2");
}

// ---------------------------------------------------------------------------------------------
// Restore

ConfState MakeConfState(std::vector<uint64_t> voters, std::vector<uint64_t> learners,
                        std::vector<uint64_t> outgoing, std::vector<uint64_t> learners_next,
                        bool auto_leave) {
  ConfState cs;
  cs.voters = Ids(std::move(voters));
  cs.learners = Ids(std::move(learners));
  cs.voters_outgoing = Ids(std::move(outgoing));
  cs.learners_next = Ids(std::move(learners_next));
  cs.auto_leave = auto_leave;
  return cs;
}

ConfState Sorted(ConfState cs) {
  for (auto* v : {&cs.voters, &cs.learners, &cs.voters_outgoing, &cs.learners_next})
    std::sort(v->begin(), v->end());
  return cs;
}

TEST(ConfChangeRestoreTest, EmptyConfStateGivesEmptyConfig) {
  ProgressTracker empty(10, 0);
  Result<Changed> r = Restore(empty, Idx(10), ConfState());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.String(), "voters=()");
  EXPECT_TRUE(r->progress.empty());
}

TEST(ConfChangeRestoreTest, RebuildsSimpleConfigWithLearners) {
  ProgressTracker empty(10, 0);
  const ConfState cs = MakeConfState({3, 1, 2}, {6, 4, 5}, {}, {}, false);
  Result<Changed> r = Restore(empty, Idx(10), cs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.String(), "voters=(1 2 3) learners=(4 5 6)");
  EXPECT_EQ(tracker::ToString(r->progress),
            "1: StateProbe match=0 next=10\n"
            "2: StateProbe match=0 next=10\n"
            "3: StateProbe match=0 next=10\n"
            "4: StateProbe match=0 next=10 learner\n"
            "5: StateProbe match=0 next=10 learner\n"
            "6: StateProbe match=0 next=10 learner\n");
}

TEST(ConfChangeRestoreTest, RebuildsJointConfigWithDemotion) {
  ProgressTracker empty(20, 0);
  const ConfState cs = MakeConfState({1, 2, 3}, {5}, {1, 2, 4, 6}, {4}, true);
  Result<Changed> r = Restore(empty, Idx(10), cs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.String(),
            "voters=(1 2 3)&&(1 2 4 6) learners=(5) learners_next=(4) autoleave");
  EXPECT_TRUE(CheckInvariants(r->config, r->progress).ok());
  EXPECT_FALSE(r->progress.at(Id(4)).is_learner);  // still votes in the outgoing half
  EXPECT_TRUE(r->progress.at(Id(5)).is_learner);
  EXPECT_EQ(r->progress.size(), 6u);
  ProgressTracker t = empty;
  t.config = r->config;
  t.progress = r->progress;
  EXPECT_EQ(t.ConfState(), Sorted(cs));
  // Leaving the restored joint config lands where the snapshot's change was heading.
  Result<Changed> left = Changer(t, Idx(11)).LeaveJoint();
  ASSERT_TRUE(left.ok()) << left.status().ToString();
  EXPECT_EQ(left->config.String(), "voters=(1 2 3) learners=(4 5)");
  EXPECT_FALSE(left->progress.contains(Id(6)));
}

TEST(ConfChangeRestoreTest, RejectsInconsistentConfStates) {
  ProgressTracker empty(10, 0);
  // Learners without voters.
  EXPECT_FALSE(Restore(empty, Idx(1), MakeConfState({}, {1}, {}, {}, false)).ok());
  // The only voter is also listed as a learner: making it a learner leaves no voter.
  EXPECT_FALSE(Restore(empty, Idx(1), MakeConfState({1}, {1}, {}, {}, false)).ok());
  // A joint ConfState with an empty incoming half.
  EXPECT_FALSE(Restore(empty, Idx(1), MakeConfState({}, {}, {1}, {}, false)).ok());
}

// Random valid ConfStates survive Restore -> ConfState() unchanged.
TEST(ConfChangeRestoreTest, RoundTripsRandomConfStates) {
  Rand rng(4242);
  for (int iter = 0; iter < 1000; ++iter) {
    // A pool of distinct ids, consumed by role so the roles do not overlap.
    std::vector<uint64_t> pool;
    for (uint64_t id = 1; id <= 20; ++id)
      pool.push_back(id);
    for (size_t i = pool.size() - 1; i > 0; --i)
      std::swap(pool[i], pool[rng.Uniform(i + 1)]);
    size_t next = 0;
    auto take = [&](size_t n) {
      std::vector<uint64_t> out(pool.begin() + next, pool.begin() + next + n);
      next += n;
      return out;
    };
    const std::vector<uint64_t> voters = take(1 + rng.Uniform(5));
    const std::vector<uint64_t> learners = take(rng.Uniform(5));
    const std::vector<uint64_t> removed = take(rng.Uniform(3));  // outgoing-only voters
    std::vector<uint64_t> outgoing(voters.begin(), voters.begin() + rng.Uniform(voters.size() + 1));
    outgoing.insert(outgoing.end(), removed.begin(), removed.end());
    // Only outgoing-only voters can be demotions in progress.
    const std::vector<uint64_t> learners_next(removed.begin(),
                                              removed.begin() + rng.Uniform(removed.size() + 1));
    const bool auto_leave = !outgoing.empty() && rng.Uniform(2) == 1;
    const ConfState cs = MakeConfState(voters, learners, outgoing, learners_next, auto_leave);

    ProgressTracker empty(10, 0);
    const uint64_t last_index = 1 + rng.Uniform(100);
    Result<Changed> r = Restore(empty, Idx(last_index), cs);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(CheckInvariants(r->config, r->progress).ok());
    ProgressTracker t = empty;
    t.config = r->config;
    t.progress = r->progress;
    ASSERT_EQ(t.ConfState(), Sorted(cs)) << t.config.String();
    ASSERT_TRUE(raftpb::Equivalent(t.ConfState(), cs));
    // Exactly the members have progress, all fresh at last_index.
    // learners_next are among the removed voters, so they need no separate count.
    ASSERT_EQ(r->progress.size(), voters.size() + learners.size() + removed.size());
    for (const auto& [id, pr] : r->progress) {
      ASSERT_EQ(pr.next, Idx(last_index));
      ASSERT_EQ(pr.match, Idx(0));
      ASSERT_EQ(pr.is_learner, t.config.learners.contains(id)) << id.value();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Randomized: one-at-a-time simple changes and a single joint change reach the same place.

Changes RandomChanges(Rand& rng, size_t max_len, uint64_t min_id, uint64_t max_id) {
  Changes out;
  const size_t n = 1 + rng.Uniform(max_len);
  for (size_t i = 0; i < n; ++i) {
    const auto type = static_cast<ConfChangeType>(rng.Uniform(4));
    out.push_back(Change(type, min_id + rng.Uniform(max_id - min_id + 1)));
  }
  return out;
}

// Membership and learner flags of a progress map (next/match aside).
std::map<uint64_t, bool> Members(const ProgressMap& prs) {
  std::map<uint64_t, bool> out;
  for (const auto& [id, pr] : prs)
    out[id.value()] = pr.is_learner;
  return out;
}

// Restores the ConfState of `m` and checks the rebuilt configuration is the same.
void ExpectRestoreEquivalent(Membership& m) {
  const ConfState cs = m.tracker().ConfState();
  ProgressTracker empty(10, 0);
  Result<Changed> r = Restore(empty, Idx(10), cs);
  ASSERT_TRUE(r.ok()) << m.Cfg() << ": " << r.status().ToString();
  EXPECT_EQ(r->config, m.tracker().config) << r->config.String() << " vs " << m.Cfg();
  EXPECT_EQ(Members(r->progress), Members(m.tracker().progress)) << m.Cfg();
  EXPECT_TRUE(CheckInvariants(r->config, r->progress).ok());
}

TEST(ConfChangeRandomTest, SimpleStepsAndJointChangeAgreeAndRestore) {
  Rand rng(99);
  for (int iter = 0; iter < 500; ++iter) {
    // Both paths start from the same config: voter 1 (never touched below, so no change can
    // leave the config without voters) plus a few more voters.
    Membership simple;
    ASSERT_OK(simple.Simple({V(1)}, 10));
    const size_t extra = rng.Uniform(5);
    for (size_t i = 0; i < extra; ++i)
      ASSERT_OK(simple.Simple({V(2 + rng.Uniform(5))}, 10));
    Membership joint = simple;
    Membership joint_auto = simple;

    const Changes ccs = RandomChanges(rng, 9, 2, 10);
    const std::string what = "changes: " + Describe(ccs) + " from " + simple.Cfg();

    for (const ConfChangeSingle& cc : ccs) {
      ASSERT_OK(simple.Simple({cc}, 10));
      const Status inv = CheckInvariants(simple.tracker().config, simple.tracker().progress);
      ASSERT_TRUE(inv.ok()) << what << ": " << inv.ToString();
    }

    ASSERT_OK(joint.EnterJoint(false, ccs, 10));
    ASSERT_OK(joint_auto.EnterJoint(true, ccs, 10));
    ASSERT_TRUE(CheckInvariants(joint.tracker().config, joint.tracker().progress).ok()) << what;
    // Autoleave changes nothing but the flag.
    Config auto_cfg = joint_auto.tracker().config;
    EXPECT_TRUE(auto_cfg.auto_leave) << what;
    auto_cfg.auto_leave = false;
    EXPECT_EQ(auto_cfg, joint.tracker().config) << what;
    EXPECT_EQ(joint_auto.Prs(), joint.Prs()) << what;
    // In C_old,new the incoming half is already the final voter set, and every final learner is
    // a learner or a pending demotion.
    EXPECT_EQ(joint.tracker().config.voters.incoming, simple.tracker().config.voters.incoming)
        << what;
    quorum::IdSet future_learners = joint.tracker().config.learners;
    for (NodeId id : joint.tracker().config.learners_next)
      future_learners.insert(id);
    EXPECT_EQ(future_learners, simple.tracker().config.learners) << what;
    ExpectRestoreEquivalent(joint);
    ExpectRestoreEquivalent(joint_auto);

    ASSERT_OK(joint.LeaveJoint(10));
    ASSERT_OK(joint_auto.LeaveJoint(10));
    ASSERT_TRUE(CheckInvariants(joint.tracker().config, joint.tracker().progress).ok()) << what;
    EXPECT_EQ(joint.tracker().config, simple.tracker().config)
        << what << "\njoint: " << joint.Cfg() << "\nsimple: " << simple.Cfg();
    EXPECT_EQ(joint.Prs(), simple.Prs()) << what;
    EXPECT_EQ(joint_auto.tracker().config, simple.tracker().config) << what;
    ExpectRestoreEquivalent(simple);
  }
}

size_t SymDiffSize(const quorum::IdSet& a, const quorum::IdSet& b) {
  size_t n = 0;
  for (NodeId id : a)
    n += b.contains(id) ? 0 : 1;
  for (NodeId id : b)
    n += a.contains(id) ? 0 : 1;
  return n;
}

// Thesis §4.1 / §4.3 as a property over random batches applied to evolving configs: a simple
// change never alters more than one voter; anything else must go through a joint config, which
// accepts it as long as voters remain. Invariants hold throughout and Restore rebuilds every
// reached configuration.
TEST(ConfChangeRandomTest, RandomBatchesKeepInvariantsAndSafety) {
  Rand rng(2718);
  for (int run = 0; run < 60; ++run) {
    Membership m;
    ASSERT_OK(m.Simple({V(1 + rng.Uniform(6))}, 1));
    uint64_t last_index = 1;
    for (int step = 0; step < 30; ++step) {
      ++last_index;
      const Changes ccs = RandomChanges(rng, 4, 0, 6);  // includes node 0 and removals of all
      const quorum::IdSet before = m.tracker().config.voters.incoming;
      if (m.tracker().config.voters.IsJoint()) {
        // Leave (most of the time); a simple change must be refused meanwhile.
        EXPECT_INVALID(m.Simple(ccs, last_index), "joint config");
        if (rng.Uniform(4) != 0) ASSERT_OK(m.LeaveJoint(last_index));
      } else if (rng.Uniform(2) == 0) {
        Membership probe = m;
        const Status st = m.Simple(ccs, last_index);
        if (st.ok()) {
          EXPECT_LE(SymDiffSize(before, m.tracker().config.voters.incoming), 1u) << Describe(ccs);
          EXPECT_FALSE(m.tracker().config.voters.incoming.empty());
        } else if (st.message().find("more than one voter") != std::string::npos) {
          // The same batch is fine through joint consensus.
          ASSERT_OK(probe.EnterJoint(false, ccs, last_index));
        } else {
          EXPECT_NE(st.message().find("removed all voters"), std::string::npos) << st.message();
        }
      } else {
        const Status st = m.EnterJoint(rng.Uniform(2) == 0, ccs, last_index);
        if (!st.ok()) {
          EXPECT_NE(st.message().find("removed all voters"), std::string::npos) << st.message();
        } else {
          EXPECT_EQ(m.tracker().config.voters.outgoing, before);
        }
      }
      const Status inv = CheckInvariants(m.tracker().config, m.tracker().progress);
      ASSERT_TRUE(inv.ok()) << m.Cfg() << ": " << inv.ToString();
      EXPECT_FALSE(m.tracker().config.voters.incoming.empty());
      EXPECT_FALSE(m.Has(0));
      ExpectRestoreEquivalent(m);
    }
  }
}

}  // namespace
}  // namespace raftkit::raft::confchange
