// The simulation engine. Structure:
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
//
// The Ready loop follows docs/ready_loop.md: persist (unsynced writes), fsync if must_sync, then
// send and apply, then Advance. A leader may send its MsgApp/MsgHeartbeat before the fsync when
// they carry no commit index beyond what is already durable (the rule the doc states); seeds
// enable that per node.
#include "sim/sim.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "core/raft.h"
#include "raftkit/core/raw_node.h"
#include "raftkit/raftpb/codec.h"
#include "raftkit/raftpb/describe.h"
#include "raftkit/util/panic.h"
#include "raftkit/util/rand.h"
#include "sim/sim_storage.h"
#include "sim/trace.h"

namespace raftkit::sim {

using raftpb::ConfChange;
using raftpb::ConfChangeSingle;
using raftpb::ConfChangeTransition;
using raftpb::ConfChangeType;
using raftpb::ConfChangeV2;
using raftpb::Entry;
using raftpb::EntryType;
using raftpb::Message;
using raftpb::MessageType;

namespace {

constexpr uint64_t kMs = 1000;
constexpr uint64_t kTickUs = 10 * kMs;  // one Raft tick; election timeout = 10 ticks
constexpr int kElectionTick = 10;
constexpr int kHeartbeatTick = 1;
constexpr size_t kTraceKeep = 300;
constexpr size_t kMaxNodeIds = 48;
constexpr uint64_t kProbeTimeoutUs =
    1000 * kMs;  // a client's patience with one probe round  // ids ever created in one run
                 // (membership changes add some)

// Payload formats: proposals "P" + 8-byte id + padding; read contexts "R" + 8-byte id.
std::string Tagged(char tag, uint64_t id, size_t padding) {
  std::string s(1 + 8 + padding, 'x');
  s[0] = tag;
  std::memcpy(s.data() + 1, &id, 8);
  return s;
}
std::optional<uint64_t> Untag(char tag, std::string_view s) {
  if (s.size() < 9 || s[0] != tag) return std::nullopt;
  uint64_t id = 0;
  std::memcpy(&id, s.data() + 1, 8);
  return id;
}

std::string EncodeIds(const std::vector<uint64_t>& ids) {
  std::string out(ids.size() * 8, '\0');
  if (!ids.empty()) std::memcpy(out.data(), ids.data(), out.size());
  return out;
}
std::vector<uint64_t> DecodeIds(std::string_view s) {
  std::vector<uint64_t> out(s.size() / 8);
  if (!out.empty()) std::memcpy(out.data(), s.data(), out.size() * 8);
  return out;
}

std::string ShortMsg(const Message& m) {
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

// ---------------------------------------------------------------------------------------------
// Setup
// ---------------------------------------------------------------------------------------------

void Simulation::Configure() {
  // Draw even when the size is given, so that --nodes with the seed's own size replays the same
  // run.
  const int drawn = std::array<int, 3>{3, 5, 7}[rand_.Uniform(3)];
  initial_nodes_ = opts_.nodes != 0 ? opts_.nodes : drawn;
  pre_vote_ = Chance(0.6);
  check_quorum_ = Chance(0.6);
  max_inflight_ = std::array<size_t, 4>{1, 4, 32, 256}[rand_.Uniform(4)];
  max_inflight_bytes_ = Chance(0.3) ? Between(1024, 64 * 1024) : 0;
  max_size_per_msg_ = std::array<uint64_t, 4>{0, 512, 16 * 1024, 1 << 20}[rand_.Uniform(4)];
  fault_end_us_ = Between(1500, 4000) * kMs;
}

std::unique_ptr<raft::RawNode> Simulation::MakeRawNode(Node& n, Index applied) {
  raft::Config c;
  c.id = n.id;
  c.election_tick = kElectionTick;
  c.heartbeat_tick = kHeartbeatTick;
  c.storage = n.storage.get();
  c.applied = applied;
  c.max_size_per_msg = max_size_per_msg_;
  c.max_inflight_msgs = max_inflight_;
  c.max_inflight_bytes = max_inflight_bytes_;
  c.check_quorum = check_quorum_;
  c.pre_vote = pre_vote_;
  c.random_seed = opts_.seed * 1000003 + n.id.value() * 7919 + n.incarnation;
  auto rn = raft::RawNode::Create(c);
  RAFTKIT_CHECK(rn.ok(), "RawNode::Create: {}", rn.status().ToString());
  return std::move(rn).value();
}

Node& Simulation::NewNode(NodeId id) {
  Node& n = nodes_[id];
  n.id = id;
  n.storage = std::make_unique<SimStorage>();
  n.early_sends = Chance(0.5);
  n.up = true;
  n.rn = MakeRawNode(n, Index(0));
  Schedule(now_ + Between(0, kTickUs), Event{EventType::kTick, id, n.incarnation});
  return n;
}

RunResult Simulation::Run() {
  Configure();
  std::vector<raft::Peer> peers;
  for (int i = 1; i <= initial_nodes_; ++i)
    peers.push_back(raft::Peer{NodeId(i), Bytes()});
  for (int i = 1; i <= initial_nodes_; ++i) {
    Node& n = NewNode(NodeId(i));
    Status st = n.rn->Bootstrap(peers);
    RAFTKIT_CHECK(st.ok(), "bootstrap: {}", st.ToString());
    ScheduleReady(n);
  }
  next_node_id_ = static_cast<uint64_t>(initial_nodes_) + 1;
  TraceLine([this] {
    return fmt::format(
        "start: {} nodes, pre_vote={} check_quorum={} max_inflight={} "
        "max_inflight_bytes={} max_size_per_msg={} faults until {} ms",
        initial_nodes_, pre_vote_, check_quorum_, max_inflight_, max_inflight_bytes_,
        max_size_per_msg_, fault_end_us_ / kMs);
  });
  Schedule(Between(1, 10) * kMs, Event{EventType::kClient});
  Schedule(Between(50, 300) * kMs, Event{EventType::kNemesis});
  Schedule(fault_end_us_, Event{EventType::kHeal});

  RunResult r;
  r.seed = opts_.seed;
  r.nodes = initial_nodes_;
  const PanicHandler previous = SetPanicHandler(ThrowingPanicHandler);
  try {
    while (!done_ && !queue_.empty()) {
      auto it = queue_.begin();
      now_ = it->first.first;
      Event e = std::move(it->second);
      queue_.erase(it);
      ++steps_;
      Dispatch(e);
    }
    if (!done_) Checker::Fail("liveness", "the event queue ran dry");
  } catch (const Violation& v) {
    r.violation = v;
  } catch (const PanicError& p) {
    r.violation = Violation{"core panic", p.message};
  }
  SetPanicHandler(previous);
  r.steps = steps_;
  r.faults = faults_;
  if (r.violation) r.trace_tail = trace_.Tail();
  r.summary = fmt::format(
      "seed {}: {} nodes, pre_vote={} check_quorum={} max_inflight={} max_size_per_msg={}, {} "
      "steps, {} faults, {} proposals, {} reads, ended at {} ms",
      opts_.seed, initial_nodes_, pre_vote_, check_quorum_, max_inflight_, max_size_per_msg_,
      steps_, faults_, proposals_.size(), reads_.size(), now_ / kMs);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Event plumbing
// ---------------------------------------------------------------------------------------------

void Simulation::Schedule(uint64_t at, Event e) {
  queue_.emplace(std::make_pair(at, seq_++), std::move(e));
}

void Simulation::ScheduleReady(Node& n) {
  if (!n.up || n.ready_scheduled || n.ready_in_flight) return;
  n.ready_scheduled = true;
  Schedule(now_, Event{EventType::kReady, n.id, n.incarnation});
}

void Simulation::Dispatch(Event& e) {
  auto node = [&](bool need_up) -> Node* {
    auto it = nodes_.find(e.node);
    if (it == nodes_.end()) return nullptr;
    Node& n = it->second;
    if (need_up && (!n.up || n.incarnation != e.incarnation)) return nullptr;
    return &n;
  };
  switch (e.type) {
    case EventType::kTick:
      if (Node* n = node(true)) OnTick(*n);
      break;
    case EventType::kReady:
      if (Node* n = node(true)) {
        n->ready_scheduled = false;
        OnReady(*n);
      }
      break;
    case EventType::kReadyDone:
      if (Node* n = node(true)) OnReadyDone(*n);
      break;
    case EventType::kDeliver:
      OnDeliver(std::move(e.msg));
      break;
    case EventType::kSnapReport:
      if (Node* n = node(true)) {
        n->rn->ReportSnapshot(e.msg.to, e.msg.reject ? raft::SnapshotStatus::kFailure
                                                     : raft::SnapshotStatus::kFinish);
        ScheduleReady(*n);
      }
      break;
    case EventType::kClient:
      OnClient();
      break;
    case EventType::kNemesis:
      OnNemesis();
      break;
    case EventType::kRestart:
      if (Node* n = node(false); n != nullptr && !n->up && !n->stopped) Restart(*n);
      break;
    case EventType::kStop:
      Stop(e.node, "no longer a member");
      break;
    case EventType::kUnblock:
      if (auto it = cuts_.find(e.arg); it != cuts_.end()) {
        for (const auto& link : it->second)
          --blocked_[link];
        cuts_.erase(it);
        TraceLine([id = e.arg] { return fmt::format("fault {} healed", id); });
      }
      break;
    case EventType::kEndLossy:
      loss_ = dup_ = 0;
      extra_delay_us_ = 0;
      TraceLine([] { return std::string("lossy network period over"); });
      break;
    case EventType::kEndSlow:
      if (Node* n = node(false); n != nullptr && n->slow) {
        n->slow = false;
        n->tick_us = kTickUs;
        n->fsync_min_us = 200;
        n->fsync_max_us = 2 * kMs;
        TraceLine([id = n->id] { return fmt::format("n{} back to normal speed", id); });
      }
      break;
    case EventType::kHeal:
      Heal();
      break;
    case EventType::kLiveness:
      OnLiveness();
      break;
  }
}

void Simulation::OnTick(Node& n) {
  n.rn->Tick();
  Observe(n);
  ScheduleReady(n);
  // A slow node's clock runs slow too; a little jitter keeps nodes from ticking in lockstep.
  Schedule(now_ + n.tick_us + rand_.Uniform(kTickUs / 10),
           Event{EventType::kTick, n.id, n.incarnation});
}

// Checks that can be made by looking at a node at any moment.
void Simulation::Observe(Node& n) {
  raft::Raft& r = RaftOf(n);
  checker_.OnProgress(n.id, n.incarnation, r.log.committed(), n.applied);
  if (r.state != raft::StateType::kLeader) return;
  checker_.OnLeader(n.id, r.term);
  if (n.last_leader_term != r.term) {
    // A new leadership: it must hold every committed entry (leader completeness).
    n.last_leader_term = r.term;
    n.last_leader_commit = r.log.committed();
    checker_.OnNewLeader(n.id, r.term, r.log.FirstIndex(), r.log.LastIndex(),
                         [&r](Index i) -> std::optional<Term> {
                           auto t = r.log.TermAt(i);
                           if (!t.ok()) return std::nullopt;
                           return *t;
                         });
    // Its election: itself plus the grants that reached it in this term.
    std::vector<NodeId> electors{n.id};
    if (auto g = grants_.find({r.term, n.id}); g != grants_.end()) {
      electors.insert(electors.end(), g->second.begin(), g->second.end());
    }
    std::sort(electors.begin(), electors.end());
    electors.erase(std::unique(electors.begin(), electors.end()), electors.end());
    checker_.OnQuorum(r.term, fmt::format("election of {}", n.id), electors, r.prs.config);
    TraceLine([id = n.id, t = r.term, last = r.log.LastIndex()] {
      return fmt::format("n{} is leader of term {} (last index {})", id, t, last);
    });
  } else if (r.log.committed() > n.last_leader_commit) {
    // A commit decision: the voters holding the new commit index must form a quorum that meets
    // every other quorum of this term (joint consensus keeps that true across config changes).
    n.last_leader_commit = r.log.committed();
    std::vector<NodeId> holders;
    const raft::quorum::IdSet voters = r.prs.config.voters.IDs();
    for (const auto& [id, pr] : r.prs.progress) {
      if (pr.match >= r.log.committed() && voters.contains(id)) holders.push_back(id);
    }
    checker_.OnQuorum(r.term, fmt::format("commit of {} by {}", r.log.committed(), n.id), holders,
                      r.prs.config);
  }
}

// ---------------------------------------------------------------------------------------------
// The Ready loop
// ---------------------------------------------------------------------------------------------

void Simulation::OnReady(Node& n) {
  if (!n.rn->HasReady()) return;
  n.inflight = n.rn->GetReady();
  n.ready_in_flight = true;
  const raft::Ready& rd = n.inflight;
  SimStorage& s = *n.storage;
  const Index durable_last_before = [&] {
    auto li = s.LastIndex();
    return li.ok() ? *li : Index(0);
  }();

  // 1. Persist (unsynced until the fsync completes).
  if (!rd.snapshot.IsEmpty()) s.ApplySnapshot(rd.snapshot);
  if (!rd.entries.empty()) {
    s.Append(rd.entries);
    for (const Entry& e : rd.entries) {
      auto prev = s.TermAt(e.index - 1);
      if (!prev.ok()) continue;  // below the compaction point: already covered by a snapshot
      checker_.OnEntryWritten(n.id, e, *prev);
    }
  }
  if (!rd.hard_state.IsEmpty()) {
    raftpb::HardState hs = rd.hard_state;
    if (opts_.sim_bug == SimBug::kDropVoteOnPersist) hs.vote = kNoNode;
    s.SetHardState(hs);
  }

  // 2. Decide what may leave before the fsync.
  n.held.clear();
  std::vector<Message> now;
  const bool leader = RaftOf(n).state == raft::StateType::kLeader;
  for (Message& m : n.inflight.messages) {
    const bool bug = opts_.sim_bug == SimBug::kAckBeforePersist;
    // docs/ready_loop.md: a leader's appends and heartbeats may go out before its own write is
    // durable if they reveal no commit index beyond what was durable before this Ready.
    const bool early = n.early_sends && leader &&
                       (m.type == MessageType::MsgApp || m.type == MessageType::MsgHeartbeat) &&
                       m.commit <= durable_last_before;
    if (bug || early || !(rd.must_sync || !rd.snapshot.IsEmpty())) {
      now.push_back(std::move(m));
    } else {
      n.held.push_back(std::move(m));
    }
  }
  n.inflight.messages.clear();
  if (!now.empty()) Send(n, std::move(now));

  const bool sync = rd.must_sync || !rd.snapshot.IsEmpty();
  const uint64_t fsync = sync ? Between(n.fsync_min_us, n.fsync_max_us) : 0;
  TraceLine([id = n.id, ents = rd.entries.size(), committed = rd.committed_entries.size(),
             hs = rd.hard_state, snap = rd.snapshot.metadata.index, sync = rd.must_sync, fsync] {
    std::string out = fmt::format("n{} ready: {} entries, {} committed", id, ents, committed);
    if (!hs.IsEmpty()) out += " hs{" + raftpb::DescribeHardState(hs) + "}";
    if (snap > Index(0)) out += fmt::format(" snapshot {}", snap);
    if (sync) out += fmt::format(" fsync {} us", fsync);
    return out;
  });
  Schedule(now_ + fsync, Event{EventType::kReadyDone, n.id, n.incarnation});
}

void Simulation::OnReadyDone(Node& n) {
  raft::Ready& rd = n.inflight;
  // docs/ready_loop.md: before applying a conf change, its commit must be durable. A node must not
  // forget, by crashing, a configuration it acted upon (others may already rely on it).
  const bool applies_conf_change =
      std::any_of(rd.committed_entries.begin(), rd.committed_entries.end(),
                  [](const Entry& e) { return e.type != EntryType::EntryNormal; });
  // A snapshot is always written durably (docs/ready_loop.md), as is a conf change's commit.
  if (rd.must_sync || applies_conf_change || !rd.snapshot.IsEmpty()) n.storage->Sync();
  // 3. Send what waited for durability, apply, Advance.
  if (!n.held.empty()) Send(n, std::move(n.held));
  n.held.clear();
  ApplyCommitted(n, rd);
  n.rn->Advance(rd);
  if (!pending_stops_.empty()) MaybeStopRemoved();
  n.ready_in_flight = false;
  n.inflight = raft::Ready{};
  Observe(n);
  ScheduleReady(n);
}

void Simulation::ApplyCommitted(Node& n, const raft::Ready& rd) {
  if (!rd.snapshot.IsEmpty()) {
    const raftpb::SnapshotMetadata& md = rd.snapshot.metadata;
    checker_.OnSnapshotApplied(n.id, n.applied, md.index, md.term);
    n.applied_ids = DecodeIds(rd.snapshot.data.view());
    n.conf_state = md.conf_state;
    n.applied = md.index;
    TraceLine([id = n.id, i = md.index, t = md.term] {
      return fmt::format("n{} restored snapshot {}/{}", id, t, i);
    });
  }
  for (const Entry& e : rd.committed_entries) {
    checker_.OnApply(n.id, n.applied, e);
    n.applied = e.index;
    switch (e.type) {
      case EntryType::EntryNormal:
        if (auto pid = Untag('P', e.data.view())) {
          n.applied_ids.push_back(*pid);
          auto it = proposals_.find(*pid);
          if (it != proposals_.end() && it->second.origin == n.id &&
              it->second.state == Proposal::State::kPending) {
            // The node that accepted the proposal applies it: the client gets its answer.
            it->second.state = Proposal::State::kAcked;
            checker_.OnWriteAcknowledged(e.index);
          }
        }
        break;
      case EntryType::EntryConfChange:
      case EntryType::EntryConfChangeV2:
        ApplyConfChangeEntry(n, e);
        break;
    }
  }
  for (const raft::ReadState& rs : rd.read_states) {
    auto rid = Untag('R', rs.request_ctx.view());
    if (!rid) continue;
    auto it = reads_.find(*rid);
    if (it == reads_.end() || it->second.answered) continue;
    it->second.answered = true;
    checker_.OnReadAnswered(n.id, *rid, it->second.acked_at_start, rs.index);
  }
}

void Simulation::ApplyConfChangeEntry(Node& n, const Entry& e) {
  const raftpb::ConfState before = n.conf_state;
  if (e.type == EntryType::EntryConfChange) {
    auto cc = raftpb::DecodeConfChange(e.data.view());
    RAFTKIT_CHECK(cc.ok(), "bad ConfChange");
    n.conf_state = n.rn->ApplyConfChange(*cc);
  } else {
    auto cc = raftpb::DecodeConfChangeV2(e.data.view());
    RAFTKIT_CHECK(cc.ok(), "bad ConfChangeV2");
    n.conf_state = n.rn->ApplyConfChange(*cc);
  }
  // Application policy (docs/ready_loop.md): once the log is compacted, a member added after the
  // latest snapshot cannot be caught up by it (a snapshot whose configuration lacks the receiver
  // is refused), so snapshot right after applying a change that adds members.
  auto added = [&] {
    for (const auto* v : {&n.conf_state.voters, &n.conf_state.learners}) {
      for (NodeId id : *v) {
        if (std::find(before.voters.begin(), before.voters.end(), id) == before.voters.end() &&
            std::find(before.learners.begin(), before.learners.end(), id) ==
                before.learners.end()) {
          return true;
        }
      }
    }
    return false;
  };
  if (!before.voters.empty() && added() && *n.storage->FirstIndex() > Index(1)) {
    (void)n.storage->SnapshotAndCompact(e.index, n.conf_state, Bytes(EncodeIds(n.applied_ids)),
                                        kNoLimit);
    TraceLine([id = n.id, i = e.index] {
      return fmt::format("n{} snapshot at {} after adding members", id, i);
    });
  }
  if (!conf_changes_seen_.insert(e.index).second) return;
  checker_.OnConfigChange(e.index, before, n.conf_state);
  // Nodes no longer in the configuration are shut down, as an operator would (otherwise they
  // keep campaigning with ever higher terms; thesis §4.2.3) — but only once every member of the new
  // configuration has applied the change: a member that has not may still need their votes
  // (it decides elections with the configuration it has applied).
  const raftpb::ConfState& cs = n.conf_state;
  TraceLine([i = e.index, cs] {
    return fmt::format("conf change at {} applied: {}", i, raftpb::DescribeConfState(cs));
  });
  if (cs.voters.empty()) return;
  PendingStop p{e.index, {}, {}};
  for (const auto* v : {&cs.voters, &cs.learners, &cs.voters_outgoing, &cs.learners_next}) {
    p.members.insert(v->begin(), v->end());
  }
  for (const auto& [id, other] : nodes_) {
    if (other.stopped || p.members.contains(id)) continue;
    // Only nodes that were members before: empty newcomers waiting for their add are left alone.
    if (other.conf_state.voters.empty() && other.applied == Index(0)) continue;
    p.victims.push_back(id);
  }
  if (!p.victims.empty()) pending_stops_.push_back(std::move(p));
}

void Simulation::MaybeStopRemoved() {
  for (auto it = pending_stops_.begin(); it != pending_stops_.end();) {
    // Every member must know, durably, that the change committed: until then a member may still
    // decide elections with the old configuration and need the removed nodes' votes.
    bool all_applied = true;
    for (NodeId id : it->members) {
      auto n = nodes_.find(id);
      if (n == nodes_.end() ||
          (!n->second.stopped && n->second.storage->DurableHardState().commit < it->index)) {
        all_applied = false;
        break;
      }
    }
    if (!all_applied) {
      ++it;
      continue;
    }
    // (Removed ids are never added again: new members always get fresh ids.)
    for (NodeId id : it->victims)
      Schedule(now_ + Between(5, 100) * kMs, Event{EventType::kStop, id});
    it = pending_stops_.erase(it);
  }
}

// ---------------------------------------------------------------------------------------------
// Network
// ---------------------------------------------------------------------------------------------

void Simulation::Send(Node& from, std::vector<Message> msgs) {
  for (Message& m : msgs) {
    const bool lost = Blocked(m.from, m.to) || Chance(loss_);
    if (lost) {
      TraceLine([s = ShortMsg(m)] { return "drop " + s; });
      if (m.type == MessageType::MsgSnap) {
        // The snapshot sender learns that the transfer failed.
        Event rep{EventType::kSnapReport, from.id, from.incarnation};
        rep.msg.to = m.to;
        rep.msg.reject = true;
        Schedule(now_ + Between(1, 20) * kMs, std::move(rep));
      } else if (Chance(0.2)) {
        from.rn->ReportUnreachable(m.to);
      }
      continue;
    }
    const int copies = Chance(dup_) ? 2 : 1;
    for (int c = 0; c < copies; ++c) {
      const uint64_t delay =
          Between(100, 3000) + (extra_delay_us_ ? rand_.Uniform(extra_delay_us_) : 0);
      Event d{EventType::kDeliver, m.to};
      d.msg = m;
      Schedule(now_ + delay, std::move(d));
    }
  }
}

void Simulation::OnDeliver(Message m) {
  auto it = nodes_.find(m.to);
  Node* to = it == nodes_.end() ? nullptr : &it->second;
  const bool ok = to != nullptr && to->up;
  if (m.type == MessageType::MsgSnap) {
    // The transport reports the snapshot's fate to its sender.
    auto fit = nodes_.find(m.from);
    if (fit != nodes_.end() && fit->second.up) {
      Event rep{EventType::kSnapReport, m.from, fit->second.incarnation};
      rep.msg.to = m.to;
      rep.msg.reject = !ok;
      Schedule(now_ + Between(1, 5) * kMs, std::move(rep));
    }
  }
  if (!ok) return;
  TraceLine([s = ShortMsg(m)] { return "recv " + s; });
  if (m.type == MessageType::MsgVoteResp && !m.reject) {
    // Vote grants reaching a candidate, for the membership check of its election quorum.
    grants_[{m.term, m.to}].push_back(m.from);
  }
  (void)to->rn->Step(std::move(m));
  Observe(*to);
  ScheduleReady(*to);
}

void Simulation::Block(NodeId a, NodeId b, uint64_t fault, bool both_ways) {
  cuts_[fault].push_back({a, b});
  ++blocked_[{a, b}];
  if (both_ways) {
    cuts_[fault].push_back({b, a});
    ++blocked_[{b, a}];
  }
}

// ---------------------------------------------------------------------------------------------
// Nodes going down and up
// ---------------------------------------------------------------------------------------------

void Simulation::Crash(Node& n) {
  const std::string what = n.storage->Crash(rand_);
  n.rn.reset();
  n.up = false;
  ++n.incarnation;
  n.ready_in_flight = false;
  n.ready_scheduled = false;
  n.held.clear();
  n.inflight = raft::Ready{};
  n.last_leader_term = Term(0);
  TraceLine([id = n.id, what] { return fmt::format("CRASH n{}: {}", id, what); });
}

void Simulation::Restart(Node& n) {
  // The state machine comes back from the snapshot; Raft hands out the entries after it again.
  auto snap = n.storage->GetSnapshot();
  RAFTKIT_CHECK(snap.ok(), "snapshot");
  n.applied_ids = DecodeIds(snap->data.view());
  n.conf_state = snap->metadata.conf_state;
  n.applied = snap->metadata.index;
  n.rn = MakeRawNode(n, snap->metadata.index);
  n.up = true;
  TraceLine([id = n.id, i = n.applied] {
    return fmt::format("RESTART n{} from snapshot index {}", id, i);
  });
  Schedule(now_ + Between(0, kTickUs), Event{EventType::kTick, n.id, n.incarnation});
  ScheduleReady(n);
}

void Simulation::Stop(NodeId id, const std::string& why) {
  auto it = nodes_.find(id);
  if (it == nodes_.end() || it->second.stopped) return;
  Node& n = it->second;
  n.stopped = true;
  n.up = false;
  n.rn.reset();
  ++n.incarnation;
  TraceLine([id, why] { return fmt::format("STOP n{}: {}", id, why); });
}

// ---------------------------------------------------------------------------------------------
// Nemesis and clients
// ---------------------------------------------------------------------------------------------

Node* Simulation::Leader() {
  Node* best = nullptr;
  Term best_term;
  for (auto& [id, n] : nodes_) {
    if (!n.up) continue;
    raft::Raft& r = RaftOf(n);
    if (r.state == raft::StateType::kLeader && r.term >= best_term) {
      best = &n;
      best_term = r.term;
    }
  }
  return best;
}

Node* Simulation::RandomUpNode() {
  std::vector<Node*> up;
  for (auto& [id, n] : nodes_) {
    if (n.up) up.push_back(&n);
  }
  if (up.empty()) return nullptr;
  return up[rand_.Uniform(up.size())];
}

void Simulation::OnClient() {
  if (healed_) return;
  Schedule(now_ + Between(1, 8) * kMs, Event{EventType::kClient});
  Node* target = nullptr;
  if (Chance(0.6)) target = Leader();
  if (target == nullptr) target = RandomUpNode();
  if (target == nullptr) return;
  const uint64_t roll = rand_.Uniform(100);
  if (roll < 75) {
    // Proposals of random sizes, now and then a batch.
    const size_t count = roll < 10 ? static_cast<size_t>(Between(2, 6)) : 1;
    std::vector<Bytes> batch;
    std::vector<uint64_t> ids;
    for (size_t i = 0; i < count; ++i) {
      const uint64_t id = next_proposal_++;
      const size_t padding = Chance(0.05) ? Between(1024, 8192) : Between(0, 200);
      batch.emplace_back(Tagged('P', id, padding));
      ids.push_back(id);
    }
    const Status st = count == 1 ? target->rn->Propose(batch[0]) : target->rn->ProposeBatch(batch);
    for (uint64_t id : ids) {
      proposals_[id] =
          Proposal{target->id, st.ok() ? Proposal::State::kPending : Proposal::State::kDropped};
    }
    TraceLine([t = target->id, first = ids.front(), count, ok = st.ok()] {
      return fmt::format("client: propose {} (x{}) at n{}{}", first, count, t,
                         ok ? "" : " -> dropped");
    });
  } else {
    const uint64_t id = next_read_++;
    reads_[id] = Read{target->id, checker_.MaxAcknowledged()};
    target->rn->ReadIndex(Bytes(Tagged('R', id, 0)));
    TraceLine([t = target->id, id, w = checker_.MaxAcknowledged()] {
      return fmt::format("client: read {} at n{} (acknowledged writes up to {})", id, t, w);
    });
  }
  Observe(*target);
  ScheduleReady(*target);
}

void Simulation::OnNemesis() {
  if (healed_) return;
  Schedule(now_ + Between(40, 350) * kMs, Event{EventType::kNemesis});
  ++faults_;
  const uint64_t kind = rand_.Uniform(11);
  Node* leader = Leader();
  switch (kind) {
    case 0:
    case 1: {  // crash a node (the leader more often than not)
      Node* n = (leader != nullptr && Chance(0.5)) ? leader : RandomUpNode();
      if (n == nullptr) break;
      Crash(*n);
      Schedule(now_ + Between(20, 1500) * kMs, Event{EventType::kRestart, n->id});
      break;
    }
    case 2: {  // symmetric partition into two random sides
      const uint64_t fault = next_fault_id_++;
      std::vector<NodeId> a;
      std::vector<NodeId> b;
      for (auto& [id, n] : nodes_)
        (Chance(0.5) ? a : b).push_back(id);
      for (NodeId x : a) {
        for (NodeId y : b)
          Block(x, y, fault, true);
      }
      Schedule(now_ + Between(100, 1500) * kMs, Event{EventType::kUnblock, {}, 0, fault});
      TraceLine([fault, a, b] {
        std::string s = fmt::format("fault {}: partition", fault);
        for (NodeId x : a)
          s += fmt::format(" {}", x);
        s += " |";
        for (NodeId y : b)
          s += fmt::format(" {}", y);
        return s;
      });
      break;
    }
    case 3: {  // isolate the leader
      if (leader == nullptr) break;
      const uint64_t fault = next_fault_id_++;
      for (auto& [id, n] : nodes_) {
        if (id != leader->id) Block(leader->id, id, fault, true);
      }
      Schedule(now_ + Between(100, 1500) * kMs, Event{EventType::kUnblock, {}, 0, fault});
      TraceLine([fault, id = leader->id] {
        return fmt::format("fault {}: isolate leader n{}", fault, id);
      });
      break;
    }
    case 4: {  // one-way cuts: from one node to everyone, or a single direction
      Node* n = RandomUpNode();
      if (n == nullptr) break;
      const uint64_t fault = next_fault_id_++;
      const bool outbound = Chance(0.5);
      for (auto& [id, other] : nodes_) {
        if (id == n->id) continue;
        if (outbound) {
          Block(n->id, id, fault, false);
        } else if (Chance(0.5)) {
          Block(id, n->id, fault, false);
        }
      }
      Schedule(now_ + Between(100, 1000) * kMs, Event{EventType::kUnblock, {}, 0, fault});
      TraceLine([fault, id = n->id, outbound] {
        return fmt::format("fault {}: one-way cut {} n{}", fault, outbound ? "from" : "to", id);
      });
      break;
    }
    case 5: {  // lossy, duplicating, reordering network
      loss_ = static_cast<double>(Between(2, 35)) / 100.0;
      dup_ = static_cast<double>(Between(0, 20)) / 100.0;
      extra_delay_us_ = Between(0, 80) * kMs;
      Schedule(now_ + Between(200, 1500) * kMs, Event{EventType::kEndLossy});
      TraceLine([l = loss_, d = dup_, x = extra_delay_us_] {
        return fmt::format("fault: lossy network (loss {:.2f}, dup {:.2f}, extra delay {} ms)", l,
                           d, x / kMs);
      });
      break;
    }
    case 6: {  // a slow node: slow disk and slow clock
      Node* n = RandomUpNode();
      if (n == nullptr) break;
      n->slow = true;
      n->fsync_min_us = Between(5, 40) * kMs;
      n->fsync_max_us = n->fsync_min_us + Between(0, 120) * kMs;
      n->tick_us = kTickUs * Between(12, 30) / 10;
      Schedule(now_ + Between(200, 2000) * kMs, Event{EventType::kEndSlow, n->id});
      TraceLine([id = n->id, f = n->fsync_min_us, t = n->tick_us] {
        return fmt::format("fault: n{} slow (fsync >= {} ms, tick {} ms)", id, f / kMs, t / kMs);
      });
      break;
    }
    case 7: {  // snapshot and compaction at a random point
      Node* n = RandomUpNode();
      if (n == nullptr || n->applied == Index(0) || n->conf_state.voters.empty() ||
          n->ready_in_flight) {
        break;
      }
      const uint64_t keep = Between(0, 30);
      const bool ok = n->storage->SnapshotAndCompact(n->applied, n->conf_state,
                                                     Bytes(EncodeIds(n->applied_ids)), keep);
      TraceLine([id = n->id, i = n->applied, keep, ok] {
        return fmt::format("n{} snapshot at {} keep {}{}", id, i, keep, ok ? "" : " (not newer)");
      });
      break;
    }
    case 8:
    case 9:
      if (leader != nullptr) ChangeMembership(*leader);
      break;
    case 10: {  // leader transfer
      if (leader == nullptr) break;
      const auto voters = RaftOf(*leader).prs.VoterNodes();
      const NodeId target = voters[rand_.Uniform(voters.size())];
      leader->rn->TransferLeader(target);
      TraceLine([l = leader->id, target] {
        return fmt::format("transfer leadership n{} -> n{}", l, target);
      });
      ScheduleReady(*leader);
      break;
    }
    default:
      break;
  }
}

void Simulation::ChangeMembership(Node& leader) {
  raft::Raft& r = RaftOf(leader);
  const raft::tracker::Config& cfg = r.prs.config;
  if (cfg.voters.IsJoint()) {
    if (!cfg.auto_leave) {
      (void)leader.rn->ProposeConfChange(ConfChangeV2{});
      TraceLine([id = leader.id] { return fmt::format("membership: n{} leaves joint", id); });
      ScheduleReady(leader);
    }
    return;
  }
  const std::vector<NodeId> voters = cfg.voters.incoming.ids();
  const std::vector<NodeId> learners = cfg.learners.ids();
  // A removed node that has not learned of its removal keeps campaigning. With neither PreVote nor
  // CheckQuorum nothing stops it from disrupting the members that have not applied the removal
  // either (thesis §4.2.3) — a documented limitation of that configuration, so no removals there.
  const bool may_remove = pre_vote_ || check_quorum_;
  auto fresh = [&]() -> std::optional<NodeId> {
    if (next_node_id_ > kMaxNodeIds) return std::nullopt;
    const NodeId id(next_node_id_++);
    NewNode(id);
    return id;
  };
  auto single = [](ConfChangeType t, NodeId id) { return ConfChangeSingle{t, id, Bytes()}; };
  ConfChangeV2 cc;
  std::string what;
  const uint64_t kind = rand_.Uniform(7);
  if (kind == 0 && voters.size() < 7) {
    auto id = fresh();
    if (!id) return;
    cc.changes.push_back(single(ConfChangeType::ConfChangeAddNode, *id));
    what = fmt::format("add voter {}", *id);
  } else if (kind == 1) {
    auto id = fresh();
    if (!id) return;
    cc.changes.push_back(single(ConfChangeType::ConfChangeAddLearnerNode, *id));
    what = fmt::format("add learner {}", *id);
  } else if (kind == 2 && !learners.empty()) {
    const NodeId id = learners[rand_.Uniform(learners.size())];
    cc.changes.push_back(single(ConfChangeType::ConfChangeAddNode, id));
    what = fmt::format("promote learner {}", id);
  } else if (kind == 3 && voters.size() > 2 && may_remove) {
    // Remove a voter, the leader itself one time in three.
    const NodeId id = Chance(0.33) ? leader.id : voters[rand_.Uniform(voters.size())];
    cc.changes.push_back(single(ConfChangeType::ConfChangeRemoveNode, id));
    what = fmt::format("remove voter {}", id);
  } else if (kind == 4 && !learners.empty() && may_remove) {
    const NodeId id = learners[rand_.Uniform(learners.size())];
    cc.changes.push_back(single(ConfChangeType::ConfChangeRemoveNode, id));
    what = fmt::format("remove learner {}", id);
  } else if (kind == 5 && voters.size() > 2) {
    // Demote a voter to learner.
    const NodeId id = voters[rand_.Uniform(voters.size())];
    cc.changes.push_back(single(ConfChangeType::ConfChangeAddLearnerNode, id));
    what = fmt::format("demote voter {}", id);
  } else if (kind == 6 && voters.size() >= 2 && may_remove) {
    // Replace several members at once through a joint configuration.
    const size_t remove = std::min<size_t>(Between(1, 2), voters.size() - 1);
    const size_t add = Between(1, 2);
    std::vector<NodeId> pool = voters;
    for (size_t i = 0; i < remove; ++i) {
      const size_t k = rand_.Uniform(pool.size());
      cc.changes.push_back(single(ConfChangeType::ConfChangeRemoveNode, pool[k]));
      pool.erase(pool.begin() + static_cast<ptrdiff_t>(k));
    }
    for (size_t i = 0; i < add; ++i) {
      auto id = fresh();
      if (!id) return;
      cc.changes.push_back(single(ConfChangeType::ConfChangeAddNode, *id));
    }
    cc.transition = std::array<ConfChangeTransition, 3>{
        ConfChangeTransition::ConfChangeTransitionAuto,
        ConfChangeTransition::ConfChangeTransitionJointImplicit,
        ConfChangeTransition::ConfChangeTransitionJointExplicit}[rand_.Uniform(3)];
    what = "joint " + raftpb::ConfChangesToString(cc.changes) + " " + raftpb::Name(cc.transition);
  } else {
    return;
  }
  Status st;
  if (cc.changes.size() == 1 && cc.transition == ConfChangeTransition::ConfChangeTransitionAuto &&
      Chance(0.5)) {
    // The v1 API for simple changes (what raftexample and etcd use).
    ConfChange v1;
    v1.id = next_cc_id_++;
    v1.type = cc.changes[0].type;
    v1.node_id = cc.changes[0].node_id;
    st = leader.rn->ProposeConfChange(v1);
    what += " (v1)";
  } else {
    st = leader.rn->ProposeConfChange(cc);
  }
  TraceLine([id = leader.id, what, ok = st.ok()] {
    return fmt::format("membership: n{} proposes {}{}", id, what, ok ? "" : " -> dropped");
  });
  ScheduleReady(leader);
}

// ---------------------------------------------------------------------------------------------
// Healing and liveness
// ---------------------------------------------------------------------------------------------

void Simulation::Heal() {
  healed_ = true;
  blocked_.clear();
  cuts_.clear();
  loss_ = dup_ = 0;
  extra_delay_us_ = 0;
  for (auto& [id, n] : nodes_) {
    n.slow = false;
    n.tick_us = kTickUs;
    n.fsync_min_us = 200;
    n.fsync_max_us = 2 * kMs;
    if (!n.up && !n.stopped) Restart(n);
  }
  TraceLine([] { return std::string("HEAL: faults stop, network healed, nodes restarted"); });
  Schedule(now_ + 100 * kMs, Event{EventType::kLiveness});
}

std::optional<std::string> Simulation::LivenessProblem() {
  Node* leader = Leader();
  if (leader == nullptr) return "no leader";
  raft::Raft& lr = RaftOf(*leader);
  // Every member of the leader's configuration must be up and follow it.
  const raft::tracker::Config& cfg = lr.prs.config;
  std::vector<NodeId> members = cfg.voters.IDs().ids();
  for (NodeId id : cfg.learners)
    members.push_back(id);
  for (NodeId id : cfg.learners_next)
    members.push_back(id);
  for (NodeId id : members) {
    auto it = nodes_.find(id);
    if (it == nodes_.end() || !it->second.up) return fmt::format("member {} is not up", id);
    raft::Raft& r = RaftOf(it->second);
    if (r.lead != leader->id || r.term != lr.term) {
      return fmt::format("member {} follows {} at term {}, not leader {} at term {}", id, r.lead,
                         r.term, leader->id, lr.term);
    }
  }
  // Probes: one proposal through the leader and one through a follower (forwarding). A probe can
  // still be lost after the heal (a leader removed by a change finishing then takes its
  // uncommitted tail along); like a client, submit a new round after a timeout.
  bool retry = probes_.empty() || now_ - probes_at_ > kProbeTimeoutUs;
  for (uint64_t id : probes_) {
    if (proposals_.at(id).state == Proposal::State::kDropped) retry = true;
  }
  if (retry) {
    probes_.clear();
    probes_at_ = now_;
    std::vector<Node*> targets{leader};
    for (NodeId id : members) {
      if (id != leader->id) {
        targets.push_back(&nodes_.at(id));
        break;
      }
    }
    for (Node* t : targets) {
      const uint64_t id = next_proposal_++;
      const Status st = t->rn->Propose(Bytes(Tagged('P', id, 16)));
      proposals_[id] =
          Proposal{t->id, st.ok() ? Proposal::State::kPending : Proposal::State::kDropped};
      probes_.push_back(id);
      ScheduleReady(*t);
    }
    TraceLine([first = probes_.front()] {
      return fmt::format("liveness: probe proposals {}.. submitted", first);
    });
    return "probes just submitted";
  }
  const Index commit = lr.log.committed();
  if (lr.log.LastIndex() != commit) return "the leader has uncommitted entries";
  for (NodeId id : members) {
    Node& n = nodes_.at(id);
    raft::Raft& r = RaftOf(n);
    if (n.applied != commit || r.log.LastIndex() != commit || n.ready_in_flight) {
      return fmt::format("member {} applied {} (log {}) but the leader committed {}", id, n.applied,
                         r.log.LastIndex(), commit);
    }
    for (uint64_t pid : probes_) {
      if (std::find(n.applied_ids.begin(), n.applied_ids.end(), pid) == n.applied_ids.end()) {
        return fmt::format("member {} has not applied probe {}", id, pid);
      }
    }
  }
  // Nothing committed was lost: the converged log carries every entry ever applied.
  for (const auto& [index, te] : checker_.Canonical()) {
    if (index < lr.log.FirstIndex()) continue;
    auto t = lr.log.TermAt(index);
    if (!t.ok() || *t != te.first) {
      Checker::Fail("state machine safety",
                    fmt::format("entry {}/{} was applied but the converged log has term {} there",
                                te.first, index, t.ok() ? t->value() : 0));
    }
  }
  if (commit < checker_.CommittedMax()) {
    Checker::Fail("state machine safety",
                  fmt::format("entries up to {} were applied but the converged log ends at {}",
                              checker_.CommittedMax(), commit));
  }
  return std::nullopt;
}

void Simulation::OnLiveness() {
  if (!pending_stops_.empty()) MaybeStopRemoved();
  auto problem = LivenessProblem();
  if (!problem) {
    done_ = true;
    TraceLine([] { return std::string("liveness: converged"); });
    return;
  }
  if (now_ > fault_end_us_ + kLivenessBoundUs) {
    Checker::Fail("liveness",
                  fmt::format("{} ms after the heal: {}", kLivenessBoundUs / kMs, *problem));
  }
  Schedule(now_ + 50 * kMs, Event{EventType::kLiveness});
}

}  // namespace

RunResult RunSeed(const Options& opts) {
  Simulation sim(opts);
  return sim.Run();
}

}  // namespace raftkit::sim
