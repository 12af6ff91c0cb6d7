// Command handlers that replay etcd's scenario files against raftkit. Each handler executes one
// command of a file and returns what raftkit's side prints for it, in the layout of etcd's test
// harnesses (raft/quorum/datadriven_test.go, raft/confchange/datadriven_test.go, raft/rafttest).
// README.md in this folder describes what each command does and prints.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "conformance/scenarios/datadriven.h"

namespace raftkit::conformance {

/// A scenario file the harness cannot run (bad arguments, unknown keys): the Go harnesses call
/// t.Fatal for these. Distinct from a command whose output differs.
class HarnessError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parses a decimal uint64 (Go's strconv.ParseUint(s, 10, 64)); throws HarnessError.
uint64_t ParseU64(std::string_view s);
/// Parses a boolean as Go's strconv.ParseBool does; throws HarnessError.
bool ParseBool(std::string_view s);

/// Runs the commands of one file, in order, keeping whatever state the file builds up.
class Handler {
 public:
  virtual ~Handler() = default;
  /// The output of `tc` before the framework's normalization (a trailing newline is added to a
  /// non-empty output that lacks one, as the datadriven framework does).
  virtual std::string Handle(const TestCase& tc) = 0;
};

/// raft/quorum/testdata: `committed` and `vote`. Stateless.
std::unique_ptr<Handler> NewQuorumHandler();
/// raft/confchange/testdata: `simple`, `enter-joint`, `leave-joint` against one tracker per file.
std::unique_ptr<Handler> NewConfChangeHandler();
/// raft/testdata: the interaction environment (add-nodes, campaign, stabilize, ...).
std::unique_ptr<Handler> NewInteractionHandler();

}  // namespace raftkit::conformance
