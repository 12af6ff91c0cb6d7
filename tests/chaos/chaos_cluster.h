// A raftkit-kv cluster as real processes on 127.0.0.1 for the chaos tests.
//
// The cluster has a fixed number of slots, each with its own peer and API port and data directory.
// A slot holds at most one member at a time; members added later get fresh ids (ids are never
// reused) in an empty slot. Every peer link runs through its own FaultProxy: the member in slot i
// reaches slot j's port through proxy (i, j) (raftkit-kv's --peer-dial by advertised URL, so it
// also covers members that join after it started), and each direction of each link can be cut,
// delayed, slowed or reset on its own.
//
// Methods are called by one thread (the nemesis), except Targets(), Leader() and LeaderSlot(),
// which any thread may call.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "chaos/fault_proxy.h"
#include "raftkit/transport/http/client.h"
#include "raftkit/util/status.h"
#include "testlib/process.h"

namespace raftkit::chaos {

class ChaosCluster {
 public:
  /// `members` voters in slots 1..members (ids 1..members) of `slots` slots; data and logs under
  /// `dir`, ports from `base_port` (slot s: peer base+s, API base+32+s).
  ChaosCluster(int members, int slots, std::filesystem::path dir, uint16_t base_port,
               std::string kv_binary, std::vector<std::string> extra_args = {});
  ~ChaosCluster();  ///< kills every member (SIGKILL)

  [[nodiscard]] int slots() const { return slots_; }
  [[nodiscard]] std::string Api(int slot) const;
  [[nodiscard]] std::string PeerUrl(int slot) const;
  /// The member id in `slot` (0: empty).
  [[nodiscard]] uint64_t MemberAt(int slot) const;
  /// The slot of member `id` (0: none).
  [[nodiscard]] int SlotOf(uint64_t id) const;
  /// Occupied slots.
  [[nodiscard]] std::vector<int> Occupied() const;
  /// Occupied slots whose member is a voter (as far as this cluster knows).
  [[nodiscard]] std::vector<int> Voters() const;
  /// Occupied slots whose member is a learner.
  [[nodiscard]] std::vector<int> Learners() const;
  /// Slots clients may send requests to (occupied; killed and paused ones included, as real
  /// clients do not know).
  [[nodiscard]] std::vector<int> Targets() const;
  [[nodiscard]] bool running(int slot) const;
  [[nodiscard]] bool paused(int slot) const;

  void Start(int slot);  ///< restarts the slot's member from its data directory
  void Kill(int slot);   ///< SIGKILL, as a process crash (unsynced bytes in the page cache survive)
  void Pause(int slot);  ///< SIGSTOP
  void Resume(int slot);  ///< SIGCONT

  /// With the slot's member killed: leaves at the end of its newest WAL segment what a power loss
  /// can leave after the last fsync — part of a batch that was being written and never synced (a
  /// torn header, a payload cut short, garbled bytes followed by zeros). Nothing already written is
  /// touched. `what` says which. Errors: kNotFound (no WAL), kIoError.
  Status TearWalTail(int slot, std::mt19937_64& rng, std::string* what);

  /// Membership, through the API of some running member. AddMember puts a new member with a fresh
  /// id into an empty slot and starts it joining (as a learner or a voter); RemoveMember removes
  /// the slot's member and, once removed, kills it and clears the slot. Promote makes a learner a
  /// voter. An ambiguous answer is resolved by asking the cluster what it holds.
  Result<uint64_t> AddMember(int slot, bool learner);
  Status RemoveMember(int slot);
  Status Promote(int slot);
  /// Members the cluster lists that no slot holds (an add whose answer was lost, reported as a
  /// failure, yet applied later): removed, so that a quorum never counts a member that does not
  /// run. Returns their ids.
  std::vector<uint64_t> RemoveStrangers();
  /// Asks (any running member) to move leadership to the slot's member.
  Status TransferLeader(int slot);
  /// Asks the slot's member to snapshot and compact now.
  Status Snapshot(int slot);

  /// Blocks traffic from the slot `from` to the slot `to` (both the requests `from` sends on its
  /// own connections and the answers it sends on `to`'s).
  void Cut(int from, int to);
  /// Applies `faults` to traffic from `from` to `to` the same way.
  void Degrade(int from, int to, const LinkFaults& faults);
  /// Cuts every link between slots of different groups (slots in no group are cut from all).
  void Partition(const std::vector<std::set<int>>& groups);
  /// Every link clear again.
  void HealAll();
  /// Resets every open peer connection of the slot.
  void ResetLinks(int slot);

  /// The leader most running members report (0: none known).
  uint64_t Leader();
  /// Its slot, if it is in one and running and not paused (0 otherwise).
  int LeaderSlot();
  /// Waits until every running member answers /health with 200.
  bool WaitHealthy(std::chrono::milliseconds timeout);
  /// Waits until the slot's member has applied as far as the leader had committed when called.
  bool WaitCaughtUp(int slot, std::chrono::milliseconds timeout);
  std::string LogTail(int slot, size_t bytes) const;

 private:
  struct SlotState {
    uint64_t id = 0;
    bool learner = false;
    bool joined = false;  ///< started with --join
    std::unique_ptr<testing::ChildProcess> proc;
    bool paused = false;
  };
  FaultProxy& Link(int from, int to) { return *proxies_.at({from, to}); }
  std::filesystem::path DataDir(int slot) const;
  /// POST/DELETE/GET through running members in turn until one answers; status 0 if none did.
  std::pair<int, std::string> Ask(const std::string& method, const std::string& path,
                                  const std::string& body = "");
  /// The member ids the cluster reports (empty if no member answered).
  std::map<uint64_t, bool> ReportedMembers();

  int slots_;
  std::filesystem::path dir_;
  uint16_t base_port_;
  std::string kv_binary_;
  std::vector<std::string> extra_args_;
  uint64_t next_id_;
  std::map<std::pair<int, int>, std::unique_ptr<FaultProxy>> proxies_;
  mutable std::mutex mu_;  // guards slots_state_
  std::map<int, SlotState> slots_state_;
  std::mutex client_mu_;  // the nemesis's requests (long timeouts: they wait for outcomes)
  std::unique_ptr<http::Client> client_;
  std::mutex status_mu_;  // status polls, from any thread (short timeouts)
  std::unique_ptr<http::Client> status_client_;
};

}  // namespace raftkit::chaos
