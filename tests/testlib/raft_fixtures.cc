#include "testlib/raft_fixtures.h"

#include "raftkit/raftpb/describe.h"
#include "raftkit/util/panic.h"

namespace raftkit::testing {

std::vector<NodeId> Ids(std::initializer_list<uint64_t> ids) {
  std::vector<NodeId> out;
  for (uint64_t id : ids)
    out.emplace_back(id);
  return out;
}

raft::Config NewTestConfig(uint64_t id, int election, int heartbeat, raft::Storage* storage) {
  raft::Config c;
  c.id = NodeId(id);
  c.election_tick = election;
  c.heartbeat_tick = heartbeat;
  c.storage = storage;
  c.max_size_per_msg = kNoLimit;
  c.max_inflight_msgs = 256;
  c.random_seed = id;
  return c;
}

std::unique_ptr<Raft> NewRaftFromConfig(const raft::Config& c) {
  auto v = c.Validate();
  RAFTKIT_CHECK(v.ok(), "invalid test config: {}", v.status().ToString());
  return std::make_unique<Raft>(*v);
}

std::unique_ptr<Raft> NewTestRaft(uint64_t id, const std::vector<NodeId>& peers, int election,
                                  int heartbeat, raft::Storage* storage) {
  raft::Config c = NewTestConfig(id, election, heartbeat, storage);
  c.peers = peers;
  return NewRaftFromConfig(c);
}

std::unique_ptr<Raft> NewTestRaft(uint64_t id, std::initializer_list<uint64_t> peers, int election,
                                  int heartbeat, raft::Storage* storage) {
  return NewTestRaft(id, Ids(peers), election, heartbeat, storage);
}

std::unique_ptr<Raft> NewTestLearnerRaft(uint64_t id, std::initializer_list<uint64_t> peers,
                                         std::initializer_list<uint64_t> learners, int election,
                                         int heartbeat, raft::Storage* storage) {
  raft::Config c = NewTestConfig(id, election, heartbeat, storage);
  c.peers = Ids(peers);
  c.learners = Ids(learners);
  return NewRaftFromConfig(c);
}

std::vector<Message> ReadMessages(Raft& r) {
  std::vector<Message> out = std::move(r.msgs);
  r.msgs.clear();
  return out;
}

std::vector<Entry> NextEnts(Raft& r, raft::MemoryStorage& storage) {
  // Persist the unstable entries, then hand out (and mark applied) what is committed.
  (void)storage.Append(r.log.UnstableEntries());
  r.log.StableTo(r.log.LastIndex(), r.log.LastTerm());
  std::vector<Entry> ents = r.log.NextEnts();
  r.log.AppliedTo(r.log.committed());
  return ents;
}

Message PropMsg(uint64_t from, std::string data) {
  Message m;
  m.from = NodeId(from);
  m.to = NodeId(from);
  m.type = MessageType::MsgProp;
  m.entries.resize(1);
  m.entries[0].data = Bytes(std::move(data));
  return m;
}

Message Msg(uint64_t from, uint64_t to, MessageType t) {
  Message m;
  m.from = NodeId(from);
  m.to = NodeId(to);
  m.type = t;
  return m;
}

std::vector<Entry> EntsWithTerms(std::initializer_list<uint64_t> terms) {
  std::vector<Entry> out;
  uint64_t i = 0;
  for (uint64_t t : terms)
    out.push_back(E(t, ++i));
  return out;
}

Entry E(uint64_t term, uint64_t index, std::string data) {
  Entry e;
  e.term = Term(term);
  e.index = Index(index);
  if (!data.empty()) e.data = Bytes(std::move(data));
  return e;
}

std::unique_ptr<raft::MemoryStorage> StorageWith(const std::vector<Entry>& ents) {
  auto s = std::make_unique<raft::MemoryStorage>();
  (void)s->Append(ents);
  return s;
}

std::string Describe(const std::vector<Message>& msgs) {
  std::string out;
  for (const Message& m : msgs)
    out += raftpb::DescribeMessage(m) + "\n";
  return out;
}

}  // namespace raftkit::testing
