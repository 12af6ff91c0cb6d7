// A cluster of RawNodes driven through the full Ready loop, in one thread, for tests that need
// the whole contract: persistence to MemoryStorage, message delivery through a filterable network,
// applying committed entries (conf changes included) to a tiny state machine, snapshots and
// restarts.
//
//   Cluster c(3);                     // ids 1..3, bootstrapped like a real cluster
//   c.Campaign(N(1)); c.Stabilize();
//   ASSERT_TRUE(c.Propose(N(1), "x").ok()); c.Stabilize();
//   EXPECT_EQ(c.Applied(N(2)), std::vector<std::string>{"x"});
//
// The state machine of every node is the list of non-empty EntryNormal payloads it applied, in
// order; its snapshot is that list, encoded.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "raftkit/core/raw_node.h"
#include "raftkit/core/storage.h"
#include "raftkit/util/rand.h"
#include "testlib/raft_fixtures.h"

namespace raftkit::testing {

class Cluster {
 public:
  /// `configure` adjusts every node's config (e.g. pre_vote, check_quorum).
  explicit Cluster(size_t n, std::function<void(raft::Config&)> configure = nullptr,
                   uint64_t seed = 1);

  raft::RawNode& node(NodeId id) { return *nodes_.at(id).rn; }
  raft::MemoryStorage& storage(NodeId id) { return *nodes_.at(id).storage; }
  [[nodiscard]] std::vector<NodeId> Ids() const;
  [[nodiscard]] bool Has(NodeId id) const { return nodes_.contains(id); }

  /// Handles one Ready on every node that has one (persist, queue messages, apply, Advance).
  /// Returns whether any node had a Ready.
  bool ProcessReadyAll();
  /// Handles the Ready of one node, if it has one.
  bool ProcessReady(NodeId id);
  /// Delivers every queued message (through the filters). Returns how many were delivered.
  size_t Deliver();
  /// Alternates ProcessReadyAll and Deliver until nothing moves (at most `max_rounds` rounds;
  /// panics beyond that, which means a livelock). Does not tick.
  void Stabilize(int max_rounds = 10000);
  /// Ticks every node once, then stabilizes.
  void TickAll(int times = 1);
  void Tick(NodeId id) { node(id).Tick(); }

  Status Campaign(NodeId id) { return node(id).Campaign(); }
  Status Propose(NodeId id, const std::string& data) { return node(id).Propose(Bytes(data)); }
  /// The node that is leader at the highest term among the nodes that believe they lead
  /// (kNoNode if none).
  [[nodiscard]] NodeId Leader() const;
  /// Campaigns `id` and stabilizes until it leads; panics if it does not.
  void ElectLeader(NodeId id);

  /// The payloads applied by a node, in order.
  [[nodiscard]] const std::vector<std::string>& Applied(NodeId id) const {
    return nodes_.at(id).applied;
  }
  /// The ConfState a node has applied most recently.
  [[nodiscard]] const raftpb::ConfState& AppliedConfState(NodeId id) const {
    return nodes_.at(id).conf_state;
  }

  // --- network faults ---
  void Drop(NodeId from, NodeId to, double perc) { drop_[{from, to}] = perc; }
  void Cut(NodeId a, NodeId b);
  void Isolate(NodeId id);
  void Ignore(MessageType t) { ignore_.insert(t); }
  void Recover();
  /// Messages currently queued (not yet delivered).
  [[nodiscard]] const std::deque<Message>& Queue() const { return queue_; }
  /// Drops every queued message.
  void ClearQueue() { queue_.clear(); }

  // --- membership and lifecycle ---
  /// Adds a brand-new, empty node (not bootstrapped). It learns the configuration from the
  /// leader (by snapshot or log). Propose the conf change separately.
  void AddEmptyNode(NodeId id);
  /// Simulates a crash and restart: the RawNode is rebuilt from what its storage holds
  /// (unpersisted state is lost; the state machine is rebuilt from the snapshot and the log).
  void Restart(NodeId id);
  /// Removes a node from the harness (it stops receiving messages).
  void Stop(NodeId id);
  /// Takes a snapshot of node `id` at its applied index and compacts its log up to
  /// applied - keep (when positive).
  void SnapshotAndCompact(NodeId id, uint64_t keep = 0);

  /// How many messages of each type were delivered so far.
  [[nodiscard]] const std::map<MessageType, size_t>& DeliveredByType() const { return delivered_; }

 private:
  struct Node {
    std::unique_ptr<raft::MemoryStorage> storage;
    std::unique_ptr<raft::RawNode> rn;
    std::vector<std::string> applied;
    raftpb::ConfState conf_state;
    Index applied_index;
  };

  std::unique_ptr<raft::RawNode> MakeRawNode(NodeId id, raft::MemoryStorage* storage,
                                             Index applied);
  void Apply(Node& n, const raftpb::Entry& e);
  bool Dropped(const Message& m);

  std::function<void(raft::Config&)> configure_;
  std::map<NodeId, Node> nodes_;
  std::deque<Message> queue_;
  std::map<std::pair<NodeId, NodeId>, double> drop_;
  std::set<MessageType> ignore_;
  std::map<MessageType, size_t> delivered_;
  Rand rand_;
};

/// The snapshot encoding of the test state machine (a list of payloads).
std::string EncodeAppliedList(const std::vector<std::string>& applied);
std::vector<std::string> DecodeAppliedList(std::string_view data);

}  // namespace raftkit::testing
