#include "testlib/cluster.h"

#include "raftkit/raftpb/codec.h"
#include "raftkit/util/panic.h"

namespace raftkit::testing {

using raftpb::EntryType;

std::string EncodeAppliedList(const std::vector<std::string>& applied) {
  std::string out;
  for (const std::string& s : applied) {
    out += std::to_string(s.size());
    out += ':';
    out += s;
  }
  return out;
}

std::vector<std::string> DecodeAppliedList(std::string_view data) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t colon = data.find(':', pos);
    RAFTKIT_CHECK(colon != std::string_view::npos, "bad applied list");
    const size_t len = std::stoul(std::string(data.substr(pos, colon - pos)));
    out.emplace_back(data.substr(colon + 1, len));
    pos = colon + 1 + len;
  }
  return out;
}

Cluster::Cluster(size_t n, std::function<void(raft::Config&)> configure, uint64_t seed)
    : configure_(std::move(configure)), rand_(seed) {
  std::vector<raft::Peer> peers;
  for (size_t i = 1; i <= n; ++i)
    peers.push_back(raft::Peer{NodeId(i), Bytes()});
  for (size_t i = 1; i <= n; ++i) {
    const NodeId id(i);
    Node node;
    node.storage = std::make_unique<raft::MemoryStorage>();
    node.rn = MakeRawNode(id, node.storage.get(), Index(0));
    Status st = node.rn->Bootstrap(peers);
    RAFTKIT_CHECK(st.ok(), "bootstrap: {}", st.ToString());
    nodes_.emplace(id, std::move(node));
  }
}

std::unique_ptr<raft::RawNode> Cluster::MakeRawNode(NodeId id, raft::MemoryStorage* storage,
                                                    Index applied) {
  raft::Config c = NewTestConfig(id.value(), 10, 1, storage);
  c.applied = applied;
  if (configure_) configure_(c);
  auto rn = raft::RawNode::Create(c);
  RAFTKIT_CHECK(rn.ok(), "RawNode::Create: {}", rn.status().ToString());
  return std::move(rn).value();
}

std::vector<NodeId> Cluster::Ids() const {
  std::vector<NodeId> out;
  for (const auto& [id, n] : nodes_)
    out.push_back(id);
  return out;
}

void Cluster::Apply(Node& n, const raftpb::Entry& e) {
  switch (e.type) {
    case EntryType::EntryNormal:
      if (!e.data.empty()) n.applied.push_back(e.data.str());
      break;
    case EntryType::EntryConfChange: {
      auto cc = raftpb::DecodeConfChange(e.data.view());
      RAFTKIT_CHECK(cc.ok(), "bad ConfChange entry");
      n.conf_state = n.rn->ApplyConfChange(*cc);
      break;
    }
    case EntryType::EntryConfChangeV2: {
      auto cc = raftpb::DecodeConfChangeV2(e.data.view());
      RAFTKIT_CHECK(cc.ok(), "bad ConfChangeV2 entry");
      n.conf_state = n.rn->ApplyConfChange(*cc);
      break;
    }
  }
  n.applied_index = e.index;
}

bool Cluster::ProcessReady(NodeId id) {
  Node& n = nodes_.at(id);
  if (!n.rn->HasReady()) return false;
  raft::Ready rd = n.rn->GetReady();
  // 1. Persist: snapshot, entries, hard state.
  if (!rd.snapshot.IsEmpty()) {
    Status st = n.storage->ApplySnapshot(rd.snapshot);
    RAFTKIT_CHECK(st.ok(), "ApplySnapshot: {}", st.ToString());
    n.applied = DecodeAppliedList(rd.snapshot.data.view());
    n.conf_state = rd.snapshot.metadata.conf_state;
    n.applied_index = rd.snapshot.metadata.index;
  }
  (void)n.storage->Append(rd.entries);
  if (!rd.hard_state.IsEmpty()) n.storage->SetHardState(rd.hard_state);
  // 2. Send.
  for (Message& m : rd.messages)
    queue_.push_back(std::move(m));
  // 3. Apply.
  for (const raftpb::Entry& e : rd.committed_entries)
    Apply(n, e);
  n.rn->Advance(rd);
  return true;
}

bool Cluster::ProcessReadyAll() {
  bool any = false;
  for (auto& [id, n] : nodes_)
    any = ProcessReady(id) || any;
  return any;
}

bool Cluster::Dropped(const Message& m) {
  if (ignore_.contains(m.type)) return true;
  if (auto it = drop_.find({m.from, m.to}); it != drop_.end()) {
    const double x = static_cast<double>(rand_.Next() >> 11) * 0x1.0p-53;
    if (x < it->second) return true;
  }
  return false;
}

size_t Cluster::Deliver() {
  std::deque<Message> batch;
  batch.swap(queue_);
  size_t delivered = 0;
  for (Message& m : batch) {
    auto it = nodes_.find(m.to);
    const bool lost = it == nodes_.end() || Dropped(m);
    if (m.type == MessageType::MsgSnap) {
      // The transport reports a snapshot's fate to the sender (etcd's ReportSnapshot).
      auto from = nodes_.find(m.from);
      if (from != nodes_.end()) {
        from->second.rn->ReportSnapshot(
            m.to, lost ? raft::SnapshotStatus::kFailure : raft::SnapshotStatus::kFinish);
      }
    }
    if (lost) continue;
    ++delivered_[m.type];
    ++delivered;
    (void)it->second.rn->Step(std::move(m));
  }
  return delivered;
}

void Cluster::Stabilize(int max_rounds) {
  for (int round = 0; round < max_rounds; ++round) {
    const bool ready = ProcessReadyAll();
    const size_t delivered = Deliver();
    if (!ready && delivered == 0 && queue_.empty()) return;
  }
  RAFTKIT_PANIC("cluster did not stabilize within {} rounds", max_rounds);
}

void Cluster::TickAll(int times) {
  for (int i = 0; i < times; ++i) {
    for (auto& [id, n] : nodes_)
      n.rn->Tick();
    Stabilize();
  }
}

NodeId Cluster::Leader() const {
  NodeId best = kNoNode;
  Term best_term;
  for (const auto& [id, n] : nodes_) {
    const raft::BasicStatus s = n.rn->GetBasicStatus();
    if (s.soft_state.raft_state == raft::StateType::kLeader && s.hard_state.term >= best_term) {
      best = id;
      best_term = s.hard_state.term;
    }
  }
  return best;
}

void Cluster::ElectLeader(NodeId id) {
  Stabilize();
  Status st = Campaign(id);
  RAFTKIT_CHECK(st.ok(), "campaign: {}", st.ToString());
  Stabilize();
  RAFTKIT_CHECK(Leader() == id, "node {} did not become leader (leader is {})", id, Leader());
}

void Cluster::Cut(NodeId a, NodeId b) {
  Drop(a, b, 2.0);
  Drop(b, a, 2.0);
}

void Cluster::Isolate(NodeId id) {
  for (const auto& [other, n] : nodes_) {
    if (other != id) Cut(id, other);
  }
}

void Cluster::Recover() {
  drop_.clear();
  ignore_.clear();
}

void Cluster::AddEmptyNode(NodeId id) {
  RAFTKIT_CHECK(!nodes_.contains(id), "node {} exists", id);
  Node node;
  node.storage = std::make_unique<raft::MemoryStorage>();
  node.rn = MakeRawNode(id, node.storage.get(), Index(0));
  nodes_.emplace(id, std::move(node));
}

void Cluster::Restart(NodeId id) {
  Node& n = nodes_.at(id);
  // Rebuild the state machine from the snapshot, then let Raft hand the log's committed entries
  // out again (applied = snapshot index).
  auto snap = n.storage->GetSnapshot();
  RAFTKIT_CHECK(snap.ok(), "snapshot: {}", snap.status().ToString());
  n.applied = DecodeAppliedList(snap->data.view());
  n.conf_state = snap->metadata.conf_state;
  n.applied_index = snap->metadata.index;
  n.rn = MakeRawNode(id, n.storage.get(), snap->metadata.index);
}

void Cluster::Stop(NodeId id) {
  nodes_.erase(id);
}

void Cluster::SnapshotAndCompact(NodeId id, uint64_t keep) {
  Node& n = nodes_.at(id);
  if (n.applied_index == Index(0)) return;
  auto snap = n.storage->CreateSnapshot(n.applied_index, &n.conf_state,
                                        Bytes(EncodeAppliedList(n.applied)));
  if (!snap.ok()) return;  // nothing newer to snapshot
  if (n.applied_index.value() > keep) {
    (void)n.storage->Compact(n.applied_index - keep);
  }
}

}  // namespace raftkit::testing
