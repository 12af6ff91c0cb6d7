// raft/quorum/testdata: commit-index and vote math of majority and joint configurations.
//
//   committed cfg=(1,2,3) [cfgj=(...)|cfgj=zero] idx=(12,_,5)
//   vote      cfg=(1,2,3) [cfgj=(...)|cfgj=zero] votes=(y,n,_)
//
// `idx` and `votes` list one value per distinct voter, in the order the voters appear in cfg and
// then cfgj; `_` means "nothing known". `committed` prints the configuration's Describe() picture
// and the committed index (∞ for an empty configuration); `vote` prints the VoteResult. Both also
// cross-check the result against computations that must agree and print a line per disagreement.
#include <fmt/format.h>

#include <map>
#include <vector>

#include "conformance/scenarios/handlers.h"
#include "raftkit/core/quorum/quorum.h"

namespace raftkit::conformance {
namespace {

using raft::quorum::JointConfig;
using raft::quorum::kInfiniteIndex;
using raft::quorum::MajorityConfig;
using raft::quorum::MapAckIndexer;
using raft::quorum::VoteMap;
using raft::quorum::VoteResult;

// How etcd's quorum.Index prints: decimal, or ∞ for the infinite index.
std::string IndexString(Index i) {
  return i == kInfiniteIndex ? std::string("∞") : std::to_string(i.value());
}

// The committed index computed another way: the largest acknowledged index that a majority of the
// voters has acknowledged (at or above it), 0 if there is none; ∞ for no voters.
Index CommittedByCounting(const MajorityConfig& c, const MapAckIndexer& l) {
  if (c.empty()) return kInfiniteIndex;
  std::vector<Index> acked;
  for (NodeId id : c) {
    if (auto idx = l.AckedIndex(id)) acked.push_back(*idx);
  }
  const size_t quorum = c.size() / 2 + 1;
  Index best(0);
  for (Index candidate : acked) {
    size_t at_or_above = 0;
    for (Index other : acked) {
      if (other >= candidate) ++at_or_above;
    }
    if (at_or_above >= quorum && candidate > best) best = candidate;
  }
  return best;
}

class QuorumHandler final : public Handler {
 public:
  std::string Handle(const TestCase& tc) override {
    bool joint = false;
    std::vector<uint64_t> ids;
    std::vector<uint64_t> idsj;
    std::vector<uint64_t> idxs;   // 0 = placeholder "_"
    std::vector<uint64_t> votes;  // 0 = "_", 1 = no, 2 = yes
    for (const CmdArg& arg : tc.args) {
      for (const std::string& v : arg.vals) {
        if (arg.key == "cfg") {
          ids.push_back(ParseU64(v));
        } else if (arg.key == "cfgj") {
          joint = true;
          if (v == "zero") {
            if (arg.vals.size() != 1) throw HarnessError("cannot mix 'zero' into configuration");
          } else {
            idsj.push_back(ParseU64(v));
          }
        } else if (arg.key == "idx") {
          uint64_t n = 0;
          if (v != "_") {
            n = ParseU64(v);
            if (n == 0) throw HarnessError("cannot use 0 as idx");
          }
          idxs.push_back(n);
        } else if (arg.key == "votes") {
          if (v == "y") {
            votes.push_back(2);
          } else if (v == "n") {
            votes.push_back(1);
          } else if (v == "_") {
            votes.push_back(0);
          } else {
            throw HarnessError("unknown vote: " + v);
          }
        } else {
          throw HarnessError("unknown arg " + arg.key);
        }
      }
    }

    MajorityConfig c;
    for (uint64_t id : ids)
      c.insert(NodeId(id));
    MajorityConfig cj;
    for (uint64_t id : idsj)
      cj.insert(NodeId(id));

    const std::vector<uint64_t>& input = tc.cmd == "vote" ? votes : idxs;
    const auto voters = JointConfig{c, cj}.IDs();
    if (voters.size() != input.size()) {
      // Go's %v of a map[uint64]struct{} and of a []Index.
      std::string vs = "map[";
      for (NodeId id : voters)
        vs += fmt::format("{}{}:{{}}", vs.size() > 4 ? " " : "", id.value());
      vs += "]";
      std::string is = "[";
      for (size_t i = 0; i < input.size(); ++i)
        is += (i > 0 ? " " : "") + IndexString(Index(input[i]));
      is += "]";
      return fmt::format("error: mismatched input (explicit or _) for voters {}: {}", vs, is);
    }

    std::string buf;
    if (tc.cmd == "committed") {
      const MapAckIndexer l(Lookup(idxs, ids, idsj));
      if (!joint) {
        const Index idx = c.CommittedIndex(l);
        buf += c.Describe(l);
        if (Index a = CommittedByCounting(c, l); a != idx) {
          buf += IndexString(a) + " <-- via alternative computation\n";
        }
        if (Index a = JointConfig{c, {}}.CommittedIndex(l); a != idx) {
          buf += IndexString(a) + " <-- via zero-joint quorum\n";
        }
        if (Index a = JointConfig{c, c}.CommittedIndex(l); a != idx) {
          buf += IndexString(a) + " <-- via self-joint quorum\n";
        }
        // Lowering an index that is already below the committed index must not change it.
        // (etcd's harness prints these two notes without a line break.)
        for (NodeId id : c) {
          const uint64_t acked = l.AckedIndex(id).value_or(Index(0)).value();
          if (idx.value() > acked && acked > 0) {
            if (Index a = c.CommittedIndex(Overlay(c, l, id, Index(acked - 1))); a != idx) {
              buf += fmt::format("{} <-- overlaying {}->{}", IndexString(a), id.value(), acked);
            }
            if (Index a = c.CommittedIndex(Overlay(c, l, id, Index(0))); a != idx) {
              buf += fmt::format("{} <-- overlaying {}->0", IndexString(a), id.value());
            }
          }
        }
        buf += IndexString(idx) + "\n";
      } else {
        const JointConfig cc{c, cj};
        buf += cc.Describe(l);
        const Index idx = cc.CommittedIndex(l);
        // Interchanging the halves must not matter. (etcd's harness recomputes the same order
        // here; interchanging them is the check its comment describes and is at least as strict.)
        if (Index a = JointConfig{cj, c}.CommittedIndex(l); a != idx) {
          buf += IndexString(a) + " <-- via symmetry\n";
        }
        buf += IndexString(idx) + "\n";
      }
    } else if (tc.cmd == "vote") {
      VoteMap l;
      for (const auto& [id, v] : Lookup(votes, ids, idsj))
        l[id] = v != Index(1);  // 1 = no, 2 = yes
      if (!joint) {
        buf += fmt::format("{}\n", raft::quorum::Name(c.GetVoteResult(l)));
      } else {
        const VoteResult r = JointConfig{c, cj}.GetVoteResult(l);
        if (VoteResult a = JointConfig{cj, c}.GetVoteResult(l); a != r) {
          buf += fmt::format("{} <-- via symmetry\n", raft::quorum::Name(a));
        }
        buf += fmt::format("{}\n", raft::quorum::Name(r));
      }
    } else {
      throw HarnessError("unknown command: " + tc.cmd);
    }
    return buf;
  }

 private:
  // Maps the values to the voters in order of first appearance in ids then idsj; a placeholder
  // (0) leaves the voter without an entry, which is not the same as an entry of 0.
  static std::map<NodeId, Index> Lookup(const std::vector<uint64_t>& vals,
                                        const std::vector<uint64_t>& ids,
                                        const std::vector<uint64_t>& idsj) {
    std::map<NodeId, Index> m;
    std::map<NodeId, bool> seen;
    size_t next = 0;
    auto visit = [&](uint64_t raw) {
      const NodeId id(raw);
      if (seen[id] || next >= vals.size()) return;
      seen[id] = true;
      if (vals[next] != 0) m[id] = Index(vals[next]);
      ++next;
    };
    for (uint64_t id : ids)
      visit(id);
    for (uint64_t id : idsj)
      visit(id);
    return m;
  }

  // `l` restricted to the voters of `c`, with `id`'s entry set to `idx` (an entry, even if 0).
  static MapAckIndexer Overlay(const MajorityConfig& c, const MapAckIndexer& l, NodeId id,
                               Index idx) {
    std::map<NodeId, Index> m;
    for (NodeId other : c) {
      if (other == id) {
        m[other] = idx;
      } else if (auto v = l.AckedIndex(other)) {
        m[other] = *v;
      }
    }
    return MapAckIndexer(std::move(m));
  }
};

}  // namespace

std::unique_ptr<Handler> NewQuorumHandler() {
  return std::make_unique<QuorumHandler>();
}

}  // namespace raftkit::conformance
