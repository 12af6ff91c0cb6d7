// A linearizability checker for key-value histories (raftkit issue 8).
//
// Each key is a register (read / write / compare-and-set, starting absent) and is checked on its
// own: a history is linearizable iff every key's sub-history is (Herlihy & Wing's locality,
// "P-compositionality"). Per key the search is Wing & Gong's depth-first search over linearization
// points with Lowe's memoization: a (set of linearized operations, register value) pair already
// explored is never explored again. Failed operations are dropped; info operations may take effect
// anywhere after their invoke, or never.
//
// The search is exponential in the worst case, so it runs under a budget and may answer kUnknown.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "history.h"
#include "raftkit/util/status.h"

namespace raftkit::lincheck {

enum class Verdict {
  kLinearizable,
  kNotLinearizable,
  kUnknown,  ///< the budget ran out before a verdict
};

/// "linearizable", "not linearizable" or "unknown".
const char* VerdictName(Verdict v);

struct CheckOptions {
  /// Search steps (one step = one entry visited) over the whole history; 0 = unlimited.
  uint64_t max_steps = 0;
  /// Wall-clock time for the whole check; zero = unlimited.
  std::chrono::milliseconds timeout{0};
  /// How many linearized operations before the dead end an explanation shows.
  size_t context_ops = 8;
};

struct CheckResult {
  Verdict verdict = Verdict::kLinearizable;
  /// kNotLinearizable: the first failing key (in key order); kUnknown: the key being searched.
  std::string key;
  /// kNotLinearizable: a multi-line explanation for a person (see Explain in checker.cc);
  /// kUnknown: which budget ran out. Empty when linearizable.
  std::string explanation;
  size_t keys = 0;     ///< keys in the history
  size_t ops = 0;      ///< operations searched (failed ones, info reads and info writes of values
                       ///< nobody observed dropped)
  uint64_t steps = 0;  ///< search steps taken
};

/// Checks `history`. kInvalidArgument if it fails ValidateHistory. Keys are checked in order and
/// the check stops at the first key that is not linearizable or exhausts the budget.
Result<CheckResult> Check(const History& history, const CheckOptions& options = {});

}  // namespace raftkit::lincheck
