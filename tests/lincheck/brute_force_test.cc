// The checker against a brute force one on thousands of small random histories. The brute force
// checker knows nothing of keys, lists or memoization: it tries every subset of the info
// operations and every order of the chosen operations that respects real time, running them
// against a map of registers.
#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "lincheck/checker.h"

namespace raftkit::lincheck {
namespace {

// a must come before b in every linearization.
bool Precedes(const Operation& a, const Operation& b) {
  return a.outcome != Outcome::kInfo && a.complete_time < b.invoke_time;
}

class BruteForce {
 public:
  explicit BruteForce(const History& h) {
    for (const Operation& op : h.ops) {
      if (op.outcome != Outcome::kFail) ops_.push_back(op);
    }
  }

  bool Linearizable() {
    std::vector<size_t> info;
    for (size_t i = 0; i < ops_.size(); ++i) {
      if (ops_[i].outcome == Outcome::kInfo) info.push_back(i);
    }
    for (uint32_t subset = 0; subset < (1u << info.size()); ++subset) {
      chosen_.assign(ops_.size(), true);
      for (size_t j = 0; j < info.size(); ++j)
        chosen_[info[j]] = (subset >> j) & 1;
      placed_.assign(ops_.size(), false);
      std::map<std::string, Value> registers;
      if (Extend(registers)) return true;
    }
    return false;
  }

 private:
  // Places one more chosen operation, in every way real time allows.
  bool Extend(std::map<std::string, Value>& registers) {
    bool all = true;
    for (size_t i = 0; i < ops_.size(); ++i) {
      if (!chosen_[i] || placed_[i]) continue;
      all = false;
      bool ready = true;
      for (size_t j = 0; j < ops_.size() && ready; ++j) {
        if (j != i && chosen_[j] && !placed_[j] && Precedes(ops_[j], ops_[i])) ready = false;
      }
      if (!ready) continue;
      const Operation& op = ops_[i];
      const Value before = registers[op.key];
      if (op.kind == OpKind::kRead) {
        if (op.outcome == Outcome::kOk && before != op.value) continue;
      } else if (op.kind == OpKind::kWrite) {
        registers[op.key] = op.value;
      } else {
        if (before != op.value) continue;
        registers[op.key] = op.new_value;
      }
      placed_[i] = true;
      const bool ok = Extend(registers);
      placed_[i] = false;
      registers[op.key] = before;
      if (ok) return true;
    }
    return all;
  }

  std::vector<Operation> ops_;
  std::vector<bool> chosen_;
  std::vector<bool> placed_;
};

Value RandomValue(std::mt19937_64& rng) {
  const auto v = rng() % 4;
  return v == 3 ? Value() : Value(std::to_string(v));
}

// Purely random operations: mostly not linearizable.
History RandomHistory(std::mt19937_64& rng) {
  History h;
  const size_t n = 1 + rng() % 7;
  const size_t keys = 1 + rng() % 2;
  for (size_t i = 0; i < n; ++i) {
    Operation op;
    op.key = std::string(1, static_cast<char>('a' + rng() % keys));
    op.client = static_cast<int64_t>(i);
    op.kind = static_cast<OpKind>(rng() % 3);
    op.value = RandomValue(rng);
    op.new_value = RandomValue(rng);
    op.invoke_time = static_cast<int64_t>(rng() % 20);
    op.complete_time = op.invoke_time + static_cast<int64_t>(rng() % 10);
    const auto o = rng() % 10;
    op.outcome = o < 7 ? Outcome::kOk : o < 9 ? Outcome::kInfo : Outcome::kFail;
    h.ops.push_back(std::move(op));
  }
  return h;
}

// A real register per key with each operation taking effect inside its interval (info ones
// perhaps never), then maybe one read or cas perturbed (half the time).
History SimulatedHistory(std::mt19937_64& rng) {
  History h = RandomHistory(rng);
  std::vector<std::pair<int64_t, size_t>> order;
  std::vector<bool> effect(h.ops.size());
  for (size_t i = 0; i < h.ops.size(); ++i) {
    const Operation& op = h.ops[i];
    const auto span = static_cast<uint64_t>(op.complete_time - op.invoke_time + 1);
    order.push_back({op.invoke_time + static_cast<int64_t>(rng() % (span + 3)), i});
    effect[i] = op.outcome != Outcome::kInfo || rng() % 2 == 0;
  }
  std::sort(order.begin(), order.end());
  std::map<std::string, Value> reg;
  for (auto [at, i] : order) {
    Operation& op = h.ops[i];
    if (op.outcome == Outcome::kFail) continue;
    if (op.outcome == Outcome::kInfo && op.complete_time < at) op.complete_time = at;
    Value& v = reg[op.key];
    if (op.kind == OpKind::kRead) {
      op.value = v;
    } else if (op.kind == OpKind::kWrite) {
      if (effect[i]) v = op.value;
    } else if (v == op.value) {
      if (effect[i]) v = op.new_value;
    } else if (op.outcome == Outcome::kOk) {
      op.outcome = Outcome::kFail;
    }
  }
  // The effect instant may lie past the completion (span + 3): those ok ops get a late
  // completion, so the history stays well formed and usually linearizable.
  for (auto [at, i] : order) {
    Operation& op = h.ops[i];
    if (op.outcome != Outcome::kInfo && op.complete_time < at) op.complete_time = at;
  }
  if (rng() % 2 == 0) {
    Operation& op = h.ops[rng() % h.ops.size()];
    op.value = RandomValue(rng);
  }
  return h;
}

void CompareOn(const char* name, History (*make)(std::mt19937_64&), uint64_t seed, int count) {
  std::mt19937_64 rng(seed);
  int linearizable = 0;
  int agree = 0;
  for (int i = 0; i < count; ++i) {
    const History h = make(rng);
    const bool want = BruteForce(h).Linearizable();
    auto r = Check(h);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_NE(r->verdict, Verdict::kUnknown);
    const bool got = r->verdict == Verdict::kLinearizable;
    linearizable += want ? 1 : 0;
    if (got == want) {
      ++agree;
      continue;
    }
    std::string ops;
    for (const Operation& op : h.ops)
      ops += "  " + op.key + ": " + DescribeOperation(op) + "\n";
    ADD_FAILURE() << name << " history " << i << ": brute force says " << want << ", checker "
                  << VerdictName(r->verdict) << "\n"
                  << ops << r->explanation;
  }
  std::printf("lincheck vs brute force (%s): %d/%d agree (%d linearizable, %d not)\n", name, agree,
              count, linearizable, count - linearizable);
  EXPECT_EQ(agree, count);
  // Both verdicts must be well represented for the comparison to mean anything.
  EXPECT_GT(linearizable, count / 10);
  EXPECT_GT(count - linearizable, count / 10);
}

TEST(LincheckBruteForce, AgreesOnRandomHistories) {
  CompareOn("random", RandomHistory, 1, 10000);
}

TEST(LincheckBruteForce, AgreesOnSimulatedRegisterHistories) {
  CompareOn("simulated", SimulatedHistory, 2, 10000);
}

}  // namespace
}  // namespace raftkit::lincheck
