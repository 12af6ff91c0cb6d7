// raftkit-kv as users run it: three processes on 127.0.0.1 driven through the HTTP API —
// writes and reads through every member, compare-and-set (also under contention), errors (404,
// 412, 413, 429, 503), a kill -9 of the leader under concurrent writes with no acknowledged write
// lost and the restarted member catching up, membership changes and leadership transfer.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "raftkit/transport/http/client.h"
#include "testlib/http_call.h"
#include "testlib/process.h"

namespace raftkit {
namespace {

using namespace std::chrono_literals;

uint16_t BasePort() {
  return testing::TestPortBase();
}

class KvCluster {
 public:
  /// With `ca_file`, peers and clients use https (the members' TLS flags are in `extra_args`).
  explicit KvCluster(std::vector<std::string> extra_args = {}, std::string ca_file = {})
      : extra_args_(std::move(extra_args)), scheme_(ca_file.empty() ? "http" : "https") {
    dir_ = std::filesystem::temp_directory_path() / ("raftkit-kv-e2e-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    for (int i = 1; i <= 3; ++i) {
      if (!cluster_.empty()) cluster_ += ",";
      cluster_ += scheme_ + "://127.0.0.1:" + std::to_string(PeerPort(i));
    }
    for (int i = 1; i <= 3; ++i)
      Start(i);
    http::ClientOptions co;
    if (!ca_file.empty()) co.tls = http::TlsClientConfig{ca_file, "", "", true};
    client_ = http::Client::Create(co).value();
  }
  ~KvCluster() {
    procs_.clear();  // SIGKILL
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  uint16_t PeerPort(int i) const { return static_cast<uint16_t>(BasePort() + i); }
  uint16_t ApiPort(int i) const { return static_cast<uint16_t>(BasePort() + 5 + i); }
  std::string Api(int i) const { return scheme_ + "://127.0.0.1:" + std::to_string(ApiPort(i)); }

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
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
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
    return testing::HttpCall(*client_, method, url, body);
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
  std::vector<std::string> extra_args_;
  std::string scheme_;
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
  const std::string metrics = c.Do("GET", c.Api(3) + "/metrics").body;
  EXPECT_NE(metrics.find("raftkit_server_has_leader 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("raftkit_kv_requests_total{method=\"GET\",route=\"/v1/kv/\"}"),
            std::string::npos);
  EXPECT_NE(metrics.find("etcd_network_active_peers"), std::string::npos);
}

// Writers on every member; the leader is killed mid-run. Every acknowledged write is served
// afterwards, and writes are acknowledged again within the election bound: a follower notices
// after one election timeout, and its election timeout is randomized in [1, 2) of it.
TEST(KvClusterTest, KillingTheLeaderUnderConcurrentLoadLosesNoAcknowledgedWrite) {
  KvCluster c;
  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(c.WaitHealthy(i)) << i;
  const int leader = static_cast<int>(c.LeaderSeenBy(1));
  ASSERT_NE(leader, 0);
  using Clock = std::chrono::steady_clock;
  std::atomic<bool> killed{false}, stop{false};
  std::atomic<int64_t> killed_at_us{0}, first_ack_after_us{0};
  std::mutex mu;
  std::vector<std::string> acked;
  std::atomic<int> errors{0};
  const auto t0 = Clock::now();
  auto since = [&] {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
  };
  std::vector<std::thread> writers;
  for (int w = 0; w < 12; ++w) {
    writers.emplace_back([&, w] {
      auto client = http::Client::Create({}).value();
      int member = w % 3 + 1;
      for (int n = 0; !stop; ++n) {
        const std::string key = "w" + std::to_string(w) + "-" + std::to_string(n);
        // Retry the same write (same value) through the next member until acknowledged.
        for (;;) {
          if (stop) return;
          if (killed && member == leader) member = member % 3 + 1;
          http::ClientRequest req;
          req.method = "PUT";
          req.url = c.Api(member) + "/v1/kv/" + key;
          req.body = key;
          auto r = client->Do(req);
          if (r.ok() && r.value().status == 204) {
            const int64_t now = since();
            std::lock_guard<std::mutex> g(mu);
            acked.push_back(key);
            if (killed && first_ack_after_us == 0 && now > killed_at_us) first_ack_after_us = now;
            break;
          }
          ++errors;
          member = member % 3 + 1;
          std::this_thread::sleep_for(20ms);
        }
      }
    });
  }
  std::this_thread::sleep_for(1500ms);
  killed_at_us = since();
  c.Kill(leader, SIGKILL);
  killed = true;
  std::this_thread::sleep_for(5s);
  stop = true;
  for (auto& t : writers)
    t.join();
  ASSERT_NE(first_ack_after_us.load(), 0) << "no write was acknowledged after the kill";
  const double gap_ms = static_cast<double>(first_ack_after_us - killed_at_us) / 1000.0;
  std::printf(
      "e2e: %zu writes acknowledged by 12 writers (%d retried errors); after kill -9 of "
      "leader %d the first write was acknowledged %.0f ms later\n",
      acked.size(), errors.load(), leader, gap_ms);
  // Election timeout 1000 ms: detection within 1 timeout, a randomized timeout below 2, one round.
  EXPECT_LT(gap_ms, 3000.0);
  const int survivor = leader % 3 + 1;
  for (const auto& k : acked) {
    ASSERT_EQ(c.Do("GET", c.Api(survivor) + "/v1/kv/" + k).body, k) << "lost " << k;
  }
  // The killed member comes back from its data directory and catches up.
  c.Start(leader);
  ASSERT_TRUE(c.WaitHealthy(leader));
  EXPECT_EQ(c.Do("GET", c.Api(leader) + "/v1/kv/" + acked.back()).body, acked.back());
}

// Writers increment one counter by compare-and-set from every member; each success is one
// increment, so the final value equals the number of successes.
TEST(KvClusterTest, CompareAndSetUnderContentionLosesNoIncrement) {
  KvCluster c;
  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(c.WaitHealthy(i)) << i;
  ASSERT_EQ(c.Do("PUT", c.Api(1) + "/v1/kv/counter", "0").status, 204);
  std::atomic<int> successes{0}, conflicts{0};
  std::vector<std::thread> ts;
  for (int w = 0; w < 9; ++w) {
    ts.emplace_back([&, w] {
      auto client = http::Client::Create({}).value();
      const std::string api = c.Api(w % 3 + 1);
      for (int n = 0; n < 15;) {
        http::ClientRequest get;
        get.method = "GET";
        get.url = api + "/v1/kv/counter";
        auto cur = client->Do(get);
        ASSERT_TRUE(cur.ok() && cur.value().status == 200);
        const int v = std::stoi(cur.value().body);
        http::ClientRequest put;
        put.method = "PUT";
        put.url = api + "/v1/kv/counter?expect=" + std::to_string(v);
        put.body = std::to_string(v + 1);
        auto r = client->Do(put);
        ASSERT_TRUE(r.ok());
        if (r.value().status == 204) {
          ++successes;
          ++n;
        } else {
          ASSERT_EQ(r.value().status, 412) << r.value().body;
          ++conflicts;
        }
      }
    });
  }
  for (auto& t : ts)
    t.join();
  EXPECT_EQ(successes.load(), 9 * 15);
  EXPECT_EQ(c.Do("GET", c.Api(2) + "/v1/kv/counter").body, std::to_string(9 * 15));
  std::printf(
      "e2e: 135 compare-and-set increments from 9 writers on 3 members, %d conflicts "
      "answered 412\n",
      conflicts.load());
}

// 429 when a member has too many writes pending; 503 (with a reason) when no quorum answers.
TEST(KvClusterTest, OverloadIsAnswered429AndLostQuorum503) {
  KvCluster c({"--max-pending", "2", "--request-timeout", "1500"});
  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(c.WaitHealthy(i)) << i;
  std::atomic<int> ok{0}, overloaded{0}, other{0};
  std::vector<std::thread> ts;
  for (int w = 0; w < 24; ++w) {
    ts.emplace_back([&, w] {
      auto client = http::Client::Create({}).value();
      for (int n = 0; n < 10; ++n) {
        http::ClientRequest put;
        put.method = "PUT";
        put.url = c.Api(2) + "/v1/kv/o" + std::to_string(w) + "-" + std::to_string(n);
        put.body = "x";
        auto r = client->Do(put);
        const int st = r.ok() ? r.value().status : 0;
        (st == 204 ? ok : st == 429 ? overloaded : other)++;
      }
    });
  }
  for (auto& t : ts)
    t.join();
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(overloaded.load(), 0) << "24 concurrent writers against --max-pending 2";
  EXPECT_EQ(other.load(), 0);
  std::printf("e2e: 240 writes against --max-pending 2: %d accepted, %d answered 429\n", ok.load(),
              overloaded.load());
  // Without a quorum, a write is answered 503 with a reason within the request timeout.
  const int keep = static_cast<int>(c.LeaderSeenBy(1));
  for (int i = 1; i <= 3; ++i) {
    if (i != keep) c.Kill(i, SIGKILL);
  }
  const auto start = std::chrono::steady_clock::now();
  auto r = c.Do("PUT", c.Api(keep) + "/v1/kv/no-quorum", "x");
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_TRUE(nlohmann::json::parse(r.body, nullptr, false).contains("error")) << r.body;
  EXPECT_LT(waited, 5s);
  EXPECT_EQ(c.Do("GET", c.Api(keep) + "/v1/kv/o0-0").status, 503) << "a linearizable read too";
  EXPECT_EQ(c.Do("GET", c.Api(keep) + "/health").status, 503);
}

// The TLS flags: peers talk https with mutual authentication, clients reach the API over https.
TEST(KvClusterTest, PeersAndClientsUseTlsWhenGivenCertificates) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("raftkit-kv-e2e-tls-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  // A throwaway CA and one certificate for 127.0.0.1 usable as server and as client.
  const std::string d = dir.string();
  const std::string script =
      "cd '" + d +
      "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
      "-subj /CN=raftkit-e2e-ca -keyout ca.key -out ca.crt && "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=member "
      "-keyout member.key -out member.csr && "
      "printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' > ext && "
      "openssl x509 -req -in member.csr -CA ca.crt -CAkey ca.key -set_serial 7 -days 1 "
      "-extfile ext -out member.crt > openssl.log 2>&1";
  ASSERT_EQ(std::system((script + " 2>>openssl.log").c_str()), 0);
  {
    KvCluster c({"--peer-cert-file", d + "/member.crt", "--peer-key-file", d + "/member.key",
                 "--peer-trusted-ca-file", d + "/ca.crt", "--peer-client-cert-auth",
                 "--client-cert-file", d + "/member.crt", "--client-key-file", d + "/member.key"},
                d + "/ca.crt");
    for (int i = 1; i <= 3; ++i)
      ASSERT_TRUE(c.WaitHealthy(i)) << i;
    ASSERT_EQ(c.Do("PUT", c.Api(1) + "/v1/kv/secure", "yes").status, 204);
    EXPECT_EQ(c.Do("GET", c.Api(3) + "/v1/kv/secure").body, "yes");
    auto cluster = nlohmann::json::parse(c.Do("GET", c.Api(2) + "/v1/cluster").body);
    EXPECT_EQ(cluster["members"][0]["peer_urls"][0].get<std::string>().substr(0, 8), "https://");
    // A follower hands a leadership transfer to the leader over https (its client certificate,
    // the peer CA): leadership moves to the other follower.
    const uint64_t leader = cluster["leader"].get<uint64_t>();
    ASSERT_NE(leader, 0u);
    const int asked = leader == 1 ? 2 : 1;
    const int to = 6 - static_cast<int>(leader) - asked;
    // (503 until the member learns the leader's client URL, which is published after it starts.)
    http::Response moved;
    for (int i = 0; i < 100; ++i) {
      moved = c.Do("POST", c.Api(asked) + "/v1/cluster/leader", nlohmann::json{{"to", to}}.dump());
      if (moved.status != 503) break;
      std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(moved.status, 204) << moved.body;
    uint64_t seen = 0;
    for (int i = 0; i < 100 && seen != static_cast<uint64_t>(to); ++i) {
      seen = c.LeaderSeenBy(asked);
      if (seen != static_cast<uint64_t>(to)) std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(seen, static_cast<uint64_t>(to));
    // Plain http is not served.
    auto plain = http::Client::Create({}).value();
    http::ClientRequest req;
    req.url = "http://127.0.0.1:" + std::to_string(c.ApiPort(1)) + "/v1/kv/secure";
    auto r = plain->Do(req);
    EXPECT_FALSE(r.ok() && r.value().status == 200);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
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
  {
    const auto r = c.Do("POST", c.Api(2) + "/v1/cluster/members", add);
    ASSERT_EQ(r.status, 201) << r.body;
  }
  c.StartJoining(4);
  // Healthy means a linearizable read succeeded there: member 4 has applied everything before.
  ASSERT_TRUE(c.WaitHealthy(4));
  EXPECT_EQ(c.Do("GET", c.Api(4) + "/v1/kv/m19?serializable=true").body, "v");
  EXPECT_EQ(c.Do("POST", c.Api(1) + "/v1/cluster/members/4/promote").status, 204);
  auto cluster = nlohmann::json::parse(c.Do("GET", c.Api(1) + "/v1/cluster").body);
  ASSERT_EQ(cluster["members"].size(), 4u);
  for (const auto& m : cluster["members"])
    EXPECT_FALSE(m["learner"].get<bool>());
  // Move leadership to member 4 (asking a member that may be a follower: it hands the request to
  // the leader), then remove member 3.
  EXPECT_EQ(c.Do("POST", c.Api(1) + "/v1/cluster/leader", R"({"to": 4})").status, 204);
  // The old leader answered once 4 led; member 1 learns of it with 4's first message.
  uint64_t seen = 0;
  for (int i = 0; i < 100 && seen != 4; ++i) {
    seen = c.LeaderSeenBy(1);
    if (seen != 4) std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(seen, 4u);
  EXPECT_EQ(c.Do("DELETE", c.Api(4) + "/v1/cluster/members/3").status, 204);
  // Answered once applied on member 4; member 1 applies it soon after.
  size_t members = 0;
  for (int i = 0; i < 100 && members != 3; ++i) {
    cluster = nlohmann::json::parse(c.Do("GET", c.Api(1) + "/v1/cluster").body);
    members = cluster["members"].size();
    if (members != 3) std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(members, 3u);
  EXPECT_EQ(c.Do("PUT", c.Api(1) + "/v1/kv/after", "x").status, 204);
  EXPECT_EQ(c.Do("GET", c.Api(4) + "/v1/kv/after").body, "x");
  EXPECT_EQ(c.Do("POST", c.Api(1) + "/v1/cluster/members", "{}").status, 400);
  // A snapshot on request, on a follower and on the leader.
  EXPECT_EQ(c.Do("POST", c.Api(1) + "/v1/cluster/snapshot").status, 204);
  EXPECT_EQ(c.Do("POST", c.Api(4) + "/v1/cluster/snapshot").status, 204);
  // Member 1's view of its peer links: the two members left, both active with streams both ways
  // (3 was removed, so it is no longer a peer).
  const auto transport =
      nlohmann::json::parse(c.Do("GET", c.Api(1) + "/v1/cluster/transport").body, nullptr, false);
  ASSERT_TRUE(transport.is_object()) << "GET /v1/cluster/transport";
  std::set<std::string> peers;
  for (const auto& p : transport["peers"]) {
    peers.insert(p["id"].get<std::string>());
    EXPECT_TRUE(p["active"].get<bool>()) << p.dump();
  }
  EXPECT_EQ(peers, (std::set<std::string>{"2", "4"})) << transport.dump();
}

}  // namespace
}  // namespace raftkit
