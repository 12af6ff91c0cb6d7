// raftkit's deterministic cluster simulator (issue 3): RawNodes over SimStorage, a faulty network
// and a nemesis, all on virtual time in one thread. One seed fixes everything: the cluster's
// shape, its configuration, the fault schedule, every delay — the same seed replays the same run,
// byte for byte (docs/simulator.md).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "sim/checker.h"

namespace raftkit::sim {

/// Faults of the application layer around the core (the core's own planted bugs are in
/// src/core/planted_bugs.h). Test-only: they prove the checks catch what they claim to.
enum class SimBug {
  kNone,
  /// Send a Ready's messages before its entries and HardState are durable.
  kAckBeforePersist,
  /// Persist the HardState without the vote (a node forgets whom it voted for when it restarts).
  kDropVoteOnPersist,
};

struct Options {
  uint64_t seed = 1;
  /// Cluster size at start: 3, 5 or 7; 0 lets the seed choose.
  int nodes = 0;
  /// Receives every trace line as it happens (the full trace); null: keep only the tail.
  std::function<void(const std::string&)> trace_sink;
  SimBug sim_bug = SimBug::kNone;
};

struct RunResult {
  uint64_t seed = 0;
  int nodes = 0;
  uint64_t steps = 0;   ///< events processed
  uint64_t faults = 0;  ///< nemesis actions (crashes, partitions, lossy periods, ...)
  std::optional<Violation> violation;
  /// The last trace lines before the violation (empty when there was none).
  std::string trace_tail;
  /// One line: configuration and counters of the run.
  std::string summary;
};

/// Liveness bound, in virtual time after the network heals and faults stop: by then one leader
/// is recognised by every live member, proposals submitted after the heal are applied
/// everywhere, and every member's log equals the leader's committed log.
inline constexpr uint64_t kLivenessBoundUs = 5'000'000;

/// Runs one seed to completion (liveness reached, or a violation).
RunResult RunSeed(const Options& opts);

}  // namespace raftkit::sim
