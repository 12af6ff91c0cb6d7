// The chaos harness's nemesis: the faults it injects into a ChaosCluster, one at a time, each
// started, held for a while and healed, on a schedule drawn from a seed.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "chaos/chaos_cluster.h"

namespace raftkit::chaos {

/// Every kind of fault, in the order of docs/chaos.md.
enum class FaultKind {
  kKill,              ///< kill -9 the leader (any member when none leads), restart it later
  kTornWal,           ///< kill -9 a member (the leader half the time), leave a torn batch after
                      ///< its WAL's last record, restart
  kPause,             ///< SIGSTOP, later SIGCONT
  kIsolate,           ///< one member (the leader half the time) cut from all others
  kMajorityMinority,  ///< a random minority cut from the majority
  kBridge,            ///< two halves that only one member hears both of
  kOneWay,            ///< one direction of one link cut
  kDelay,             ///< a member's links delayed (50-400 ms each way)
  kSlow,              ///< a member's outgoing links slowed to 20-200 KB/s
  kReset,             ///< every open peer connection of a member reset
  kAddMember,         ///< a new member (fresh id) added as a learner and promoted, or as a voter
  kRemoveMember,      ///< a voter removed (the leader every other time)
  kTransfer,          ///< leadership moved to another voter
  kSnapshot,          ///< a follower killed, the leader snapshots and compacts past it, restart
};

const char* FaultKindName(FaultKind k);
std::vector<FaultKind> AllFaultKinds();

/// What happened, for the summary and the history file.
struct FaultRecord {
  FaultKind kind = FaultKind::kKill;
  std::string detail;    ///< e.g. "member 3 (leader) killed for 1840 ms"
  int64_t start_us = 0;  ///< since the run's start
  int64_t end_us = 0;    ///< healed
  bool leader_killed = false;
  /// After a leader kill: time from the kill until a running member led (-1: none within 15 s).
  int64_t new_leader_us = -1;
  /// A partition that left a connected majority (isolate, majority-minority): the slots cut off
  /// from it are in `minority`. Requests through the majority's members should be served.
  bool majority_partition = false;
  std::set<int> minority;
};

class Nemesis {
 public:
  /// `voters`: the cluster's voter count to hold (membership changes go one above and back).
  Nemesis(ChaosCluster& cluster, int voters, uint64_t seed,
          std::chrono::steady_clock::time_point t0);

  /// Injects one fault of `kind`, holds it, heals it, and says what happened.
  FaultRecord Run(FaultKind kind);
  /// The next kind: every kind once per round, in a seeded order (so a short run sees them all);
  /// membership changes alternate between adding and removing.
  FaultKind Next();

 private:
  int64_t Now() const;
  void Hold(int min_ms, int spread_ms);
  /// The leader's slot half the time, another occupied slot otherwise.
  int Victim(bool* is_leader);
  int RandomOther(int slot);
  /// Waits for a leader on a running member; the time since `since`, or -1 after 15 s.
  int64_t WaitNewLeader(int64_t since_us);

  ChaosCluster& cluster_;
  int voters_;
  std::mt19937_64 rng_;
  std::chrono::steady_clock::time_point t0_;
  std::vector<FaultKind> round_;
  int removals_ = 0;
};

}  // namespace raftkit::chaos
