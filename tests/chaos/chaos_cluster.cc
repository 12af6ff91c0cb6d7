#include "chaos/chaos_cluster.h"

#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "testlib/http_call.h"

namespace raftkit::chaos {

using namespace std::chrono_literals;

ChaosCluster::ChaosCluster(int n, std::filesystem::path dir, uint16_t base_port,
                           std::string kv_binary, std::vector<std::string> extra_args)
    : n_(n),
      dir_(std::move(dir)),
      base_port_(base_port),
      kv_binary_(std::move(kv_binary)),
      extra_args_(std::move(extra_args)) {
  std::filesystem::create_directories(dir_);
  for (int i = 1; i <= n_; ++i) {
    for (int j = 1; j <= n_; ++j) {
      if (i == j) continue;
      proxies_[{i, j}] = FaultProxy::Start(static_cast<uint16_t>(base_port_ + j)).value();
    }
  }
  http::ClientOptions co;
  co.connect_timeout = 1s;
  co.response_header_timeout = 2s;
  client_ = http::Client::Create(co).value();
  for (int i = 1; i <= n_; ++i)
    Start(i);
}

ChaosCluster::~ChaosCluster() {
  procs_.clear();  // SIGKILL (a paused process is continued first), reaped
  proxies_.clear();
}

std::string ChaosCluster::Api(int i) const {
  return "http://127.0.0.1:" + std::to_string(base_port_ + 10 + i);
}

void ChaosCluster::Start(int i) {
  std::string cluster;
  for (int k = 1; k <= n_; ++k)
    cluster +=
        (k > 1 ? "," : "") + std::string("http://127.0.0.1:") + std::to_string(base_port_ + k);
  std::vector<std::string> args = {kv_binary_,
                                   "--id",
                                   std::to_string(i),
                                   "--cluster",
                                   cluster,
                                   "--port",
                                   std::to_string(base_port_ + 10 + i),
                                   "--data-dir",
                                   (dir_ / ("n" + std::to_string(i))).string(),
                                   "--log-level",
                                   "warn"};
  for (int j = 1; j <= n_; ++j) {
    if (j == i) continue;
    args.push_back("--peer-dial");
    args.push_back(std::to_string(j) + "=http://127.0.0.1:" + std::to_string(Link(i, j).port()));
  }
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  procs_[i] = std::make_unique<testing::ChildProcess>(
      args, (dir_ / ("n" + std::to_string(i) + ".log")).string());
  paused_.erase(i);
}

void ChaosCluster::Kill(int i) {
  procs_.erase(i);
  paused_.erase(i);
}

void ChaosCluster::Pause(int i) {
  auto it = procs_.find(i);
  if (it == procs_.end()) return;
  it->second->Signal(SIGSTOP);
  paused_.insert(i);
}

void ChaosCluster::Resume(int i) {
  auto it = procs_.find(i);
  if (it == procs_.end()) return;
  it->second->Signal(SIGCONT);
  paused_.erase(i);
}

void ChaosCluster::Cut(int from, int to) {
  LinkFaults blocked;
  blocked.blocked = true;
  // `from` dialing `to`: its requests go forward. `to` dialing `from`: `from`'s answers go back.
  Link(from, to).SetForward(blocked);
  Link(to, from).SetBackward(blocked);
}

void ChaosCluster::Partition(const std::vector<std::set<int>>& groups) {
  auto group_of = [&](int i) {
    for (size_t g = 0; g < groups.size(); ++g) {
      if (groups[g].count(i) > 0) return static_cast<int>(g);
    }
    return -1;
  };
  for (int i = 1; i <= n_; ++i) {
    for (int j = 1; j <= n_; ++j) {
      if (i != j && group_of(i) != group_of(j)) Cut(i, j);
    }
  }
}

void ChaosCluster::HealAll() {
  for (auto& [link, p] : proxies_)
    p->Heal();
}

void ChaosCluster::ResetLinks(int i) {
  for (auto& [link, p] : proxies_) {
    if (link.first == i || link.second == i) p->ResetConnections();
  }
}

uint64_t ChaosCluster::Leader() {
  std::map<uint64_t, int> votes;
  for (int i = 1; i <= n_; ++i) {
    if (!running(i) || paused(i)) continue;
    auto r = testing::HttpCall(*client_, "GET", Api(i) + "/v1/cluster");
    if (r.status != 200) continue;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
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

bool ChaosCluster::WaitHealthy(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    bool all = true;
    for (int i = 1; i <= n_ && all; ++i) {
      if (running(i) && !paused(i)) {
        all = testing::HttpCall(*client_, "GET", Api(i) + "/health").status == 200;
      }
    }
    if (all) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

std::string ChaosCluster::LogTail(int i, size_t bytes) const {
  std::ifstream in(dir_ / ("n" + std::to_string(i) + ".log"));
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string all = ss.str();
  return all.substr(all.size() > bytes ? all.size() - bytes : 0);
}

}  // namespace raftkit::chaos
