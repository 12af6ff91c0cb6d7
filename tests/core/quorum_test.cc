// Tests of the quorum layer: committed indexes and election outcomes of majority and joint
// configurations (Raft §5.3 commitment by majority, thesis §4.3 joint consensus).
#include "raftkit/core/quorum/quorum.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "raftkit/util/rand.h"

namespace raftkit::raft::quorum {
namespace {

NodeId Id(uint64_t v) {
  return NodeId(v);
}
Index Idx(uint64_t v) {
  return Index(v);
}

MajorityConfig Majority(std::initializer_list<uint64_t> ids) {
  MajorityConfig c;
  for (uint64_t id : ids)
    c.insert(Id(id));
  return c;
}

JointConfig Joint(std::initializer_list<uint64_t> in, std::initializer_list<uint64_t> out) {
  return JointConfig{Majority(in), Majority(out)};
}

std::vector<uint64_t> Raw(const IdSet& s) {
  std::vector<uint64_t> out;
  for (NodeId id : s)
    out.push_back(id.value());
  return out;
}

// Acknowledged indexes given as {id, index} pairs; ids not listed are unknown.
MapAckIndexer Acks(std::initializer_list<std::pair<uint64_t, uint64_t>> acks) {
  MapAckIndexer l;
  for (auto [id, idx] : acks)
    l.map()[Id(id)] = Idx(idx);
  return l;
}

// Votes given as a string over the ids in order: 'y' granted, 'n' rejected, '_' not voted.
VoteMap Votes(std::initializer_list<uint64_t> ids, const std::string& pattern) {
  EXPECT_EQ(ids.size(), pattern.size());
  VoteMap v;
  size_t i = 0;
  for (uint64_t id : ids) {
    const char c = pattern[i++];
    if (c == 'y') v[Id(id)] = true;
    if (c == 'n') v[Id(id)] = false;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// IdSet

TEST(IdSetTest, KeepsIdsSortedAndUnique) {
  IdSet s;
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(s.insert(Id(7)));
  EXPECT_TRUE(s.insert(Id(2)));
  EXPECT_TRUE(s.insert(Id(5)));
  EXPECT_FALSE(s.insert(Id(2)));  // already present
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(Raw(s), (std::vector<uint64_t>{2, 5, 7}));
  EXPECT_TRUE(s.contains(Id(5)));
  EXPECT_FALSE(s.contains(Id(4)));
}

TEST(IdSetTest, EraseReportsWhetherIdWasPresent) {
  IdSet s{Id(3), Id(1), Id(2)};
  EXPECT_TRUE(s.erase(Id(2)));
  EXPECT_FALSE(s.erase(Id(2)));
  EXPECT_FALSE(s.erase(Id(9)));
  EXPECT_EQ(Raw(s), (std::vector<uint64_t>{1, 3}));
  s.clear();
  EXPECT_TRUE(s.empty());
}

TEST(IdSetTest, InitializerListDeduplicatesAndSorts) {
  IdSet s{Id(4), Id(1), Id(4), Id(3)};
  EXPECT_EQ(Raw(s), (std::vector<uint64_t>{1, 3, 4}));
  EXPECT_EQ(s, (IdSet{Id(1), Id(3), Id(4)}));
  EXPECT_NE(s, (IdSet{Id(1), Id(3)}));
}

TEST(IdSetTest, StringListsIdsInAscendingOrder) {
  EXPECT_EQ(IdSet().String(), "()");
  EXPECT_EQ((IdSet{Id(9)}).String(), "(9)");
  EXPECT_EQ((IdSet{Id(3), Id(1), Id(20)}).String(), "(1 3 20)");
}

// ---------------------------------------------------------------------------------------------
// MajorityConfig::CommittedIndex

TEST(MajorityCommittedTest, EmptyConfigCommitsEverything) {
  // An empty half must never hold back a joint config, so it reports the largest index.
  EXPECT_EQ(MajorityConfig().CommittedIndex(Acks({})), kInfiniteIndex);
  EXPECT_EQ(MajorityConfig().CommittedIndex(Acks({{1, 5}})), kInfiniteIndex);
  EXPECT_EQ(kInfiniteIndex.value(), UINT64_MAX);
}

struct CommitCase {
  std::vector<uint64_t> voters;
  std::vector<std::pair<uint64_t, uint64_t>> acks;
  uint64_t want;
  const char* why;
};

// Raft §5.3: an entry is committed once a majority of the voters store it, so the committed index
// is the largest index acknowledged by at least floor(n/2)+1 voters.
TEST(MajorityCommittedTest, LargestIndexHeldByMajorityForOneToSevenVoters) {
  const std::vector<CommitCase> cases = {
      {{1}, {}, 0, "single voter without ack"},
      {{1}, {{1, 12}}, 12, "single voter decides alone"},
      {{1, 2}, {{1, 12}}, 0, "two voters need both; 2 unknown counts as 0"},
      {{1, 2}, {{1, 12}, {2, 5}}, 5, "two voters: the smaller index"},
      {{1, 2, 3}, {{1, 12}, {2, 5}}, 5, "three voters: 1 and 2 hold 5"},
      {{1, 2, 3}, {{1, 12}, {2, 5}, {3, 6}}, 6, "1 and 3 hold 6"},
      {{1, 2, 3}, {{1, 12}, {2, 5}, {3, 4}}, 5, "1 and 2 hold 5"},
      {{1, 2, 3}, {{1, 100}, {2, 101}, {3, 103}}, 101, "median of three"},
      {{1, 2, 3, 4}, {{1, 10}, {2, 20}, {3, 30}, {4, 40}}, 20, "four voters need three"},
      {{1, 2, 3, 4}, {{1, 40}, {2, 30}}, 0, "only two of four known"},
      {{1, 2, 3, 4, 5}, {{1, 101}, {2, 104}, {3, 103}, {4, 103}}, 103, "2,3,4 hold 103"},
      {{1, 2, 3, 4, 5}, {{1, 101}, {2, 102}, {3, 103}, {4, 103}}, 102, "2,3,4 hold 102"},
      {{1, 2, 3, 4, 5, 6}, {{1, 6}, {2, 5}, {3, 4}, {4, 3}, {5, 2}, {6, 1}}, 3, "six need four"},
      {{1, 2, 3, 4, 5, 6, 7},
       {{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}, {6, 6}, {7, 7}},
       4,
       "seven need four"},
      {{1, 2, 3, 4, 5, 6, 7}, {{1, 9}, {2, 9}, {3, 9}}, 0, "three of seven is no majority"},
      {{1, 2, 3, 4, 5, 6, 7}, {{1, 9}, {2, 9}, {3, 9}, {7, 1}}, 1, "four of seven hold 1"},
  };
  for (const CommitCase& c : cases) {
    MajorityConfig cfg;
    for (uint64_t id : c.voters)
      cfg.insert(Id(id));
    MapAckIndexer l;
    for (auto [id, idx] : c.acks)
      l.map()[Id(id)] = Idx(idx);
    EXPECT_EQ(cfg.CommittedIndex(l), Idx(c.want)) << c.why << "\n" << cfg.Describe(l);
  }
}

TEST(MajorityCommittedTest, AcksOfNonVotersAreIgnored) {
  // Node 9 is not a voter: its index must not help 1..3 reach a majority.
  EXPECT_EQ(Majority({1, 2, 3}).CommittedIndex(Acks({{1, 50}, {9, 50}, {2, 10}})), Idx(10));
}

TEST(MajorityCommittedTest, TiesAtTheQuorumPosition) {
  // All equal: that index is committed.
  EXPECT_EQ(Majority({1, 2, 3}).CommittedIndex(Acks({{1, 5}, {2, 5}, {3, 5}})), Idx(5));
  // Four voters, two pairs: only the lower pair value is held by three voters.
  EXPECT_EQ(Majority({1, 2, 3, 4}).CommittedIndex(Acks({{1, 3}, {2, 3}, {3, 7}, {4, 7}})), Idx(3));
  // Five voters, 7 held by three of them: committed.
  EXPECT_EQ(
      Majority({1, 2, 3, 4, 5}).CommittedIndex(Acks({{1, 7}, {2, 3}, {3, 7}, {4, 3}, {5, 7}})),
      Idx(7));
  // A known ack of 0 behaves like a missing ack.
  EXPECT_EQ(Majority({1, 2, 3}).CommittedIndex(Acks({{1, 0}, {2, 0}, {3, 8}})), Idx(0));
}

TEST(MajorityCommittedTest, LargeConfigBeyondStackBuffer) {
  // Nine voters with indexes 10..90: five of them (50..90) hold 50.
  MajorityConfig cfg;
  MapAckIndexer l;
  for (uint64_t i = 1; i <= 9; ++i) {
    cfg.insert(Id(i));
    l.map()[Id(i)] = Idx(i * 10);
  }
  EXPECT_EQ(cfg.CommittedIndex(l), Idx(50));
  // Thirteen voters, four unknown: the 7th largest of {130..40, 0, 0, 0, 0} = 70.
  MajorityConfig big;
  MapAckIndexer lb;
  for (uint64_t i = 1; i <= 13; ++i) {
    big.insert(Id(i));
    if (i >= 4) lb.map()[Id(i)] = Idx(i * 10);
  }
  // Known: 40..130 (ten values). Seven voters needed: 130,120,110,100,90,80,70 -> 70.
  EXPECT_EQ(big.CommittedIndex(lb), Idx(70));
}

// ---------------------------------------------------------------------------------------------
// MajorityConfig::GetVoteResult

struct VoteCase {
  std::vector<uint64_t> voters;
  std::string votes;  // per voter in order: y / n / _
  VoteResult want;
};

VoteMap VotesFor(const std::vector<uint64_t>& ids, const std::string& pattern) {
  VoteMap v;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (pattern[i] == 'y') v[Id(ids[i])] = true;
    if (pattern[i] == 'n') v[Id(ids[i])] = false;
  }
  return v;
}

// Raft §5.2: a candidate wins once a majority granted its vote; it has lost once so many rejected
// that the remaining voters cannot make up a majority.
TEST(MajorityVoteTest, WonLostOrPendingByCountingYesAndMissing) {
  constexpr auto kWon = VoteResult::kVoteWon;
  constexpr auto kLost = VoteResult::kVoteLost;
  constexpr auto kPending = VoteResult::kVotePending;
  const std::vector<VoteCase> cases = {
      {{5}, "_", kPending},
      {{5}, "y", kWon},
      {{5}, "n", kLost},
      {{3, 9}, "__", kPending},
      {{3, 9}, "y_", kPending},
      {{3, 9}, "_n", kLost},  // one rejection of two: a majority (2) is out of reach
      {{3, 9}, "yy", kWon},
      {{3, 9}, "yn", kLost},
      {{1, 5, 6}, "___", kPending},
      {{1, 5, 6}, "y__", kPending},
      {{1, 5, 6}, "n__", kPending},
      {{1, 5, 6}, "yn_", kPending},
      {{1, 5, 6}, "_yy", kWon},
      {{1, 5, 6}, "nyy", kWon},
      {{1, 5, 6}, "nn_", kLost},
      {{1, 5, 6}, "yny", kWon},
      {{1, 2, 3, 4}, "yy__", kPending},  // four voters need three
      {{1, 2, 3, 4}, "yyy_", kWon},
      {{1, 2, 3, 4}, "yynn", kLost},
      {{1, 2, 3, 4}, "_n_n", kLost},
      {{1, 2, 3, 4, 5}, "yy_nn", kPending},
      {{1, 2, 3, 4, 5}, "yyynn", kWon},
      {{1, 2, 3, 4, 5}, "nnn__", kLost},
      {{1, 2, 3, 4, 5, 6, 7}, "yyy_nnn", kPending},
      {{1, 2, 3, 4, 5, 6, 7}, "yyyynnn", kWon},
      {{1, 2, 3, 4, 5, 6, 7}, "_y_nnnn", kLost},
      {{1, 2, 3, 4, 5, 6, 7}, "y_y_y_y", kWon},
  };
  for (const VoteCase& c : cases) {
    MajorityConfig cfg;
    for (uint64_t id : c.voters)
      cfg.insert(Id(id));
    EXPECT_EQ(cfg.GetVoteResult(VotesFor(c.voters, c.votes)), c.want)
        << cfg.String() << " votes=" << c.votes << " got "
        << Name(cfg.GetVoteResult(VotesFor(c.voters, c.votes)));
  }
}

TEST(MajorityVoteTest, EmptyConfigWinsEveryVote) {
  EXPECT_EQ(MajorityConfig().GetVoteResult({}), VoteResult::kVoteWon);
  EXPECT_EQ(MajorityConfig().GetVoteResult({{Id(1), false}}), VoteResult::kVoteWon);
}

TEST(MajorityVoteTest, VotesOfNonVotersDoNotCount) {
  // Votes from 7 and 8 (not members) must not turn a pending election into a win or a loss.
  EXPECT_EQ(Majority({1, 2, 3}).GetVoteResult({{Id(1), true}, {Id(7), true}, {Id(8), true}}),
            VoteResult::kVotePending);
  EXPECT_EQ(Majority({1, 2, 3}).GetVoteResult({{Id(1), false}, {Id(7), false}, {Id(8), false}}),
            VoteResult::kVotePending);
}

TEST(MajorityVoteTest, NamesOfResults) {
  EXPECT_STREQ(Name(VoteResult::kVotePending), "VotePending");
  EXPECT_STREQ(Name(VoteResult::kVoteLost), "VoteLost");
  EXPECT_STREQ(Name(VoteResult::kVoteWon), "VoteWon");
}

// ---------------------------------------------------------------------------------------------
// JointConfig

// Thesis §4.3: in C_old,new, agreement (for elections and commitment) needs separate majorities
// from both configurations.
TEST(JointCommittedTest, CommittedIsMinimumOfBothHalves) {
  // Disjoint halves.
  EXPECT_EQ(Joint({1, 2, 3}, {4, 5, 6})
                .CommittedIndex(Acks({{1, 9}, {2, 9}, {3, 1}, {4, 7}, {5, 7}, {6, 2}})),
            Idx(7));
  // Overlapping: incoming (1 2 3) holds 100 via 1,2; outgoing (1 4 5) only 50 via 1,4.
  EXPECT_EQ(Joint({1, 2, 3}, {1, 4, 5})
                .CommittedIndex(Acks({{1, 100}, {2, 100}, {3, 10}, {4, 50}, {5, 20}})),
            Idx(50));
  // Identical halves behave like the majority config.
  EXPECT_EQ(Joint({1, 2}, {1, 2}).CommittedIndex(Acks({{1, 41}, {2, 40}})), Idx(40));
  // The outgoing half has no ack at all: nothing is committed.
  EXPECT_EQ(Joint({1}, {2}).CommittedIndex(Acks({{1, 100}})), Idx(0));
}

TEST(JointCommittedTest, EmptyOutgoingHalfIsDecidedByIncomingAlone) {
  const JointConfig j = Joint({1, 2, 3}, {});
  EXPECT_FALSE(j.IsJoint());
  const MapAckIndexer l = Acks({{1, 100}, {2, 101}, {3, 99}});
  EXPECT_EQ(j.CommittedIndex(l), Idx(100));
  EXPECT_EQ(j.CommittedIndex(l), Majority({1, 2, 3}).CommittedIndex(l));
  // Both halves empty: infinitely committed.
  EXPECT_EQ(JointConfig().CommittedIndex(l), kInfiniteIndex);
}

TEST(JointCommittedTest, SymmetricInTheTwoHalves) {
  const MapAckIndexer l = Acks({{1, 5}, {2, 8}, {3, 13}, {4, 2}});
  EXPECT_EQ(Joint({1, 2, 3}, {3, 4}).CommittedIndex(l), Joint({3, 4}, {1, 2, 3}).CommittedIndex(l));
  EXPECT_EQ(Joint({1, 2, 3}, {3, 4}).CommittedIndex(l), Idx(2));
}

TEST(JointVoteTest, BothHalvesMustWinAndEitherCanLose) {
  constexpr auto kWon = VoteResult::kVoteWon;
  constexpr auto kLost = VoteResult::kVoteLost;
  constexpr auto kPending = VoteResult::kVotePending;
  // Disjoint halves (1 2) and (3 4).
  const JointConfig d = Joint({1, 2}, {3, 4});
  EXPECT_EQ(d.GetVoteResult(Votes({1, 2, 3, 4}, "____")), kPending);
  EXPECT_EQ(d.GetVoteResult(Votes({1, 2, 3, 4}, "yy__")), kPending);  // won + pending
  EXPECT_EQ(d.GetVoteResult(Votes({1, 2, 3, 4}, "yyy_")), kPending);
  EXPECT_EQ(d.GetVoteResult(Votes({1, 2, 3, 4}, "yyyy")), kWon);
  EXPECT_EQ(d.GetVoteResult(Votes({1, 2, 3, 4}, "yyn_")), kLost);  // won + lost
  EXPECT_EQ(d.GetVoteResult(Votes({1, 2, 3, 4}, "n___")), kLost);  // lost + pending
  EXPECT_EQ(d.GetVoteResult(Votes({1, 2, 3, 4}, "nnnn")), kLost);
  // Overlapping halves (1 2 3) and (2 3 4): 2 and 3 win both at once.
  const JointConfig o = Joint({1, 2, 3}, {2, 3, 4});
  EXPECT_EQ(o.GetVoteResult(Votes({1, 2, 3, 4}, "_yy_")), kWon);
  EXPECT_EQ(o.GetVoteResult(Votes({1, 2, 3, 4}, "_nn_")), kLost);
  EXPECT_EQ(o.GetVoteResult(Votes({1, 2, 3, 4}, "_n__")), kPending);
  EXPECT_EQ(o.GetVoteResult(Votes({1, 2, 3, 4}, "yyn_")), kPending);
  EXPECT_EQ(o.GetVoteResult(Votes({1, 2, 3, 4}, "yynn")), kLost);
  EXPECT_EQ(o.GetVoteResult(Votes({1, 2, 3, 4}, "yyny")), kWon);
  // Singleton halves (1) and (2).
  const JointConfig s = Joint({1}, {2});
  EXPECT_EQ(s.GetVoteResult(Votes({1, 2}, "y_")), kPending);
  EXPECT_EQ(s.GetVoteResult(Votes({1, 2}, "yn")), kLost);
  EXPECT_EQ(s.GetVoteResult(Votes({1, 2}, "ny")), kLost);
  EXPECT_EQ(s.GetVoteResult(Votes({1, 2}, "yy")), kWon);
}

TEST(JointVoteTest, EmptyOutgoingHalfDefersToIncoming) {
  const JointConfig j = Joint({1}, {});
  EXPECT_EQ(j.GetVoteResult({}), VoteResult::kVotePending);
  EXPECT_EQ(j.GetVoteResult({{Id(1), true}}), VoteResult::kVoteWon);
  EXPECT_EQ(j.GetVoteResult({{Id(1), false}}), VoteResult::kVoteLost);
  EXPECT_EQ(JointConfig().GetVoteResult({}), VoteResult::kVoteWon);
}

TEST(JointConfigTest, IdsIsTheUnionOfBothHalves) {
  EXPECT_EQ(Raw(Joint({3, 1, 2}, {2, 5, 4}).IDs()), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(Raw(Joint({1, 2}, {}).IDs()), (std::vector<uint64_t>{1, 2}));
  EXPECT_TRUE(JointConfig().IDs().empty());
}

TEST(JointConfigTest, StringShowsOutgoingHalfOnlyWhenJoint) {
  EXPECT_EQ(Joint({1, 2, 3}, {}).String(), "(1 2 3)");
  EXPECT_EQ(Joint({1, 2, 3}, {1, 2}).String(), "(1 2 3)&&(1 2)");
  EXPECT_EQ(Joint({4}, {1, 2, 3}).String(), "(4)&&(1 2 3)");
  EXPECT_EQ(JointConfig().String(), "()");
  EXPECT_TRUE(Joint({}, {1}).IsJoint());
  EXPECT_EQ(Joint({}, {1}).String(), "()&&(1)");
}

// ---------------------------------------------------------------------------------------------
// Describe(): the exact layout of etcd's quorum scenario files (raft/quorum/testdata). Each case
// lists the voters, the acknowledged index of each id in listing order (nullopt: unknown) and the
// picture etcd prints followed by the committed index.

struct DescribeCase {
  std::vector<uint64_t> incoming;
  std::optional<std::vector<uint64_t>> outgoing;  // nullopt: a plain majority config
  std::vector<std::optional<uint64_t>> acks;      // in order of first appearance of the ids
  std::string picture;
  uint64_t committed;
};

TEST(DescribeTest, MatchesEtcdScenarioLayout) {
  constexpr std::nullopt_t _ = std::nullopt;
  const std::vector<DescribeCase> cases = {
      // majority_commit.txt
      {{1}, std::nullopt, {_}, "     idx\n?      0    (id=1)\n", 0},
      {{1}, std::nullopt, {12}, "     idx\n>     12    (id=1)\n", 12},
      {{1, 2},
       std::nullopt,
       {12, _},
       "      idx\n"
       "x>     12    (id=1)\n"
       "?       0    (id=2)\n",
       0},
      {{1, 2, 3},
       std::nullopt,
       {12, 5, 4},
       "       idx\n"
       "xx>     12    (id=1)\n"
       "x>       5    (id=2)\n"
       ">        4    (id=3)\n",
       5},
      {{1, 2, 3},
       std::nullopt,
       {5, 5, 12},
       "       idx\n"
       ">        5    (id=1)\n"
       ">        5    (id=2)\n"
       "xx>     12    (id=3)\n",
       5},
      {{1, 2, 3},
       std::nullopt,
       {5, 5, _},
       "       idx\n"
       "x>       5    (id=1)\n"
       ">        5    (id=2)\n"
       "?        0    (id=3)\n",
       5},
      {{1, 2, 3, 4, 5},
       std::nullopt,
       {101, 104, 103, 103, _},
       "         idx\n"
       "x>       101    (id=1)\n"
       "xxxx>    104    (id=2)\n"
       "xx>      103    (id=3)\n"
       ">        103    (id=4)\n"
       "?          0    (id=5)\n",
       103},
      // joint_commit.txt
      {{1, 2, 3},
       std::vector<uint64_t>{},
       {100, 101, 99},
       "       idx\n"
       "x>     100    (id=1)\n"
       "xx>    101    (id=2)\n"
       ">       99    (id=3)\n",
       100},
      {{1, 3},
       std::vector<uint64_t>{2},
       {100, 45, 50},  // 1 -> 100, 3 -> 45, 2 -> 50
       "       idx\n"
       "xx>    100    (id=1)\n"
       "x>      50    (id=2)\n"
       ">       45    (id=3)\n",
       45},
      {{1, 2},
       std::vector<uint64_t>{3, 4},
       {50, 48, 49, 47},
       "        idx\n"
       "xxx>     50    (id=1)\n"
       "x>       48    (id=2)\n"
       "xx>      49    (id=3)\n"
       ">        47    (id=4)\n",
       47},
      {{1, 2, 3},
       std::vector<uint64_t>{4, 5, 6},
       {92, 99, 90, 97, 95, 77},
       "          idx\n"
       "xx>        92    (id=1)\n"
       "xxxxx>     99    (id=2)\n"
       "x>         90    (id=3)\n"
       "xxxx>      97    (id=4)\n"
       "xxx>       95    (id=5)\n"
       ">          77    (id=6)\n",
       92},
      {{1, 2, 3},
       std::vector<uint64_t>{1, 4, 5},
       {_, 100, 99, 99, 98},
       "         idx\n"
       "?          0    (id=1)\n"
       "xxxx>    100    (id=2)\n"
       "xx>       99    (id=3)\n"
       ">         99    (id=4)\n"
       "x>        98    (id=5)\n",
       98},
  };
  for (const DescribeCase& c : cases) {
    // Ids in order of first appearance (incoming, then new outgoing ones) receive the acks.
    std::vector<uint64_t> order = c.incoming;
    if (c.outgoing) {
      for (uint64_t id : *c.outgoing) {
        if (std::find(order.begin(), order.end(), id) == order.end()) order.push_back(id);
      }
    }
    ASSERT_EQ(order.size(), c.acks.size());
    MapAckIndexer l;
    for (size_t i = 0; i < order.size(); ++i) {
      if (c.acks[i]) l.map()[Id(order[i])] = Idx(*c.acks[i]);
    }
    MajorityConfig in;
    for (uint64_t id : c.incoming)
      in.insert(Id(id));
    if (!c.outgoing) {
      EXPECT_EQ(in.Describe(l), c.picture) << in.String();
      EXPECT_EQ(in.CommittedIndex(l), Idx(c.committed)) << in.String();
    } else {
      MajorityConfig out;
      for (uint64_t id : *c.outgoing)
        out.insert(Id(id));
      const JointConfig j{in, out};
      EXPECT_EQ(j.Describe(l), c.picture) << j.String();
      EXPECT_EQ(j.CommittedIndex(l), Idx(c.committed)) << j.String();
    }
  }
}

TEST(DescribeTest, EmptyConfig) {
  EXPECT_EQ(MajorityConfig().Describe(Acks({{1, 3}})), "<empty majority quorum>");
  EXPECT_EQ(JointConfig().Describe(Acks({})), "<empty majority quorum>");
}

// ---------------------------------------------------------------------------------------------
// Property tests against brute-force definitions.

// The largest index i such that some majority of `cfg` acknowledged at least i; unknown acks count
// as 0. Empty configs have no constraint (infinite).
uint64_t BruteCommitted(const std::vector<uint64_t>& cfg,
                        const std::map<uint64_t, uint64_t>& acks) {
  if (cfg.empty()) return UINT64_MAX;
  std::vector<uint64_t> candidates{0};
  for (auto [id, idx] : acks)
    candidates.push_back(idx);
  uint64_t best = 0;
  for (uint64_t cand : candidates) {
    size_t holders = 0;
    for (uint64_t id : cfg) {
      auto it = acks.find(id);
      if ((it == acks.end() ? 0 : it->second) >= cand) ++holders;
    }
    if (2 * holders > cfg.size()) best = std::max(best, cand);
  }
  return best;
}

// Whether a yes-majority exists in every non-empty half, counting only the given votes.
bool AllHalvesWin(const std::vector<std::vector<uint64_t>>& halves,
                  const std::map<uint64_t, bool>& votes) {
  for (const auto& half : halves) {
    if (half.empty()) continue;
    size_t yes = 0;
    for (uint64_t id : half) {
      auto it = votes.find(id);
      if (it != votes.end() && it->second) ++yes;
    }
    if (2 * yes <= half.size()) return false;
  }
  return true;
}

// The election outcome by enumerating every way the missing voters could still vote: won if it
// is won already, lost if no completion wins, pending otherwise.
VoteResult BruteVote(const std::vector<std::vector<uint64_t>>& halves,
                     const std::map<uint64_t, bool>& votes) {
  if (AllHalvesWin(halves, votes)) return VoteResult::kVoteWon;
  std::vector<uint64_t> missing;
  for (const auto& half : halves) {
    for (uint64_t id : half) {
      if (!votes.contains(id) && std::find(missing.begin(), missing.end(), id) == missing.end()) {
        missing.push_back(id);
      }
    }
  }
  for (uint64_t mask = 0; mask < (uint64_t{1} << missing.size()); ++mask) {
    std::map<uint64_t, bool> completed = votes;
    for (size_t i = 0; i < missing.size(); ++i)
      completed[missing[i]] = ((mask >> i) & 1) != 0;
    if (AllHalvesWin(halves, completed)) return VoteResult::kVotePending;
  }
  return VoteResult::kVoteLost;
}

std::vector<uint64_t> RandomVoters(Rand& rng, size_t max_size) {
  // A random subset of ids 1..9 with at most max_size members.
  std::vector<uint64_t> out;
  const size_t n = rng.Uniform(max_size + 1);
  while (out.size() < n) {
    const uint64_t id = 1 + rng.Uniform(9);
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

MajorityConfig ToConfig(const std::vector<uint64_t>& ids) {
  MajorityConfig c;
  for (uint64_t id : ids)
    c.insert(Id(id));
  return c;
}

TEST(QuorumPropertyTest, CommittedIndexMatchesBruteForceDefinition) {
  Rand rng(20240611);
  for (int iter = 0; iter < 3000; ++iter) {
    const std::vector<uint64_t> in = RandomVoters(rng, 7);
    const std::vector<uint64_t> out = RandomVoters(rng, 7);
    std::map<uint64_t, uint64_t> acks;
    MapAckIndexer l;
    for (uint64_t id = 1; id <= 9; ++id) {
      if (rng.Uniform(4) == 0) continue;     // unknown
      const uint64_t idx = rng.Uniform(12);  // small range: plenty of ties
      acks[id] = idx;
      l.map()[Id(id)] = Idx(idx);
    }
    const MajorityConfig cin = ToConfig(in);
    const MajorityConfig cout = ToConfig(out);
    const uint64_t want_in = BruteCommitted(in, acks);
    const uint64_t want_out = BruteCommitted(out, acks);
    ASSERT_EQ(cin.CommittedIndex(l), Idx(want_in)) << cin.String() << "\n" << cin.Describe(l);
    const JointConfig j{cin, cout};
    ASSERT_EQ(j.CommittedIndex(l), Idx(std::min(want_in, want_out))) << j.String() << "\n"
                                                                     << j.Describe(l);
    // Swapping the halves, or joining a config with itself or with nothing, changes nothing.
    ASSERT_EQ((JointConfig{cout, cin}).CommittedIndex(l), j.CommittedIndex(l));
    ASSERT_EQ((JointConfig{cin, cin}).CommittedIndex(l), cin.CommittedIndex(l));
    ASSERT_EQ((JointConfig{cin, {}}).CommittedIndex(l), cin.CommittedIndex(l));
  }
}

TEST(QuorumPropertyTest, VoteResultMatchesEnumerationOfOutcomes) {
  Rand rng(77);
  for (int iter = 0; iter < 3000; ++iter) {
    const std::vector<uint64_t> in = RandomVoters(rng, 7);
    const std::vector<uint64_t> out = RandomVoters(rng, 5);
    std::map<uint64_t, bool> votes;
    VoteMap vm;
    for (uint64_t id = 1; id <= 9; ++id) {
      const uint64_t r = rng.Uniform(3);
      if (r == 0) continue;  // has not voted
      votes[id] = r == 1;
      vm[Id(id)] = r == 1;
    }
    const MajorityConfig cin = ToConfig(in);
    const MajorityConfig cout = ToConfig(out);
    ASSERT_EQ(cin.GetVoteResult(vm), BruteVote({in}, votes)) << cin.String();
    const JointConfig j{cin, cout};
    const VoteResult want = BruteVote({in, out}, votes);
    ASSERT_EQ(j.GetVoteResult(vm), want)
        << j.String() << " got " << Name(j.GetVoteResult(vm)) << " want " << Name(want);
    ASSERT_EQ((JointConfig{cout, cin}).GetVoteResult(vm), want);
  }
}

}  // namespace
}  // namespace raftkit::raft::quorum
