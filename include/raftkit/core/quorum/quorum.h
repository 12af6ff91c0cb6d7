// Quorum math: which log index a set of voters has committed, and how an election stands.
//
// The lowest layer of the core (etcd: raft/quorum). It knows nothing about messages or progress:
// callers hand it the ids of a configuration and a way to look up each voter's acknowledged index
// or vote. A majority configuration is what classic Raft uses; a joint configuration (thesis §4.3)
// is two majorities that must both agree.
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "raftkit/util/ids.h"

namespace raftkit::raft::quorum {

/// A small sorted set of node ids. Iteration is in ascending id order, which keeps every
/// traversal (and so every message the core emits) deterministic.
class IdSet {
 public:
  IdSet() = default;
  IdSet(std::initializer_list<NodeId> ids) {
    for (NodeId id : ids)
      insert(id);
  }

  /// Inserts `id`; returns false if it was already present.
  bool insert(NodeId id) {
    auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
    if (it != ids_.end() && *it == id) return false;
    ids_.insert(it, id);
    return true;
  }
  /// Removes `id`; returns false if it was absent.
  bool erase(NodeId id) {
    auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
    if (it == ids_.end() || *it != id) return false;
    ids_.erase(it);
    return true;
  }
  [[nodiscard]] bool contains(NodeId id) const {
    return std::binary_search(ids_.begin(), ids_.end(), id);
  }
  [[nodiscard]] size_t size() const noexcept { return ids_.size(); }
  [[nodiscard]] bool empty() const noexcept { return ids_.empty(); }
  void clear() noexcept { ids_.clear(); }
  [[nodiscard]] auto begin() const noexcept { return ids_.begin(); }
  [[nodiscard]] auto end() const noexcept { return ids_.end(); }
  /// The ids in ascending order.
  [[nodiscard]] const std::vector<NodeId>& ids() const noexcept { return ids_; }

  /// "(1 2 3)"
  [[nodiscard]] std::string String() const;

  friend bool operator==(const IdSet&, const IdSet&) = default;

 private:
  std::vector<NodeId> ids_;  // Invariant: strictly ascending.
};

/// The outcome of an election so far.
enum class VoteResult {
  kVotePending = 1,  ///< neither won nor lost yet: missing votes could still decide it
  kVoteLost = 2,     ///< a quorum can no longer be reached
  kVoteWon = 3,      ///< a quorum voted yes
};

/// "VotePending", "VoteLost", "VoteWon".
const char* Name(VoteResult r) noexcept;

/// The votes received so far: id -> granted. Ids absent from the map have not voted.
using VoteMap = std::map<NodeId, bool>;

/// Looks up the highest log index a voter is known to have (its Match, for a leader).
class AckedIndexer {
 public:
  virtual ~AckedIndexer() = default;
  /// The acknowledged index of `id`, or nullopt if nothing is known about it.
  [[nodiscard]] virtual std::optional<Index> AckedIndex(NodeId id) const = 0;
};

/// An AckedIndexer over a plain map, for tests and tools.
class MapAckIndexer final : public AckedIndexer {
 public:
  MapAckIndexer() = default;
  explicit MapAckIndexer(std::map<NodeId, Index> m) : m_(std::move(m)) {}
  [[nodiscard]] std::optional<Index> AckedIndex(NodeId id) const override;
  std::map<NodeId, Index>& map() { return m_; }

 private:
  std::map<NodeId, Index> m_;
};

/// The committed index of an empty configuration: "infinitely" committed, so that a joint config
/// with an empty half is decided by the other half alone.
inline constexpr Index kInfiniteIndex{kNoLimit};

/// A set of voters that decides by simple majority.
class MajorityConfig : public IdSet {
 public:
  using IdSet::IdSet;
  MajorityConfig() = default;
  explicit MajorityConfig(IdSet s) : IdSet(std::move(s)) {}

  /// The largest index that a majority has acknowledged: the value at position n/2 (from the
  /// top) of the sorted acknowledged indexes, voters without an entry counting as 0.
  /// Returns kInfiniteIndex for an empty config.
  [[nodiscard]] Index CommittedIndex(const AckedIndexer& l) const;

  /// Won if a majority voted yes; Lost if yes-votes plus missing votes cannot reach a majority;
  /// Pending otherwise. An empty config always wins (see kInfiniteIndex for why).
  [[nodiscard]] VoteResult GetVoteResult(const VoteMap& votes) const;

  /// A multi-line picture of the acknowledged indexes and where the commit index falls; used by
  /// scenario tests (same layout as etcd's MajorityConfig.Describe).
  [[nodiscard]] std::string Describe(const AckedIndexer& l) const;
};

/// Two majority configurations that must both agree (thesis §4.3). `incoming` is the new (or only)
/// config; `outgoing` is empty unless the configuration is joint.
struct JointConfig {
  MajorityConfig incoming;
  MajorityConfig outgoing;

  [[nodiscard]] bool IsJoint() const noexcept { return !outgoing.empty(); }
  /// Union of both halves.
  [[nodiscard]] IdSet IDs() const;
  /// The smaller of the two halves' committed indexes.
  [[nodiscard]] Index CommittedIndex(const AckedIndexer& l) const;
  /// Won if both halves won; Lost if either lost; Pending otherwise.
  [[nodiscard]] VoteResult GetVoteResult(const VoteMap& votes) const;
  /// "(1 2 3)" or "(1 2 3)&&(1 2)".
  [[nodiscard]] std::string String() const;
  /// Describe() over the union of both halves.
  [[nodiscard]] std::string Describe(const AckedIndexer& l) const;

  friend bool operator==(const JointConfig&, const JointConfig&) = default;
};

}  // namespace raftkit::raft::quorum
