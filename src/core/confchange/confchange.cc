#include "raftkit/core/confchange/confchange.h"

#include <fmt/format.h>

namespace raftkit::raft::confchange {

using raftpb::ConfChangeSingle;
using raftpb::ConfChangeType;

namespace {

Status Invalid(std::string msg) {
  return Status(ErrorCode::kInvalidArgument, std::move(msg));
}

// Number of ids in exactly one of the two sets.
size_t SymDiff(const quorum::IdSet& a, const quorum::IdSet& b) {
  size_t n = 0;
  for (NodeId id : a)
    n += b.contains(id) ? 0 : 1;
  for (NodeId id : b)
    n += a.contains(id) ? 0 : 1;
  return n;
}

}  // namespace

Status CheckInvariants(const tracker::Config& cfg, const tracker::ProgressMap& progress) {
  for (const quorum::IdSet& ids : {cfg.voters.IDs(), cfg.learners, cfg.learners_next}) {
    for (NodeId id : ids) {
      if (!progress.contains(id)) return Invalid(fmt::format("no progress for {}", id));
    }
  }
  // A demoted voter waits in learners_next while it is still an outgoing voter.
  for (NodeId id : cfg.learners_next) {
    if (!cfg.voters.outgoing.contains(id)) {
      return Invalid(fmt::format("{} is in LearnersNext, but not Voters[1]", id));
    }
    if (progress.at(id).is_learner) {
      return Invalid(fmt::format("{} is in LearnersNext, but is already marked as learner", id));
    }
  }
  // Learners and voters are disjoint.
  for (NodeId id : cfg.learners) {
    if (cfg.voters.outgoing.contains(id)) {
      return Invalid(fmt::format("{} is in Learners and Voters[1]", id));
    }
    if (cfg.voters.incoming.contains(id)) {
      return Invalid(fmt::format("{} is in Learners and Voters[0]", id));
    }
    if (!progress.at(id).is_learner) {
      return Invalid(fmt::format("{} is in Learners, but is not marked as learner", id));
    }
  }
  if (!cfg.voters.IsJoint()) {
    if (!cfg.learners_next.empty()) return Invalid("LearnersNext must be nil when not joint");
    if (cfg.auto_leave) return Invalid("AutoLeave must be false when not joint");
  }
  return Status::Ok();
}

Result<Changed> Changer::CheckAndCopy() const {
  Changed c{tracker_.config, tracker_.progress};
  if (Status st = CheckInvariants(c.config, c.progress); !st.ok()) return st;
  return c;
}

Result<Changed> Changer::EnterJoint(bool auto_leave,
                                    std::span<const ConfChangeSingle> changes) const {
  auto r = CheckAndCopy();
  if (!r.ok()) return r;
  Changed c = std::move(r).value();
  if (c.config.voters.IsJoint()) return Invalid("config is already joint");
  if (c.config.voters.incoming.empty()) {
    // A zero-voter config is only legal before the first configuration is set up; it cannot be
    // the outgoing half of a joint config.
    return Invalid("can't make a zero-voter config joint");
  }
  // C_old becomes the outgoing half; the changes apply to the incoming half.
  c.config.voters.outgoing = c.config.voters.incoming;
  if (Status st = Apply(&c, changes); !st.ok()) return st;
  c.config.auto_leave = auto_leave;
  if (Status st = CheckInvariants(c.config, c.progress); !st.ok()) return st;
  return c;
}

Result<Changed> Changer::LeaveJoint() const {
  auto r = CheckAndCopy();
  if (!r.ok()) return r;
  Changed c = std::move(r).value();
  if (!c.config.voters.IsJoint()) return Invalid("can't leave a non-joint config");
  for (NodeId id : c.config.learners_next) {
    c.config.learners.insert(id);
    c.progress.at(id).is_learner = true;
  }
  c.config.learners_next.clear();
  // Outgoing voters that are neither incoming voters nor learners leave the cluster now.
  for (NodeId id : c.config.voters.outgoing) {
    if (!c.config.voters.incoming.contains(id) && !c.config.learners.contains(id)) {
      c.progress.erase(id);
    }
  }
  c.config.voters.outgoing.clear();
  c.config.auto_leave = false;
  if (Status st = CheckInvariants(c.config, c.progress); !st.ok()) return st;
  return c;
}

Result<Changed> Changer::Simple(std::span<const ConfChangeSingle> changes) const {
  auto r = CheckAndCopy();
  if (!r.ok()) return r;
  Changed c = std::move(r).value();
  if (c.config.voters.IsJoint()) {
    return Invalid("can't apply simple config change in joint config");
  }
  if (Status st = Apply(&c, changes); !st.ok()) return st;
  // Changing two voters at once without joint consensus could let two disjoint majorities form
  // (thesis §4.1): refuse.
  if (SymDiff(tracker_.config.voters.incoming, c.config.voters.incoming) > 1) {
    return Invalid("more than one voter changed without entering joint config");
  }
  if (Status st = CheckInvariants(c.config, c.progress); !st.ok()) return st;
  return c;
}

Status Changer::Apply(Changed* c, std::span<const ConfChangeSingle> changes) const {
  for (const ConfChangeSingle& cc : changes) {
    if (cc.node_id == kNoNode) continue;  // etcd ignores changes to node 0
    switch (cc.type) {
      case ConfChangeType::ConfChangeAddNode:
        MakeVoter(c, cc.node_id);
        break;
      case ConfChangeType::ConfChangeAddLearnerNode:
        MakeLearner(c, cc.node_id);
        break;
      case ConfChangeType::ConfChangeRemoveNode:
        Remove(c, cc.node_id);
        break;
      case ConfChangeType::ConfChangeUpdateNode:
        break;  // no membership effect
      default:
        return Invalid(fmt::format("unexpected conf type {}", static_cast<int32_t>(cc.type)));
    }
  }
  if (c->config.voters.incoming.empty()) return Invalid("removed all voters");
  return Status::Ok();
}

void Changer::MakeVoter(Changed* c, NodeId id) const {
  auto it = c->progress.find(id);
  if (it == c->progress.end()) {
    InitProgress(c, id, /*is_learner=*/false);
    return;
  }
  it->second.is_learner = false;
  c->config.learners.erase(id);
  c->config.learners_next.erase(id);
  c->config.voters.incoming.insert(id);
}

void Changer::MakeLearner(Changed* c, NodeId id) const {
  auto it = c->progress.find(id);
  if (it == c->progress.end()) {
    InitProgress(c, id, /*is_learner=*/true);
    return;
  }
  if (it->second.is_learner) return;
  // Remove the voter from the incoming half first (keeping its progress), then add it as learner.
  // If it is still an outgoing voter it cannot be a learner yet: stage it in learners_next.
  tracker::Progress pr = it->second;
  Remove(c, id);
  auto [pit, inserted] = c->progress.insert_or_assign(id, std::move(pr));
  (void)inserted;
  if (c->config.voters.outgoing.contains(id)) {
    c->config.learners_next.insert(id);
  } else {
    pit->second.is_learner = true;
    c->config.learners.insert(id);
  }
}

void Changer::Remove(Changed* c, NodeId id) const {
  if (!c->progress.contains(id)) return;
  c->config.voters.incoming.erase(id);
  c->config.learners.erase(id);
  c->config.learners_next.erase(id);
  // An outgoing voter keeps its progress until the joint config is left.
  if (!c->config.voters.outgoing.contains(id)) c->progress.erase(id);
}

void Changer::InitProgress(Changed* c, NodeId id, bool is_learner) const {
  if (is_learner) {
    c->config.learners.insert(id);
  } else {
    c->config.voters.incoming.insert(id);
  }
  tracker::Progress pr = tracker_.NewProgress();
  // Probe the newcomer at the leader's last index; it answers with where its log really ends.
  pr.next = last_index_;
  pr.match = Index(0);
  pr.is_learner = is_learner;
  // Count it as active so CheckQuorum does not fire before it had a chance to answer.
  pr.recent_active = true;
  c->progress.insert_or_assign(id, std::move(pr));
}

std::string Describe(std::span<const ConfChangeSingle> changes) {
  std::string out;
  for (const ConfChangeSingle& cc : changes) {
    if (!out.empty()) out += ' ';
    out += fmt::format("{}({})", raftpb::Name(cc.type), cc.node_id);
  }
  return out;
}

}  // namespace raftkit::raft::confchange
