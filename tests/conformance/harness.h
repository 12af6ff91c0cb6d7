// Runs step scripts (docs/conformance.md) against raftkit's core and prints the canonical output
// that the Go runner (oracle/oracle.go) prints for etcd raft 3.4.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/raft.h"
#include "raftkit/core/raw_node.h"
#include "raftkit/core/storage.h"

namespace raftkit::conformance {

/// Settings of the `config` command.
struct ScriptConfig {
  int nodes = 3;
  bool pre_vote = false;
  bool check_quorum = false;
  bool lease_reads = false;
  uint64_t max_size_per_msg = kNoLimit;
  size_t max_inflight = 256;
  uint64_t max_uncommitted = 0;
  uint64_t max_committed_per_ready = 0;
  bool disable_forwarding = false;
  int election = 10;
  int heartbeat = 1;
};

/// One node of a script: its RawNode, storage and application state.
struct ScriptNode {
  std::unique_ptr<raft::MemoryStorage> storage;
  std::unique_ptr<raft::RawNode> rn;
  Index applied;
  raftpb::ConfState conf_state;
};

/// Executes commands one at a time. Used by the script runner and by the generator (which reads
/// the state to choose meaningful commands).
class Harness {
 public:
  Harness();
  ~Harness();
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  /// Executes one command line (the n-th) and returns its canonical output, starting with the
  /// `> n line` header. Throws PanicError if the core panics (the runner prints PANIC).
  std::string Execute(int n, std::string_view line);

  // --- state, for the generator ---
  [[nodiscard]] const ScriptConfig& config() const { return config_; }
  [[nodiscard]] const std::map<NodeId, ScriptNode>& nodes() const { return nodes_; }
  [[nodiscard]] const std::vector<raftpb::Message>& pending() const { return pending_; }
  raft::Raft& RaftOf(NodeId id) { return nodes_.at(id).rn->raft_for_testing(); }

 private:
  struct NoSuchNode {};
  void ExecuteCommand(const std::vector<std::string>& args, std::string_view line,
                      std::string& out);
  std::string Configure(const std::vector<std::string>& args);
  void AddNode(NodeId id, bool bootstrap);
  std::unique_ptr<raft::RawNode> MakeRawNode(NodeId id, raft::Storage* storage, Index applied);
  std::string HandleReady(NodeId id);
  std::string PrintStatus(NodeId id);
  ScriptNode& Node(const std::string& id_text);

  ScriptConfig config_;
  bool configured_ = false;
  std::map<NodeId, ScriptNode> nodes_;
  std::vector<raftpb::Message> pending_;
};

/// Runs a whole script and returns its output. A core panic ends the output with `PANIC`; its
/// message goes to *panic_message when given.
std::string RunScript(std::string_view script, std::string* panic_message = nullptr);

// --- canonical printing (shared with the generator's diagnostics) ---
std::string Hex(const Bytes& b);
std::string PrintEntry(const raftpb::Entry& e);
std::string PrintConfState(const raftpb::ConfState& cs);
std::string PrintSnapshot(const raftpb::Snapshot& s);
std::string PrintMessage(const raftpb::Message& m);
std::string ErrorName(ErrorCode code);

}  // namespace raftkit::conformance
