#include "chaos/nemesis.h"

#include <algorithm>
#include <set>
#include <thread>

namespace raftkit::chaos {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const char* FaultKindName(FaultKind k) {
  switch (k) {
    case FaultKind::kKill:
      return "kill";
    case FaultKind::kTornWal:
      return "torn-wal";
    case FaultKind::kPause:
      return "pause";
    case FaultKind::kIsolate:
      return "isolate";
    case FaultKind::kMajorityMinority:
      return "majority-minority";
    case FaultKind::kBridge:
      return "bridge";
    case FaultKind::kOneWay:
      return "one-way";
    case FaultKind::kDelay:
      return "delay";
    case FaultKind::kSlow:
      return "slow";
    case FaultKind::kReset:
      return "reset";
    case FaultKind::kAddMember:
      return "add-member";
    case FaultKind::kRemoveMember:
      return "remove-member";
    case FaultKind::kTransfer:
      return "transfer";
    case FaultKind::kSnapshot:
      return "snapshot";
  }
  return "?";
}

std::vector<FaultKind> AllFaultKinds() {
  return {FaultKind::kKill,
          FaultKind::kTornWal,
          FaultKind::kPause,
          FaultKind::kIsolate,
          FaultKind::kMajorityMinority,
          FaultKind::kBridge,
          FaultKind::kOneWay,
          FaultKind::kDelay,
          FaultKind::kSlow,
          FaultKind::kReset,
          FaultKind::kAddMember,
          FaultKind::kRemoveMember,
          FaultKind::kTransfer,
          FaultKind::kSnapshot};
}

Nemesis::Nemesis(ChaosCluster& cluster, int voters, uint64_t seed, Clock::time_point t0)
    : cluster_(cluster), voters_(voters), rng_(seed), t0_(t0) {}

int64_t Nemesis::Now() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0_).count();
}

void Nemesis::Hold(int min_ms, int spread_ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(
      min_ms + static_cast<int>(rng_() % static_cast<uint64_t>(spread_ms))));
}

int Nemesis::Victim(bool* is_leader) {
  const int leader = cluster_.LeaderSlot();
  const std::vector<int> occupied = cluster_.Occupied();
  if (leader != 0 && rng_() % 2 == 0) {
    *is_leader = true;
    return leader;
  }
  const int slot = occupied[rng_() % occupied.size()];
  *is_leader = slot == leader;
  return slot;
}

int Nemesis::RandomOther(int slot) {
  std::vector<int> others;
  for (int s : cluster_.Occupied()) {
    if (s != slot) others.push_back(s);
  }
  return others.empty() ? slot : others[rng_() % others.size()];
}

int64_t Nemesis::WaitNewLeader(int64_t since_us) {
  const auto deadline = Clock::now() + 15s;
  while (Clock::now() < deadline) {
    if (cluster_.LeaderSlot() != 0) return Now() - since_us;
    std::this_thread::sleep_for(20ms);
  }
  return -1;
}

FaultKind Nemesis::Next() {
  if (round_.empty()) {
    round_ = AllFaultKinds();
    std::shuffle(round_.begin(), round_.end(), rng_);
  }
  FaultKind kind = round_.back();
  round_.pop_back();
  // Membership moves between `voters_` and one more: add when there is room, remove when there is
  // a voter to spare; the other kind of change waits for the next turn.
  const bool room = static_cast<int>(cluster_.Occupied().size()) < cluster_.slots();
  const bool spare = static_cast<int>(cluster_.Voters().size()) > voters_;
  if (kind == FaultKind::kRemoveMember && !spare && room) {
    round_.push_back(kind);
    kind = FaultKind::kAddMember;
  } else if (kind == FaultKind::kAddMember && !room) {
    round_.push_back(kind);
    kind = FaultKind::kRemoveMember;
  }
  return kind;
}

FaultRecord Nemesis::Run(FaultKind kind) {
  FaultRecord rec;
  rec.kind = kind;
  rec.start_us = Now();
  bool is_leader = false;
  auto name = [&](int slot) {
    return "member " + std::to_string(cluster_.MemberAt(slot)) + (is_leader ? " (leader)" : "");
  };
  switch (kind) {
    case FaultKind::kKill:
    case FaultKind::kTornWal: {
      // A plain kill always takes the leader (when there is one): the time to the next leader is
      // a figure of the run.
      int victim = kind == FaultKind::kKill ? cluster_.LeaderSlot() : 0;
      if (victim != 0) {
        is_leader = true;
      } else {
        victim = Victim(&is_leader);
      }
      const std::string who = name(victim);
      cluster_.Kill(victim);
      rec.leader_killed = is_leader;
      if (is_leader) rec.new_leader_us = WaitNewLeader(rec.start_us);
      Hold(300, 2500);
      rec.detail = who + " killed";
      if (kind == FaultKind::kTornWal) {
        std::string what;
        const Status st = cluster_.TearWalTail(victim, rng_, &what);
        rec.detail += st.ok() ? "; its WAL got a " + what : "; no torn tail: " + st.ToString();
      }
      cluster_.Start(victim);
      rec.detail += "; restarted after " + std::to_string((Now() - rec.start_us) / 1000) + " ms";
      break;
    }
    case FaultKind::kPause: {
      const int victim = Victim(&is_leader);
      cluster_.Pause(victim);
      Hold(500, 2500);
      cluster_.Resume(victim);
      rec.detail =
          name(victim) + " paused for " + std::to_string((Now() - rec.start_us) / 1000) + " ms";
      break;
    }
    case FaultKind::kIsolate: {
      const int victim = Victim(&is_leader);
      std::set<int> rest;
      for (int s = 1; s <= cluster_.slots(); ++s) {
        if (s != victim) rest.insert(s);
      }
      cluster_.Partition({{victim}, rest});
      rec.majority_partition = true;
      rec.minority = {victim};
      // Long enough for the majority to elect a leader and serve for a while.
      Hold(3000, 5000);
      cluster_.HealAll();
      rec.detail = name(victim) + " isolated";
      break;
    }
    case FaultKind::kMajorityMinority: {
      std::vector<int> slots = cluster_.Occupied();
      std::shuffle(slots.begin(), slots.end(), rng_);
      const size_t minority = (slots.size() - 1) / 2;
      std::set<int> small(slots.begin(), slots.begin() + static_cast<std::ptrdiff_t>(minority));
      std::set<int> large(slots.begin() + static_cast<std::ptrdiff_t>(minority), slots.end());
      cluster_.Partition({small, large});
      rec.majority_partition = true;
      rec.minority = small;
      Hold(3000, 5000);
      cluster_.HealAll();
      rec.detail =
          std::to_string(small.size()) + " member(s) cut from " + std::to_string(large.size());
      break;
    }
    case FaultKind::kBridge: {
      // Halves A and B, and one member that both hear: A–B links cut, the bridge's kept.
      std::vector<int> slots = cluster_.Occupied();
      std::shuffle(slots.begin(), slots.end(), rng_);
      const int bridge = slots.front();
      const size_t half = (slots.size() - 1) / 2;
      std::set<int> a(slots.begin() + 1, slots.begin() + 1 + static_cast<std::ptrdiff_t>(half));
      std::set<int> b(slots.begin() + 1 + static_cast<std::ptrdiff_t>(half), slots.end());
      for (int x : a) {
        for (int y : b) {
          cluster_.Cut(x, y);
          cluster_.Cut(y, x);
        }
      }
      Hold(1000, 3000);
      cluster_.HealAll();
      rec.detail = "member " + std::to_string(cluster_.MemberAt(bridge)) + " bridges " +
                   std::to_string(a.size()) + " and " + std::to_string(b.size());
      break;
    }
    case FaultKind::kOneWay: {
      const int victim = Victim(&is_leader);
      const int other = RandomOther(victim);
      cluster_.Cut(victim, other);
      Hold(1000, 3000);
      cluster_.HealAll();
      rec.detail =
          name(victim) + " cannot reach member " + std::to_string(cluster_.MemberAt(other));
      break;
    }
    case FaultKind::kDelay: {
      const int victim = Victim(&is_leader);
      LinkFaults f;
      f.delay = std::chrono::milliseconds(50 + rng_() % 350);
      for (int other : cluster_.Occupied()) {
        if (other == victim) continue;
        cluster_.Degrade(victim, other, f);
        cluster_.Degrade(other, victim, f);
      }
      Hold(1500, 3000);
      cluster_.HealAll();
      rec.detail = name(victim) + "'s links delayed " + std::to_string(f.delay.count()) + " ms";
      break;
    }
    case FaultKind::kSlow: {
      const int victim = Victim(&is_leader);
      LinkFaults f;
      f.bytes_per_second = 20'000 + rng_() % 180'000;
      for (int other : cluster_.Occupied()) {
        if (other != victim) cluster_.Degrade(victim, other, f);
      }
      Hold(1500, 3000);
      cluster_.HealAll();
      rec.detail =
          name(victim) + " sends at " + std::to_string(f.bytes_per_second / 1000) + " KB/s";
      break;
    }
    case FaultKind::kReset: {
      const int victim = Victim(&is_leader);
      cluster_.ResetLinks(victim);
      rec.detail = name(victim) + "'s connections reset";
      break;
    }
    case FaultKind::kAddMember: {
      std::string strangers;
      for (uint64_t id : cluster_.RemoveStrangers())
        strangers += " " + std::to_string(id);
      if (!strangers.empty()) rec.detail = "removed members no slot holds:" + strangers + "; ";
      int slot = 0;
      for (int s = 1; s <= cluster_.slots() && slot == 0; ++s) {
        if (cluster_.MemberAt(s) == 0) slot = s;
      }
      const bool learner = rng_() % 3 != 0;
      auto id = cluster_.AddMember(slot, learner);
      if (!id.ok()) {
        rec.detail += "add failed: " + id.status().ToString();
        break;
      }
      rec.detail +=
          "member " + std::to_string(*id) + " added as a " + (learner ? "learner" : "voter");
      if (learner) {
        const bool caught_up = cluster_.WaitCaughtUp(slot, 20s);
        const Status st = cluster_.Promote(slot);
        rec.detail += std::string(caught_up ? ", caught up" : ", not caught up in 20 s") +
                      (st.ok() ? ", promoted" : ", promotion failed: " + st.ToString());
      }
      break;
    }
    case FaultKind::kRemoveMember: {
      // A learner left over from a failed promotion goes first.
      const std::vector<int> learners = cluster_.Learners();
      int victim = 0;
      if (!learners.empty()) {
        victim = learners.front();
      } else if (removals_++ % 2 == 0 && cluster_.LeaderSlot() != 0) {
        victim = cluster_.LeaderSlot();
        is_leader = true;
      } else {
        const std::vector<int> voters = cluster_.Voters();
        victim = voters[rng_() % voters.size()];
        is_leader = victim == cluster_.LeaderSlot();
      }
      const std::string who = name(victim);
      const Status st = cluster_.RemoveMember(victim);
      rec.detail = who + (st.ok() ? " removed" : " not removed: " + st.ToString());
      break;
    }
    case FaultKind::kTransfer: {
      const int leader = cluster_.LeaderSlot();
      std::vector<int> voters = cluster_.Voters();
      voters.erase(std::remove(voters.begin(), voters.end(), leader), voters.end());
      if (voters.empty()) {
        rec.detail = "no other voter";
        break;
      }
      const int to = voters[rng_() % voters.size()];
      const Status st = cluster_.TransferLeader(to);
      rec.detail = "leadership to member " + std::to_string(cluster_.MemberAt(to)) +
                   (st.ok() ? "" : " failed: " + st.ToString());
      break;
    }
    case FaultKind::kSnapshot: {
      // A follower misses a stretch of the log that the leader then compacts away: it must come
      // back through a snapshot. Everyone else snapshots too.
      const int leader = cluster_.LeaderSlot();
      if (leader == 0) {
        rec.detail = "no leader";
        break;
      }
      const int follower = RandomOther(leader);
      cluster_.Kill(follower);
      Hold(1500, 1500);
      int saved = 0;
      for (int s : cluster_.Occupied()) {
        if (s != follower && cluster_.Snapshot(s).ok()) ++saved;
      }
      cluster_.Start(follower);
      rec.detail = "member " + std::to_string(cluster_.MemberAt(follower)) + " down while " +
                   std::to_string(saved) + " member(s) snapshotted and compacted";
      break;
    }
  }
  rec.end_us = Now();
  return rec;
}

}  // namespace raftkit::chaos
