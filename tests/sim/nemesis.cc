// The nemesis, the clients and the liveness check of the simulation engine (simulation.h).
#include <algorithm>

#include "raftkit/raftpb/describe.h"
#include "raftkit/util/panic.h"
#include "sim/simulation.h"

namespace raftkit::sim::internal {
// ---------------------------------------------------------------------------------------------
// Nemesis and clients
// ---------------------------------------------------------------------------------------------

Node* Simulation::Leader() {
  Node* best = nullptr;
  Term best_term;
  for (auto& [id, n] : nodes_) {
    if (!n.up) continue;
    raft::Raft& r = RaftOf(n);
    if (r.state == raft::StateType::kLeader && r.term >= best_term) {
      best = &n;
      best_term = r.term;
    }
  }
  return best;
}

Node* Simulation::RandomUpNode() {
  std::vector<Node*> up;
  for (auto& [id, n] : nodes_) {
    if (n.up) up.push_back(&n);
  }
  if (up.empty()) return nullptr;
  return up[rand_.Uniform(up.size())];
}

void Simulation::OnClient() {
  if (healed_) return;
  Schedule(now_ + Between(1, 8) * kMs, Event{EventType::kClient});
  Node* target = nullptr;
  if (Chance(0.6)) target = Leader();
  if (target == nullptr) target = RandomUpNode();
  if (target == nullptr) return;
  const uint64_t roll = rand_.Uniform(100);
  if (roll < 75) {
    // Proposals of random sizes, now and then a batch.
    const size_t count = roll < 10 ? static_cast<size_t>(Between(2, 6)) : 1;
    std::vector<Bytes> batch;
    std::vector<uint64_t> ids;
    for (size_t i = 0; i < count; ++i) {
      const uint64_t id = next_proposal_++;
      const size_t padding = Chance(0.05) ? Between(1024, 8192) : Between(0, 200);
      batch.emplace_back(Tagged('P', id, padding));
      ids.push_back(id);
    }
    const Status st = count == 1 ? target->rn->Propose(batch[0]) : target->rn->ProposeBatch(batch);
    for (uint64_t id : ids) {
      proposals_[id] =
          Proposal{target->id, st.ok() ? Proposal::State::kPending : Proposal::State::kDropped};
    }
    TraceLine([t = target->id, first = ids.front(), count, ok = st.ok()] {
      return fmt::format("client: propose {} (x{}) at n{}{}", first, count, t,
                         ok ? "" : " -> dropped");
    });
  } else {
    const uint64_t id = next_read_++;
    reads_[id] = Read{target->id, checker_.MaxAcknowledged()};
    target->rn->ReadIndex(Bytes(Tagged('R', id, 0)));
    TraceLine([t = target->id, id, w = checker_.MaxAcknowledged()] {
      return fmt::format("client: read {} at n{} (acknowledged writes up to {})", id, t, w);
    });
  }
  Observe(*target);
  ScheduleReady(*target);
}

void Simulation::OnNemesis() {
  if (healed_) return;
  Schedule(now_ + Between(40, 350) * kMs, Event{EventType::kNemesis});
  ++faults_;
  const uint64_t kind = rand_.Uniform(11);
  Node* leader = Leader();
  switch (kind) {
    case 0:
    case 1: {  // crash a node (the leader more often than not)
      Node* n = (leader != nullptr && Chance(0.5)) ? leader : RandomUpNode();
      if (n == nullptr) break;
      Crash(*n);
      Schedule(now_ + Between(20, 1500) * kMs, Event{EventType::kRestart, n->id});
      break;
    }
    case 2: {  // symmetric partition into two random sides
      const uint64_t fault = next_fault_id_++;
      std::vector<NodeId> a;
      std::vector<NodeId> b;
      for (auto& [id, n] : nodes_)
        (Chance(0.5) ? a : b).push_back(id);
      for (NodeId x : a) {
        for (NodeId y : b)
          Block(x, y, fault, true);
      }
      Schedule(now_ + Between(100, 1500) * kMs, Event{EventType::kUnblock, {}, 0, fault});
      TraceLine([fault, a, b] {
        std::string s = fmt::format("fault {}: partition", fault);
        for (NodeId x : a)
          s += fmt::format(" {}", x);
        s += " |";
        for (NodeId y : b)
          s += fmt::format(" {}", y);
        return s;
      });
      break;
    }
    case 3: {  // isolate the leader
      if (leader == nullptr) break;
      const uint64_t fault = next_fault_id_++;
      for (auto& [id, n] : nodes_) {
        if (id != leader->id) Block(leader->id, id, fault, true);
      }
      Schedule(now_ + Between(100, 1500) * kMs, Event{EventType::kUnblock, {}, 0, fault});
      TraceLine([fault, id = leader->id] {
        return fmt::format("fault {}: isolate leader n{}", fault, id);
      });
      break;
    }
    case 4: {  // one-way cuts: from one node to everyone, or a single direction
      Node* n = RandomUpNode();
      if (n == nullptr) break;
      const uint64_t fault = next_fault_id_++;
      const bool outbound = Chance(0.5);
      for (auto& [id, other] : nodes_) {
        if (id == n->id) continue;
        if (outbound) {
          Block(n->id, id, fault, false);
        } else if (Chance(0.5)) {
          Block(id, n->id, fault, false);
        }
      }
      Schedule(now_ + Between(100, 1000) * kMs, Event{EventType::kUnblock, {}, 0, fault});
      TraceLine([fault, id = n->id, outbound] {
        return fmt::format("fault {}: one-way cut {} n{}", fault, outbound ? "from" : "to", id);
      });
      break;
    }
    case 5: {  // lossy, duplicating, reordering network
      loss_ = static_cast<double>(Between(2, 35)) / 100.0;
      dup_ = static_cast<double>(Between(0, 20)) / 100.0;
      extra_delay_us_ = Between(0, 80) * kMs;
      Schedule(now_ + Between(200, 1500) * kMs, Event{EventType::kEndLossy});
      TraceLine([l = loss_, d = dup_, x = extra_delay_us_] {
        return fmt::format("fault: lossy network (loss {:.2f}, dup {:.2f}, extra delay {} ms)", l,
                           d, x / kMs);
      });
      break;
    }
    case 6: {  // a slow node: slow disk and slow clock
      Node* n = RandomUpNode();
      if (n == nullptr) break;
      n->slow = true;
      n->fsync_min_us = Between(5, 40) * kMs;
      n->fsync_max_us = n->fsync_min_us + Between(0, 120) * kMs;
      n->tick_us = kTickUs * Between(12, 30) / 10;
      Schedule(now_ + Between(200, 2000) * kMs, Event{EventType::kEndSlow, n->id});
      TraceLine([id = n->id, f = n->fsync_min_us, t = n->tick_us] {
        return fmt::format("fault: n{} slow (fsync >= {} ms, tick {} ms)", id, f / kMs, t / kMs);
      });
      break;
    }
    case 7: {  // snapshot and compaction at a random point
      Node* n = RandomUpNode();
      if (n == nullptr || n->applied == Index(0) || n->conf_state.voters.empty() ||
          n->ready_in_flight) {
        break;
      }
      const uint64_t keep = Between(0, 30);
      const bool ok = n->storage->SnapshotAndCompact(n->applied, n->conf_state,
                                                     Bytes(EncodeIds(n->applied_ids)), keep);
      TraceLine([id = n->id, i = n->applied, keep, ok] {
        return fmt::format("n{} snapshot at {} keep {}{}", id, i, keep, ok ? "" : " (not newer)");
      });
      break;
    }
    case 8:
    case 9:
      if (leader != nullptr) ChangeMembership(*leader);
      break;
    case 10: {  // leader transfer
      if (leader == nullptr) break;
      const auto voters = RaftOf(*leader).prs.VoterNodes();
      const NodeId target = voters[rand_.Uniform(voters.size())];
      leader->rn->TransferLeader(target);
      TraceLine([l = leader->id, target] {
        return fmt::format("transfer leadership n{} -> n{}", l, target);
      });
      ScheduleReady(*leader);
      break;
    }
    default:
      break;
  }
}

void Simulation::ChangeMembership(Node& leader) {
  raft::Raft& r = RaftOf(leader);
  const raft::tracker::Config& cfg = r.prs.config;
  if (cfg.voters.IsJoint()) {
    if (!cfg.auto_leave) {
      (void)leader.rn->ProposeConfChange(ConfChangeV2{});
      TraceLine([id = leader.id] { return fmt::format("membership: n{} leaves joint", id); });
      ScheduleReady(leader);
    }
    return;
  }
  const std::vector<NodeId> voters = cfg.voters.incoming.ids();
  const std::vector<NodeId> learners = cfg.learners.ids();
  // A removed node that has not learned of its removal keeps campaigning. With neither PreVote nor
  // CheckQuorum nothing stops it from disrupting the members that have not applied the removal
  // either (thesis §4.2.3) — a documented limitation of that configuration, so no removals there.
  const bool may_remove = pre_vote_ || check_quorum_;
  auto fresh = [&]() -> std::optional<NodeId> {
    if (next_node_id_ > kMaxNodeIds) return std::nullopt;
    const NodeId id(next_node_id_++);
    NewNode(id);
    return id;
  };
  auto single = [](ConfChangeType t, NodeId id) { return ConfChangeSingle{t, id, Bytes()}; };
  ConfChangeV2 cc;
  std::string what;
  const uint64_t kind = rand_.Uniform(7);
  if (kind == 0 && voters.size() < 7) {
    auto id = fresh();
    if (!id) return;
    cc.changes.push_back(single(ConfChangeType::ConfChangeAddNode, *id));
    what = fmt::format("add voter {}", *id);
  } else if (kind == 1) {
    auto id = fresh();
    if (!id) return;
    cc.changes.push_back(single(ConfChangeType::ConfChangeAddLearnerNode, *id));
    what = fmt::format("add learner {}", *id);
  } else if (kind == 2 && !learners.empty()) {
    const NodeId id = learners[rand_.Uniform(learners.size())];
    cc.changes.push_back(single(ConfChangeType::ConfChangeAddNode, id));
    what = fmt::format("promote learner {}", id);
  } else if (kind == 3 && voters.size() > 2 && may_remove) {
    // Remove a voter, the leader itself one time in three.
    const NodeId id = Chance(0.33) ? leader.id : voters[rand_.Uniform(voters.size())];
    cc.changes.push_back(single(ConfChangeType::ConfChangeRemoveNode, id));
    what = fmt::format("remove voter {}", id);
  } else if (kind == 4 && !learners.empty() && may_remove) {
    const NodeId id = learners[rand_.Uniform(learners.size())];
    cc.changes.push_back(single(ConfChangeType::ConfChangeRemoveNode, id));
    what = fmt::format("remove learner {}", id);
  } else if (kind == 5 && voters.size() > 2) {
    // Demote a voter to learner.
    const NodeId id = voters[rand_.Uniform(voters.size())];
    cc.changes.push_back(single(ConfChangeType::ConfChangeAddLearnerNode, id));
    what = fmt::format("demote voter {}", id);
  } else if (kind == 6 && voters.size() >= 2 && may_remove) {
    // Replace several members at once through a joint configuration.
    const size_t remove = std::min<size_t>(Between(1, 2), voters.size() - 1);
    const size_t add = Between(1, 2);
    std::vector<NodeId> pool = voters;
    for (size_t i = 0; i < remove; ++i) {
      const size_t k = rand_.Uniform(pool.size());
      cc.changes.push_back(single(ConfChangeType::ConfChangeRemoveNode, pool[k]));
      pool.erase(pool.begin() + static_cast<ptrdiff_t>(k));
    }
    for (size_t i = 0; i < add; ++i) {
      auto id = fresh();
      if (!id) return;
      cc.changes.push_back(single(ConfChangeType::ConfChangeAddNode, *id));
    }
    cc.transition = std::array<ConfChangeTransition, 3>{
        ConfChangeTransition::ConfChangeTransitionAuto,
        ConfChangeTransition::ConfChangeTransitionJointImplicit,
        ConfChangeTransition::ConfChangeTransitionJointExplicit}[rand_.Uniform(3)];
    what = "joint " + raftpb::ConfChangesToString(cc.changes) + " " + raftpb::Name(cc.transition);
  } else {
    return;
  }
  Status st;
  if (cc.changes.size() == 1 && cc.transition == ConfChangeTransition::ConfChangeTransitionAuto &&
      Chance(0.5)) {
    // The v1 API for simple changes (what raftexample and etcd use).
    ConfChange v1;
    v1.id = next_cc_id_++;
    v1.type = cc.changes[0].type;
    v1.node_id = cc.changes[0].node_id;
    st = leader.rn->ProposeConfChange(v1);
    what += " (v1)";
  } else {
    st = leader.rn->ProposeConfChange(cc);
  }
  TraceLine([id = leader.id, what, ok = st.ok()] {
    return fmt::format("membership: n{} proposes {}{}", id, what, ok ? "" : " -> dropped");
  });
  ScheduleReady(leader);
}

// ---------------------------------------------------------------------------------------------
// Healing and liveness
// ---------------------------------------------------------------------------------------------

void Simulation::Heal() {
  healed_ = true;
  blocked_.clear();
  cuts_.clear();
  loss_ = dup_ = 0;
  extra_delay_us_ = 0;
  for (auto& [id, n] : nodes_) {
    n.slow = false;
    n.tick_us = kTickUs;
    n.fsync_min_us = 200;
    n.fsync_max_us = 2 * kMs;
    if (!n.up && !n.stopped) Restart(n);
  }
  TraceLine([] { return std::string("HEAL: faults stop, network healed, nodes restarted"); });
  Schedule(now_ + 100 * kMs, Event{EventType::kLiveness});
}

std::optional<std::string> Simulation::LivenessProblem() {
  Node* leader = Leader();
  if (leader == nullptr) return "no leader";
  raft::Raft& lr = RaftOf(*leader);
  // Every member of the leader's configuration must be up and follow it.
  const raft::tracker::Config& cfg = lr.prs.config;
  std::vector<NodeId> members = cfg.voters.IDs().ids();
  for (NodeId id : cfg.learners)
    members.push_back(id);
  for (NodeId id : cfg.learners_next)
    members.push_back(id);
  for (NodeId id : members) {
    auto it = nodes_.find(id);
    if (it == nodes_.end() || !it->second.up) return fmt::format("member {} is not up", id);
    raft::Raft& r = RaftOf(it->second);
    if (r.lead != leader->id || r.term != lr.term) {
      return fmt::format("member {} follows {} at term {}, not leader {} at term {}", id, r.lead,
                         r.term, leader->id, lr.term);
    }
  }
  // Probes: one proposal through the leader and one through a follower (forwarding). A probe can
  // still be lost after the heal (a leader removed by a change finishing then takes its
  // uncommitted tail along); like a client, submit a new round after a timeout.
  bool retry = probes_.empty() || now_ - probes_at_ > kProbeTimeoutUs;
  for (uint64_t id : probes_) {
    if (proposals_.at(id).state == Proposal::State::kDropped) retry = true;
  }
  if (retry) {
    probes_.clear();
    probes_at_ = now_;
    std::vector<Node*> targets{leader};
    for (NodeId id : members) {
      if (id != leader->id) {
        targets.push_back(&nodes_.at(id));
        break;
      }
    }
    for (Node* t : targets) {
      const uint64_t id = next_proposal_++;
      const Status st = t->rn->Propose(Bytes(Tagged('P', id, 16)));
      proposals_[id] =
          Proposal{t->id, st.ok() ? Proposal::State::kPending : Proposal::State::kDropped};
      probes_.push_back(id);
      ScheduleReady(*t);
    }
    TraceLine([first = probes_.front()] {
      return fmt::format("liveness: probe proposals {}.. submitted", first);
    });
    return "probes just submitted";
  }
  const Index commit = lr.log.committed();
  if (lr.log.LastIndex() != commit) return "the leader has uncommitted entries";
  for (NodeId id : members) {
    Node& n = nodes_.at(id);
    raft::Raft& r = RaftOf(n);
    if (n.applied != commit || r.log.LastIndex() != commit || n.ready_in_flight) {
      return fmt::format("member {} applied {} (log {}) but the leader committed {}", id, n.applied,
                         r.log.LastIndex(), commit);
    }
    for (uint64_t pid : probes_) {
      if (std::find(n.applied_ids.begin(), n.applied_ids.end(), pid) == n.applied_ids.end()) {
        return fmt::format("member {} has not applied probe {}", id, pid);
      }
    }
  }
  // Nothing committed was lost: the converged log carries every entry ever applied.
  for (const auto& [index, te] : checker_.Canonical()) {
    if (index < lr.log.FirstIndex()) continue;
    auto t = lr.log.TermAt(index);
    if (!t.ok() || *t != te.first) {
      Checker::Fail("state machine safety",
                    fmt::format("entry {}/{} was applied but the converged log has term {} there",
                                te.first, index, t.ok() ? t->value() : 0));
    }
  }
  if (commit < checker_.CommittedMax()) {
    Checker::Fail("state machine safety",
                  fmt::format("entries up to {} were applied but the converged log ends at {}",
                              checker_.CommittedMax(), commit));
  }
  return std::nullopt;
}

void Simulation::OnLiveness() {
  if (!pending_stops_.empty()) MaybeStopRemoved();
  auto problem = LivenessProblem();
  if (!problem) {
    done_ = true;
    TraceLine([] { return std::string("liveness: converged"); });
    return;
  }
  if (now_ > fault_end_us_ + kLivenessBoundUs) {
    Checker::Fail("liveness",
                  fmt::format("{} ms after the heal: {}", kLivenessBoundUs / kMs, *problem));
  }
  Schedule(now_ + 50 * kMs, Event{EventType::kLiveness});
}

}  // namespace raftkit::sim::internal
