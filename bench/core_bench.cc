// Micro benchmark of the Raft core: how many proposals per second commit and get applied when
// RawNodes are driven through the full Ready loop of docs/ready_loop.md, in one thread.
//
// Every node has its own MemoryStorage and is bootstrapped with RawNode::Bootstrap; node 1
// campaigns before the timed loop starts. One benchmark iteration steps `batch` proposals (100-byte
// payloads, one shared buffer) into the leader and then runs one Ready round:
//
//   for every node with a Ready: persist (snapshot, entries, hard state) to its MemoryStorage,
//   queue its messages, apply its committed entries (conf changes decoded and passed to
//   ApplyConfChange), Advance; then deliver every queued message (RawNode::Step).
//
// So a proposal needs a few rounds to commit (leader append+MsgApp, follower append+MsgAppResp,
// leader commit, commit index reaches the followers); proposals keep streaming meanwhile. The
// "entries/s" counter counts an entry only once ALL nodes have applied it. After the timed loop
// the cluster is drained (untimed) and every node must have applied exactly what was proposed, in
// index order with no gap; otherwise the run fails with SkipWithError and the process exits 1.
//
// Variants (bench/README.md has the measured figures):
//   ThreeNode/Batch/N            3 nodes, default flow control (max_inflight_msgs 256): the leader
//                                persists and sends the MsgApps of a proposal in the same round.
//   ThreeNode/Inflight4/Batch/N  the same with max_inflight_msgs = 4: the leader stops streaming
//                                after 4 unacknowledged MsgApps per follower and waits for acks.
//   ThreeNode/ProposeBatch/Batch/N the default cluster, but each batch goes in with one
//                                RawNode::ProposeBatch (one MsgProp carrying N entries) instead of
//                                N calls to Propose.
//   SingleNode/Batch/N           one node, no network, one Propose per entry: the ceiling of the
//                                per-proposal path without replication.
// N is the number of proposals stepped into the leader before each Ready round (1, 8, 64, 256).

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "raftkit/core/config.h"
#include "raftkit/core/raw_node.h"
#include "raftkit/core/storage.h"
#include "raftkit/core/types.h"
#include "raftkit/raftpb/codec.h"
#include "raftkit/raftpb/types.h"
#include "raftkit/util/bytes.h"
#include "raftkit/util/ids.h"
#include "raftkit/util/status.h"

namespace raftkit::bench {
namespace {

using raft::MemoryStorage;
using raft::RawNode;
using raft::Ready;
using raftpb::Entry;
using raftpb::EntryType;
using raftpb::Message;

constexpr size_t kPayloadSize = 100;
// Storage compaction: once every node has applied kCompactEvery entries past the last compaction
// point, every log is compacted to (lowest applied index - kCompactKeep). Compacting below what
// all nodes have applied means the leader never needs a snapshot to catch a follower up.
constexpr uint64_t kCompactEvery = 10000;
constexpr uint64_t kCompactKeep = 1000;
// Rounds allowed to reach a quiet cluster in the untimed phases (setup, final drain).
constexpr int kMaxDrainRounds = 100000;

// Set when any run failed its correctness check. Google Benchmark 1.7.1 does not turn
// SkipWithError into an exit code, and scripts/test.sh runs a smoke pass that must fail then.
bool g_failed = false;

struct Options {
  size_t nodes = 3;
  size_t max_inflight_msgs = 256;
  // Step the batch as ONE MsgProp carrying all its entries instead of one Propose per entry.
  bool one_msgprop = false;
};

// One member: its storage, its RawNode and what its state machine has applied.
struct Node {
  MemoryStorage storage;
  std::unique_ptr<RawNode> rn;
  raftpb::ConfState conf_state;
  Index applied;               // index of the last applied entry
  uint64_t applied_props = 0;  // non-empty EntryNormal entries applied (the proposals)
  uint64_t applied_bytes = 0;  // their payload bytes
};

// An in-memory cluster, one thread, messages delivered through a FIFO queue.
class BenchCluster {
 public:
  explicit BenchCluster(const Options& opts) : opts_(opts) {}

  // Bootstraps every node and elects node 1. Returns false (see error()) if that fails.
  bool Start() {
    std::vector<raft::Peer> peers;
    for (size_t i = 1; i <= opts_.nodes; ++i)
      peers.push_back(raft::Peer{NodeId(i), Bytes()});
    for (size_t i = 1; i <= opts_.nodes; ++i) {
      auto n = std::make_unique<Node>();
      raft::Config c;
      c.id = NodeId(i);
      c.election_tick = 10;
      c.heartbeat_tick = 1;
      c.storage = &n->storage;
      c.max_inflight_msgs = opts_.max_inflight_msgs;
      c.random_seed = i;
      auto rn = RawNode::Create(c);
      if (!rn.ok()) return Fail("RawNode::Create: " + rn.status().ToString());
      n->rn = std::move(rn).value();
      if (Status st = n->rn->Bootstrap(peers); !st.ok()) {
        return Fail("Bootstrap: " + st.ToString());
      }
      nodes_.push_back(std::move(n));
    }
    if (!Drain()) return false;
    if (Status st = nodes_[0]->rn->Campaign(); !st.ok()) return Fail("Campaign: " + st.ToString());
    if (!Drain()) return false;
    for (const auto& n : nodes_) {
      if (n->rn->GetBasicStatus().soft_state.lead != NodeId(1)) {
        return Fail("node 1 did not become leader");
      }
    }
    delivered_ = 0;
    return true;
  }

  RawNode& leader() { return *nodes_[0]->rn; }

  // One Ready round: every node that has a Ready handles it, then every queued message is
  // delivered. Returns whether anything happened.
  bool Round() {
    bool any = false;
    for (const auto& n : nodes_) {
      if (n->rn->HasReady()) {
        HandleReady(*n);
        any = true;
      }
    }
    if (!queue_.empty()) {
      any = true;
      delivering_.swap(queue_);  // both keep their capacity from round to round
      for (Message& m : delivering_) {
        const uint64_t to = m.to.value();
        if (to == 0 || to > nodes_.size()) {
          Fail("message to unknown node");
          continue;
        }
        ++delivered_;
        if (Status st = nodes_[to - 1]->rn->Step(std::move(m)); !st.ok()) {
          Fail("Step: " + st.ToString());
        }
      }
      delivering_.clear();
    }
    MaybeCompact();
    return any;
  }

  // Runs rounds until nothing moves. False (with error()) if the cluster never goes quiet.
  bool Drain() {
    for (int i = 0; i < kMaxDrainRounds; ++i) {
      if (!Round()) return ok();
    }
    return Fail("cluster did not go quiet");
  }

  // Proposals (and their bytes) that every node has applied.
  [[nodiscard]] uint64_t MinAppliedProps() const {
    uint64_t m = UINT64_MAX;
    for (const auto& n : nodes_)
      m = std::min(m, n->applied_props);
    return m;
  }
  [[nodiscard]] uint64_t MinAppliedBytes() const {
    uint64_t m = UINT64_MAX;
    for (const auto& n : nodes_)
      m = std::min(m, n->applied_bytes);
    return m;
  }
  [[nodiscard]] uint64_t delivered() const { return delivered_; }
  [[nodiscard]] const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }

  [[nodiscard]] bool ok() const { return error_.empty(); }
  [[nodiscard]] const std::string& error() const { return error_; }
  // Records the first correctness violation; always returns false.
  bool Fail(std::string what) {
    if (error_.empty()) error_ = std::move(what);
    return false;
  }

 private:
  void HandleReady(Node& n) {
    Ready rd = n.rn->GetReady();
    // 1. Persist. Compaction never goes past what every node applied, so no snapshot is ever
    // sent; the counts below could not follow one.
    if (!rd.snapshot.IsEmpty()) Fail("unexpected snapshot in Ready");
    if (!rd.entries.empty()) {
      // Copied (shared payload buffers): Advance(rd) still reads rd.entries.
      if (Status st = n.storage.Append(rd.entries); !st.ok()) Fail("Append: " + st.ToString());
    }
    if (!rd.hard_state.IsEmpty()) n.storage.SetHardState(rd.hard_state);
    // 2. Send.
    for (Message& m : rd.messages)
      queue_.push_back(std::move(m));
    // 3. Apply.
    for (const Entry& e : rd.committed_entries)
      Apply(n, e);
    n.rn->Advance(rd);
  }

  void Apply(Node& n, const Entry& e) {
    if (e.index != n.applied + 1) Fail("committed entries out of order or with a gap");
    n.applied = e.index;
    switch (e.type) {
      case EntryType::EntryNormal:
        // Empty entries are the ones a new leader appends, not proposals.
        if (!e.data.empty()) {
          ++n.applied_props;
          n.applied_bytes += e.data.size();
        }
        break;
      case EntryType::EntryConfChange: {
        auto cc = raftpb::DecodeConfChange(e.data.view());
        if (!cc.ok()) {
          Fail("bad ConfChange entry");
          break;
        }
        n.conf_state = n.rn->ApplyConfChange(*cc);
        break;
      }
      case EntryType::EntryConfChangeV2: {
        auto cc = raftpb::DecodeConfChangeV2(e.data.view());
        if (!cc.ok()) {
          Fail("bad ConfChangeV2 entry");
          break;
        }
        n.conf_state = n.rn->ApplyConfChange(*cc);
        break;
      }
      default:
        Fail("unknown entry type");
    }
  }

  void MaybeCompact() {
    Index lowest = nodes_[0]->applied;
    for (const auto& n : nodes_)
      lowest = Min(lowest, n->applied);
    if (lowest.value() < compacted_.value() + kCompactEvery + kCompactKeep) return;
    const Index to = lowest - kCompactKeep;
    for (const auto& n : nodes_) {
      // What an application does: record a snapshot (here empty state machine data) and drop
      // the log before it.
      auto snap = n->storage.CreateSnapshot(to, &n->conf_state, Bytes());
      if (!snap.ok()) Fail("CreateSnapshot: " + snap.status().ToString());
      if (Status st = n->storage.Compact(to); !st.ok()) Fail("Compact: " + st.ToString());
    }
    compacted_ = to;
  }

  Options opts_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<Message> queue_;
  std::vector<Message> delivering_;
  uint64_t delivered_ = 0;
  Index compacted_;
  std::string error_;
};

void Fail(benchmark::State& state, const std::string& what) {
  g_failed = true;
  state.SkipWithError(what.c_str());
}

// The benchmark body shared by every variant; state.range(0) is the batch size.
void BM_Proposals(benchmark::State& state, Options opts) {
  const auto batch = static_cast<size_t>(state.range(0));
  BenchCluster c(opts);
  if (!c.Start()) {
    Fail(state, "setup: " + c.error());
    return;
  }
  // One payload buffer for every proposal: copies of a Bytes share it, so the timed loop does not
  // allocate payloads.
  const Bytes payload(std::string(kPayloadSize, 'x'));
  const std::vector<Bytes> batch_payloads(batch, payload);
  RawNode& leader = c.leader();
  uint64_t proposed = 0;
  bool dropped = false;

  for (auto _ : state) {
    if (opts.one_msgprop) {
      // The batching API: the whole batch is one MsgProp, replicated in one MsgApp per follower.
      if (!leader.ProposeBatch(batch_payloads).ok()) dropped = true;
    } else {
      for (size_t i = 0; i < batch; ++i) {
        if (!leader.Propose(payload).ok()) dropped = true;
      }
    }
    proposed += batch;
    c.Round();
    if (dropped || !c.ok()) {
      Fail(state, dropped ? "a proposal was dropped" : "during the timed loop: " + c.error());
      break;
    }
  }
  if (state.error_occurred()) return;

  // Timer stopped. Count only what all nodes applied inside the timed loop.
  const uint64_t applied = c.MinAppliedProps();
  const uint64_t bytes = c.MinAppliedBytes();
  const uint64_t delivered = c.delivered();

  // The correctness check: after draining, every node applied exactly the proposals, in order.
  if (!c.Drain()) {
    Fail(state, "drain: " + c.error());
    return;
  }
  const Index last_applied = c.nodes()[0]->applied;
  for (const auto& n : c.nodes()) {
    if (n->applied_props != proposed || n->applied_bytes != proposed * kPayloadSize ||
        n->applied != last_applied) {
      Fail(state, "node " + std::to_string(n->rn->GetBasicStatus().id.value()) + " applied " +
                      std::to_string(n->applied_props) + " entries (" +
                      std::to_string(n->applied_bytes) + " bytes) up to index " +
                      std::to_string(n->applied.value()) + ", want " + std::to_string(proposed) +
                      " entries up to index " + std::to_string(last_applied.value()));
      return;
    }
  }

  state.counters["entries/s"] =
      benchmark::Counter(static_cast<double>(applied), benchmark::Counter::kIsRate);
  state.counters["bytes/s"] = benchmark::Counter(
      static_cast<double>(bytes), benchmark::Counter::kIsRate, benchmark::Counter::OneK::kIs1024);
  // Messages delivered per applied proposal: what batching and flow control do to the traffic.
  state.counters["msgs/entry"] =
      benchmark::Counter(applied == 0 ? 0.0 : static_cast<double>(delivered) / applied);
}

void RegisterAll() {
  struct Variant {
    const char* name;
    Options opts;
  };
  const Variant variants[] = {
      {"ThreeNode/Batch", Options{3, 256, false}},
      {"ThreeNode/Inflight4/Batch", Options{3, 4, false}},
      {"ThreeNode/ProposeBatch/Batch", Options{3, 256, true}},
      {"SingleNode/Batch", Options{1, 256, false}},
  };
  for (const Variant& v : variants) {
    benchmark::RegisterBenchmark(v.name, BM_Proposals, v.opts)
        ->Arg(1)
        ->Arg(8)
        ->Arg(64)
        ->Arg(256)
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace
}  // namespace raftkit::bench

int main(int argc, char** argv) {
  raftkit::bench::RegisterAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const size_t ran = benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (ran == 0) {
    std::fprintf(stderr, "core_bench: no benchmark matched the filter\n");
    return 1;
  }
  return raftkit::bench::g_failed ? 1 : 0;
}
