#include "testlib/network.h"

#include "raftkit/util/panic.h"

namespace raftkit::testing {

Network::Network(std::vector<Peer> peers, const std::function<void(raft::Config&)>& configure,
                 uint64_t seed)
    : rand_(seed) {
  std::vector<NodeId> ids;
  for (size_t i = 0; i < peers.size(); ++i)
    ids.emplace_back(i + 1);
  for (size_t i = 0; i < peers.size(); ++i) {
    Peer p = std::move(peers[i]);
    const NodeId id = ids[i];
    if (!p.black_hole && p.raft == nullptr) {
      p.storage = std::make_unique<raft::MemoryStorage>();
      raft::Config c = NewTestConfig(id.value(), 10, 1, p.storage.get());
      c.peers = ids;
      if (configure) configure(c);
      p.raft = NewRaftFromConfig(c);
    }
    if (p.raft) {
      RAFTKIT_CHECK(p.raft->id == id, "peer at position {} has id {}", id, p.raft->id);
    }
    peers_.emplace(id, std::move(p));
  }
}

void Network::Send(std::vector<Message> msgs) {
  // Breadth-first: a message's consequences are queued behind the messages already in flight.
  size_t head = 0;
  while (head < msgs.size()) {
    Message m = std::move(msgs[head++]);
    auto it = peers_.find(m.to);
    if (it == peers_.end() || it->second.black_hole) continue;
    Raft& r = *it->second.raft;
    (void)r.Step(std::move(m));
    std::vector<Message> out = Filter(ReadMessages(r));
    for (Message& o : out)
      msgs.push_back(std::move(o));
    // Keep the queue from growing without bound in long exchanges.
    if (head > 1024 && head * 2 > msgs.size()) {
      msgs.erase(msgs.begin(), msgs.begin() + static_cast<ptrdiff_t>(head));
      head = 0;
    }
  }
}

void Network::Drop(NodeId from, NodeId to, double perc) {
  drop_[{from, to}] = perc;
}

void Network::Cut(NodeId a, NodeId b) {
  Drop(a, b, 2.0);  // > 1: always
  Drop(b, a, 2.0);
}

void Network::Isolate(NodeId id) {
  for (const auto& [other, p] : peers_) {
    if (other != id) Cut(id, other);
  }
}

void Network::Ignore(MessageType t) {
  ignore_.insert(t);
}

void Network::Recover() {
  drop_.clear();
  ignore_.clear();
}

std::vector<Message> Network::Filter(std::vector<Message> msgs) {
  std::vector<Message> out;
  out.reserve(msgs.size());
  for (Message& m : msgs) {
    if (ignore_.contains(m.type)) continue;
    RAFTKIT_CHECK(m.type != MessageType::MsgHup, "unexpected MsgHup on the network");
    if (auto it = drop_.find({m.from, m.to}); it != drop_.end()) {
      // A uniform draw in [0, 1) with the network's own seeded generator.
      const double x = static_cast<double>(rand_.Next() >> 11) * 0x1.0p-53;
      if (x < it->second) continue;
    }
    if (hook_ && !hook_(m)) continue;
    out.push_back(std::move(m));
  }
  return out;
}

Raft& Network::raft(NodeId id) {
  Peer& p = peers_.at(id);
  RAFTKIT_CHECK(p.raft != nullptr, "peer {} is a black hole", id);
  return *p.raft;
}

raft::MemoryStorage& Network::storage(NodeId id) {
  Peer& p = peers_.at(id);
  RAFTKIT_CHECK(p.storage != nullptr, "peer {} has no network-owned storage", id);
  return *p.storage;
}

std::vector<NodeId> Network::Ids() const {
  std::vector<NodeId> out;
  for (const auto& [id, p] : peers_)
    out.push_back(id);
  return out;
}

}  // namespace raftkit::testing
