#include "sim/checker.h"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

#include "raftkit/raftpb/describe.h"

namespace raftkit::sim {

namespace {
std::string Ids(const std::vector<NodeId>& ids) {
  std::string out = "(";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ' ';
    out += std::to_string(ids[i].value());
  }
  return out + ")";
}

bool IsQuorumOf(const std::vector<NodeId>& members, const raft::quorum::MajorityConfig& c) {
  if (c.empty()) return true;
  size_t n = 0;
  for (NodeId id : members)
    n += c.contains(id) ? 1 : 0;
  return n >= c.size() / 2 + 1;
}
}  // namespace

void Checker::Fail(std::string invariant, std::string detail) {
  throw Violation{std::move(invariant), std::move(detail)};
}

uint64_t Checker::Digest(const raftpb::Entry& e) {
  // FNV-1a over the type and the payload; collisions are irrelevant at this scale.
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ULL;
  };
  mix(static_cast<unsigned char>(e.type));
  mix(e.data.is_null() ? 0 : 1);
  for (unsigned char c : e.data.view())
    mix(c);
  return h;
}

void Checker::OnLeader(NodeId node, Term term) {
  auto [it, inserted] = leaders_.try_emplace(term, node);
  if (!inserted && it->second != node) {
    Fail("election safety",
         fmt::format("two leaders in term {}: {} and {}", term, it->second, node));
  }
}

void Checker::OnEntryWritten(NodeId node, const raftpb::Entry& e, Term prev_term) {
  const uint64_t d = Digest(e);
  auto [it, inserted] = written_.try_emplace({e.index, e.term}, Written{d, prev_term, node});
  if (inserted) return;
  if (it->second.digest != d) {
    Fail("log matching", fmt::format("entry {}/{} written by {} differs from the one written by {}",
                                     e.term, e.index, node, it->second.first_writer));
  }
  if (it->second.prev_term != prev_term) {
    Fail("log matching",
         fmt::format("entry {}/{} follows term {} in {}'s log but term {} in {}'s", e.term, e.index,
                     prev_term, node, it->second.prev_term, it->second.first_writer));
  }
}

void Checker::OnApply(NodeId node, Index applied, const raftpb::Entry& e) {
  if (e.index != applied + 1) {
    Fail("state machine safety",
         fmt::format("{} applies index {} right after {}", node, e.index, applied));
  }
  const uint64_t d = Digest(e);
  auto [it, inserted] = canonical_.try_emplace(e.index, e.term, d);
  if (!inserted && (it->second.first != e.term || it->second.second != d)) {
    Fail("state machine safety",
         fmt::format("{} applies {}/{} but index {} was applied elsewhere as term {} (digest "
                     "{:x} vs {:x})",
                     node, e.term, e.index, e.index, it->second.first, d, it->second.second));
  }
  if (auto s = snapshot_terms_.find(e.index); s != snapshot_terms_.end() && s->second != e.term) {
    Fail("state machine safety", fmt::format("{} applies {}/{} but a snapshot covers it at term {}",
                                             node, e.term, e.index, s->second));
  }
}

void Checker::OnSnapshotApplied(NodeId node, Index applied, Index index, Term term) {
  if (index <= applied) {
    Fail("state machine safety",
         fmt::format("{} restores a snapshot at {} after applying {}", node, index, applied));
  }
  if (auto it = canonical_.find(index); it != canonical_.end() && it->second.first != term) {
    Fail("state machine safety",
         fmt::format("{} restores snapshot {}/{} but index {} was applied as term {}", node, term,
                     index, index, it->second.first));
  }
  auto [it, inserted] = snapshot_terms_.try_emplace(index, term);
  if (!inserted && it->second != term) {
    Fail("state machine safety",
         fmt::format("snapshots at index {} with terms {} and {}", index, it->second, term));
  }
}

Index Checker::CommittedMax() const {
  Index m;
  if (!canonical_.empty()) m = canonical_.rbegin()->first;
  if (!snapshot_terms_.empty()) m = Max(m, snapshot_terms_.rbegin()->first);
  return m;
}

void Checker::OnNewLeader(NodeId node, Term term, Index first_index, Index last_index,
                          const std::function<std::optional<Term>(Index)>& term_at) {
  const Index committed = CommittedMax();
  if (last_index < committed) {
    Fail("leader completeness",
         fmt::format("{} leads term {} with last index {} but index {} was committed", node, term,
                     last_index, committed));
  }
  // Everything at or after the leader's snapshot must be in its log with the committed term.
  const Index from = first_index - 1;
  for (auto it = canonical_.lower_bound(from); it != canonical_.end(); ++it) {
    const std::optional<Term> t = term_at(it->first);
    if (!t || *t != it->second.first) {
      Fail("leader completeness",
           fmt::format("{} leads term {} but holds term {} at index {}, committed at term {}", node,
                       term, t ? t->value() : 0, it->first, it->second.first));
    }
  }
}

void Checker::OnProgress(NodeId node, uint64_t incarnation, Index commit, Index applied) {
  auto [it, inserted] = progress_.try_emplace({node, incarnation}, commit, applied);
  if (inserted) return;
  if (commit < it->second.first) {
    Fail("monotonic commit", fmt::format("{} (incarnation {}) commit went back from {} to {}", node,
                                         incarnation, it->second.first, commit));
  }
  if (applied < it->second.second) {
    Fail("monotonic apply", fmt::format("{} (incarnation {}) applied went back from {} to {}", node,
                                        incarnation, it->second.second, applied));
  }
  it->second = {commit, applied};
}

void Checker::OnQuorum(Term term, const std::string& what, const std::vector<NodeId>& members,
                       const raft::tracker::Config& config) {
  std::vector<NodeId> sorted = members;
  std::sort(sorted.begin(), sorted.end());
  if (!IsQuorumOf(sorted, config.voters.incoming) ||
      (config.voters.IsJoint() && !IsQuorumOf(sorted, config.voters.outgoing))) {
    Fail("membership", fmt::format("{} in term {} by {} is not a quorum of {}", what, term,
                                   Ids(sorted), config.String()));
  }
}

namespace {
// Whether `members` (a set given as a bit mask over `universe`) holds a majority of `voters`.
bool MaskHasMajority(uint64_t mask, const std::vector<NodeId>& universe,
                     const std::vector<NodeId>& voters) {
  if (voters.empty()) return true;
  size_t n = 0;
  for (size_t i = 0; i < universe.size(); ++i) {
    if ((mask >> i & 1) != 0 &&
        std::find(voters.begin(), voters.end(), universe[i]) != voters.end()) {
      ++n;
    }
  }
  return n >= voters.size() / 2 + 1;
}
bool MaskIsQuorum(uint64_t mask, const std::vector<NodeId>& universe, const raftpb::ConfState& cs) {
  return MaskHasMajority(mask, universe, cs.voters) &&
         MaskHasMajority(mask, universe, cs.voters_outgoing);
}
}  // namespace

void Checker::OnConfigChange(Index index, const raftpb::ConfState& before,
                             const raftpb::ConfState& after) {
  if (before.voters.empty()) return;  // the first configuration of a node that joined empty
  std::vector<NodeId> universe;
  for (const auto* v :
       {&before.voters, &before.voters_outgoing, &after.voters, &after.voters_outgoing}) {
    universe.insert(universe.end(), v->begin(), v->end());
  }
  std::sort(universe.begin(), universe.end());
  universe.erase(std::unique(universe.begin(), universe.end()), universe.end());
  if (universe.size() > 20) Fail("membership", "too many voters to check");
  // Disjoint quorums exist iff some set S is a quorum of `before` and its complement a quorum of
  // `after` (supersets of quorums are quorums).
  const uint64_t all = (uint64_t{1} << universe.size()) - 1;
  for (uint64_t s = 0; s <= all; ++s) {
    if (MaskIsQuorum(s, universe, before) && MaskIsQuorum(all & ~s, universe, after)) {
      std::vector<NodeId> a;
      std::vector<NodeId> b;
      for (size_t i = 0; i < universe.size(); ++i)
        ((s >> i & 1) != 0 ? a : b).push_back(universe[i]);
      Fail("membership",
           fmt::format("the conf change at {} allows disjoint quorums: {} of {} and {} of {}",
                       index, Ids(a), raftpb::DescribeConfState(before), Ids(b),
                       raftpb::DescribeConfState(after)));
    }
  }
}

void Checker::OnWriteAcknowledged(Index index) {
  max_acked_ = Max(max_acked_, index);
}

void Checker::OnReadAnswered(NodeId node, uint64_t read_id, Index acked_at_start, Index answer) {
  if (answer < acked_at_start) {
    Fail("read safety",
         fmt::format("read {} at {} answered with index {} but a write at index {} was "
                     "acknowledged before the read began",
                     read_id, node, answer, acked_at_start));
  }
}

}  // namespace raftkit::sim
