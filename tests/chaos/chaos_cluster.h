// A raftkit-kv cluster as real processes on 127.0.0.1 for the chaos tests, with every peer link
// routed through its own FaultProxy: member i reaches member j through proxy (i, j) (raftkit-kv's
// --peer-dial), so each direction of each link can be cut, delayed or reset on its own.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "chaos/fault_proxy.h"
#include "raftkit/transport/http/client.h"
#include "testlib/process.h"

namespace raftkit::chaos {

class ChaosCluster {
 public:
  /// `n` members, data and logs under `dir`, ports from `base_port` (peer base+i, API base+10+i).
  ChaosCluster(int n, std::filesystem::path dir, uint16_t base_port, std::string kv_binary,
               std::vector<std::string> extra_args = {});
  ~ChaosCluster();  ///< kills every member (SIGKILL)

  [[nodiscard]] int size() const { return n_; }
  [[nodiscard]] std::string Api(int i) const;
  [[nodiscard]] bool running(int i) const { return procs_.count(i) > 0; }
  [[nodiscard]] bool paused(int i) const { return paused_.count(i) > 0; }

  void Start(int i);
  void Kill(int i);    ///< SIGKILL, as a power cut (unsynced bytes in the page cache survive)
  void Pause(int i);   ///< SIGSTOP
  void Resume(int i);  ///< SIGCONT

  /// Blocks traffic from member `from` to member `to` (both the requests `from` sends on its own
  /// connections and the answers it sends on `to`'s).
  void Cut(int from, int to);
  /// Cuts every link between members of different groups.
  void Partition(const std::vector<std::set<int>>& groups);
  /// Every link clear again.
  void HealAll();
  /// Resets every open peer connection of member `i`.
  void ResetLinks(int i);

  /// The leader most running members report (0: none known).
  uint64_t Leader();
  /// Waits until every running member answers /health with 200.
  bool WaitHealthy(std::chrono::milliseconds timeout);
  std::string LogTail(int i, size_t bytes) const;

 private:
  FaultProxy& Link(int from, int to) { return *proxies_.at({from, to}); }

  int n_;
  std::filesystem::path dir_;
  uint16_t base_port_;
  std::string kv_binary_;
  std::vector<std::string> extra_args_;
  std::map<std::pair<int, int>, std::unique_ptr<FaultProxy>> proxies_;
  std::map<int, std::unique_ptr<testing::ChildProcess>> procs_;
  std::set<int> paused_;
  std::unique_ptr<http::Client> client_;
};

}  // namespace raftkit::chaos
