#include "chaos/chaos_cluster.h"

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "chaos/torn_wal.h"
#include "testlib/http_call.h"

namespace raftkit::chaos {

using namespace std::chrono_literals;
using nlohmann::json;

ChaosCluster::ChaosCluster(int members, int slots, std::filesystem::path dir, uint16_t base_port,
                           std::string kv_binary, std::vector<std::string> extra_args)
    : slots_(slots),
      dir_(std::move(dir)),
      base_port_(base_port),
      kv_binary_(std::move(kv_binary)),
      extra_args_(std::move(extra_args)),
      next_id_(static_cast<uint64_t>(members) + 1) {
  std::filesystem::create_directories(dir_);
  for (int i = 1; i <= slots_; ++i) {
    for (int j = 1; j <= slots_; ++j) {
      if (i == j) continue;
      proxies_[{i, j}] = FaultProxy::Start(static_cast<uint16_t>(base_port_ + j)).value();
    }
  }
  http::ClientOptions co;
  co.connect_timeout = 1s;
  co.response_header_timeout = 12s;  // membership changes and transfers wait for the outcome
  client_ = http::Client::Create(co).value();
  co.response_header_timeout = 2s;
  status_client_ = http::Client::Create(co).value();
  for (int i = 1; i <= members; ++i)
    slots_state_[i].id = static_cast<uint64_t>(i);
  for (int i = 1; i <= members; ++i)
    Start(i);
}

ChaosCluster::~ChaosCluster() {
  {
    std::lock_guard<std::mutex> g(mu_);
    slots_state_.clear();  // SIGKILL (a paused process is continued first), reaped
  }
  proxies_.clear();
}

std::string ChaosCluster::Api(int slot) const {
  return "http://127.0.0.1:" + std::to_string(base_port_ + 32 + slot);
}

std::string ChaosCluster::PeerUrl(int slot) const {
  return "http://127.0.0.1:" + std::to_string(base_port_ + slot);
}

std::filesystem::path ChaosCluster::DataDir(int slot) const {
  return dir_ / ("slot" + std::to_string(slot));
}

uint64_t ChaosCluster::MemberAt(int slot) const {
  std::lock_guard<std::mutex> g(mu_);
  auto it = slots_state_.find(slot);
  return it == slots_state_.end() ? 0 : it->second.id;
}

int ChaosCluster::SlotOf(uint64_t id) const {
  std::lock_guard<std::mutex> g(mu_);
  for (const auto& [slot, st] : slots_state_) {
    if (st.id == id && id != 0) return slot;
  }
  return 0;
}

std::vector<int> ChaosCluster::Occupied() const {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<int> out;
  for (const auto& [slot, st] : slots_state_) {
    if (st.id != 0) out.push_back(slot);
  }
  return out;
}

std::vector<int> ChaosCluster::Voters() const {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<int> out;
  for (const auto& [slot, st] : slots_state_) {
    if (st.id != 0 && !st.learner) out.push_back(slot);
  }
  return out;
}

std::vector<int> ChaosCluster::Learners() const {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<int> out;
  for (const auto& [slot, st] : slots_state_) {
    if (st.id != 0 && st.learner) out.push_back(slot);
  }
  return out;
}

std::vector<int> ChaosCluster::Targets() const {
  return Occupied();
}

bool ChaosCluster::running(int slot) const {
  std::lock_guard<std::mutex> g(mu_);
  auto it = slots_state_.find(slot);
  return it != slots_state_.end() && it->second.proc != nullptr;
}

bool ChaosCluster::paused(int slot) const {
  std::lock_guard<std::mutex> g(mu_);
  auto it = slots_state_.find(slot);
  return it != slots_state_.end() && it->second.paused;
}

void ChaosCluster::Start(int slot) {
  std::lock_guard<std::mutex> g(mu_);
  SlotState& st = slots_state_[slot];
  if (st.id == 0 || st.proc) return;
  // Every current member as ID=URL (a joining member dials them; a restart reads its own).
  std::string cluster;
  for (const auto& [s, other] : slots_state_) {
    if (other.id == 0) continue;
    cluster += (cluster.empty() ? "" : ",") + std::to_string(other.id) + "=" + PeerUrl(s);
  }
  std::vector<std::string> args = {kv_binary_,
                                   "--id",
                                   std::to_string(st.id),
                                   "--cluster",
                                   cluster,
                                   "--port",
                                   std::to_string(base_port_ + 32 + slot),
                                   "--data-dir",
                                   DataDir(slot).string(),
                                   "--log-level",
                                   "info"};
  if (st.joined) args.push_back("--join");
  // Whoever advertises slot j's URL is dialed through this slot's proxy to j.
  for (int j = 1; j <= slots_; ++j) {
    if (j == slot) continue;
    args.push_back("--peer-dial");
    args.push_back(PeerUrl(j) + "=http://127.0.0.1:" + std::to_string(Link(slot, j).port()));
  }
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  st.proc = std::make_unique<testing::ChildProcess>(
      args, (dir_ / ("slot" + std::to_string(slot) + ".log")).string());
  st.paused = false;
}

void ChaosCluster::Kill(int slot) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = slots_state_.find(slot);
  if (it == slots_state_.end()) return;
  it->second.proc.reset();
  it->second.paused = false;
}

void ChaosCluster::Pause(int slot) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = slots_state_.find(slot);
  if (it == slots_state_.end() || !it->second.proc) return;
  it->second.proc->Signal(SIGSTOP);
  it->second.paused = true;
}

void ChaosCluster::Resume(int slot) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = slots_state_.find(slot);
  if (it == slots_state_.end() || !it->second.proc) return;
  it->second.proc->Signal(SIGCONT);
  it->second.paused = false;
}

Status ChaosCluster::TearWalTail(int slot, std::mt19937_64& rng, std::string* what) {
  return chaos::TearWalTail(DataDir(slot) / "wal", rng, what);
}

std::pair<int, std::string> ChaosCluster::Ask(const std::string& method, const std::string& path,
                                              const std::string& body) {
  std::vector<int> order;
  {
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& [slot, st] : slots_state_) {
      if (st.id != 0 && st.proc && !st.paused) order.push_back(slot);
    }
  }
  std::pair<int, std::string> last{0, "no running member"};
  for (int slot : order) {
    http::Response r;
    {
      std::lock_guard<std::mutex> g(client_mu_);
      r = testing::HttpCall(*client_, method, Api(slot) + path, body);
    }
    last = {r.status, r.body};
    // 503 (no leader, not applied in time) or a dead member: another may do better.
    if (r.status != 0 && r.status != 503) return last;
  }
  return last;
}

std::map<uint64_t, bool> ChaosCluster::ReportedMembers() {
  // Ask until a member that knows a leader answers: it has the newest table among those asked.
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto [status, body] = Ask("GET", "/v1/cluster");
    const json j = json::parse(body, nullptr, false);
    if (status == 200 && j.is_object() && j.value("leader", uint64_t{0}) != 0) {
      std::map<uint64_t, bool> out;
      for (const auto& m : j["members"])
        out[m["id"].get<uint64_t>()] = m["learner"].get<bool>();
      return out;
    }
    std::this_thread::sleep_for(250ms);
  }
  return {};
}

Result<uint64_t> ChaosCluster::AddMember(int slot, bool learner) {
  if (MemberAt(slot) != 0) return Status(ErrorCode::kInvalidArgument, "slot is occupied");
  const uint64_t id = next_id_++;
  const json body{{"id", id}, {"peer_urls", {PeerUrl(slot)}}, {"learner", learner}};
  auto [status, answer] = Ask("POST", "/v1/cluster/members", body.dump());
  if (status != 201) {
    // Not known to have happened: see whether it did (ids are never reused either way).
    std::this_thread::sleep_for(1s);
    const auto members = ReportedMembers();
    if (members.count(id) == 0) {
      return Status(ErrorCode::kUnavailable, "add member " + std::to_string(id) + ": " +
                                                 std::to_string(status) + " " + answer);
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(DataDir(slot), ec);
  {
    std::lock_guard<std::mutex> g(mu_);
    SlotState& st = slots_state_[slot];
    st.id = id;
    st.learner = learner;
    st.joined = true;
  }
  Start(slot);
  return id;
}

Status ChaosCluster::RemoveMember(int slot) {
  const uint64_t id = MemberAt(slot);
  if (id == 0) return Status(ErrorCode::kInvalidArgument, "slot is empty");
  auto [status, answer] = Ask("DELETE", "/v1/cluster/members/" + std::to_string(id));
  if (status != 204) {
    std::this_thread::sleep_for(1s);
    const auto members = ReportedMembers();
    if (members.empty() || members.count(id) > 0) {
      return Status(ErrorCode::kUnavailable, "remove member " + std::to_string(id) + ": " +
                                                 std::to_string(status) + " " + answer);
    }
  }
  std::lock_guard<std::mutex> g(mu_);
  slots_state_.erase(slot);  // kills the process
  std::error_code ec;
  std::filesystem::remove_all(DataDir(slot), ec);
  return Status::Ok();
}

std::vector<uint64_t> ChaosCluster::RemoveStrangers() {
  std::vector<uint64_t> removed;
  for (const auto& [id, learner] : ReportedMembers()) {
    if (SlotOf(id) != 0) continue;
    auto [status, answer] = Ask("DELETE", "/v1/cluster/members/" + std::to_string(id));
    if (status == 204) removed.push_back(id);
  }
  return removed;
}

Status ChaosCluster::Promote(int slot) {
  const uint64_t id = MemberAt(slot);
  if (id == 0) return Status(ErrorCode::kInvalidArgument, "slot is empty");
  auto [status, answer] = Ask("POST", "/v1/cluster/members/" + std::to_string(id) + "/promote");
  if (status != 204) {
    std::this_thread::sleep_for(1s);
    const auto members = ReportedMembers();
    auto it = members.find(id);
    if (it == members.end() || it->second) {
      return Status(ErrorCode::kUnavailable, "promote member " + std::to_string(id) + ": " +
                                                 std::to_string(status) + " " + answer);
    }
  }
  std::lock_guard<std::mutex> g(mu_);
  slots_state_[slot].learner = false;
  return Status::Ok();
}

Status ChaosCluster::TransferLeader(int slot) {
  const uint64_t id = MemberAt(slot);
  if (id == 0) return Status(ErrorCode::kInvalidArgument, "slot is empty");
  auto [status, answer] = Ask("POST", "/v1/cluster/leader", json{{"to", id}}.dump());
  if (status == 204) return Status::Ok();
  return Status(ErrorCode::kUnavailable,
                "transfer to " + std::to_string(id) + ": " + std::to_string(status) + " " + answer);
}

Status ChaosCluster::Snapshot(int slot) {
  http::Response r;
  {
    std::lock_guard<std::mutex> g(client_mu_);
    r = testing::HttpCall(*client_, "POST", Api(slot) + "/v1/cluster/snapshot");
  }
  if (r.status == 204) return Status::Ok();
  return Status(ErrorCode::kUnavailable,
                "snapshot on slot " + std::to_string(slot) + ": " + std::to_string(r.status));
}

void ChaosCluster::Cut(int from, int to) {
  LinkFaults blocked;
  blocked.blocked = true;
  Degrade(from, to, blocked);
}

void ChaosCluster::Degrade(int from, int to, const LinkFaults& faults) {
  // `from` dialing `to`: its requests go forward. `to` dialing `from`: `from`'s answers go back.
  Link(from, to).SetForward(faults);
  Link(to, from).SetBackward(faults);
}

void ChaosCluster::Partition(const std::vector<std::set<int>>& groups) {
  auto group_of = [&](int i) {
    for (size_t g = 0; g < groups.size(); ++g) {
      if (groups[g].count(i) > 0) return static_cast<int>(g);
    }
    return -1 - i;  // alone
  };
  for (int i = 1; i <= slots_; ++i) {
    for (int j = 1; j <= slots_; ++j) {
      if (i != j && group_of(i) != group_of(j)) Cut(i, j);
    }
  }
}

void ChaosCluster::HealAll() {
  for (auto& [link, p] : proxies_)
    p->Heal();
}

void ChaosCluster::ResetLinks(int slot) {
  for (auto& [link, p] : proxies_) {
    if (link.first == slot || link.second == slot) p->ResetConnections();
  }
}

uint64_t ChaosCluster::Leader() {
  std::vector<int> order;
  {
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& [slot, st] : slots_state_) {
      if (st.id != 0 && st.proc && !st.paused) order.push_back(slot);
    }
  }
  std::map<uint64_t, int> votes;
  for (int slot : order) {
    http::Response r;
    {
      std::lock_guard<std::mutex> g(status_mu_);
      r = testing::HttpCall(*status_client_, "GET", Api(slot) + "/v1/cluster");
    }
    if (r.status != 200) continue;
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_object()) ++votes[j.value("leader", uint64_t{0})];
  }
  uint64_t best = 0;
  int most = 0;
  for (const auto& [id, count] : votes) {
    if (id != 0 && count > most) {
      best = id;
      most = count;
    }
  }
  return best;
}

int ChaosCluster::LeaderSlot() {
  const int slot = SlotOf(Leader());
  return slot != 0 && running(slot) && !paused(slot) ? slot : 0;
}

bool ChaosCluster::WaitHealthy(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    bool all = true;
    for (int slot : Occupied()) {
      if (!all) break;
      if (running(slot) && !paused(slot)) {
        std::lock_guard<std::mutex> g(status_mu_);
        all = testing::HttpCall(*status_client_, "GET", Api(slot) + "/health").status == 200;
      }
    }
    if (all) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

bool ChaosCluster::WaitCaughtUp(int slot, std::chrono::milliseconds timeout) {
  // /health answers 200 once a linearizable read succeeded there: the member applied everything
  // the leader had committed when the read began.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> g(status_mu_);
      if (testing::HttpCall(*status_client_, "GET", Api(slot) + "/health").status == 200)
        return true;
    }
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

std::string ChaosCluster::LogTail(int slot, size_t bytes) const {
  std::ifstream in(dir_ / ("slot" + std::to_string(slot) + ".log"));
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string all = ss.str();
  return all.substr(all.size() > bytes ? all.size() - bytes : 0);
}

}  // namespace raftkit::chaos
