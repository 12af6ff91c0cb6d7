// Proof that the simulator has teeth: each test switches on one bug planted on purpose (in the
// core: src/core/planted_bugs.h; around it: sim::SimBug) and requires the simulator to catch it
// within the seeds CI runs. This binary links raftkit_core_planted; nothing else does.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "core/planted_bugs.h"
#include "sim/sim.h"

namespace raftkit::sim {
namespace {

using raft::planted::Bug;

// The fresh-seed run of CI covers at least this many seeds, so a bug must be caught within it.
constexpr uint64_t kSeedBudget = 2000;

struct Catch {
  bool caught = false;
  uint64_t seeds = 0;
  std::string how;
};

Catch Hunt(Bug core_bug, SimBug sim_bug) {
  raft::planted::Active() = core_bug;
  Catch c;
  for (uint64_t seed = 1; seed <= kSeedBudget; ++seed) {
    Options o;
    o.seed = seed;
    o.sim_bug = sim_bug;
    const RunResult r = RunSeed(o);
    if (r.violation) {
      c.caught = true;
      c.seeds = seed;
      c.how = r.violation->invariant + ": " + r.violation->detail;
      break;
    }
  }
  raft::planted::Active() = Bug::kNone;
  return c;
}

void Expect(const char* name, const Catch& c) {
  std::printf("planted bug %-34s %s after %llu seed(s): %s\n", name,
              c.caught ? "caught" : "NOT caught", static_cast<unsigned long long>(c.seeds),
              c.how.c_str());
  EXPECT_TRUE(c.caught) << name << " survived " << kSeedBudget << " seeds";
}

TEST(PlantedBugs, ControlRunWithoutBugsIsClean) {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    Options o;
    o.seed = seed;
    const RunResult r = RunSeed(o);
    ASSERT_FALSE(r.violation) << "seed " << seed << ": " << r.violation->invariant << ": "
                              << r.violation->detail << "\n"
                              << r.trace_tail;
  }
}

TEST(PlantedBugs, CommitOfPreviousTermEntryByCountingReplicas) {
  Expect("commit-previous-term-by-count", Hunt(Bug::kCommitPreviousTermByCount, SimBug::kNone));
}

TEST(PlantedBugs, VoteWithoutTheLogUpToDateCheck) {
  Expect("vote-without-log-check", Hunt(Bug::kVoteWithoutLogCheck, SimBug::kNone));
}

TEST(PlantedBugs, AcknowledgeBeforePersisting) {
  Expect("ack-before-persist", Hunt(Bug::kNone, SimBug::kAckBeforePersist));
}

TEST(PlantedBugs, ForgetTheVoteOnRestart) {
  Expect("drop-vote-on-persist", Hunt(Bug::kNone, SimBug::kDropVoteOnPersist));
}

TEST(PlantedBugs, HeartbeatCarriesUncappedCommitIndex) {
  Expect("heartbeat-commit-uncapped", Hunt(Bug::kHeartbeatCommitUncapped, SimBug::kNone));
}

TEST(PlantedBugs, ReadIndexWithoutConfirmingLeadership) {
  Expect("read-index-without-quorum", Hunt(Bug::kReadIndexWithoutQuorum, SimBug::kNone));
}

TEST(PlantedBugs, FollowerKeepsConflictingEntries) {
  Expect("keep-conflicting-entries", Hunt(Bug::kKeepConflictingEntries, SimBug::kNone));
}

TEST(PlantedBugs, MultiMemberChangeWithoutJointConsensus) {
  Expect("multi-voter-change-without-joint",
         Hunt(Bug::kMultiVoterChangeWithoutJoint, SimBug::kNone));
}

}  // namespace
}  // namespace raftkit::sim
