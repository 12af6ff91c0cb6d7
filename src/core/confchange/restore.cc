#include <vector>

#include "raftkit/core/confchange/confchange.h"

namespace raftkit::raft::confchange {

using raftpb::ConfChangeSingle;
using raftpb::ConfChangeType;

Result<Changed> Restore(const tracker::ProgressTracker& empty_tracker, Index last_index,
                        const raftpb::ConfState& cs) {
  // Build the outgoing config (if any) first with simple additions, then enter the joint config
  // with changes that turn it into the incoming one. For a non-joint ConfState the "incoming"
  // changes alone, applied one at a time, build it.
  std::vector<ConfChangeSingle> outgoing;
  std::vector<ConfChangeSingle> incoming;
  for (NodeId id : cs.voters_outgoing) {
    outgoing.push_back({ConfChangeType::ConfChangeAddNode, id, Bytes()});
  }
  // The incoming changes first remove every outgoing voter, then add the incoming voters and the
  // learners; learners_next are added as learners, which MakeLearner stages in learners_next
  // because they are still outgoing voters.
  for (NodeId id : cs.voters_outgoing) {
    incoming.push_back({ConfChangeType::ConfChangeRemoveNode, id, Bytes()});
  }
  for (NodeId id : cs.voters)
    incoming.push_back({ConfChangeType::ConfChangeAddNode, id, Bytes()});
  for (NodeId id : cs.learners) {
    incoming.push_back({ConfChangeType::ConfChangeAddLearnerNode, id, Bytes()});
  }
  for (NodeId id : cs.learners_next) {
    incoming.push_back({ConfChangeType::ConfChangeAddLearnerNode, id, Bytes()});
  }

  tracker::ProgressTracker t = empty_tracker;
  auto step = [&](Result<Changed> r) -> Status {
    if (!r.ok()) return r.status();
    t.config = std::move(r->config);
    t.progress = std::move(r->progress);
    return Status::Ok();
  };
  if (outgoing.empty()) {
    for (const ConfChangeSingle& cc : incoming) {
      if (Status st = step(Changer(t, last_index).Simple(std::span(&cc, 1))); !st.ok()) return st;
    }
  } else {
    for (const ConfChangeSingle& cc : outgoing) {
      if (Status st = step(Changer(t, last_index).Simple(std::span(&cc, 1))); !st.ok()) return st;
    }
    if (Status st = step(Changer(t, last_index).EnterJoint(cs.auto_leave, incoming)); !st.ok()) {
      return st;
    }
  }
  return Changed{std::move(t.config), std::move(t.progress)};
}

}  // namespace raftkit::raft::confchange
