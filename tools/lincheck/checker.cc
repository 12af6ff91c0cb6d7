#include "checker.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

namespace raftkit::lincheck {

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kLinearizable:
      return "linearizable";
    case Verdict::kNotLinearizable:
      return "not linearizable";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "?";
}

namespace {

using Clock = std::chrono::steady_clock;

// Shared by the keys of one Check call, so that the budget covers the whole history.
struct Budget {
  uint64_t max_steps = 0;
  bool has_deadline = false;
  Clock::time_point deadline;
  uint64_t steps = 0;
  std::string exhausted;  // why the budget ran out; empty while it has not

  bool Spend() {
    ++steps;
    if (max_steps != 0 && steps > max_steps) {
      exhausted = fmt::format("step budget of {} exhausted", max_steps);
      return false;
    }
    // Reading the clock every step would dominate the search; every 4096 steps is ~0.1 ms.
    if (has_deadline && (steps & 4095) == 0 && Clock::now() > deadline) {
      exhausted = "time budget exhausted";
      return false;
    }
    return true;
  }
};

// One key's register, with its values interned to small integers (0 = absent) so that a search
// state is a bitset plus one int.
class KeySearch {
 public:
  enum class Outcome { kLinearizable, kNotLinearizable, kBudget };

  KeySearch(std::vector<const Operation*> ops, Budget* budget)
      : ops_(std::move(ops)), budget_(budget) {
    names_.push_back(std::nullopt);
    kops_.reserve(ops_.size());
    for (const Operation* op : ops_) {
      kops_.push_back({op->kind, Intern(op->value), Intern(op->new_value),
                       op->outcome == lincheck::Outcome::kInfo});
    }
    BuildList();
    bits_.assign(ops_.size() / 64 + 1, 0);
    std::mt19937_64 rng(0x6c696e636865636bULL);
    zobrist_.resize(ops_.size());
    for (auto& z : zobrist_)
      z = rng();
  }

  Outcome Run();
  std::string Explain(const std::string& key, size_t context_ops) const;

 private:
  struct KOp {
    OpKind kind;
    int32_t a;  // read: observed; write: written; cas: expected
    int32_t b;  // cas: new
    bool info;
  };
  // An entry of the doubly linked, circular event list; node 0 is the sentinel.
  struct Node {
    int32_t op = -1;
    bool is_call = false;
    int32_t match = 0;  // a call's return node
    int32_t prev = 0;
    int32_t next = 0;
  };
  struct Frame {
    int32_t call;  // the lifted call node
    int32_t old_state;
  };
  struct CacheKey {
    uint64_t hash;
    int32_t state;
    std::vector<uint64_t> bits;
    bool operator==(const CacheKey& o) const { return state == o.state && bits == o.bits; }
  };
  struct CacheHash {
    size_t operator()(const CacheKey& k) const { return static_cast<size_t>(k.hash); }
  };

  int32_t Intern(const Value& v) {
    if (!v) return 0;
    auto [it, inserted] = ids_.try_emplace(*v, static_cast<int32_t>(names_.size()));
    if (inserted) names_.push_back(*v);
    return it->second;
  }

  void BuildList();
  void Lift(int32_t call);
  void Unlift(int32_t call);
  static bool Apply(const KOp& k, int32_t state, int32_t* out);
  uint64_t StateHash(uint64_t set_hash, int32_t state) const {
    return set_hash ^ (static_cast<uint64_t>(state) + 1) * 0x9e3779b97f4a7c15ULL;
  }
  std::string Why(size_t op, int32_t state) const;

  std::vector<const Operation*> ops_;
  Budget* budget_;
  std::vector<KOp> kops_;
  std::unordered_map<std::string, int32_t> ids_;
  std::vector<Value> names_;
  std::vector<Node> nodes_;
  std::vector<uint64_t> bits_;
  std::vector<uint64_t> zobrist_;
  std::vector<int32_t> best_;  // the longest linearized prefix reached (op indices)
};

void KeySearch::BuildList() {
  struct Event {
    int64_t time;
    bool is_return;
    int32_t op;
  };
  std::vector<Event> events;
  events.reserve(ops_.size() * 2);
  for (size_t i = 0; i < ops_.size(); ++i) {
    const auto op = static_cast<int32_t>(i);
    events.push_back({ops_[i]->invoke_time, false, op});
    events.push_back({kops_[i].info ? kOpenEnded : ops_[i]->complete_time, true, op});
  }
  // Calls sort before returns at equal times: equal times are concurrent (history.h).
  std::sort(events.begin(), events.end(), [](const Event& x, const Event& y) {
    if (x.time != y.time) return x.time < y.time;
    if (x.is_return != y.is_return) return !x.is_return;
    return x.op < y.op;
  });
  nodes_.assign(events.size() + 1, Node{});
  std::vector<int32_t> call_of(ops_.size(), 0);
  for (size_t i = 0; i < events.size(); ++i) {
    const auto n = static_cast<int32_t>(i + 1);
    Node& node = nodes_[n];
    node.op = events[i].op;
    node.is_call = !events[i].is_return;
    node.prev = n - 1;
    node.next = i + 1 == events.size() ? 0 : n + 1;
    if (node.is_call) {
      call_of[node.op] = n;
    } else {
      nodes_[call_of[node.op]].match = n;
    }
  }
  nodes_[0].next = events.empty() ? 0 : 1;
  nodes_[0].prev = static_cast<int32_t>(events.size());
}

// Dancing links: an unlinked node keeps its prev/next, so undoing the removals in reverse order
// restores the list exactly.
void KeySearch::Lift(int32_t call) {
  for (int32_t n : {call, nodes_[call].match}) {
    nodes_[nodes_[n].prev].next = nodes_[n].next;
    nodes_[nodes_[n].next].prev = nodes_[n].prev;
  }
}

void KeySearch::Unlift(int32_t call) {
  for (int32_t n : {nodes_[call].match, call}) {
    nodes_[nodes_[n].prev].next = n;
    nodes_[nodes_[n].next].prev = n;
  }
}

bool KeySearch::Apply(const KOp& k, int32_t state, int32_t* out) {
  switch (k.kind) {
    case OpKind::kRead:
      *out = state;
      return state == k.a;
    case OpKind::kWrite:
      *out = k.a;
      return true;
    case OpKind::kCas:
      *out = k.b;
      return state == k.a;
  }
  return false;
}

// The search walks the event list from the front. A call may be linearized now if the register
// allows it and the resulting (set, value) pair is new; it is then lifted out and the walk
// restarts. Reaching the return of an operation not yet linearized means its deadline passed:
// undo the last choice and try the entry after it. Info operations return at the end of time, so
// reaching one's return means every ok operation has been placed: the rest may never happen.
KeySearch::Outcome KeySearch::Run() {
  std::unordered_set<CacheKey, CacheHash> cache;
  std::vector<Frame> stack;
  int32_t state = 0;
  uint64_t set_hash = 0;
  int32_t cur = nodes_[0].next;
  while (true) {
    if (!budget_->Spend()) return Outcome::kBudget;
    const Node& node = nodes_[cur];
    if (cur == 0 || (!node.is_call && kops_[node.op].info)) return Outcome::kLinearizable;
    if (node.is_call) {
      const auto op = static_cast<size_t>(node.op);
      int32_t next_state = 0;
      if (Apply(kops_[op], state, &next_state)) {
        bits_[op / 64] |= uint64_t{1} << (op % 64);
        const uint64_t next_hash = set_hash ^ zobrist_[op];
        if (cache.insert({StateHash(next_hash, next_state), next_state, bits_}).second) {
          stack.push_back({cur, state});
          state = next_state;
          set_hash = next_hash;
          Lift(cur);
          if (stack.size() > best_.size()) {
            best_.clear();
            for (const Frame& f : stack)
              best_.push_back(nodes_[f.call].op);
          }
          cur = nodes_[0].next;
          continue;
        }
        bits_[op / 64] &= ~(uint64_t{1} << (op % 64));
      }
      cur = node.next;
      continue;
    }
    if (stack.empty()) return Outcome::kNotLinearizable;
    const Frame top = stack.back();
    stack.pop_back();
    const auto op = static_cast<size_t>(nodes_[top.call].op);
    state = top.old_state;
    set_hash ^= zobrist_[op];
    bits_[op / 64] &= ~(uint64_t{1} << (op % 64));
    Unlift(top.call);
    cur = nodes_[top.call].next;
  }
}

std::string KeySearch::Why(size_t op, int32_t state) const {
  const KOp& k = kops_[op];
  int32_t next = 0;
  if (Apply(k, state, &next)) {
    return fmt::format("fits (register -> {}), but no order of the rest does",
                       DescribeValue(names_[next]));
  }
  if (k.kind == OpKind::kRead) {
    return fmt::format("observed {}, but the register holds {}", DescribeValue(names_[k.a]),
                       DescribeValue(names_[state]));
  }
  return fmt::format("expects {}, but the register holds {}", DescribeValue(names_[k.a]),
                     DescribeValue(names_[state]));
}

// The explanation replays the longest linearized prefix found, then names the operation whose
// completion came first among those left (everything must be placed before it) and the candidates
// that could have gone next, each with the reason it did not.
std::string KeySearch::Explain(const std::string& key, size_t context_ops) const {
  size_t ok_ops = 0;
  for (const KOp& k : kops_)
    ok_ops += k.info ? 0 : 1;
  std::string out = fmt::format(
      "key \"{}\" is not linearizable: {} operations ({} ok, {} info); the longest linearizable "
      "prefix found has {}\n",
      key, ops_.size(), ok_ops, ops_.size() - ok_ops, best_.size());
  std::vector<bool> placed(ops_.size(), false);
  std::vector<int32_t> after;
  int32_t state = 0;
  for (int32_t op : best_) {
    int32_t next = 0;
    Apply(kops_[op], state, &next);
    state = next;
    after.push_back(state);
    placed[op] = true;
  }
  const size_t first = best_.size() > context_ops ? best_.size() - context_ops : 0;
  out += fmt::format("  linearized (last {} of {}):\n", best_.size() - first, best_.size());
  for (size_t i = first; i < best_.size(); ++i) {
    out += fmt::format("    {}  => {}\n", DescribeOperation(*ops_[best_[i]]),
                       DescribeValue(names_[after[i]]));
  }
  out += fmt::format("  register then holds {}\n", DescribeValue(names_[state]));
  size_t deadline = ops_.size();
  for (size_t i = 0; i < ops_.size(); ++i) {
    if (placed[i] || kops_[i].info) continue;
    if (deadline == ops_.size() || ops_[i]->complete_time < ops_[deadline]->complete_time) {
      deadline = i;
    }
  }
  if (deadline == ops_.size()) return out;  // unreachable when the search failed
  out += fmt::format("  next deadline: {}\n", DescribeOperation(*ops_[deadline]));
  out += "  candidates to go next, none of which leads to a linearization:\n";
  constexpr size_t kMaxCandidates = 16;
  size_t shown = 0;
  size_t more = 0;
  for (size_t i = 0; i < ops_.size(); ++i) {
    if (placed[i] || ops_[i]->invoke_time > ops_[deadline]->complete_time) continue;
    if (shown == kMaxCandidates) {
      ++more;
      continue;
    }
    out += fmt::format("    {}: {}\n", DescribeOperation(*ops_[i]), Why(i, state));
    ++shown;
  }
  if (more > 0) out += fmt::format("    ... and {} more\n", more);
  return out;
}

}  // namespace

Result<CheckResult> Check(const History& history, const CheckOptions& options) {
  RAFTKIT_RETURN_IF_ERROR(ValidateHistory(history));
  Budget budget;
  budget.max_steps = options.max_steps;
  if (options.timeout.count() > 0) {
    budget.has_deadline = true;
    budget.deadline = Clock::now() + options.timeout;
  }
  // Failed operations did not happen, and an info read neither constrains nor changes anything.
  std::map<std::string, std::vector<const Operation*>> by_key;
  CheckResult result;
  for (const Operation& op : history.ops) {
    auto& ops = by_key[op.key];
    if (op.outcome == Outcome::kFail) continue;
    if (op.outcome == Outcome::kInfo && op.kind == OpKind::kRead) continue;
    ops.push_back(&op);
    ++result.ops;
  }
  result.keys = by_key.size();
  for (auto& [key, ops] : by_key) {
    // An info write or CAS whose value no read ever returned and no CAS ever expected may be left
    // out: in any linearization that includes it, the next operation is a plain write or none
    // (a read would have to return its value, a CAS to expect it), so the same order without it
    // is a linearization too. The search grows with the open operations, so this matters.
    std::set<Value> observed;
    for (const Operation* op : ops) {
      if (op->kind == OpKind::kCas || op->outcome == Outcome::kOk) {
        if (op->kind != OpKind::kWrite) observed.insert(op->value);
      }
    }
    const auto unobserved = [&](const Operation* op) {
      if (op->outcome != Outcome::kInfo) return false;
      const Value& written = op->kind == OpKind::kCas ? op->new_value : op->value;
      return op->kind != OpKind::kRead && observed.count(written) == 0;
    };
    const size_t before = ops.size();
    ops.erase(std::remove_if(ops.begin(), ops.end(), unobserved), ops.end());
    result.ops -= before - ops.size();
    KeySearch search(std::move(ops), &budget);
    const KeySearch::Outcome outcome = search.Run();
    if (outcome == KeySearch::Outcome::kLinearizable) continue;
    result.key = key;
    if (outcome == KeySearch::Outcome::kBudget) {
      result.verdict = Verdict::kUnknown;
      result.explanation = fmt::format("{} while checking key \"{}\"", budget.exhausted, key);
    } else {
      result.verdict = Verdict::kNotLinearizable;
      result.explanation = search.Explain(key, options.context_ops);
    }
    break;
  }
  result.steps = budget.steps;
  return result;
}

}  // namespace raftkit::lincheck
