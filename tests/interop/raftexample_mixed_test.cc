// Mixed clusters of etcd's own contrib/raftexample (Go, built from Debian's golang-etcd-server-dev)
// and `raftkit-kv --compat raftexample`, as real processes on 127.0.0.1 (label interop):
//   - 2 Go + 1 raftkit and 1 Go + 2 raftkit: leadership moved to every member in turn (so raftkit
//     leaders serve Go followers and Go leaders serve raftkit followers), then whichever member
//     leads is killed three times; every write, through any member, is read through every member;
//   - a raftkit member joining late catches up by snapshot from a Go leader that compacted its log,
//     and a Go member that was down while a raftkit leader compacted catches up by snapshot from
//     it. (A Go member cannot join late: etcd 3.4's raftexample panics on --join, "no peers given;
//     use RestartNode instead", so that direction is covered by the restarted member.)
// raftexample answers a PUT before it is committed (and loses it silently when there is no
// leader), so a write counts once its member serves it; it is retried until then.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "raftkit/raftpb/codec.h"
#include "raftkit/transport/http/client.h"
#include "testlib/http_call.h"
#include "testlib/process.h"

namespace raftkit {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

enum class Kind { kGo, kRaftkit };

class MixedCluster {
 public:
  explicit MixedCluster(std::vector<Kind> kinds, std::vector<std::string> raftkit_args = {})
      : kinds_(std::move(kinds)), raftkit_args_(std::move(raftkit_args)) {
    dir_ = std::filesystem::temp_directory_path() /
           ("raftkit-mixed-" + std::to_string(getpid()) + "-" + std::to_string(++instances_));
    std::filesystem::create_directories(dir_);
    client_ = http::Client::Create({}).value();
  }
  ~MixedCluster() {
    procs_.clear();  // SIGKILL, reaped
    if (!::testing::Test::HasFailure()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    } else {
      // Keep the logs of a failed run next to the test's output, then remove the data.
      for (const auto& e : std::filesystem::directory_iterator(dir_)) {
        if (e.path().extension() == ".log") {
          std::ifstream in(e.path());
          std::stringstream ss;
          ss << in.rdbuf();
          const std::string all = ss.str();
          std::printf("---- %s (last 4000 bytes)\n%s\n", e.path().filename().c_str(),
                      all.substr(all.size() > 4000 ? all.size() - 4000 : 0).c_str());
        }
      }
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  int size() const { return static_cast<int>(kinds_.size()); }
  Kind kind(int i) const { return kinds_[static_cast<size_t>(i - 1)]; }
  static const char* Name(Kind k) { return k == Kind::kGo ? "go" : "raftkit"; }
  uint16_t PeerPort(int i) const { return static_cast<uint16_t>(testing::TestPortBase() + i); }
  uint16_t ApiPort(int i) const { return static_cast<uint16_t>(testing::TestPortBase() + 6 + i); }
  uint16_t NativePort(int i) const {
    return static_cast<uint16_t>(testing::TestPortBase() + 12 + i);
  }
  std::string Api(int i) const { return "http://127.0.0.1:" + std::to_string(ApiPort(i)); }
  std::string PeerUrl(int i) const { return "http://127.0.0.1:" + std::to_string(PeerPort(i)); }
  bool running(int i) const { return procs_.count(i) > 0; }

  /// A member beyond the initial ones, to be added by a membership change before it starts.
  int AddMemberSlot(Kind k) {
    kinds_.push_back(k);
    return size();
  }

  void Start(int i, bool join = false) {
    std::string cluster;
    for (int k = 1; k <= size(); ++k)
      cluster += (k > 1 ? "," : "") + PeerUrl(k);
    std::vector<std::string> args;
    if (kind(i) == Kind::kGo) {
      args = {RAFTKIT_RAFTEXAMPLE,       "--id", std::to_string(i), "--cluster", cluster, "--port",
              std::to_string(ApiPort(i))};
    } else {
      args = {RAFTKIT_KV_BINARY,
              "--compat",
              "raftexample",
              "--id",
              std::to_string(i),
              "--cluster",
              cluster,
              "--port",
              std::to_string(ApiPort(i)),
              "--native-port",
              std::to_string(NativePort(i)),
              "--data-dir",
              (dir_ / ("raftkit-" + std::to_string(i))).string()};
      args.insert(args.end(), raftkit_args_.begin(), raftkit_args_.end());
    }
    if (join) args.emplace_back("--join");
    // raftexample keeps its data in its working directory (raftexample-<id>, -snap).
    auto p = std::make_unique<testing::ChildProcess>(args, LogPath(i), dir_.string());
    ASSERT_TRUE(p->ok()) << args[0];
    procs_[i] = std::move(p);
  }
  void Kill(int i) { procs_.erase(i); }
  std::string LogPath(int i) const {
    return (dir_ / (std::string(Name(kind(i))) + std::to_string(i) + ".log")).string();
  }
  std::string Log(int i) const {
    std::ifstream in(LogPath(i));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::filesystem::path dir() const { return dir_; }

  /// The newest snapshot Go member `i` saved (raftexample keeps them in raftexample-<id>-snap, as
  /// etcd's snap package writes them: a snappb.Snapshot whose field 1 is a CRC and field 2 the
  /// raftpb.Snapshot's bytes); nullopt when there is none or it does not decode.
  std::optional<raftpb::Snapshot> GoSnapshot(int i) const {
    std::string newest;
    const auto snap_dir = dir_ / ("raftexample-" + std::to_string(i) + "-snap");
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(snap_dir, ec)) {
      const std::string name = e.path().filename().string();
      if (e.path().extension() == ".snap" && name > newest) newest = name;
    }
    if (newest.empty()) return std::nullopt;
    std::ifstream in(snap_dir / newest, std::ios::binary);
    const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t pos = 0;
    auto varint = [&](uint64_t* v) {
      *v = 0;
      for (int shift = 0; pos < file.size() && shift < 64; shift += 7) {
        const auto b = static_cast<uint8_t>(file[pos++]);
        *v |= static_cast<uint64_t>(b & 0x7f) << shift;
        if ((b & 0x80) == 0) return true;
      }
      return false;
    };
    while (pos < file.size()) {
      uint64_t tag = 0, value = 0;
      if (!varint(&tag) || !varint(&value)) return std::nullopt;
      if (tag == ((2 << 3) | 2)) {  // field 2, length-delimited
        if (value > file.size() - pos) return std::nullopt;
        auto snap = raftpb::DecodeSnapshot(std::string_view(file).substr(pos, value));
        if (!snap.ok()) return std::nullopt;
        return std::move(snap).value();
      }
      if ((tag & 7) == 2) pos += value;  // another length-delimited field
    }
    return std::nullopt;
  }

  http::Response Do(const std::string& method, const std::string& url,
                    const std::string& body = "") {
    return testing::HttpCall(*client_, method, url, body);
  }
  std::optional<std::string> Get(int i, const std::string& key) {
    auto r = Do("GET", Api(i) + key);
    if (r.status != 200) return std::nullopt;
    return r.body;
  }
  /// Polls member `i` until it serves key=value. On a timeout it says what the member last
  /// answered and how long the slowest answer took.
  bool WaitValue(int i, const std::string& key, const std::string& value,
                 std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    http::Response last;
    Clock::duration slowest{};
    int asked = 0;
    while (Clock::now() < deadline) {
      const auto start = Clock::now();
      last = Do("GET", Api(i) + key);
      slowest = std::max(slowest, Clock::now() - start);
      ++asked;
      if (last.status == 200 && last.body == value) return true;
      std::this_thread::sleep_for(20ms);
    }
    std::printf("WaitValue: %s on member %d: %d answers, the last %d \"%s\", the slowest %lld ms\n",
                key.c_str(), i, asked, last.status, last.body.substr(0, 200).c_str(),
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(slowest).count()));
    if (kind(i) == Kind::kRaftkit) {
      const std::string native = "http://127.0.0.1:" + std::to_string(NativePort(i));
      std::printf("WaitValue: member %d's status: %s\nits transport: %s\n", i,
                  Do("GET", native + "/v1/cluster").body.c_str(),
                  Do("GET", native + "/v1/cluster/transport").body.c_str());
    }
    return false;
  }

  /// The leader as a running raftkit member reports it (0: unknown, or no raftkit member runs).
  uint64_t Leader() {
    for (int i = 1; i <= size(); ++i) {
      if (!running(i) || kind(i) != Kind::kRaftkit) continue;
      auto r = Do("GET", "http://127.0.0.1:" + std::to_string(NativePort(i)) + "/v1/cluster");
      if (r.status != 200) continue;
      auto j = nlohmann::json::parse(r.body, nullptr, false);
      if (j.is_object() && j.value("leader", uint64_t{0}) != 0) return j["leader"].get<uint64_t>();
    }
    return 0;
  }
  uint64_t WaitLeader(uint64_t not_this, std::chrono::milliseconds timeout = 20s) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      const uint64_t l = Leader();
      if (l != 0 && l != not_this && running(static_cast<int>(l))) return l;
      std::this_thread::sleep_for(50ms);
    }
    return 0;
  }
  /// Moves leadership to `to` through a raftkit member's API: the raftkit leader, or `to` itself
  /// (Raft's transfer request names its sender as the transferee); from a Go leader to another
  /// Go member it goes through a raftkit member first.
  bool TransferTo(int to) {
    const uint64_t leader = WaitLeader(0);
    if (leader == 0) return false;
    if (leader == static_cast<uint64_t>(to)) return true;
    int ask = 0;
    if (kind(static_cast<int>(leader)) == Kind::kRaftkit) ask = static_cast<int>(leader);
    if (kind(to) == Kind::kRaftkit) ask = to;
    if (ask == 0) {
      for (int i = 1; i <= size() && ask == 0; ++i) {
        if (running(i) && kind(i) == Kind::kRaftkit && TransferTo(i)) ask = i;
      }
      if (ask == 0) return false;
    }
    const auto r =
        Do("POST", "http://127.0.0.1:" + std::to_string(NativePort(ask)) + "/v1/cluster/leader",
           nlohmann::json{{"to", to}}.dump());
    return r.status == 204 && WaitLeader(0) == static_cast<uint64_t>(to);
  }

  /// Writes key=value through member `i` until that member serves it (raftexample drops a PUT
  /// silently when it has no leader), then waits until every running member serves it.
  void Write(int i, const std::string& key, const std::string& value) {
    bool served = false;
    for (int attempt = 0; attempt < 20 && !served; ++attempt) {
      const int status = Do("PUT", Api(i) + key, value).status;
      served = status == 204 && WaitValue(i, key, value, 3s);
      if (!served) std::this_thread::sleep_for(200ms);
    }
    ASSERT_TRUE(served) << key << " through " << Name(kind(i)) << " member " << i;
    written_[key] = value;
    for (int j = 1; j <= size(); ++j) {
      if (!running(j)) continue;
      EXPECT_TRUE(WaitValue(j, key, value, 20s))
          << key << " written through " << i << " not served by " << Name(kind(j)) << " " << j;
    }
  }
  /// Every write so far is served by member `i`.
  void ExpectAllWrites(int i) {
    for (const auto& [k, v] : written_) {
      EXPECT_TRUE(WaitValue(i, k, v, 20s)) << k << " on " << Name(kind(i)) << " member " << i;
    }
  }

 private:
  static inline int instances_ = 0;
  std::vector<Kind> kinds_;
  std::vector<std::string> raftkit_args_;
  std::filesystem::path dir_;
  std::map<int, std::unique_ptr<testing::ChildProcess>> procs_;
  std::unique_ptr<http::Client> client_;
  std::map<std::string, std::string> written_;
};

// Leadership on every member in turn, writes through every member under each; then the leader is
// killed three times and restarted, with writes through the survivors in between.
void RunMixedScenario(std::vector<Kind> kinds) {
  MixedCluster c(std::move(kinds));
  for (int i = 1; i <= c.size(); ++i)
    c.Start(i);
  ASSERT_NE(c.WaitLeader(0), 0u) << "no leader";
  int n = 0;
  std::map<std::string, int> served_by;  // "<leader kind> leads <follower kind>" -> writes
  for (int to = 1; to <= c.size(); ++to) {
    ASSERT_TRUE(c.TransferTo(to)) << "leadership did not move to " << to;
    for (int i = 1; i <= c.size(); ++i) {
      c.Write(i, "/t" + std::to_string(n++),
              "leader" + std::to_string(to) + "-via" + std::to_string(i));
      if (::testing::Test::HasFatalFailure()) return;
      for (int j = 1; j <= c.size(); ++j) {
        if (j != to)
          ++served_by[std::string(MixedCluster::Name(c.kind(to))) + " leads " +
                      MixedCluster::Name(c.kind(j))];
      }
    }
  }
  EXPECT_GT(served_by["raftkit leads go"], 0);
  EXPECT_GT(served_by["go leads raftkit"], 0);
  for (const auto& [what, count] : served_by)
    std::printf("interop: %s: %d writes read back through every member\n", what.c_str(), count);

  for (int round = 0; round < 3; ++round) {
    uint64_t leader = c.WaitLeader(0);
    if (leader == 0) {
      // Only Go members run that could tell; find the leader from the killed member's side.
      FAIL() << "no leader known before round " << round;
    }
    const int l = static_cast<int>(leader);
    const auto killed_at = Clock::now();
    c.Kill(l);
    for (int i = 1; i <= c.size(); ++i) {
      if (!c.running(i)) continue;
      c.Write(i, "/k" + std::to_string(n++), "round" + std::to_string(round));
      if (::testing::Test::HasFatalFailure()) return;
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed_at).count();
    const uint64_t next = c.Leader();
    std::printf(
        "interop: round %d: killed the %s leader %d; writes through the %d survivors "
        "served everywhere %lld ms later (new leader %llu)\n",
        round, MixedCluster::Name(c.kind(l)), l, c.size() - 1, static_cast<long long>(ms),
        static_cast<unsigned long long>(next));
    c.Start(l);
    c.ExpectAllWrites(l);
  }
  for (int i = 1; i <= c.size(); ++i)
    c.ExpectAllWrites(i);
}

TEST(RaftexampleMixedTest, TwoGoMembersAndOneRaftkitMember) {
  RunMixedScenario({Kind::kGo, Kind::kGo, Kind::kRaftkit});
}

TEST(RaftexampleMixedTest, OneGoMemberAndTwoRaftkitMembers) {
  RunMixedScenario({Kind::kRaftkit, Kind::kGo, Kind::kRaftkit});
}

// Writes `count` keys <prefix><n> = v<n> through member `i` on 8 connections; raftexample's PUT is
// optimistic, so the caller then waits for the last ones.
void Fill(MixedCluster& c, int i, int count, const std::string& prefix = "/j") {
  std::vector<std::thread> ts;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    ts.emplace_back([&, t] {
      auto client = http::Client::Create({}).value();
      for (int k = t; k < count; k += 8) {
        http::ClientRequest req;
        req.method = "PUT";
        req.url = c.Api(i) + prefix + std::to_string(k);
        req.body = "v" + std::to_string(k);
        auto r = client->Do(req);
        if (!r.ok() || r.value().status != 204) ++failures;
      }
    });
  }
  for (auto& t : ts)
    t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(RaftexampleMixedTest, LateRaftkitMemberCatchesUpBySnapshotFromCompactedGoLeader) {
  MixedCluster c({Kind::kGo, Kind::kGo, Kind::kGo});
  for (int i = 1; i <= 3; ++i)
    c.Start(i);
  c.Write(1, "/first", "1");
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  // The new member is added first and started only after the leader compacted. (Added later, it
  // would be offered raftexample's older snapshot, which does not list it: Raft, etcd's and
  // raftkit's alike, refuses that one, and raftexample never reports the failed snapshot, so its
  // leader would not offer another.)
  const int joiner = c.AddMemberSlot(Kind::kRaftkit);
  ASSERT_EQ(c.Do("POST", c.Api(2) + "/" + std::to_string(joiner), c.PeerUrl(joiner)).status, 204);
  // raftexample snapshots every 10,000 applied entries and then compacts all but the last 10,000:
  // past 10,001 entries the log no longer starts at index 1.
  constexpr int kKeys = 10100;
  Fill(c, 1, kKeys);
  const std::string last = "/j" + std::to_string(kKeys - 1);
  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(c.WaitValue(i, last, "v" + std::to_string(kKeys - 1), 60s)) << i;
  // raftexample snapshots and compacts right after applying; its log says when.
  bool compacted = false;
  for (int wait = 0; wait < 200 && !compacted; ++wait) {
    compacted = true;
    for (int i = 1; i <= 3; ++i)
      compacted = compacted && c.Log(i).find("compacted log at index") != std::string::npos;
    if (!compacted) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(compacted) << "raftexample did not snapshot and compact";

  // A write after the compaction: the joiner serves it once it has caught up past the snapshot.
  c.Write(1, "/after", "1");
  ASSERT_FALSE(::testing::Test::HasFatalFailure());

  c.Start(joiner, /*join=*/true);
  ASSERT_TRUE(c.WaitValue(joiner, "/after", "1", 60s));
  EXPECT_TRUE(c.WaitValue(joiner, "/first", "1", 5s));
  const std::string log = c.Log(joiner);
  const auto restored = log.find("restored snapshot [index: ");
  ASSERT_NE(restored, std::string::npos) << "the raftkit member did not catch up by snapshot";
  const uint64_t restored_index = std::stoull(log.substr(restored + 26));

  // The joiner must hold what the leader's snapshot held, and every write after it. etcd 3.4's
  // raftexample can snapshot before its store applied the last entry it handed over (3.5 added
  // applyDoneC for this), so the snapshot may lack the write at its own index; the joiner then
  // lacks it too, as every member restoring that snapshot would.
  auto st = nlohmann::json::parse(
      c.Do("GET", "http://127.0.0.1:" + std::to_string(c.NativePort(joiner)) + "/v1/cluster").body,
      nullptr, false);
  ASSERT_TRUE(st.is_object());
  const int leader = st.value("leader", 0);
  ASSERT_TRUE(leader >= 1 && leader <= 3) << st.dump();
  const auto snap = c.GoSnapshot(leader);
  ASSERT_TRUE(snap.has_value()) << "no snapshot of Go member " << leader;
  ASSERT_EQ(snap->metadata.index.value(), restored_index) << "the snapshot the joiner restored";
  const auto in_snapshot = nlohmann::json::parse(snap->data.view(), nullptr, false);
  ASSERT_TRUE(in_snapshot.is_object());
  int missing = 0, after_snapshot = 0;
  for (int k = 0; k < kKeys; ++k) {
    const std::string key = "/j" + std::to_string(k), value = "v" + std::to_string(k);
    const auto got = c.Get(joiner, key);
    if (in_snapshot.contains(key)) {
      EXPECT_EQ(got, in_snapshot[key].get<std::string>()) << key << ": as the snapshot held it";
    } else if (!got) {
      ++missing;
      std::printf("interop: %s is in neither the leader's snapshot (index %llu) nor the joiner\n",
                  key.c_str(), static_cast<unsigned long long>(restored_index));
    } else {
      ++after_snapshot;
      EXPECT_EQ(*got, value) << key;
    }
  }
  EXPECT_LE(missing, 1) << "only the entry at the snapshot's index can be missing from it";
  // raftexample snapshots past 10,000 applied entries: most of the writes came that way.
  EXPECT_GT(in_snapshot.size(), static_cast<size_t>(kKeys) / 2);
  // It is a full member now: a write through it reaches the Go members.
  c.Write(joiner, "/from-joiner", "x");
  std::printf(
      "interop: raftkit member %d started after %d writes and caught up by snapshot (index %llu, "
      "%zu keys) from the compacted Go leader %d, then %d later writes by log\n",
      joiner, kKeys, static_cast<unsigned long long>(restored_index), in_snapshot.size(), leader,
      after_snapshot);
}

TEST(RaftexampleMixedTest, LaggingGoMemberCatchesUpBySnapshotFromCompactedRaftkitLeader) {
  MixedCluster c({Kind::kRaftkit, Kind::kRaftkit, Kind::kGo}, {"--snapshot-count", "500"});
  for (int i = 1; i <= 3; ++i)
    c.Start(i);
  ASSERT_NE(c.WaitLeader(0), 0u);
  ASSERT_TRUE(c.TransferTo(1));
  c.Write(3, "/first", "1");
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  c.Kill(3);
  // A snapshot every 500 entries keeping 500 behind: past ~1,000 more entries the leader's log
  // no longer holds what the Go member lacks.
  constexpr int kKeys = 1500;
  Fill(c, 1, kKeys);
  const std::string last = "/j" + std::to_string(kKeys - 1);
  for (int i = 1; i <= 2; ++i)
    ASSERT_TRUE(c.WaitValue(i, last, "v" + std::to_string(kKeys - 1), 60s)) << i;
  c.Start(3);
  EXPECT_TRUE(c.WaitValue(3, "/j0", "v0", 60s));
  EXPECT_TRUE(c.WaitValue(3, last, "v" + std::to_string(kKeys - 1), 30s));
  EXPECT_NE(c.Log(3).find("restored snapshot"), std::string::npos)
      << "the Go member did not catch up by snapshot";
  c.Write(3, "/from-go", "x");
  std::printf(
      "interop: Go member 3 restarted after %d writes and caught up by snapshot from the "
      "raftkit leader\n",
      kKeys);
}

}  // namespace
}  // namespace raftkit
