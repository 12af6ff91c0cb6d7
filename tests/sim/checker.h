// The simulator's safety checks, fed with observations as they happen (not at the end), each a
// property of Raft (thesis §3.6, Figure 3.2) or of a linearizable service built on it:
//
//   election safety      at most one leader per term
//   log matching         an (index, term) pair identifies an entry and, inductively, its prefix:
//                        every (index, term) ever written carries one payload and one
//                        predecessor term
//   leader completeness  a new leader's log holds every entry committed before
//   state machine safety every node applies, at each index, the same entry ("canonical" log);
//                        applied indexes advance one by one (or jump to a snapshot)
//   monotonicity         commit and applied never go back on a live node (per incarnation)
//   read safety          a ReadIndex answer is at least the index of every write acknowledged
//                        before the read was issued
//   membership           every decision (election, commit advance) is made by a quorum of the
//                        deciding leader's configuration (both halves when joint), and no two
//                        consecutive configurations admit disjoint quorums — so no two groups can
//                        decide at once, in one term or across terms
//
// A failed check throws Violation, which ends the run.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "raftkit/core/tracker/tracker.h"
#include "raftkit/raftpb/types.h"

namespace raftkit::sim {

struct Violation {
  std::string invariant;  // short name, e.g. "election safety"
  std::string detail;
};

class Checker {
 public:
  /// A digest of an entry's type and payload (what "identical entries" compares).
  static uint64_t Digest(const raftpb::Entry& e);

  // --- observations ---
  /// `node` considers itself leader of `term`.
  void OnLeader(NodeId node, Term term);
  /// `node` persisted entry `e` whose predecessor in its log has term `prev_term`.
  void OnEntryWritten(NodeId node, const raftpb::Entry& e, Term prev_term);
  /// `node` applies entry `e` after having applied up to `applied` (state machine safety).
  void OnApply(NodeId node, Index applied, const raftpb::Entry& e);
  /// `node` restores a snapshot at (index, term) into its state machine.
  void OnSnapshotApplied(NodeId node, Index applied, Index index, Term term);
  /// A node becomes leader: its log (first index, last index, term lookup) must contain every
  /// committed entry.
  void OnNewLeader(NodeId node, Term term, Index first_index, Index last_index,
                   const std::function<std::optional<Term>(Index)>& term_at);
  /// Monotonicity: the commit index and applied index a live incarnation reports.
  void OnProgress(NodeId node, uint64_t incarnation, Index commit, Index applied);
  /// A quorum decision in `term` (an election, a commit): the members that made it must be a
  /// quorum of the deciding leader's configuration (of both halves when joint).
  void OnQuorum(Term term, const std::string& what, const std::vector<NodeId>& members,
                const raft::tracker::Config& config);
  /// A conf change at `index` turned configuration `before` into `after`. No quorum of one may be
  /// disjoint from a quorum of the other — the property simple changes (one voter at a time) and
  /// joint consensus (thesis §4.1, §4.3) exist to keep, so that no two groups can ever decide at
  /// the same time.
  void OnConfigChange(Index index, const raftpb::ConfState& before, const raftpb::ConfState& after);
  /// Write acknowledgements and reads.
  void OnWriteAcknowledged(Index index);
  [[nodiscard]] Index MaxAcknowledged() const { return max_acked_; }
  void OnReadAnswered(NodeId node, uint64_t read_id, Index acked_at_start, Index answer);

  // --- queries used by the liveness check ---
  [[nodiscard]] Index CommittedMax() const;
  [[nodiscard]] const std::map<Index, std::pair<Term, uint64_t>>& Canonical() const {
    return canonical_;
  }

  [[noreturn]] static void Fail(std::string invariant, std::string detail);

 private:
  struct Written {
    uint64_t digest;
    Term prev_term;
    NodeId first_writer;
  };
  std::map<Term, NodeId> leaders_;                        // election safety
  std::map<std::pair<Index, Term>, Written> written_;     // log matching
  std::map<Index, std::pair<Term, uint64_t>> canonical_;  // applied: index -> (term, digest)
  std::map<Index, Term> snapshot_terms_;                  // snapshot (index, term) observed
  std::map<std::pair<NodeId, uint64_t>, std::pair<Index, Index>> progress_;  // monotonicity
  Index max_acked_;
};

}  // namespace raftkit::sim
