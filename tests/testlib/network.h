// An in-process network of Raft state machines for the core's tests (the `network` of etcd's
// raft_test.go, written here): messages are delivered breadth-first until nobody has anything to
// say, through filters that drop, cut, isolate or ignore.
//
//   Network nw({Peer::New(), Peer::New(), Peer::New()});   // ids 1, 2, 3
//   nw.Send({Msg(1, 1, MessageType::MsgHup)});              // 1 campaigns and wins
//   nw.Isolate(N(1));
//   nw.Send({PropMsg(2, "data")});
//
// Storage is not persisted automatically (entries stay unstable), as in etcd's tests; use
// NextEnts() where a test needs committed entries applied.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "raftkit/util/rand.h"
#include "testlib/raft_fixtures.h"

namespace raftkit::testing {

/// One member slot: a Raft, or a black hole that swallows everything sent to it.
struct Peer {
  std::unique_ptr<Raft> raft;
  std::unique_ptr<raft::MemoryStorage> storage;  // owned when the network created the Raft
  bool black_hole = false;

  /// A slot the network fills with a fresh Raft (over its own MemoryStorage) that knows every
  /// member of the network as a voter.
  static Peer New() { return Peer{}; }
  /// A black hole.
  static Peer BlackHole() {
    Peer p;
    p.black_hole = true;
    return p;
  }
  /// An existing Raft (its id must be its position in the network, starting at 1).
  static Peer Of(std::unique_ptr<Raft> r, std::unique_ptr<raft::MemoryStorage> s = nullptr) {
    Peer p;
    p.raft = std::move(r);
    p.storage = std::move(s);
    return p;
  }
};

class Network {
 public:
  /// Members get ids 1..n in order. `configure` (optional) adjusts the config of every Raft the
  /// network creates (e.g. to turn on pre-vote).
  explicit Network(std::vector<Peer> peers,
                   const std::function<void(raft::Config&)>& configure = nullptr,
                   uint64_t seed = 1);

  /// Delivers `msgs` and everything they cause, until no messages are left.
  void Send(std::vector<Message> msgs);
  /// Drops messages from -> to with probability perc (1.0: always).
  void Drop(NodeId from, NodeId to, double perc);
  /// Drops everything between a and b, both ways.
  void Cut(NodeId a, NodeId b);
  /// Cuts `id` off from every other member.
  void Isolate(NodeId id);
  /// Drops every message of type t.
  void Ignore(MessageType t);
  /// Removes every drop, cut, isolation and ignore.
  void Recover();
  /// Called for every message that passes the filters; returning false drops it.
  void SetMsgHook(std::function<bool(const Message&)> hook) { hook_ = std::move(hook); }

  /// The Raft with this id (panics for black holes).
  Raft& raft(NodeId id);
  Raft& raft(uint64_t id) { return raft(NodeId(id)); }
  /// The storage of a network-created Raft.
  raft::MemoryStorage& storage(NodeId id);
  [[nodiscard]] bool IsBlackHole(NodeId id) const { return peers_.at(id).black_hole; }
  [[nodiscard]] std::vector<NodeId> Ids() const;

  /// The filter itself (exposed for tests of the harness).
  std::vector<Message> Filter(std::vector<Message> msgs);

 private:
  std::map<NodeId, Peer> peers_;
  std::map<std::pair<NodeId, NodeId>, double> drop_;
  std::set<MessageType> ignore_;
  std::function<bool(const Message&)> hook_;
  Rand rand_;
};

}  // namespace raftkit::testing
