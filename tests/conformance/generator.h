// Generates random but valid step scripts (docs/conformance.md) from a seed. The generator drives
// raftkit while it writes, so that every command is meaningful in the state it reaches (a
// `deliver` index exists, a `compact` stays within the log, ...), and so that no tick ever lets a
// randomized election timeout decide anything — the two implementations draw different numbers.
#pragma once

#include <cstdint>
#include <string>

namespace raftkit::conformance {

struct GeneratorOptions {
  uint64_t seed = 1;
  int commands = 200;  ///< length of the script, final status lines excluded
};

/// Returns the script text. Deterministic in the options.
std::string GenerateScript(const GeneratorOptions& opts);

}  // namespace raftkit::conformance
