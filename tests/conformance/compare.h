// The comparator of the differential oracle: raftkit's output against etcd's, step by step.
#pragma once

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace raftkit::conformance {

struct NamedScript {
  std::string name;
  std::string text;
};

/// How one script compared.
struct Verdict {
  enum class Kind { kIdentical, kExplained, kDiverged } kind = Kind::kIdentical;
  int deviation = 0;   ///< kExplained: the deviation number (docs/etcd-deviations.md)
  int step = 0;        ///< kExplained / kDiverged: the step where comparison stopped
  std::string detail;  ///< kDiverged: both outputs of the step
};

/// Compares two canonical outputs (docs/conformance.md). Steps are compared exactly until the
/// first step where raftkit reports a deliberate deviation; a step where both panic ends the
/// comparison as identical.
Verdict Compare(const std::string& raftkit_output, const std::string& etcd_output);

struct DiffSummary {
  size_t scripts = 0;
  size_t identical = 0;
  size_t explained = 0;
  size_t diverged = 0;
  std::map<int, size_t> by_deviation;
  /// "conformance: N scripts, I identical, E explained by deviations (#5: 3), D diverged"
  [[nodiscard]] std::string Line() const;
};

/// Runs every script against raftkit and, in one batch process, against the Go oracle; prints a
/// report of each divergence to `out` and saves diverging scripts into `save_dir` (if not empty).
DiffSummary DiffAgainstOracle(const std::string& oracle, const std::vector<NamedScript>& scripts,
                              const std::string& save_dir, std::FILE* out);

}  // namespace raftkit::conformance
