// The Server end to end: three (or four) members in one process, each with its own data
// directory, peer listener on 127.0.0.1 and rafthttp Transport — proposals and their results,
// linearizable reads, restart from the data directory, automatic snapshots and a new member caught
// up by one, membership changes, leadership transfer, overload and no-quorum errors.
#include "raftkit/server/server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <istream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "chaos/fault_proxy.h"

namespace raftkit::server {
namespace {

using namespace std::chrono_literals;

// "key=value" sets key and returns its previous value; "?key" returns the value.
class KvMachine final : public StateMachine {
 public:
  Result<std::string> Apply(Index index, std::string_view data) override {
    std::lock_guard<std::mutex> g(mu_);
    last_index_ = index.value();
    ++applied_;
    if (!data.empty() && data[0] == '?') {
      auto it = kv_.find(std::string(data.substr(1)));
      return it == kv_.end() ? std::string() : it->second;
    }
    const auto eq = data.find('=');
    if (eq == std::string_view::npos) return Status(ErrorCode::kInvalidArgument, "bad command");
    std::string& v = kv_[std::string(data.substr(0, eq))];
    std::string prev = std::move(v);
    v = std::string(data.substr(eq + 1));
    return prev;
  }
  Status WriteSnapshot(std::ostream& out) override {
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& [k, v] : kv_)
      out << k << "=" << v << "\n";
    return Status::Ok();
  }
  Status RestoreSnapshot(std::istream& in) override {
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return Restore(all);
  }
  Status Restore(std::string_view s) {
    std::lock_guard<std::mutex> g(mu_);
    kv_.clear();
    ++restores_;
    while (!s.empty()) {
      const auto nl = s.find('\n');
      const std::string_view line = s.substr(0, nl);
      const auto eq = line.find('=');
      kv_[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
      s.remove_prefix(nl == std::string_view::npos ? s.size() : nl + 1);
    }
    return Status::Ok();
  }
  std::string Get(const std::string& k) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = kv_.find(k);
    return it == kv_.end() ? "" : it->second;
  }
  size_t size() {
    std::lock_guard<std::mutex> g(mu_);
    return kv_.size();
  }
  int restores() {
    std::lock_guard<std::mutex> g(mu_);
    return restores_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> kv_;
  uint64_t last_index_ = 0;
  uint64_t applied_ = 0;
  int restores_ = 0;
};

uint16_t FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

class Cluster {
 public:
  explicit Cluster(int n, uint64_t snapshot_count = 10000,
                   std::function<void(ServerOptions&)> customize = nullptr)
      : snapshot_count_(snapshot_count), customize_(std::move(customize)) {
    root_ = std::filesystem::temp_directory_path() /
            ("raftkit-server-test-" + std::to_string(getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(root_);
    for (int i = 1; i <= n; ++i) {
      const uint16_t port = FreePort();
      members_.push_back({NodeId(static_cast<uint64_t>(i)),
                          {"http://127.0.0.1:" + std::to_string(port)},
                          false,
                          {}});
      ports_[static_cast<uint64_t>(i)] = port;
    }
    for (int i = 1; i <= n; ++i)
      StartMember(static_cast<uint64_t>(i), false);
  }
  ~Cluster() {
    for (auto& [id, s] : servers_)
      s.reset();
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  void StartMember(uint64_t id, bool join) {
    if (machines_.count(id) == 0) machines_[id] = std::make_unique<KvMachine>();
    ServerOptions o;
    o.id = NodeId(id);
    o.data_dir = (root_ / ("n" + std::to_string(id))).string();
    o.peer_listen_port = ports_[id];
    o.advertise_peer_urls = {"http://127.0.0.1:" + std::to_string(ports_[id])};
    o.initial_members = members_;
    o.join = join;
    o.heartbeat_interval = 20ms;
    o.election_timeout = 200ms;
    o.request_timeout = 3s;
    o.snapshot_count = snapshot_count_;
    o.snapshot_catchup_entries = snapshot_count_ / 2;
    o.state_machine = machines_[id].get();
    if (customize_) customize_(o);
    // RAFTKIT_TEST_LOG=1 shows the members' logs.
    static StderrLogger log(LogLevel::kDebug);
    if (std::getenv("RAFTKIT_TEST_LOG") != nullptr) o.logger = &log;
    auto s = Server::Start(std::move(o));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    servers_[id] = std::move(s).value();
  }
  void StopMember(uint64_t id) { servers_[id].reset(); }
  Member NewMember(uint64_t id) {
    ports_[id] = FreePort();
    Member m{NodeId(id), {"http://127.0.0.1:" + std::to_string(ports_[id])}, false, {}};
    members_.push_back(m);
    return m;
  }

  /// The leader, once there is one; then (for up to 2 s) until every running member knows it, since
  /// a member refuses proposals and reads until it has heard from a leader.
  Server* Leader() {
    Server* found = nullptr;
    Eventually([&] {
      for (auto& [id, s] : servers_) {
        if (s && s->IsLeader()) {
          found = s.get();
          return true;
        }
      }
      return false;
    });
    if (found != nullptr) {
      const NodeId lead = found->GetStatus().id;
      Eventually(
          [&] {
            for (auto& [id, s] : servers_) {
              if (s && s->GetStatus().leader != lead) return false;
            }
            return true;
          },
          2s);
    }
    return found;
  }
  Server* Follower() {
    Server* l = Leader();
    for (auto& [id, s] : servers_) {
      if (s && s.get() != l) return s.get();
    }
    return nullptr;
  }
  Server& server(uint64_t id) { return *servers_[id]; }
  KvMachine& machine(uint64_t id) { return *machines_[id]; }
  [[nodiscard]] std::vector<uint64_t> ids() const {
    std::vector<uint64_t> out;
    for (const auto& [id, s] : servers_) {
      if (s) out.push_back(id);
    }
    return out;
  }

 private:
  static inline std::atomic<int> counter_{0};
  uint64_t snapshot_count_;
  std::function<void(ServerOptions&)> customize_;
  std::filesystem::path root_;
  std::vector<Member> members_;
  std::map<uint64_t, uint16_t> ports_;
  std::map<uint64_t, std::unique_ptr<KvMachine>> machines_;
  std::map<uint64_t, std::unique_ptr<Server>> servers_;
};

TEST(ServerTest, AProposalReturnsTheStateMachinesResultAndReachesEveryMember) {
  std::atomic<uint64_t> last_commit{0};  // before the cluster: its listener outlives the test body
  Cluster c(3);
  Server* leader = c.Leader();
  ASSERT_NE(leader, nullptr);
  leader->AddListener([&](const Event& e) {
    if (e.type == EventType::kCommit) last_commit = e.value;
  });
  auto r1 = leader->ProposeAndWait("a=1");
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1.value(), "");
  auto r2 = leader->ProposeAndWait("a=2");
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2.value(), "1");
  EXPECT_TRUE(
      Eventually([&] { return last_commit.load() == leader->GetStatus().applied_index.value(); }));
  EXPECT_GT(last_commit.load(), 0u);
  for (uint64_t id : c.ids()) {
    EXPECT_TRUE(Eventually([&] { return c.machine(id).Get("a") == "2"; })) << id;
  }
  // A follower forwards proposals to the leader and still gets the result.
  auto r3 = c.Follower()->ProposeAndWait("b=x");
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  // The state machine's error is the proposal's error.
  auto bad = leader->ProposeAndWait("no-equals-sign");
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
}

TEST(ServerTest, NamedCommandsRunTheirRegisteredHandlersOnEveryMember) {
  Cluster c(3);
  Server* leader = c.Leader();
  ASSERT_NE(leader, nullptr);
  std::map<uint64_t, std::shared_ptr<std::atomic<int>>> counters;
  for (uint64_t id : c.ids()) {
    auto n = std::make_shared<std::atomic<int>>(0);
    counters[id] = n;
    c.server(id).RegisterCommand("incr", [n](Index, std::string_view args) -> Result<std::string> {
      *n += std::stoi(std::string(args));
      return std::to_string(n->load());
    });
  }
  auto r = leader->Do("incr", "5").get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r.value(), "5");
  EXPECT_EQ(c.Follower()->Do("incr", "2").get().value(), "7");
  for (uint64_t id : c.ids()) {
    EXPECT_TRUE(Eventually([&] { return counters[id]->load() == 7; })) << id;
  }
  EXPECT_EQ(leader->Do("nope", "").get().status().code(), ErrorCode::kInvalidArgument);
  // Plain proposals still go to the state machine.
  EXPECT_TRUE(leader->ProposeAndWait("a=1").ok());
  EXPECT_EQ(c.machine(leader->GetStatus().id.value()).Get("a"), "1");
}

TEST(ServerTest, ManyConcurrentProposalsAllComplete) {
  Cluster c(3);
  Server* leader = c.Leader();
  ASSERT_NE(leader, nullptr);
  std::vector<std::future<Result<std::string>>> fs;
  for (int i = 0; i < 2000; ++i)
    fs.push_back(leader->Propose("k" + std::to_string(i) + "=v"));
  for (auto& f : fs) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  for (uint64_t id : c.ids()) {
    EXPECT_TRUE(Eventually([&] { return c.machine(id).size() == 2000; })) << id;
  }
}

TEST(ServerTest, ALinearizableReadOnAFollowerSeesEveryEarlierWrite) {
  Cluster c(3);
  Server* leader = c.Leader();
  ASSERT_NE(leader, nullptr);
  Server* follower = c.Follower();
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(leader->ProposeAndWait("x=" + std::to_string(i)).ok());
    ASSERT_TRUE(follower->LinearizableRead().ok());
    const uint64_t fid = follower->GetStatus().id.value();
    ASSERT_EQ(c.machine(fid).Get("x"), std::to_string(i));
  }
}

// Reads batched on different members at the same time must not be mistaken for one another by
// the leader (it ignores a read context it already holds).
TEST(ServerTest, ConcurrentLinearizableReadsOnEveryMemberAllComplete) {
  Cluster c(3);
  ASSERT_NE(c.Leader(), nullptr);
  ASSERT_TRUE(c.Leader()->ProposeAndWait("r=1").ok());
  std::atomic<int> failed{0};
  std::vector<std::thread> readers;
  for (uint64_t id : c.ids()) {
    for (int t = 0; t < 8; ++t) {
      readers.emplace_back([&, id] {
        for (int n = 0; n < 50; ++n) {
          const Status st = c.server(id).LinearizableRead();
          if (!st.ok()) {
            ++failed;
            ADD_FAILURE() << "member " << id << ": " << st.ToString();
            return;
          }
        }
      });
    }
  }
  for (auto& t : readers)
    t.join();
  EXPECT_EQ(failed.load(), 0);
}

TEST(ServerTest, AMemberRestartsFromItsDataDirectory) {
  Cluster c(3);
  Server* leader = c.Leader();
  ASSERT_NE(leader, nullptr);
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(leader->ProposeAndWait("r=" + std::to_string(i)).ok());
  const uint64_t fid = c.Follower()->GetStatus().id.value();
  ASSERT_TRUE(Eventually([&] { return c.machine(fid).Get("r") == "19"; }));
  c.StopMember(fid);
  ASSERT_TRUE(c.Leader()->ProposeAndWait("r=20").ok());
  c.StartMember(fid, false);
  EXPECT_TRUE(Eventually([&] { return c.machine(fid).Get("r") == "20"; }));
}

TEST(ServerTest, SnapshotsCompactTheLogAndCatchUpANewMember) {
  Cluster c(3, /*snapshot_count=*/100);
  Server* leader = c.Leader();
  ASSERT_NE(leader, nullptr);
  for (int i = 0; i < 400; ++i) {
    ASSERT_TRUE(leader->ProposeAndWait("s" + std::to_string(i) + "=v").ok());
  }
  const Member m = c.NewMember(4);
  ASSERT_TRUE(c.Leader()->AddMember(m).ok());
  c.StartMember(4, /*join=*/true);
  EXPECT_TRUE(Eventually([&] { return c.machine(4).size() == 400; })) << c.machine(4).size();
  EXPECT_GE(c.machine(4).restores(), 1) << "caught up by a snapshot";
  ASSERT_TRUE(c.Leader()->ProposeAndWait("after=1").ok());
  EXPECT_TRUE(Eventually([&] { return c.machine(4).Get("after") == "1"; }));
  EXPECT_EQ(c.server(4).GetStatus().members.size(), 4u);
}

// Server::Snapshot: saved on request (not only every snapshot_count entries), and what a restart
// starts from.
TEST(ServerTest, ASnapshotOnRequestIsSavedAndARestartStartsFromIt) {
  Cluster c(3, /*snapshot_count=*/100000);
  Server* leader = c.Leader();
  ASSERT_NE(leader, nullptr);
  for (int i = 0; i < 30; ++i)
    ASSERT_TRUE(leader->ProposeAndWait("q" + std::to_string(i) + "=v").ok());
  const uint64_t fid = c.Follower()->GetStatus().id.value();
  ASSERT_TRUE(Eventually([&] { return c.machine(fid).size() == 30; }));
  ASSERT_TRUE(c.server(fid).Snapshot().ok());
  EXPECT_TRUE(c.server(fid).Snapshot().ok()) << "nothing new: done at once";
  c.StopMember(fid);
  const int before = c.machine(fid).restores();
  c.StartMember(fid, false);
  EXPECT_EQ(c.machine(fid).restores(), before + 1) << "the restart restored the snapshot";
  EXPECT_EQ(c.machine(fid).size(), 30u);
  ASSERT_TRUE(c.Leader()->ProposeAndWait("q30=v").ok());
  EXPECT_TRUE(Eventually([&] { return c.machine(fid).size() == 31; }));
}

TEST(ServerTest, LeadershipMovesOnRequestAndALeaderCanBeRemoved) {
  std::atomic<uint64_t> seen_leader{0}, removed{0};  // before the cluster (listeners outlive them)
  Cluster c(3);
  Server* leader = c.Leader();
  ASSERT_NE(leader, nullptr);
  const NodeId target = c.Follower()->GetStatus().id;
  c.server(target.value()).AddListener([&](const Event& e) {
    if (e.type == EventType::kLeaderChange) seen_leader = e.value;
    if (e.type == EventType::kRemovePeer) removed = e.value;
  });
  ASSERT_TRUE(leader->TransferLeadership(target, 5s).ok());
  Server& next = c.server(target.value());
  EXPECT_TRUE(Eventually([&] { return next.IsLeader(); }));
  EXPECT_EQ(seen_leader.load(), target.value()) << "leaderChange event";
  ASSERT_TRUE(next.RemoveMember(target).ok());
  Server* after = nullptr;
  ASSERT_TRUE(Eventually([&] {
    for (uint64_t id : c.ids()) {
      if (id != target.value() && c.server(id).IsLeader()) after = &c.server(id);
    }
    return after != nullptr;
  }));
  ASSERT_TRUE(after->ProposeAndWait("z=1").ok());
  EXPECT_EQ(after->GetStatus().members.size(), 2u);
  EXPECT_EQ(removed.load(), target.value()) << "removePeer event";
  // The removed member stops serving: its requests fail with kStopped.
  EXPECT_TRUE(Eventually(
      [&] { return next.ProposeAndWait("late=1").status().code() == ErrorCode::kStopped; }));
}

// Raft takes one membership change at a time, and a new leader none until it has applied its
// log: the server holds changes back until then instead of letting Raft turn them into empty
// entries that their callers would wait on until they time out.
TEST(ServerTest, MembershipChangesRightAfterAnElectionAndBackToBackAllTakeEffect) {
  Cluster c(3);
  Server* leader = c.Leader();
  ASSERT_NE(leader, nullptr);
  const NodeId target = c.Follower()->GetStatus().id;
  ASSERT_TRUE(leader->TransferLeadership(target, 5s).ok());
  Server& next = c.server(target.value());
  ASSERT_TRUE(Eventually([&] { return next.IsLeader(); }, 5s));
  // At once, and all together: three learners that never start (they do not count towards the
  // quorum), then the removal of one of them.
  std::vector<std::future<Status>> adds;
  for (uint64_t id : {7, 8, 9}) {
    Member m = c.NewMember(id);
    m.learner = true;
    adds.push_back(std::async(std::launch::async, [&next, m] { return next.AddMember(m); }));
  }
  for (auto& f : adds) {
    const Status st = f.get();
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  const Status removed = next.RemoveMember(NodeId(8));
  EXPECT_TRUE(removed.ok()) << removed.ToString();
  std::set<uint64_t> ids;
  for (const auto& m : next.GetStatus().members)
    ids.insert(m.id.value());
  EXPECT_EQ(ids, (std::set<uint64_t>{1, 2, 3, 7, 9}));
}

TEST(ServerTest, StatusReportsMembersQuorumAndPeers) {
  Cluster c(3);
  ASSERT_NE(c.Leader(), nullptr);
  // Member 2 learns of the leader with its first message.
  ASSERT_TRUE(Eventually([&] { return c.server(2).GetStatus().leader != kNoNode; }));
  const auto st = c.server(2).GetStatus();
  EXPECT_EQ(st.id, NodeId(2));
  EXPECT_EQ(st.MemberCount(), 3u);
  EXPECT_EQ(st.QuorumSize(), 2u);
  ASSERT_EQ(st.Peers().size(), 2u);
  for (const auto& p : st.Peers())
    EXPECT_NE(p.id, NodeId(2));
  EXPECT_GT(st.term.value(), 0u);
}

// peer_dial_urls: member 3 reaches member 1 through a proxy; cutting that one link leaves the
// cluster working over the others.
TEST(ServerTest, PeerDialUrlsRouteALinkThroughAnotherAddress) {
  std::unique_ptr<chaos::FaultProxy> proxy;
  Cluster c(3, 10000, [&proxy](ServerOptions& o) {
    if (o.id != NodeId(3)) return;
    const std::string& url1 = o.initial_members.at(0).peer_urls.at(0);
    const auto port1 = static_cast<uint16_t>(std::stoi(url1.substr(url1.rfind(':') + 1)));
    if (!proxy) proxy = chaos::FaultProxy::Start(port1).value();
    o.peer_dial_urls[NodeId(1)] = {"http://127.0.0.1:" + std::to_string(proxy->port())};
  });
  ASSERT_NE(c.Leader(), nullptr);
  // Member 3 learns of the leader with its first message (until then it refuses proposals).
  ASSERT_TRUE(Eventually([&] { return c.server(3).GetStatus().leader != kNoNode; }));
  const auto via = c.server(3).ProposeAndWait("via=proxy");
  ASSERT_TRUE(via.ok()) << via.status().ToString();
  EXPECT_GT(proxy->accepted(), 0u) << "member 3 dialed member 1 through the proxy";
  EXPECT_GT(proxy->forwarded_bytes(), 0u);
  // The member table still shows the advertised URL.
  for (const auto& m : c.server(3).GetStatus().members) {
    if (m.id != NodeId(1)) continue;
    EXPECT_EQ(m.peer_urls.at(0).find(std::to_string(proxy->port())), std::string::npos);
  }
  proxy->Partition();
  proxy->ResetConnections();
  EXPECT_TRUE(c.Leader()->ProposeAndWait("still=1").ok());
  proxy->Heal();
}

// peer_dial_by_url: the same, keyed by the advertised URL (for members whose ids are not known
// when this one starts).
TEST(ServerTest, PeerDialByUrlRoutesALinkByTheAdvertisedUrl) {
  std::unique_ptr<chaos::FaultProxy> proxy;
  Cluster c(3, 10000, [&proxy](ServerOptions& o) {
    if (o.id != NodeId(2)) return;
    const std::string& url3 = o.initial_members.at(2).peer_urls.at(0);
    const auto port3 = static_cast<uint16_t>(std::stoi(url3.substr(url3.rfind(':') + 1)));
    if (!proxy) proxy = chaos::FaultProxy::Start(port3).value();
    o.peer_dial_by_url[url3] = "http://127.0.0.1:" + std::to_string(proxy->port());
  });
  ASSERT_NE(c.Leader(), nullptr);
  // (Retried: a proposal made while the first leader settles in may be dropped.)
  ASSERT_TRUE(Eventually([&] { return c.server(2).ProposeAndWait("via=url").ok(); }));
  ASSERT_TRUE(Eventually([&] { return c.server(3).ProposeAndWait("and=back").ok(); }));
  EXPECT_TRUE(Eventually([&] { return proxy->accepted() > 0 && proxy->forwarded_bytes() > 0; }))
      << "member 2 dialed member 3 through the proxy";
}

TEST(ServerTest, OnlyTheLeaderOrTheTransfereeCanMoveLeadership) {
  Cluster c(3);
  Server* leader = c.Leader();
  ASSERT_NE(leader, nullptr);
  std::vector<uint64_t> followers;
  for (uint64_t id : c.ids()) {
    if (&c.server(id) != leader) followers.push_back(id);
  }
  ASSERT_EQ(followers.size(), 2u);
  // A follower cannot move leadership to a third member (Raft would make it the transferee).
  const Status st = c.server(followers[0]).TransferLeadership(NodeId(followers[1]), 2s);
  EXPECT_EQ(st.code(), ErrorCode::kNotLeader) << st.ToString();
  EXPECT_TRUE(leader->IsLeader());
  // The transferee itself can: its request goes to the leader.
  ASSERT_TRUE(c.server(followers[1]).TransferLeadership(NodeId(followers[1]), 5s).ok());
  EXPECT_TRUE(c.server(followers[1]).IsLeader());
}

TEST(ServerTest, EveryMemberLearnsEveryMembersClientUrls) {
  Cluster c(3, 10000, [](ServerOptions& o) {
    o.advertise_client_urls = {"http://client-" + std::to_string(o.id.value()) + ":9000"};
  });
  for (uint64_t id : c.ids()) {
    EXPECT_TRUE(Eventually([&] {
      const auto st = c.server(id).GetStatus();
      if (st.members.size() != 3) return false;
      for (const auto& m : st.members) {
        if (m.client_urls !=
            std::vector<std::string>{"http://client-" + std::to_string(m.id.value()) + ":9000"}) {
          return false;
        }
      }
      return true;
    })) << "member "
        << id;
  }
}

TEST(ServerTest, TheLeaderReportsHeartbeatRoundTripsAndWarnsNearTheElectionTimeout) {
  // A threshold of 0 makes every round trip "near the election timeout".
  Cluster c(3, 10000, [](ServerOptions& o) { o.election_timeout_threshold = 0.0; });
  Server* leader = c.Leader();
  ASSERT_NE(leader, nullptr);
  const uint64_t lid = leader->GetStatus().id.value();
  // Shared with the listener, which the servers may still call while the test ends.
  struct Seen {
    std::mutex mu;
    std::map<uint64_t, int> heartbeats, warnings;
  };
  auto seen = std::make_shared<Seen>();
  leader->AddListener([seen](const Event& e) {
    std::lock_guard<std::mutex> g(seen->mu);
    if (e.type == EventType::kHeartbeat && e.duration.count() >= 0) ++seen->heartbeats[e.value];
    if (e.type == EventType::kElectionTimeoutThreshold) ++seen->warnings[e.value];
  });
  EXPECT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> g(seen->mu);
    return seen->heartbeats.size() == 2 && seen->warnings.size() == 2;
  }));
  std::lock_guard<std::mutex> g(seen->mu);
  EXPECT_EQ(seen->heartbeats.count(lid), 0u) << "a leader sends no heartbeats to itself";
  // Warnings are rate-limited: one per follower per ten election timeouts.
  for (const auto& [id, n] : seen->warnings)
    EXPECT_EQ(n, 1) << id;
}

TEST(ServerTest, WithoutAQuorumRequestsFailInsteadOfHanging) {
  Cluster c(3);
  Server* leader = c.Leader();
  ASSERT_NE(leader, nullptr);
  const uint64_t lid = leader->GetStatus().id.value();
  for (uint64_t id : c.ids()) {
    if (id != lid) c.StopMember(id);
  }
  auto r = c.server(lid).ProposeAndWait("q=1");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.status().code() == ErrorCode::kTimeout ||
              r.status().code() == ErrorCode::kNotLeader)
      << r.status().ToString();
  const Status read = c.server(lid).LinearizableRead();
  EXPECT_FALSE(read.ok());
}

}  // namespace
}  // namespace raftkit::server
