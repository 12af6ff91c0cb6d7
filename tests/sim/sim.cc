// The simulation engine: setup, the event loop, the Ready loop of every node, the network, and
// nodes going down and up. Faults, clients and liveness are in nemesis.cc; the shape of it all is
// in simulation.h.
//
// The Ready loop follows docs/ready_loop.md: persist (unsynced writes), fsync if must_sync (or a
// snapshot or a conf-change commit is involved), then send and apply, then Advance. A leader may
// send its MsgApp/MsgHeartbeat before the fsync when they carry no commit index beyond what is
// already durable (the rule the doc states); seeds enable that per node.
#include <algorithm>

#include "raftkit/raftpb/codec.h"
#include "raftkit/raftpb/describe.h"
#include "raftkit/util/panic.h"
#include "sim/simulation.h"

namespace raftkit::sim {
namespace internal {
// ---------------------------------------------------------------------------------------------
// Setup
// ---------------------------------------------------------------------------------------------

void Simulation::Configure() {
  // Draw even when the size is given, so that --nodes with the seed's own size replays the same
  // run.
  const int drawn = std::array<int, 3>{3, 5, 7}[rand_.Uniform(3)];
  initial_nodes_ = opts_.nodes != 0 ? opts_.nodes : drawn;
  pre_vote_ = Chance(0.6);
  check_quorum_ = Chance(0.6);
  max_inflight_ = std::array<size_t, 4>{1, 4, 32, 256}[rand_.Uniform(4)];
  max_inflight_bytes_ = Chance(0.3) ? Between(1024, 64 * 1024) : 0;
  max_size_per_msg_ = std::array<uint64_t, 4>{0, 512, 16 * 1024, 1 << 20}[rand_.Uniform(4)];
  fault_end_us_ = Between(1500, 4000) * kMs;
}

std::unique_ptr<raft::RawNode> Simulation::MakeRawNode(Node& n, Index applied) {
  raft::Config c;
  c.id = n.id;
  c.election_tick = kElectionTick;
  c.heartbeat_tick = kHeartbeatTick;
  c.storage = n.storage.get();
  c.applied = applied;
  c.max_size_per_msg = max_size_per_msg_;
  c.max_inflight_msgs = max_inflight_;
  c.max_inflight_bytes = max_inflight_bytes_;
  c.check_quorum = check_quorum_;
  c.pre_vote = pre_vote_;
  c.random_seed = opts_.seed * 1000003 + n.id.value() * 7919 + n.incarnation;
  auto rn = raft::RawNode::Create(c);
  RAFTKIT_CHECK(rn.ok(), "RawNode::Create: {}", rn.status().ToString());
  return std::move(rn).value();
}

Node& Simulation::NewNode(NodeId id) {
  Node& n = nodes_[id];
  n.id = id;
  n.storage = std::make_unique<SimStorage>();
  n.early_sends = Chance(0.5);
  n.up = true;
  n.rn = MakeRawNode(n, Index(0));
  Schedule(now_ + Between(0, kTickUs), Event{EventType::kTick, id, n.incarnation});
  return n;
}

RunResult Simulation::Run() {
  Configure();
  std::vector<raft::Peer> peers;
  for (int i = 1; i <= initial_nodes_; ++i)
    peers.push_back(raft::Peer{NodeId(i), Bytes()});
  for (int i = 1; i <= initial_nodes_; ++i) {
    Node& n = NewNode(NodeId(i));
    Status st = n.rn->Bootstrap(peers);
    RAFTKIT_CHECK(st.ok(), "bootstrap: {}", st.ToString());
    ScheduleReady(n);
  }
  next_node_id_ = static_cast<uint64_t>(initial_nodes_) + 1;
  TraceLine([this] {
    return fmt::format(
        "start: {} nodes, pre_vote={} check_quorum={} max_inflight={} "
        "max_inflight_bytes={} max_size_per_msg={} faults until {} ms",
        initial_nodes_, pre_vote_, check_quorum_, max_inflight_, max_inflight_bytes_,
        max_size_per_msg_, fault_end_us_ / kMs);
  });
  Schedule(Between(1, 10) * kMs, Event{EventType::kClient});
  Schedule(Between(50, 300) * kMs, Event{EventType::kNemesis});
  Schedule(fault_end_us_, Event{EventType::kHeal});

  RunResult r;
  r.seed = opts_.seed;
  r.nodes = initial_nodes_;
  const PanicHandler previous = SetPanicHandler(ThrowingPanicHandler);
  try {
    while (!done_ && !queue_.empty()) {
      auto it = queue_.begin();
      now_ = it->first.first;
      Event e = std::move(it->second);
      queue_.erase(it);
      ++steps_;
      Dispatch(e);
    }
    if (!done_) Checker::Fail("liveness", "the event queue ran dry");
  } catch (const Violation& v) {
    r.violation = v;
  } catch (const PanicError& p) {
    r.violation = Violation{"core panic", p.message};
  }
  SetPanicHandler(previous);
  r.steps = steps_;
  r.faults = faults_;
  if (r.violation) r.trace_tail = trace_.Tail();
  r.summary = fmt::format(
      "seed {}: {} nodes, pre_vote={} check_quorum={} max_inflight={} max_size_per_msg={}, {} "
      "steps, {} faults, {} proposals, {} reads, ended at {} ms",
      opts_.seed, initial_nodes_, pre_vote_, check_quorum_, max_inflight_, max_size_per_msg_,
      steps_, faults_, proposals_.size(), reads_.size(), now_ / kMs);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Event plumbing
// ---------------------------------------------------------------------------------------------

void Simulation::Schedule(uint64_t at, Event e) {
  queue_.emplace(std::make_pair(at, seq_++), std::move(e));
}

void Simulation::ScheduleReady(Node& n) {
  if (!n.up || n.ready_scheduled || n.ready_in_flight) return;
  n.ready_scheduled = true;
  Schedule(now_, Event{EventType::kReady, n.id, n.incarnation});
}

void Simulation::Dispatch(Event& e) {
  auto node = [&](bool need_up) -> Node* {
    auto it = nodes_.find(e.node);
    if (it == nodes_.end()) return nullptr;
    Node& n = it->second;
    if (need_up && (!n.up || n.incarnation != e.incarnation)) return nullptr;
    return &n;
  };
  switch (e.type) {
    case EventType::kTick:
      if (Node* n = node(true)) OnTick(*n);
      break;
    case EventType::kReady:
      if (Node* n = node(true)) {
        n->ready_scheduled = false;
        OnReady(*n);
      }
      break;
    case EventType::kReadyDone:
      if (Node* n = node(true)) OnReadyDone(*n);
      break;
    case EventType::kDeliver:
      OnDeliver(std::move(e.msg));
      break;
    case EventType::kSnapReport:
      if (Node* n = node(true)) {
        n->rn->ReportSnapshot(e.msg.to, e.msg.reject ? raft::SnapshotStatus::kFailure
                                                     : raft::SnapshotStatus::kFinish);
        ScheduleReady(*n);
      }
      break;
    case EventType::kClient:
      OnClient();
      break;
    case EventType::kNemesis:
      OnNemesis();
      break;
    case EventType::kRestart:
      if (Node* n = node(false); n != nullptr && !n->up && !n->stopped) Restart(*n);
      break;
    case EventType::kStop:
      Stop(e.node, "no longer a member");
      break;
    case EventType::kUnblock:
      if (auto it = cuts_.find(e.arg); it != cuts_.end()) {
        for (const auto& link : it->second)
          --blocked_[link];
        cuts_.erase(it);
        TraceLine([id = e.arg] { return fmt::format("fault {} healed", id); });
      }
      break;
    case EventType::kEndLossy:
      loss_ = dup_ = 0;
      extra_delay_us_ = 0;
      TraceLine([] { return std::string("lossy network period over"); });
      break;
    case EventType::kEndSlow:
      if (Node* n = node(false); n != nullptr && n->slow) {
        n->slow = false;
        n->tick_us = kTickUs;
        n->fsync_min_us = 200;
        n->fsync_max_us = 2 * kMs;
        TraceLine([id = n->id] { return fmt::format("n{} back to normal speed", id); });
      }
      break;
    case EventType::kHeal:
      Heal();
      break;
    case EventType::kLiveness:
      OnLiveness();
      break;
  }
}

void Simulation::OnTick(Node& n) {
  n.rn->Tick();
  Observe(n);
  ScheduleReady(n);
  // A slow node's clock runs slow too; a little jitter keeps nodes from ticking in lockstep.
  Schedule(now_ + n.tick_us + rand_.Uniform(kTickUs / 10),
           Event{EventType::kTick, n.id, n.incarnation});
}

// Checks that can be made by looking at a node at any moment.
void Simulation::Observe(Node& n) {
  raft::Raft& r = RaftOf(n);
  checker_.OnProgress(n.id, n.incarnation, r.log.committed(), n.applied);
  if (r.state != raft::StateType::kLeader) return;
  checker_.OnLeader(n.id, r.term);
  if (n.last_leader_term != r.term) {
    // A new leadership: it must hold every committed entry (leader completeness).
    n.last_leader_term = r.term;
    n.last_leader_commit = r.log.committed();
    checker_.OnNewLeader(n.id, r.term, r.log.FirstIndex(), r.log.LastIndex(),
                         [&r](Index i) -> std::optional<Term> {
                           auto t = r.log.TermAt(i);
                           if (!t.ok()) return std::nullopt;
                           return *t;
                         });
    // Its election: itself plus the grants that reached it in this term.
    std::vector<NodeId> electors{n.id};
    if (auto g = grants_.find({r.term, n.id}); g != grants_.end()) {
      electors.insert(electors.end(), g->second.begin(), g->second.end());
    }
    std::sort(electors.begin(), electors.end());
    electors.erase(std::unique(electors.begin(), electors.end()), electors.end());
    checker_.OnQuorum(r.term, fmt::format("election of {}", n.id), electors, r.prs.config);
    TraceLine([id = n.id, t = r.term, last = r.log.LastIndex()] {
      return fmt::format("n{} is leader of term {} (last index {})", id, t, last);
    });
  } else if (r.log.committed() > n.last_leader_commit) {
    // A commit decision: the voters holding the new commit index must form a quorum that meets
    // every other quorum of this term (joint consensus keeps that true across config changes).
    n.last_leader_commit = r.log.committed();
    std::vector<NodeId> holders;
    const raft::quorum::IdSet voters = r.prs.config.voters.IDs();
    for (const auto& [id, pr] : r.prs.progress) {
      if (pr.match >= r.log.committed() && voters.contains(id)) holders.push_back(id);
    }
    checker_.OnQuorum(r.term, fmt::format("commit of {} by {}", r.log.committed(), n.id), holders,
                      r.prs.config);
  }
}

// ---------------------------------------------------------------------------------------------
// The Ready loop
// ---------------------------------------------------------------------------------------------

void Simulation::OnReady(Node& n) {
  if (!n.rn->HasReady()) return;
  n.inflight = n.rn->GetReady();
  n.ready_in_flight = true;
  const raft::Ready& rd = n.inflight;
  SimStorage& s = *n.storage;
  const Index durable_last_before = s.DurableLastIndex();

  // 1. Persist (unsynced until the fsync completes).
  if (!rd.snapshot.IsEmpty()) s.ApplySnapshot(rd.snapshot);
  if (!rd.entries.empty()) {
    s.Append(rd.entries);
    for (const Entry& e : rd.entries) {
      auto prev = s.TermAt(e.index - 1);
      if (!prev.ok()) continue;  // below the compaction point: already covered by a snapshot
      checker_.OnEntryWritten(n.id, e, *prev);
    }
  }
  if (!rd.hard_state.IsEmpty()) {
    raftpb::HardState hs = rd.hard_state;
    if (opts_.sim_bug == SimBug::kDropVoteOnPersist) hs.vote = kNoNode;
    s.SetHardState(hs);
  }

  // 2. Decide what may leave before the fsync.
  n.held.clear();
  std::vector<Message> now;
  const bool leader = RaftOf(n).state == raft::StateType::kLeader;
  for (Message& m : n.inflight.messages) {
    const bool bug = opts_.sim_bug == SimBug::kAckBeforePersist;
    // docs/ready_loop.md: a leader's appends and heartbeats may go out before its own write is
    // durable if they reveal no commit index beyond what was durable before this Ready.
    const bool early = n.early_sends && leader &&
                       (m.type == MessageType::MsgApp || m.type == MessageType::MsgHeartbeat) &&
                       m.commit <= durable_last_before;
    if (bug || early || !(rd.must_sync || !rd.snapshot.IsEmpty())) {
      now.push_back(std::move(m));
    } else {
      n.held.push_back(std::move(m));
    }
  }
  n.inflight.messages.clear();
  if (!now.empty()) Send(n, std::move(now));

  const bool sync = rd.must_sync || !rd.snapshot.IsEmpty();
  const uint64_t fsync = sync ? Between(n.fsync_min_us, n.fsync_max_us) : 0;
  TraceLine([id = n.id, ents = rd.entries.size(), committed = rd.committed_entries.size(),
             hs = rd.hard_state, snap = rd.snapshot.metadata.index, sync = rd.must_sync, fsync] {
    std::string out = fmt::format("n{} ready: {} entries, {} committed", id, ents, committed);
    if (!hs.IsEmpty()) out += " hs{" + raftpb::DescribeHardState(hs) + "}";
    if (snap > Index(0)) out += fmt::format(" snapshot {}", snap);
    if (sync) out += fmt::format(" fsync {} us", fsync);
    return out;
  });
  Schedule(now_ + fsync, Event{EventType::kReadyDone, n.id, n.incarnation});
}

void Simulation::OnReadyDone(Node& n) {
  raft::Ready& rd = n.inflight;
  // docs/ready_loop.md: before applying a conf change, its commit must be durable. A node must not
  // forget, by crashing, a configuration it acted upon (others may already rely on it).
  const bool applies_conf_change =
      std::any_of(rd.committed_entries.begin(), rd.committed_entries.end(),
                  [](const Entry& e) { return e.type != EntryType::EntryNormal; });
  // A snapshot is always written durably (docs/ready_loop.md), as is a conf change's commit.
  if (rd.must_sync || applies_conf_change || !rd.snapshot.IsEmpty()) n.storage->Sync();
  // 3. Send what waited for durability, apply, Advance.
  if (!n.held.empty()) Send(n, std::move(n.held));
  n.held.clear();
  ApplyCommitted(n, rd);
  n.rn->Advance(rd);
  if (!pending_stops_.empty()) MaybeStopRemoved();
  n.ready_in_flight = false;
  n.inflight = raft::Ready{};
  Observe(n);
  ScheduleReady(n);
}

void Simulation::ApplyCommitted(Node& n, const raft::Ready& rd) {
  if (!rd.snapshot.IsEmpty()) {
    const raftpb::SnapshotMetadata& md = rd.snapshot.metadata;
    checker_.OnSnapshotApplied(n.id, n.applied, md.index, md.term);
    n.applied_ids = DecodeIds(rd.snapshot.data.view());
    n.conf_state = md.conf_state;
    n.applied = md.index;
    TraceLine([id = n.id, i = md.index, t = md.term] {
      return fmt::format("n{} restored snapshot {}/{}", id, t, i);
    });
  }
  for (const Entry& e : rd.committed_entries) {
    checker_.OnApply(n.id, n.applied, e);
    n.applied = e.index;
    switch (e.type) {
      case EntryType::EntryNormal:
        if (auto pid = Untag('P', e.data.view())) {
          n.applied_ids.push_back(*pid);
          auto it = proposals_.find(*pid);
          if (it != proposals_.end() && it->second.origin == n.id &&
              it->second.state == Proposal::State::kPending) {
            // The node that accepted the proposal applies it: the client gets its answer.
            it->second.state = Proposal::State::kAcked;
            checker_.OnWriteAcknowledged(e.index);
          }
        }
        break;
      case EntryType::EntryConfChange:
      case EntryType::EntryConfChangeV2:
        ApplyConfChangeEntry(n, e);
        break;
    }
  }
  for (const raft::ReadState& rs : rd.read_states) {
    auto rid = Untag('R', rs.request_ctx.view());
    if (!rid) continue;
    auto it = reads_.find(*rid);
    if (it == reads_.end() || it->second.answered) continue;
    it->second.answered = true;
    checker_.OnReadAnswered(n.id, *rid, it->second.acked_at_start, rs.index);
  }
}

void Simulation::ApplyConfChangeEntry(Node& n, const Entry& e) {
  const raftpb::ConfState before = n.conf_state;
  if (e.type == EntryType::EntryConfChange) {
    auto cc = raftpb::DecodeConfChange(e.data.view());
    RAFTKIT_CHECK(cc.ok(), "bad ConfChange");
    n.conf_state = n.rn->ApplyConfChange(*cc);
  } else {
    auto cc = raftpb::DecodeConfChangeV2(e.data.view());
    RAFTKIT_CHECK(cc.ok(), "bad ConfChangeV2");
    n.conf_state = n.rn->ApplyConfChange(*cc);
  }
  // Application policy (docs/ready_loop.md): once the log is compacted, a member added after the
  // latest snapshot cannot be caught up by it (a snapshot whose configuration lacks the receiver
  // is refused), so snapshot right after applying a change that adds members.
  auto added = [&] {
    for (const auto* v : {&n.conf_state.voters, &n.conf_state.learners}) {
      for (NodeId id : *v) {
        if (std::find(before.voters.begin(), before.voters.end(), id) == before.voters.end() &&
            std::find(before.learners.begin(), before.learners.end(), id) ==
                before.learners.end()) {
          return true;
        }
      }
    }
    return false;
  };
  if (!before.voters.empty() && added() && *n.storage->FirstIndex() > Index(1)) {
    (void)n.storage->SnapshotAndCompact(e.index, n.conf_state, Bytes(EncodeIds(n.applied_ids)),
                                        kNoLimit);
    TraceLine([id = n.id, i = e.index] {
      return fmt::format("n{} snapshot at {} after adding members", id, i);
    });
  }
  if (!conf_changes_seen_.insert(e.index).second) return;
  checker_.OnConfigChange(e.index, before, n.conf_state);
  // Nodes no longer in the configuration are shut down, as an operator would (otherwise they
  // keep campaigning with ever higher terms; thesis §4.2.3) — but only once every member of the new
  // configuration has applied the change: a member that has not may still need their votes
  // (it decides elections with the configuration it has applied).
  const raftpb::ConfState& cs = n.conf_state;
  TraceLine([i = e.index, cs] {
    return fmt::format("conf change at {} applied: {}", i, raftpb::DescribeConfState(cs));
  });
  if (cs.voters.empty()) return;
  PendingStop p{e.index, {}, {}};
  for (const auto* v : {&cs.voters, &cs.learners, &cs.voters_outgoing, &cs.learners_next}) {
    p.members.insert(v->begin(), v->end());
  }
  for (const auto& [id, other] : nodes_) {
    if (other.stopped || p.members.contains(id)) continue;
    // Only nodes that were members before: empty newcomers waiting for their add are left alone.
    if (other.conf_state.voters.empty() && other.applied == Index(0)) continue;
    p.victims.push_back(id);
  }
  if (!p.victims.empty()) pending_stops_.push_back(std::move(p));
}

void Simulation::MaybeStopRemoved() {
  for (auto it = pending_stops_.begin(); it != pending_stops_.end();) {
    // Every member must know, durably, that the change committed: until then a member may still
    // decide elections with the old configuration and need the removed nodes' votes.
    bool all_applied = true;
    for (NodeId id : it->members) {
      auto n = nodes_.find(id);
      if (n == nodes_.end() ||
          (!n->second.stopped && n->second.storage->DurableHardState().commit < it->index)) {
        all_applied = false;
        break;
      }
    }
    if (!all_applied) {
      ++it;
      continue;
    }
    // (Removed ids are never added again: new members always get fresh ids.)
    for (NodeId id : it->victims)
      Schedule(now_ + Between(5, 100) * kMs, Event{EventType::kStop, id});
    it = pending_stops_.erase(it);
  }
}

// ---------------------------------------------------------------------------------------------
// Network
// ---------------------------------------------------------------------------------------------

void Simulation::Send(Node& from, std::vector<Message> msgs) {
  for (Message& m : msgs) {
    const bool lost = Blocked(m.from, m.to) || Chance(loss_);
    if (lost) {
      TraceLine([s = ShortMsg(m)] { return "drop " + s; });
      if (m.type == MessageType::MsgSnap) {
        // The snapshot sender learns that the transfer failed.
        Event rep{EventType::kSnapReport, from.id, from.incarnation};
        rep.msg.to = m.to;
        rep.msg.reject = true;
        Schedule(now_ + Between(1, 20) * kMs, std::move(rep));
      } else if (Chance(0.2)) {
        from.rn->ReportUnreachable(m.to);
      }
      continue;
    }
    const int copies = Chance(dup_) ? 2 : 1;
    for (int c = 0; c < copies; ++c) {
      const uint64_t delay =
          Between(100, 3000) + (extra_delay_us_ ? rand_.Uniform(extra_delay_us_) : 0);
      Event d{EventType::kDeliver, m.to};
      d.msg = m;
      Schedule(now_ + delay, std::move(d));
    }
  }
}

void Simulation::OnDeliver(Message m) {
  auto it = nodes_.find(m.to);
  Node* to = it == nodes_.end() ? nullptr : &it->second;
  const bool ok = to != nullptr && to->up;
  if (m.type == MessageType::MsgSnap) {
    // The transport reports the snapshot's fate to its sender.
    auto fit = nodes_.find(m.from);
    if (fit != nodes_.end() && fit->second.up) {
      Event rep{EventType::kSnapReport, m.from, fit->second.incarnation};
      rep.msg.to = m.to;
      rep.msg.reject = !ok;
      Schedule(now_ + Between(1, 5) * kMs, std::move(rep));
    }
  }
  if (!ok) return;
  TraceLine([s = ShortMsg(m)] { return "recv " + s; });
  if (m.type == MessageType::MsgVoteResp && !m.reject) {
    // Vote grants reaching a candidate, for the membership check of its election quorum.
    grants_[{m.term, m.to}].push_back(m.from);
  }
  (void)to->rn->Step(std::move(m));
  Observe(*to);
  ScheduleReady(*to);
}

void Simulation::Block(NodeId a, NodeId b, uint64_t fault, bool both_ways) {
  cuts_[fault].push_back({a, b});
  ++blocked_[{a, b}];
  if (both_ways) {
    cuts_[fault].push_back({b, a});
    ++blocked_[{b, a}];
  }
}

// ---------------------------------------------------------------------------------------------
// Nodes going down and up
// ---------------------------------------------------------------------------------------------

void Simulation::Crash(Node& n) {
  const std::string what = n.storage->Crash(rand_);
  n.rn.reset();
  n.up = false;
  ++n.incarnation;
  n.ready_in_flight = false;
  n.ready_scheduled = false;
  n.held.clear();
  n.inflight = raft::Ready{};
  n.last_leader_term = Term(0);
  TraceLine([id = n.id, what] { return fmt::format("CRASH n{}: {}", id, what); });
}

void Simulation::Restart(Node& n) {
  // The state machine comes back from the snapshot; Raft hands out the entries after it again.
  auto snap = n.storage->GetSnapshot();
  RAFTKIT_CHECK(snap.ok(), "snapshot");
  n.applied_ids = DecodeIds(snap->data.view());
  n.conf_state = snap->metadata.conf_state;
  n.applied = snap->metadata.index;
  n.rn = MakeRawNode(n, snap->metadata.index);
  n.up = true;
  TraceLine([id = n.id, i = n.applied] {
    return fmt::format("RESTART n{} from snapshot index {}", id, i);
  });
  Schedule(now_ + Between(0, kTickUs), Event{EventType::kTick, n.id, n.incarnation});
  ScheduleReady(n);
}

void Simulation::Stop(NodeId id, const std::string& why) {
  auto it = nodes_.find(id);
  if (it == nodes_.end() || it->second.stopped) return;
  Node& n = it->second;
  n.stopped = true;
  n.up = false;
  n.rn.reset();
  ++n.incarnation;
  TraceLine([id, why] { return fmt::format("STOP n{}: {}", id, why); });
}

}  // namespace internal

RunResult RunSeed(const Options& opts) {
  internal::Simulation sim(opts);
  return sim.Run();
}

}  // namespace raftkit::sim
