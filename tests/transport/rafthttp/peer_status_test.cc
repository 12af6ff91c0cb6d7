// Peer status logs transitions, not every failure; the re-dial throttle is a token bucket.
#include "transport/rafthttp/peer_status.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace raftkit::rafthttp {
namespace {

class CapturingLogger final : public Logger {
 public:
  bool Enabled(LogLevel) const override { return true; }
  void Write(LogLevel, std::string_view line) override { lines.emplace_back(line); }
  std::vector<std::string> lines;
};

TEST(PeerStatusTest, TransitionsAreLoggedOnceAndRepeatedFailuresAreOnlyCounted) {
  CapturingLogger log;
  auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1000));
  PeerStatus s(NodeId(1), NodeId(0x2a), &log, [&] { return t; });
  EXPECT_FALSE(s.active());
  EXPECT_FALSE(s.active_since());

  s.Activate();
  s.Activate();
  EXPECT_TRUE(s.active());
  EXPECT_EQ(s.active_since(), t);
  ASSERT_EQ(log.lines.size(), 1u);
  EXPECT_EQ(log.lines[0], "peer 2a became active (local 1)");

  for (int i = 0; i < 50; ++i)
    s.Deactivate({"pipeline", "write"}, "connection refused");
  EXPECT_FALSE(s.active());
  EXPECT_FALSE(s.active_since());
  EXPECT_EQ(s.failures_since_active(), 50u);
  ASSERT_EQ(log.lines.size(), 2u) << "fifty identical failures, one line";
  EXPECT_EQ(log.lines[1], "peer 2a became inactive (local 1): pipeline write: connection refused");

  s.Deactivate({"stream msgapp", "dial"}, "412 cluster ID mismatch");
  ASSERT_EQ(log.lines.size(), 3u) << "a new kind of failure is worth a line";
  EXPECT_EQ(s.last_failure(), "stream msgapp dial: 412 cluster ID mismatch");

  t += std::chrono::seconds(5);
  s.Activate();
  EXPECT_EQ(s.active_since(), t);
  EXPECT_EQ(s.failures_since_active(), 0u);
}

TEST(RateLimiterTest, TenPerSecondWithBurstOneAllowsOneDialPerHundredMilliseconds) {
  auto t = std::chrono::steady_clock::time_point(std::chrono::seconds(1));
  RateLimiter r(10.0, 1, [&] { return t; });
  EXPECT_TRUE(r.Allow());
  EXPECT_FALSE(r.Allow());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(r.Wait()).count(), 100);
  t += std::chrono::milliseconds(60);
  EXPECT_FALSE(r.Allow());
  t += std::chrono::milliseconds(40);
  EXPECT_TRUE(r.Allow());
  t += std::chrono::seconds(10);  // a long pause saves at most `burst` tokens
  EXPECT_TRUE(r.Allow());
  EXPECT_FALSE(r.Allow());
}

}  // namespace
}  // namespace raftkit::rafthttp
