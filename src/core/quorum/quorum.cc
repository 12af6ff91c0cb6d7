#include "raftkit/core/quorum/quorum.h"

#include <array>

#include <fmt/format.h>

namespace raftkit::raft::quorum {

std::string IdSet::String() const {
  std::string out = "(";
  for (size_t i = 0; i < ids_.size(); ++i) {
    if (i > 0) out += ' ';
    out += std::to_string(ids_[i].value());
  }
  return out + ")";
}

const char* Name(VoteResult r) noexcept {
  switch (r) {
    case VoteResult::kVotePending:
      return "VotePending";
    case VoteResult::kVoteLost:
      return "VoteLost";
    case VoteResult::kVoteWon:
      return "VoteWon";
  }
  return "VoteResult(?)";
}

std::optional<Index> MapAckIndexer::AckedIndex(NodeId id) const {
  auto it = m_.find(id);
  if (it == m_.end()) return std::nullopt;
  return it->second;
}

Index MajorityConfig::CommittedIndex(const AckedIndexer& l) const {
  const size_t n = size();
  if (n == 0) return kInfiniteIndex;

  // Typical clusters have few voters: sort on the stack when they fit.
  std::array<uint64_t, 7> stack{};
  std::vector<uint64_t> heap;
  uint64_t* acked = stack.data();
  if (n > stack.size()) {
    heap.resize(n);
    acked = heap.data();
  }
  size_t i = 0;
  for (NodeId id : *this)
    acked[i++] = l.AckedIndex(id).value_or(Index(0)).value();
  std::sort(acked, acked + n);
  // With the indexes in ascending order, everything at or above position n - (n/2 + 1) is held
  // by at least n/2 + 1 voters, a majority.
  return Index(acked[n - (n / 2 + 1)]);
}

VoteResult MajorityConfig::GetVoteResult(const VoteMap& votes) const {
  if (empty()) return VoteResult::kVoteWon;
  size_t yes = 0;
  size_t missing = 0;
  for (NodeId id : *this) {
    auto it = votes.find(id);
    if (it == votes.end()) {
      ++missing;
    } else if (it->second) {
      ++yes;
    }
  }
  const size_t q = size() / 2 + 1;
  if (yes >= q) return VoteResult::kVoteWon;
  if (yes + missing >= q) return VoteResult::kVotePending;
  return VoteResult::kVoteLost;
}

std::string MajorityConfig::Describe(const AckedIndexer& l) const {
  if (empty()) return "<empty majority quorum>";
  struct Row {
    NodeId id;
    Index idx;
    bool ok;
    size_t bar;
  };
  std::vector<Row> rows;
  for (NodeId id : *this) {
    auto idx = l.AckedIndex(id);
    rows.push_back(Row{id, idx.value_or(Index(0)), idx.has_value(), 0});
  }
  // Bar length: a voter's position in (index, id) order when its index is strictly larger than
  // its predecessor's; 0 otherwise (so of several equal indexes only the first gets a bar). This
  // reproduces etcd's picture character for character, which its scenario files expect.
  std::vector<Row> by_idx = rows;
  std::sort(by_idx.begin(), by_idx.end(), [](const Row& a, const Row& b) {
    return a.idx == b.idx ? a.id < b.id : a.idx < b.idx;
  });
  for (size_t i = 1; i < by_idx.size(); ++i) {
    if (by_idx[i - 1].idx < by_idx[i].idx) by_idx[i].bar = i;
  }
  for (Row& r : rows) {
    for (const Row& s : by_idx) {
      if (s.id == r.id) r.bar = s.bar;
    }
  }
  const size_t n = rows.size();
  std::string out = std::string(n, ' ') + "    idx\n";
  for (const Row& r : rows) {
    if (!r.ok) {
      out += "?" + std::string(n, ' ');
    } else {
      out += std::string(r.bar, 'x') + ">" + std::string(n - r.bar, ' ');
    }
    out += fmt::format(" {:>5}    (id={})\n", r.idx.value(), r.id.value());
  }
  return out;
}

IdSet JointConfig::IDs() const {
  IdSet out = incoming;
  for (NodeId id : outgoing)
    out.insert(id);
  return out;
}

Index JointConfig::CommittedIndex(const AckedIndexer& l) const {
  return Min(incoming.CommittedIndex(l), outgoing.CommittedIndex(l));
}

VoteResult JointConfig::GetVoteResult(const VoteMap& votes) const {
  const VoteResult r1 = incoming.GetVoteResult(votes);
  const VoteResult r2 = outgoing.GetVoteResult(votes);
  if (r1 == r2) return r1;
  if (r1 == VoteResult::kVoteLost || r2 == VoteResult::kVoteLost) return VoteResult::kVoteLost;
  // One won and the other is pending: still pending.
  return VoteResult::kVotePending;
}

std::string JointConfig::String() const {
  if (IsJoint()) return incoming.String() + "&&" + outgoing.String();
  return incoming.String();
}

std::string JointConfig::Describe(const AckedIndexer& l) const {
  return MajorityConfig(IDs()).Describe(l);
}

}  // namespace raftkit::raft::quorum
