// raftkit-kv as users run it: three processes on 127.0.0.1 driven through the HTTP API —
// writes and reads through every member, compare-and-set, errors (404, 412, 413), a kill -9 of the
// leader under writes with no acknowledged write lost, and the restarted member catching up.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "raftkit/transport/http/client.h"
#include "testlib/process.h"

namespace raftkit {
namespace {

using namespace std::chrono_literals;

uint16_t BasePort() {
  return testing::TestPortBase();
}

class KvCluster {
 public:
  KvCluster() {
    dir_ = std::filesystem::temp_directory_path() / ("raftkit-kv-e2e-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    for (int i = 1; i <= 3; ++i) {
      if (!cluster_.empty()) cluster_ += ",";
      cluster_ += "http://127.0.0.1:" + std::to_string(PeerPort(i));
    }
    for (int i = 1; i <= 3; ++i)
      Start(i);
    client_ = http::Client::Create({}).value();
  }
  ~KvCluster() {
    procs_.clear();  // SIGKILL
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  uint16_t PeerPort(int i) const { return static_cast<uint16_t>(BasePort() + i); }
  uint16_t ApiPort(int i) const { return static_cast<uint16_t>(BasePort() + 5 + i); }
  std::string Api(int i) const { return "http://127.0.0.1:" + std::to_string(ApiPort(i)); }

  /// Starts member `i` (> 3) that joins the running cluster (added through the API first).
  void StartJoining(int i) {
    std::string cluster = cluster_;
    for (int k = 4; k <= i; ++k)
      cluster += ",http://127.0.0.1:" + std::to_string(PeerPort(k));
    Start(i, cluster, /*join=*/true);
  }

  void Start(int i) { Start(i, cluster_, false); }
  void Start(int i, const std::string& cluster, bool join) {
    const std::string bin = RAFTKIT_KV_BINARY;
    const std::string log = (dir_ / ("n" + std::to_string(i) + ".log")).string();
    std::vector<std::string> args = {bin,
                                     "--id",
                                     std::to_string(i),
                                     "--cluster",
                                     cluster,
                                     "--port",
                                     std::to_string(ApiPort(i)),
                                     "--data-dir",
                                     (dir_ / ("n" + std::to_string(i))).string(),
                                     "--max-value-bytes",
                                     "1000"};
    if (join) args.emplace_back("--join");
    auto p = std::make_unique<testing::ChildProcess>(args, log);
    ASSERT_TRUE(p->ok()) << bin;
    procs_[i] = std::move(p);
  }
  void Kill(int i, int sig) {
    auto it = procs_.find(i);
    if (it == procs_.end()) return;
    it->second->Stop(sig);
    procs_.erase(it);
  }

  http::Response Do(const std::string& method, const std::string& url,
                    const std::string& body = "") {
    http::ClientRequest req;
    req.method = method;
    req.url = url;
    req.body = body;
    auto r = client_->Do(req);
    if (!r.ok()) return http::Response{0, {}, r.status().ToString()};
    return std::move(r).value();
  }
  // The leader's id as member `i` reports it (0 if unknown).
  uint64_t LeaderSeenBy(int i) {
    auto r = Do("GET", Api(i) + "/v1/cluster");
    if (r.status != 200) return 0;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    return j.is_object() ? j.value("leader", uint64_t{0}) : 0;
  }
  bool WaitHealthy(int i, std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Do("GET", Api(i) + "/health").status == 200) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

 private:
  std::filesystem::path dir_;
  std::string cluster_;
  std::map<int, std::unique_ptr<testing::ChildProcess>> procs_;
  std::unique_ptr<http::Client> client_;
};

TEST(KvClusterTest, WritesReadsAndErrorsThroughEveryMember) {
  KvCluster c;
  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(c.WaitHealthy(i)) << i;
  for (int i = 1; i <= 3; ++i) {
    const std::string key = "/v1/kv/key" + std::to_string(i);
    ASSERT_EQ(c.Do("PUT", c.Api(i) + key, "value" + std::to_string(i)).status, 204);
    for (int j = 1; j <= 3; ++j) {
      auto r = c.Do("GET", c.Api(j) + key);
      EXPECT_EQ(r.status, 200) << "member " << j;
      EXPECT_EQ(r.body, "value" + std::to_string(i));
    }
  }
  EXPECT_EQ(c.Do("GET", c.Api(2) + "/v1/kv/absent").status, 404);
  EXPECT_EQ(c.Do("PUT", c.Api(2) + "/v1/kv/key1?expect=wrong", "x").status, 412);
  EXPECT_EQ(c.Do("PUT", c.Api(3) + "/v1/kv/key1?expect=value1", "x").status, 204);
  EXPECT_EQ(c.Do("GET", c.Api(1) + "/v1/kv/key1").body, "x");
  EXPECT_EQ(c.Do("PUT", c.Api(1) + "/v1/kv/big", std::string(1001, 'b')).status, 413);
  EXPECT_EQ(c.Do("DELETE", c.Api(2) + "/v1/kv/key2").status, 204);
  EXPECT_EQ(c.Do("GET", c.Api(3) + "/v1/kv/key2").status, 404);
  auto list = nlohmann::json::parse(c.Do("GET", c.Api(1) + "/v1/kv?prefix=key").body);
  EXPECT_EQ(list.size(), 2u);
}

TEST(KvClusterTest, KillingTheLeaderLosesNoAcknowledgedWrite) {
  KvCluster c;
  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(c.WaitHealthy(i)) << i;
  const uint64_t leader = c.LeaderSeenBy(1);
  ASSERT_NE(leader, 0u);
  const int other = static_cast<int>(leader % 3 + 1);
  std::vector<std::string> acked;
  for (int n = 0; n < 100; ++n) {
    const std::string key = "k" + std::to_string(n);
    if (n == 50) c.Kill(static_cast<int>(leader), SIGKILL);
    // Retry through a surviving member until the write is acknowledged (503 while electing).
    for (int attempt = 0; attempt < 100; ++attempt) {
      if (c.Do("PUT", c.Api(other) + "/v1/kv/" + key, key).status == 204) {
        acked.push_back(key);
        break;
      }
      std::this_thread::sleep_for(50ms);
    }
  }
  ASSERT_EQ(acked.size(), 100u);
  const uint64_t next = c.LeaderSeenBy(other);
  EXPECT_NE(next, 0u);
  EXPECT_NE(next, leader);
  for (const auto& k : acked)
    EXPECT_EQ(c.Do("GET", c.Api(other) + "/v1/kv/" + k).body, k);
  // The killed member comes back from its data directory and catches up.
  c.Start(static_cast<int>(leader));
  ASSERT_TRUE(c.WaitHealthy(static_cast<int>(leader)));
  EXPECT_EQ(c.Do("GET", c.Api(static_cast<int>(leader)) + "/v1/kv/k99").body, "k99");
}

TEST(KvClusterTest, MembersAreAddedPromotedAndRemovedOverHttpAndLeadershipMoves) {
  KvCluster c;
  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(c.WaitHealthy(i)) << i;
  for (int n = 0; n < 20; ++n) {
    ASSERT_EQ(c.Do("PUT", c.Api(1) + "/v1/kv/m" + std::to_string(n), "v").status, 204);
  }
  // Add member 4 as a learner, start it, let it catch up, promote it.
  const std::string add = nlohmann::json{
      {"id", 4},
      {"peer_urls", {"http://127.0.0.1:" + std::to_string(c.PeerPort(4))}},
      {"learner", true}}.dump();
  ASSERT_EQ(c.Do("POST", c.Api(2) + "/v1/cluster/members", add).status, 201);
  c.StartJoining(4);
  // Healthy means a linearizable read succeeded there: member 4 has applied everything before.
  ASSERT_TRUE(c.WaitHealthy(4));
  EXPECT_EQ(c.Do("GET", c.Api(4) + "/v1/kv/m19?serializable=true").body, "v");
  EXPECT_EQ(c.Do("POST", c.Api(1) + "/v1/cluster/members/4/promote").status, 204);
  auto cluster = nlohmann::json::parse(c.Do("GET", c.Api(1) + "/v1/cluster").body);
  ASSERT_EQ(cluster["members"].size(), 4u);
  for (const auto& m : cluster["members"])
    EXPECT_FALSE(m["learner"].get<bool>());
  // Move leadership to member 4, then remove member 3.
  EXPECT_EQ(c.Do("POST", c.Api(1) + "/v1/cluster/leader", R"({"to": 4})").status, 204);
  EXPECT_EQ(c.LeaderSeenBy(1), 4u);
  EXPECT_EQ(c.Do("DELETE", c.Api(4) + "/v1/cluster/members/3").status, 204);
  cluster = nlohmann::json::parse(c.Do("GET", c.Api(1) + "/v1/cluster").body);
  EXPECT_EQ(cluster["members"].size(), 3u);
  EXPECT_EQ(c.Do("PUT", c.Api(1) + "/v1/kv/after", "x").status, 204);
  EXPECT_EQ(c.Do("GET", c.Api(4) + "/v1/kv/after").body, "x");
  EXPECT_EQ(c.Do("POST", c.Api(1) + "/v1/cluster/members", "{}").status, 400);
}

}  // namespace
}  // namespace raftkit
