// The same seed must replay the same run, byte for byte: that is what makes a failing seed useful.
#include <gtest/gtest.h>

#include <string>

#include "sim/sim.h"

namespace raftkit::sim {
namespace {

std::string FullTrace(uint64_t seed, int nodes) {
  std::string out;
  Options o;
  o.seed = seed;
  o.nodes = nodes;
  o.trace_sink = [&out](const std::string& line) {
    out += line;
    out += '\n';
  };
  const RunResult r = RunSeed(o);
  out += r.summary;
  return out;
}

TEST(SimDeterminism, SameSeedSameTraceByteForByte) {
  for (int nodes : {3, 5, 7}) {
    const std::string a = FullTrace(4242, nodes);
    const std::string b = FullTrace(4242, nodes);
    EXPECT_GT(a.size(), 10000u);
    EXPECT_EQ(a, b) << nodes << " nodes";
  }
}

TEST(SimDeterminism, DifferentSeedsDifferentRuns) {
  EXPECT_NE(FullTrace(1, 3), FullTrace(2, 3));
}

TEST(SimDeterminism, TracingDoesNotChangeTheRun) {
  Options o;
  o.seed = 77;
  const RunResult quiet = RunSeed(o);
  std::string ignored;
  o.trace_sink = [&ignored](const std::string& line) { ignored += line; };
  const RunResult traced = RunSeed(o);
  EXPECT_EQ(quiet.summary, traced.summary);
  EXPECT_EQ(quiet.steps, traced.steps);
}

}  // namespace
}  // namespace raftkit::sim
