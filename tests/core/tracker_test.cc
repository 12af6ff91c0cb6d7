// Tests of the ProgressTracker: the leader's view of the configuration, of every member's
// progress and of the votes in an election.
#include "raftkit/core/tracker/tracker.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <vector>

namespace raftkit::raft::tracker {
namespace {

NodeId Id(uint64_t v) {
  return NodeId(v);
}
Index Idx(uint64_t v) {
  return Index(v);
}

std::vector<uint64_t> Raw(const std::vector<NodeId>& ids) {
  std::vector<uint64_t> out;
  for (NodeId id : ids)
    out.push_back(id.value());
  return out;
}

// A tracker with the given configuration and a progress entry for every member.
struct Members {
  std::vector<uint64_t> incoming;
  std::vector<uint64_t> outgoing = {};
  std::vector<uint64_t> learners = {};
  std::vector<uint64_t> learners_next = {};
};

ProgressTracker MakeTracker(const Members& m) {
  ProgressTracker t(256, 0);
  auto add = [&](uint64_t id, bool learner) {
    if (t.progress.contains(Id(id))) return;
    Progress pr = t.NewProgress();
    pr.next = Idx(1);
    pr.is_learner = learner;
    t.progress.emplace(Id(id), pr);
  };
  for (uint64_t id : m.incoming) {
    t.config.voters.incoming.insert(Id(id));
    add(id, false);
  }
  for (uint64_t id : m.outgoing) {
    t.config.voters.outgoing.insert(Id(id));
    add(id, false);
  }
  for (uint64_t id : m.learners) {
    t.config.learners.insert(Id(id));
    add(id, true);
  }
  for (uint64_t id : m.learners_next) {
    t.config.learners_next.insert(Id(id));
    add(id, false);
  }
  return t;
}

void SetMatch(ProgressTracker& t, std::initializer_list<std::pair<uint64_t, uint64_t>> matches) {
  for (auto [id, m] : matches)
    t.progress.at(Id(id)).match = Idx(m);
}

// ---------------------------------------------------------------------------------------------
// Committed

// Raft §5.3: the leader commits the largest index replicated on a majority of voters.
TEST(TrackerTest, CommittedIsMajorityMatchOfVoters) {
  ProgressTracker t = MakeTracker({.incoming = {1, 2, 3}});
  SetMatch(t, {{1, 10}, {2, 7}, {3, 3}});
  EXPECT_EQ(t.Committed(), Idx(7));
  SetMatch(t, {{3, 12}});
  EXPECT_EQ(t.Committed(), Idx(10));
}

TEST(TrackerTest, CommittedIgnoresLearners) {
  // Learners hold every entry, voters 2 and 3 lag: learners must not make anything committed.
  ProgressTracker t = MakeTracker({.incoming = {1, 2, 3}, .learners = {4, 5}});
  SetMatch(t, {{1, 20}, {2, 5}, {3, 4}, {4, 20}, {5, 20}});
  EXPECT_EQ(t.Committed(), Idx(5));
}

// Thesis §4.3: in a joint configuration an entry is committed only with majorities of both.
TEST(TrackerTest, CommittedOverJointConfigNeedsBothMajorities) {
  ProgressTracker t = MakeTracker({.incoming = {1, 2, 3}, .outgoing = {1, 4, 5}});
  SetMatch(t, {{1, 30}, {2, 30}, {3, 30}, {4, 8}, {5, 2}});
  // Incoming holds 30; outgoing (1 4 5) only 8.
  EXPECT_EQ(t.Committed(), Idx(8));
  SetMatch(t, {{5, 25}});
  EXPECT_EQ(t.Committed(), Idx(25));
  SetMatch(t, {{2, 1}, {3, 0}});
  // Now the incoming half is the bottleneck: 1 alone holds 30, (1 2 3) commits 1.
  EXPECT_EQ(t.Committed(), Idx(1));
}

TEST(TrackerTest, SingleVoterCommitsItsOwnMatch) {
  ProgressTracker t = MakeTracker({.incoming = {1}});
  SetMatch(t, {{1, 42}});
  EXPECT_EQ(t.Committed(), Idx(42));
}

// ---------------------------------------------------------------------------------------------
// QuorumActive (CheckQuorum, thesis §6.2)

TEST(TrackerTest, QuorumActiveCountsOnlyVoters) {
  ProgressTracker t = MakeTracker({.incoming = {1, 2, 3}, .learners = {4, 5}});
  for (auto& [id, pr] : t.progress)
    pr.recent_active = false;
  t.progress.at(Id(1)).recent_active = true;
  t.progress.at(Id(4)).recent_active = true;
  t.progress.at(Id(5)).recent_active = true;
  // Three active members, but only one of them is a voter.
  EXPECT_FALSE(t.QuorumActive());
  t.progress.at(Id(3)).recent_active = true;
  EXPECT_TRUE(t.QuorumActive());
  // Learners going quiet changes nothing.
  t.progress.at(Id(4)).recent_active = false;
  t.progress.at(Id(5)).recent_active = false;
  EXPECT_TRUE(t.QuorumActive());
}

TEST(TrackerTest, QuorumActiveInJointConfigNeedsBothHalves) {
  ProgressTracker t = MakeTracker({.incoming = {1, 2, 3}, .outgoing = {3, 4, 5}});
  for (auto& [id, pr] : t.progress)
    pr.recent_active = false;
  t.progress.at(Id(1)).recent_active = true;
  t.progress.at(Id(2)).recent_active = true;
  EXPECT_FALSE(t.QuorumActive());  // outgoing half has nobody active
  t.progress.at(Id(4)).recent_active = true;
  EXPECT_FALSE(t.QuorumActive());  // 4 alone is not a majority of (3 4 5)
  t.progress.at(Id(5)).recent_active = true;
  EXPECT_TRUE(t.QuorumActive());
}

// ---------------------------------------------------------------------------------------------
// Votes

TEST(TrackerTest, RecordVoteKeepsTheFirstVote) {
  ProgressTracker t = MakeTracker({.incoming = {1, 2, 3}});
  t.RecordVote(Id(2), true);
  t.RecordVote(Id(2), false);  // a duplicate (e.g. re-delivered) response must not flip the vote
  t.RecordVote(Id(3), false);
  t.RecordVote(Id(3), true);
  EXPECT_TRUE(t.votes.at(Id(2)));
  EXPECT_FALSE(t.votes.at(Id(3)));
  const ProgressTracker::Tally tally = t.TallyVotes();
  EXPECT_EQ(tally.granted, 1u);
  EXPECT_EQ(tally.rejected, 1u);
  EXPECT_EQ(tally.result, quorum::VoteResult::kVotePending);
}

TEST(TrackerTest, ResetVotesStartsAFreshElection) {
  ProgressTracker t = MakeTracker({.incoming = {1, 2, 3}});
  t.RecordVote(Id(1), false);
  t.ResetVotes();
  EXPECT_TRUE(t.votes.empty());
  t.RecordVote(Id(1), true);
  EXPECT_TRUE(t.votes.at(Id(1)));
}

// Raft §5.2: a candidate wins with votes from a majority of the voters.
TEST(TrackerTest, TallyVotesDecidesByVoterMajority) {
  ProgressTracker t = MakeTracker({.incoming = {1, 2, 3, 4, 5}});
  t.RecordVote(Id(1), true);
  t.RecordVote(Id(2), true);
  EXPECT_EQ(t.TallyVotes().result, quorum::VoteResult::kVotePending);
  t.RecordVote(Id(3), false);
  t.RecordVote(Id(4), false);
  EXPECT_EQ(t.TallyVotes().result, quorum::VoteResult::kVotePending);
  t.RecordVote(Id(5), true);
  const ProgressTracker::Tally tally = t.TallyVotes();
  EXPECT_EQ(tally.granted, 3u);
  EXPECT_EQ(tally.rejected, 2u);
  EXPECT_EQ(tally.result, quorum::VoteResult::kVoteWon);

  ProgressTracker lose = MakeTracker({.incoming = {1, 2, 3}});
  lose.RecordVote(Id(1), true);
  lose.RecordVote(Id(2), false);
  lose.RecordVote(Id(3), false);
  EXPECT_EQ(lose.TallyVotes().result, quorum::VoteResult::kVoteLost);
}

TEST(TrackerTest, TallyVotesIgnoresLearnersAndNonMembers) {
  ProgressTracker t = MakeTracker({.incoming = {1, 2, 3}, .learners = {4}});
  t.RecordVote(Id(1), true);
  t.RecordVote(Id(4), true);  // learner: has no vote
  t.RecordVote(Id(9), true);  // not a member at all
  t.RecordVote(Id(8), false);
  ProgressTracker::Tally tally = t.TallyVotes();
  EXPECT_EQ(tally.granted, 1u);
  EXPECT_EQ(tally.rejected, 0u);
  EXPECT_EQ(tally.result, quorum::VoteResult::kVotePending);
  t.RecordVote(Id(2), true);
  tally = t.TallyVotes();
  EXPECT_EQ(tally.granted, 2u);
  EXPECT_EQ(tally.result, quorum::VoteResult::kVoteWon);
}

TEST(TrackerTest, TallyVotesInJointConfigCountsBothHalves) {
  ProgressTracker t = MakeTracker({.incoming = {1, 2, 3}, .outgoing = {3, 4, 5}});
  t.RecordVote(Id(1), true);
  t.RecordVote(Id(2), true);
  // Incoming has won, outgoing has no votes yet.
  EXPECT_EQ(t.TallyVotes().result, quorum::VoteResult::kVotePending);
  t.RecordVote(Id(4), false);
  t.RecordVote(Id(5), false);
  ProgressTracker::Tally tally = t.TallyVotes();
  EXPECT_EQ(tally.result, quorum::VoteResult::kVoteLost);  // outgoing majority rejected
  EXPECT_EQ(tally.granted, 2u);
  EXPECT_EQ(tally.rejected, 2u);  // outgoing-only voters are counted too
}

// ---------------------------------------------------------------------------------------------
// Membership views

TEST(TrackerTest, VoterAndLearnerNodesAreSorted) {
  ProgressTracker t =
      MakeTracker({.incoming = {7, 2, 5}, .outgoing = {9, 2, 1}, .learners = {8, 3}});
  EXPECT_EQ(Raw(t.VoterNodes()), (std::vector<uint64_t>{1, 2, 5, 7, 9}));
  EXPECT_EQ(Raw(t.LearnerNodes()), (std::vector<uint64_t>{3, 8}));
  ProgressTracker empty(10, 0);
  EXPECT_TRUE(empty.VoterNodes().empty());
  EXPECT_TRUE(empty.LearnerNodes().empty());
}

TEST(TrackerTest, ConfStateReflectsConfig) {
  ProgressTracker t = MakeTracker(
      {.incoming = {3, 1, 2}, .outgoing = {4, 2, 1}, .learners = {6, 5}, .learners_next = {4}});
  t.config.auto_leave = true;
  const raftpb::ConfState cs = t.ConfState();
  EXPECT_EQ(Raw(cs.voters), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(Raw(cs.voters_outgoing), (std::vector<uint64_t>{1, 2, 4}));
  EXPECT_EQ(Raw(cs.learners), (std::vector<uint64_t>{5, 6}));
  EXPECT_EQ(Raw(cs.learners_next), (std::vector<uint64_t>{4}));
  EXPECT_TRUE(cs.auto_leave);

  const raftpb::ConfState plain = MakeTracker({.incoming = {1}}).ConfState();
  EXPECT_EQ(Raw(plain.voters), (std::vector<uint64_t>{1}));
  EXPECT_TRUE(plain.voters_outgoing.empty());
  EXPECT_TRUE(plain.learners.empty());
  EXPECT_TRUE(plain.learners_next.empty());
  EXPECT_FALSE(plain.auto_leave);
}

TEST(TrackerTest, IsSingletonOnlyForOneVoterOutsideJointConfig) {
  EXPECT_TRUE(MakeTracker({.incoming = {1}}).IsSingleton());
  EXPECT_TRUE(MakeTracker({.incoming = {1}, .learners = {2, 3}}).IsSingleton());
  EXPECT_FALSE(MakeTracker({.incoming = {1, 2}}).IsSingleton());
  EXPECT_FALSE(MakeTracker({.incoming = {1}, .outgoing = {1}}).IsSingleton());
  EXPECT_FALSE(MakeTracker({.incoming = {1}, .outgoing = {2}}).IsSingleton());
  EXPECT_FALSE(ProgressTracker(10, 0).IsSingleton());
}

TEST(TrackerTest, VisitWalksMembersInIdOrderAndCanModify) {
  ProgressTracker t = MakeTracker({.incoming = {5, 1, 3}, .learners = {4}});
  std::vector<uint64_t> seen;
  t.Visit([&](NodeId id, Progress& pr) {
    seen.push_back(id.value());
    pr.match = Idx(id.value() * 10);
  });
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 3, 4, 5}));
  EXPECT_EQ(t.progress.at(Id(4)).match, Idx(40));
  EXPECT_EQ(t.Committed(), Idx(30));  // voters 1,3,5 at 10,30,50
}

TEST(TrackerTest, NewProgressUsesTrackerWindowLimits) {
  ProgressTracker t(7, 4096);
  EXPECT_EQ(t.max_inflight(), 7u);
  EXPECT_EQ(t.max_inflight_bytes(), 4096u);
  const Progress pr = t.NewProgress();
  EXPECT_EQ(pr.inflights.MaxCount(), 7u);
  EXPECT_EQ(pr.inflights.MaxBytes(), 4096u);
  EXPECT_EQ(pr.state, StateType::kProbe);
  EXPECT_EQ(pr.match, Idx(0));
  EXPECT_FALSE(pr.is_learner);
}

// ---------------------------------------------------------------------------------------------
// Config::String

TEST(TrackerConfigTest, StringFormat) {
  Config c;
  EXPECT_EQ(c.String(), "voters=()");
  c.voters.incoming = quorum::MajorityConfig{Id(1), Id(2), Id(3)};
  EXPECT_EQ(c.String(), "voters=(1 2 3)");
  c.learners = quorum::IdSet{Id(4)};
  EXPECT_EQ(c.String(), "voters=(1 2 3) learners=(4)");
  c.voters.outgoing = quorum::MajorityConfig{Id(2), Id(1)};
  c.learners_next = quorum::IdSet{Id(3)};
  c.auto_leave = true;
  EXPECT_EQ(c.String(), "voters=(1 2 3)&&(1 2) learners=(4) learners_next=(3) autoleave");
  c.learners.clear();
  EXPECT_EQ(c.String(), "voters=(1 2 3)&&(1 2) learners_next=(3) autoleave");
}

TEST(TrackerConfigTest, EqualityComparesAllFields) {
  Config a;
  a.voters.incoming = quorum::MajorityConfig{Id(1)};
  Config b = a;
  EXPECT_EQ(a, b);
  b.auto_leave = true;
  EXPECT_NE(a, b);
  b = a;
  b.learners_next.insert(Id(2));
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace raftkit::raft::tracker
