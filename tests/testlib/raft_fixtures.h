// Building blocks for the core's tests: configs, Raft instances over MemoryStorage, and helpers to
// drain their output. (Modelled on the helpers of etcd's raft_test.go; written here.)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/raft.h"
#include "raftkit/core/config.h"
#include "raftkit/core/storage.h"
#include "raftkit/raftpb/types.h"
#include "testlib/printers.h"

namespace raftkit::testing {

using raft::Raft;
using raftpb::Entry;
using raftpb::Message;
using raftpb::MessageType;

/// Shorthands, so tests read like the paper: T(2), I(5), N(1).
inline Term T(uint64_t v) {
  return Term(v);
}
inline Index I(uint64_t v) {
  return Index(v);
}
inline NodeId N(uint64_t v) {
  return NodeId(v);
}
std::vector<NodeId> Ids(std::initializer_list<uint64_t> ids);

/// etcd's newTestConfig: no size limit per message, 256 inflight messages.
raft::Config NewTestConfig(uint64_t id, int election, int heartbeat, raft::Storage* storage);

/// A Raft with the given voters (config.peers) over `storage` (not owned).
std::unique_ptr<Raft> NewTestRaft(uint64_t id, std::initializer_list<uint64_t> peers, int election,
                                  int heartbeat, raft::Storage* storage);
std::unique_ptr<Raft> NewTestRaft(uint64_t id, const std::vector<NodeId>& peers, int election,
                                  int heartbeat, raft::Storage* storage);
/// A Raft with the given voters and learners.
std::unique_ptr<Raft> NewTestLearnerRaft(uint64_t id, std::initializer_list<uint64_t> peers,
                                         std::initializer_list<uint64_t> learners, int election,
                                         int heartbeat, raft::Storage* storage);
/// A Raft from a fully specified config.
std::unique_ptr<Raft> NewRaftFromConfig(const raft::Config& c);

/// Takes (and clears) the messages r produced.
std::vector<Message> ReadMessages(Raft& r);

/// Persists r's unstable entries into `storage`, marks them stable, and returns the committed
/// entries not yet applied (marking them applied). etcd's nextEnts().
std::vector<Entry> NextEnts(Raft& r, raft::MemoryStorage& storage);

/// A MsgProp from `from` carrying one entry with `data`.
Message PropMsg(uint64_t from, std::string data);
/// A message of type `t` from `from` to `to` (term 0).
Message Msg(uint64_t from, uint64_t to, MessageType t);
/// Entries with the given terms at indexes 1, 2, ...
std::vector<Entry> EntsWithTerms(std::initializer_list<uint64_t> terms);
/// An entry at (term, index) with optional data.
Entry E(uint64_t term, uint64_t index, std::string data = "");

/// A MemoryStorage holding `ents` (appended after the dummy entry).
std::unique_ptr<raft::MemoryStorage> StorageWith(const std::vector<Entry>& ents);

/// Lines of DescribeMessage for a batch, for readable EXPECT failures.
std::string Describe(const std::vector<Message>& msgs);

}  // namespace raftkit::testing
