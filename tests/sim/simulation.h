// The simulation engine's internals, shared by sim.cc (setup, event loop, Ready loop, network)
// and nemesis.cc (faults, clients, membership changes, liveness). Not an API: tests/sim only.
//
//   Simulation            owns the virtual clock, the event queue, the nodes and the checker
//     events              Tick, Ready (persist), ReadyDone (sync done: send, apply, Advance),
//                         Deliver, Client, Nemesis, Restart, Stop, Heal, Liveness
//     nodes               a RawNode over a SimStorage, a tiny state machine (the ids of the
//                         proposals it applied), speeds (tick period, fsync latency)
//     network             per-message delay, loss, duplication; blocked (directed) links
//     nemesis             crashes, partitions, lossy periods, slow nodes, snapshots,
//                         membership changes, leader transfers — until the heal
//     clients             proposals (random sizes, single or batched) and ReadIndex requests
#pragma once

#include <array>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/raft.h"
#include "raftkit/core/raw_node.h"
#include "raftkit/raftpb/types.h"
#include "raftkit/util/rand.h"
#include "sim/checker.h"
#include "sim/sim.h"
#include "sim/sim_storage.h"
#include "sim/trace.h"

namespace raftkit::sim::internal {

using raftpb::ConfChange;
using raftpb::ConfChangeSingle;
using raftpb::ConfChangeTransition;
using raftpb::ConfChangeType;
using raftpb::ConfChangeV2;
using raftpb::Entry;
using raftpb::EntryType;
using raftpb::Message;
using raftpb::MessageType;

inline constexpr uint64_t kMs = 1000;
inline constexpr uint64_t kTickUs = 10 * kMs;  // one Raft tick; election timeout = 10 ticks
inline constexpr int kElectionTick = 10;
inline constexpr int kHeartbeatTick = 1;
inline constexpr size_t kTraceKeep = 300;
// Node ids ever created in one run (membership changes add some).
inline constexpr size_t kMaxNodeIds = 48;
// A client's patience with one round of liveness probes.
inline constexpr uint64_t kProbeTimeoutUs = 1000 * kMs;

// Payload formats: proposals "P" + 8-byte id + padding; read contexts "R" + 8-byte id.
inline std::string Tagged(char tag, uint64_t id, size_t padding) {
  std::string s(1 + 8 + padding, 'x');
  s[0] = tag;
  std::memcpy(s.data() + 1, &id, 8);
  return s;
}
inline std::optional<uint64_t> Untag(char tag, std::string_view s) {
  if (s.size() < 9 || s[0] != tag) return std::nullopt;
  uint64_t id = 0;
  std::memcpy(&id, s.data() + 1, 8);
  return id;
}

inline std::string EncodeIds(const std::vector<uint64_t>& ids) {
  std::string out(ids.size() * 8, '\0');
  if (!ids.empty()) std::memcpy(out.data(), ids.data(), out.size());
  return out;
}
inline std::vector<uint64_t> DecodeIds(std::string_view s) {
  std::vector<uint64_t> out(s.size() / 8);
  if (!out.empty()) std::memcpy(out.data(), s.data(), out.size() * 8);
  return out;
}

inline std::string ShortMsg(const Message& m) {
  std::string out = fmt::format("{}->{} {} t{}", m.from, m.to, raftpb::Name(m.type), m.term);
  if (m.type == MessageType::MsgApp || m.type == MessageType::MsgAppResp ||
      m.type == MessageType::MsgVote || m.type == MessageType::MsgPreVote) {
    out += fmt::format(" log {}/{}", m.log_term, m.index);
  }
  if (!m.entries.empty()) out += fmt::format(" ents {}", m.entries.size());
  if (m.commit > Index(0)) out += fmt::format(" commit {}", m.commit);
  if (m.reject) out += fmt::format(" REJECT hint {}", m.reject_hint);
  if (m.type == MessageType::MsgSnap) out += fmt::format(" snap {}", m.snapshot.metadata.index);
  return out;
}

enum class EventType {
  kTick,
  kReady,
  kReadyDone,
  kDeliver,
  kSnapReport,
  kClient,
  kNemesis,
  kRestart,
  kStop,
  kUnblock,
  kEndLossy,
  kEndSlow,
  kHeal,
  kLiveness,
};

struct Event {
  EventType type = EventType::kTick;
  NodeId node{};
  uint64_t incarnation = 0;
  uint64_t arg = 0;
  Message msg{};  // kDeliver; for kSnapReport: from/to/reject
};

struct Node {
  NodeId id;
  std::unique_ptr<SimStorage> storage;
  std::unique_ptr<raft::RawNode> rn;  // null while down
  uint64_t incarnation = 0;
  bool up = false;
  bool stopped = false;  // removed from the cluster for good
  bool ready_scheduled = false;
  bool ready_in_flight = false;
  raft::Ready inflight;
  std::vector<Message> held;  // messages of the in-flight Ready not sent yet
  bool early_sends = false;   // may send leader appends before the fsync (see file comment)
  // state machine
  Index applied;
  std::vector<uint64_t> applied_ids;
  raftpb::ConfState conf_state;
  // speeds
  uint64_t tick_us = kTickUs;
  uint64_t fsync_min_us = 200;
  uint64_t fsync_max_us = 2 * kMs;
  bool slow = false;
  // observation state
  Term last_leader_term;  // last term in which we checked this node's leadership
  Index last_leader_commit;
};

struct Proposal {
  NodeId origin;
  enum class State { kPending, kDropped, kAcked } state = State::kPending;
};

struct Read {
  NodeId node;
  Index acked_at_start;
  bool answered = false;
};

class Simulation {
 public:
  explicit Simulation(const Options& o) : opts_(o), rand_(o.seed), trace_(kTraceKeep) {
    if (opts_.trace_sink) trace_.SetSink(opts_.trace_sink);
  }

  RunResult Run();

 private:
  // --- setup ---
  void Configure();
  Node& NewNode(NodeId id);
  std::unique_ptr<raft::RawNode> MakeRawNode(Node& n, Index applied);

  // --- events ---
  void Schedule(uint64_t at, Event e);
  void Dispatch(Event& e);
  void ScheduleReady(Node& n);
  void OnTick(Node& n);
  void OnReady(Node& n);
  void OnReadyDone(Node& n);
  void OnDeliver(Message m);
  void Send(Node& from, std::vector<Message> msgs);
  void ApplyCommitted(Node& n, const raft::Ready& rd);
  void ApplyConfChangeEntry(Node& n, const Entry& e);
  void MaybeStopRemoved();
  void Observe(Node& n);

  // --- faults ---
  void Crash(Node& n);
  void Restart(Node& n);
  void Stop(NodeId id, const std::string& why);
  void OnNemesis();
  void OnClient();
  void ChangeMembership(Node& leader);
  void Heal();
  void OnLiveness();
  std::optional<std::string> LivenessProblem();

  // --- helpers ---
  Node* Leader();
  Node* RandomUpNode();
  raft::Raft& RaftOf(Node& n) { return n.rn->raft_for_testing(); }
  bool Blocked(NodeId from, NodeId to) const {
    auto it = blocked_.find({from, to});
    return it != blocked_.end() && it->second > 0;
  }
  void Block(NodeId a, NodeId b, uint64_t fault, bool both_ways);
  uint64_t Between(uint64_t lo, uint64_t hi) { return lo + rand_.Uniform(hi - lo + 1); }
  bool Chance(double p) { return static_cast<double>(rand_.Next() >> 11) * 0x1.0p-53 < p; }
  void TraceLine(std::function<std::string()> f) { trace_.Add(now_, std::move(f)); }

  Options opts_;
  Rand rand_;
  Trace trace_;
  Checker checker_;
  uint64_t now_ = 0;
  uint64_t seq_ = 0;
  uint64_t steps_ = 0;
  uint64_t faults_ = 0;
  std::multimap<std::pair<uint64_t, uint64_t>, Event> queue_;
  std::map<NodeId, Node> nodes_;
  uint64_t next_node_id_ = 1;

  // configuration chosen by the seed
  int initial_nodes_ = 3;
  bool pre_vote_ = false;
  bool check_quorum_ = false;
  size_t max_inflight_ = 256;
  uint64_t max_inflight_bytes_ = 0;
  uint64_t max_size_per_msg_ = 1 << 20;
  uint64_t fault_end_us_ = 0;

  // network
  std::map<std::pair<NodeId, NodeId>, int> blocked_;  // directed link -> number of active cuts
  std::map<uint64_t, std::vector<std::pair<NodeId, NodeId>>> cuts_;  // fault id -> links
  double loss_ = 0;
  double dup_ = 0;
  uint64_t extra_delay_us_ = 0;
  uint64_t next_fault_id_ = 1;

  // clients
  uint64_t next_proposal_ = 1;
  uint64_t next_read_ = 1;
  uint64_t next_cc_id_ = 1;
  std::map<uint64_t, Proposal> proposals_;
  std::map<uint64_t, Read> reads_;
  std::set<Index> conf_changes_seen_;
  std::map<std::pair<Term, NodeId>, std::vector<NodeId>> grants_;  // (term, candidate) -> voters
  struct PendingStop {
    Index index;                  // the conf change that removed them
    std::set<NodeId> members;     // the configuration after it
    std::vector<NodeId> victims;  // nodes to stop once every member applied it
  };
  std::vector<PendingStop> pending_stops_;

  // liveness
  bool healed_ = false;
  bool done_ = false;
  std::vector<uint64_t> probes_;
  uint64_t probes_at_ = 0;
};

}  // namespace raftkit::sim::internal
