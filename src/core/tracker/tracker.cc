#include "raftkit/core/tracker/tracker.h"

#include <fmt/format.h>

namespace raftkit::raft::tracker {

std::string Config::String() const {
  std::string out = "voters=" + voters.String();
  if (!learners.empty()) out += " learners=" + learners.String();
  if (!learners_next.empty()) out += " learners_next=" + learners_next.String();
  if (auto_leave) out += " autoleave";
  return out;
}

raftpb::ConfState ProgressTracker::ConfState() const {
  raftpb::ConfState cs;
  cs.voters = config.voters.incoming.ids();
  cs.voters_outgoing = config.voters.outgoing.ids();
  cs.learners = config.learners.ids();
  cs.learners_next = config.learners_next.ids();
  cs.auto_leave = config.auto_leave;
  return cs;
}

bool ProgressTracker::IsSingleton() const {
  return config.voters.incoming.size() == 1 && !config.voters.IsJoint();
}

namespace {
// Acknowledged index of a member = its Match.
class MatchAckIndexer final : public quorum::AckedIndexer {
 public:
  explicit MatchAckIndexer(const ProgressMap& m) : m_(m) {}
  [[nodiscard]] std::optional<Index> AckedIndex(NodeId id) const override {
    auto it = m_.find(id);
    if (it == m_.end()) return std::nullopt;
    return it->second.match;
  }

 private:
  const ProgressMap& m_;
};
}  // namespace

Index ProgressTracker::Committed() const {
  return config.voters.CommittedIndex(MatchAckIndexer(progress));
}

void ProgressTracker::Visit(const std::function<void(NodeId, Progress&)>& f) {
  for (auto& [id, pr] : progress)
    f(id, pr);
}

bool ProgressTracker::QuorumActive() const {
  quorum::VoteMap active;
  for (const auto& [id, pr] : progress) {
    if (pr.is_learner) continue;
    active[id] = pr.recent_active;
  }
  return config.voters.GetVoteResult(active) == quorum::VoteResult::kVoteWon;
}

std::vector<NodeId> ProgressTracker::VoterNodes() const {
  return config.voters.IDs().ids();
}

std::vector<NodeId> ProgressTracker::LearnerNodes() const {
  return config.learners.ids();
}

void ProgressTracker::RecordVote(NodeId id, bool granted) {
  votes.try_emplace(id, granted);
}

ProgressTracker::Tally ProgressTracker::TallyVotes() const {
  Tally t;
  for (const auto& [id, pr] : progress) {
    if (pr.is_learner) continue;
    auto it = votes.find(id);
    if (it == votes.end()) continue;
    if (it->second) {
      ++t.granted;
    } else {
      ++t.rejected;
    }
  }
  t.result = config.voters.GetVoteResult(votes);
  return t;
}

}  // namespace raftkit::raft::tracker
