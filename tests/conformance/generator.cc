#include "conformance/generator.h"

#include <array>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "conformance/harness.h"
#include "raftkit/core/confchange/confchange.h"
#include "raftkit/util/panic.h"
#include "raftkit/util/rand.h"

namespace raftkit::conformance {

namespace {

class Generator {
 public:
  explicit Generator(const GeneratorOptions& o) : opts_(o), rand_(o.seed * 0x9e3779b97f4a7c15ULL) {}

  std::string Run() {
    ScopedPanicHandler throwing(ThrowingPanicHandler);
    Emit(ConfigLine());
    next_id_ = static_cast<uint64_t>(h_.config().nodes) + 1;
    // Apply the bootstrap entries, then usually start with an election, so that scripts get to
    // replication quickly.
    for (const auto& [id, n] : h_.nodes()) {
      if (Chance(90)) Emit(fmt::format("ready {}", id));
    }
    if (rand_.Uniform(4) != 0) Emit(fmt::format("campaign {}", RandomNode()));
    try {
      int guard = 0;
      while (emitted_ < opts_.commands && guard++ < opts_.commands * 20) {
        if (!Step()) continue;
      }
      for (const auto& [id, n] : h_.nodes())
        Emit(fmt::format("status {}", id));
    } catch (const PanicError&) {
      // raftkit panicked on the last command: the script ends there; replaying it will show
      // whether etcd does too.
    }
    return script_;
  }

 private:
  bool Chance(uint64_t percent) { return rand_.Uniform(100) < percent; }

  std::string ConfigLine() {
    const int nodes = std::array<int, 4>{1, 3, 3, 5}[rand_.Uniform(4)];
    const bool check_quorum = Chance(40);
    std::string line = fmt::format("config nodes={}", nodes);
    if (Chance(40)) line += " prevote=1";
    if (check_quorum) line += " checkquorum=1";
    if (check_quorum && Chance(30)) line += " readonly=lease";
    if (Chance(40)) {
      line += fmt::format(" maxsizepermsg={}",
                          std::array<uint64_t, 4>{0, 1, 16, 256}[rand_.Uniform(4)]);
    }
    if (Chance(40)) line += fmt::format(" maxinflight={}", 1 + rand_.Uniform(4));
    if (Chance(20)) line += fmt::format(" maxuncommitted={}", 1 + rand_.Uniform(64));
    if (Chance(20)) line += fmt::format(" maxcommittedperready={}", rand_.Uniform(64));
    if (Chance(10)) line += " disableforwarding=1";
    return line;
  }

  // Executes a command on the harness and appends it to the script.
  void Emit(const std::string& line) {
    script_ += line;
    script_ += '\n';
    h_.Execute(++emitted_, line);
  }

  uint64_t RandomNode() {
    const auto& nodes = h_.nodes();
    auto it = nodes.begin();
    std::advance(it, static_cast<ptrdiff_t>(rand_.Uniform(nodes.size())));
    return it->first.value();
  }

  std::string RandomData() {
    switch (rand_.Uniform(8)) {
      case 0:
        return "-";
      case 1:
        return "\"\"";
      default: {
        std::string hex;
        const uint64_t len = 1 + rand_.Uniform(12);
        for (uint64_t i = 0; i < len; ++i)
          hex += fmt::format("{:02x}", rand_.Uniform(256));
        return hex;
      }
    }
  }

  // Whether ticking `id` cannot start an election whose timing depends on the random timeout.
  bool SafeToTick(uint64_t id) {
    raft::Raft& r = h_.RaftOf(NodeId(id));
    if (r.state == raft::StateType::kLeader) return true;
    return r.election_elapsed + 1 < r.election_timeout;
  }

  // The leader, if some node leads (the highest term wins).
  std::optional<uint64_t> Leader() {
    std::optional<uint64_t> best;
    Term best_term;
    for (const auto& [id, n] : h_.nodes()) {
      raft::Raft& r = h_.RaftOf(id);
      if (r.state == raft::StateType::kLeader && r.term >= best_term) {
        best = id.value();
        best_term = r.term;
      }
    }
    return best;
  }

  // Whether `cc` is a valid change of `r`'s configuration right now (what a careful server checks
  // before proposing: an invalid change that commits makes every node abort when applying it).
  static bool Valid(raft::Raft& r, const raftpb::ConfChangeV2& cc) {
    raft::confchange::Changer ch(r.prs, r.log.LastIndex());
    if (cc.LeaveJoint()) return ch.LeaveJoint().ok();
    bool auto_leave = false;
    if (cc.EnterJoint(&auto_leave)) return ch.EnterJoint(auto_leave, cc.changes).ok();
    return ch.Simple(cc.changes).ok();
  }

  // Emits a conf change proposal (and the add-node commands of new members) or returns false.
  // Most proposals go to a leader with no change pending and are valid for its configuration; a
  // few go anywhere unchecked, to exercise refusals and forwarding.
  bool ConfChange() {
    uint64_t at = 0;
    const bool careful = !Chance(10);
    if (careful) {
      auto leader = Leader();
      if (!leader) return false;
      raft::Raft& lr = h_.RaftOf(NodeId(*leader));
      if (lr.pending_conf_index > lr.log.applied()) return false;
      at = *leader;
    } else {
      at = RandomNode();
    }
    raft::Raft& r = h_.RaftOf(NodeId(at));
    const auto voters = r.prs.config.voters.incoming.ids();
    const auto learners = r.prs.config.learners.ids();
    auto pick = [&](const std::vector<NodeId>& v) { return v[rand_.Uniform(v.size())]; };
    uint64_t next = next_id_;
    std::vector<uint64_t> fresh_ids;
    auto fresh = [&] {
      fresh_ids.push_back(next);
      return NodeId(next++);
    };
    using T = raftpb::ConfChangeType;
    auto one = [](T t, NodeId id) { return raftpb::ConfChangeSingle{t, id, Bytes()}; };
    raftpb::ConfChangeV2 cc;
    bool v1 = false;
    if (r.prs.config.voters.IsJoint() || Chance(3)) {
      // leave the joint configuration (or try to)
    } else {
      switch (rand_.Uniform(8)) {
        case 0:
          cc.changes = {one(T::ConfChangeAddNode, fresh())};
          v1 = true;
          break;
        case 1:
          cc.changes = {one(T::ConfChangeAddLearnerNode, fresh())};
          v1 = true;
          break;
        case 2:
          if (voters.empty()) return false;
          cc.changes = {one(T::ConfChangeRemoveNode, pick(voters))};
          v1 = true;
          break;
        case 3:
          if (learners.empty()) return false;
          cc.changes = {one(T::ConfChangeAddNode, pick(learners))};  // promote
          break;
        case 4:
          cc.changes = {one(T::ConfChangeAddLearnerNode, fresh())};
          break;
        case 5:
          if (voters.empty()) return false;
          cc.changes = {one(T::ConfChangeRemoveNode, pick(voters)),
                        one(T::ConfChangeAddNode, fresh())};
          break;
        case 6:
          cc.changes = {one(T::ConfChangeAddNode, fresh()),
                        one(T::ConfChangeAddLearnerNode, fresh())};
          break;
        default:
          if (voters.empty()) return false;
          cc.changes = {one(T::ConfChangeAddLearnerNode, pick(voters))};  // demote
          break;
      }
      if (!v1 || Chance(50)) {
        v1 = false;
        cc.transition = std::array<raftpb::ConfChangeTransition, 3>{
            raftpb::ConfChangeTransition::ConfChangeTransitionAuto,
            raftpb::ConfChangeTransition::ConfChangeTransitionJointImplicit,
            raftpb::ConfChangeTransition::ConfChangeTransitionJointExplicit}[rand_.Uniform(3)];
      }
    }
    if (careful && !Valid(r, cc)) return false;
    next_id_ = next;
    for (uint64_t id : fresh_ids)
      Emit(fmt::format("add-node {}", id));
    if (v1) {
      const raftpb::ConfChangeSingle& c = cc.changes[0];
      const char* kind = c.type == T::ConfChangeAddNode          ? "add"
                         : c.type == T::ConfChangeAddLearnerNode ? "learner"
                                                                 : "remove";
      Emit(fmt::format("propose-cc-v1 {} {} {} {}", at, rand_.Uniform(100), kind, c.node_id));
      return true;
    }
    const char* t =
        cc.transition == raftpb::ConfChangeTransition::ConfChangeTransitionAuto ? "auto"
        : cc.transition == raftpb::ConfChangeTransition::ConfChangeTransitionJointImplicit
            ? "implicit"
            : "explicit";
    std::string line = fmt::format("propose-cc-v2 {} {}", at, t);
    if (!cc.changes.empty()) line += " " + raftpb::ConfChangesToString(cc.changes);
    Emit(line);
    return true;
  }

  // Chooses and emits one command; false if the choice was not possible in this state.
  bool Step() {
    const uint64_t roll = rand_.Uniform(100);
    const auto& pending = h_.pending();
    const uint64_t id = RandomNode();
    if (roll < 30) {
      // Prefer a node that has something to do.
      for (const auto& [nid, n] : h_.nodes()) {
        if (n.rn->HasReady() && Chance(50)) {
          Emit(fmt::format("ready {}", nid));
          return true;
        }
      }
      Emit(fmt::format("ready {}", id));
      return true;
    }
    if (roll < 56) {
      if (pending.empty()) return false;
      Emit(fmt::format("deliver {}", rand_.Uniform(Chance(70) ? std::min<size_t>(3, pending.size())
                                                              : pending.size())));
      return true;
    }
    if (roll < 58) {
      if (pending.empty()) return false;
      Emit(fmt::format("drop {}", rand_.Uniform(pending.size())));
      return true;
    }
    if (roll < 68) {
      Emit(fmt::format("propose {} {}", id, RandomData()));
      return true;
    }
    if (roll < 78) {
      if (!SafeToTick(id)) return false;
      Emit(fmt::format("tick {}", id));
      return true;
    }
    if (roll < 81) {
      Emit(fmt::format("campaign {}", id));
      return true;
    }
    if (roll < 85) return ConfChange();
    if (roll < 88) {
      Emit(fmt::format("read-index {} {:04x}", id, next_ctx_++));
      return true;
    }
    if (roll < 90) {
      Emit(fmt::format("transfer-leader {} {}", id, RandomNode()));
      return true;
    }
    if (roll < 91) {
      Emit(fmt::format("report-unreachable {} {}", id, RandomNode()));
      return true;
    }
    if (roll < 92) {
      Emit(fmt::format("report-snapshot {} {} {}", id, RandomNode(), Chance(50) ? "ok" : "fail"));
      return true;
    }
    if (roll < 95) {
      const ScriptNode& n = h_.nodes().at(NodeId(id));
      if (n.applied == Index(0)) return false;
      Emit(fmt::format("snapshot {}", id));
      return true;
    }
    if (roll < 97) {
      // Compact up to the snapshot (entries after it stay for slow followers).
      const ScriptNode& n = h_.nodes().at(NodeId(id));
      const Index snap = n.storage->GetSnapshot()->metadata.index;
      const Index first = *n.storage->FirstIndex();
      if (snap < first) return false;
      Emit(fmt::format("compact {} {}", id, first.value() + rand_.Uniform(snap - first + 1)));
      return true;
    }
    if (roll < 98) {
      Emit(fmt::format("restart {}", id));
      return true;
    }
    Emit(fmt::format("status {}", id));
    return true;
  }

  GeneratorOptions opts_;
  Rand rand_;
  Harness h_;
  std::string script_;
  int emitted_ = 0;
  uint64_t next_id_ = 0;
  uint64_t next_ctx_ = 1;
};

}  // namespace

std::string GenerateScript(const GeneratorOptions& opts) {
  Generator g(opts);
  return g.Run();
}

}  // namespace raftkit::conformance
