// Clear cases of raftkit_lincheck's checker, its budget and explanation, and a 100,000 operation
// history over 1,000 keys.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "lincheck/checker.h"

namespace raftkit::lincheck {
namespace {

Operation Read(int64_t client, int64_t invoke, int64_t complete, Value observed,
               Outcome outcome = Outcome::kOk, std::string key = "x") {
  return {std::move(key), client, OpKind::kRead, std::move(observed),
          std::nullopt,   invoke, complete,      outcome};
}
Operation Write(int64_t client, int64_t invoke, int64_t complete, std::string v,
                Outcome outcome = Outcome::kOk, std::string key = "x") {
  return {std::move(key), client, OpKind::kWrite, std::move(v),
          std::nullopt,   invoke, complete,       outcome};
}
Operation Cas(int64_t client, int64_t invoke, int64_t complete, Value expected, Value next,
              Outcome outcome = Outcome::kOk, std::string key = "x") {
  return {std::move(key),  client, OpKind::kCas, std::move(expected),
          std::move(next), invoke, complete,     outcome};
}

Verdict VerdictOf(const History& h) {
  auto r = Check(h);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->verdict : Verdict::kUnknown;
}

TEST(Lincheck, EmptyHistoryIsLinearizable) {
  EXPECT_EQ(VerdictOf({}), Verdict::kLinearizable);
}

TEST(Lincheck, SequentialHistoryIsLinearizable) {
  History h{{Read(0, 0, 1, std::nullopt), Write(0, 2, 3, "1"), Read(1, 4, 5, "1"),
             Cas(1, 6, 7, "1", "2"), Read(0, 8, 9, "2"), Write(0, 10, 11, "3"),
             Read(1, 12, 13, "3")}};
  EXPECT_EQ(VerdictOf(h), Verdict::kLinearizable);
}

TEST(Lincheck, StaleReadIsNotLinearizable) {
  History h{{Write(0, 0, 1, "1"), Write(0, 2, 3, "2"), Read(1, 4, 5, "1")}};
  auto r = Check(h);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r->key, "x");
  EXPECT_NE(r->explanation.find("observed \"1\", but the register holds \"2\""), std::string::npos)
      << r->explanation;
}

TEST(Lincheck, ReadOfNeverWrittenValueIsNotLinearizable) {
  History h{{Write(0, 0, 10, "1"), Read(1, 2, 5, "7")}};
  EXPECT_EQ(VerdictOf(h), Verdict::kNotLinearizable);
}

TEST(Lincheck, ConcurrentWriteAndReadMayOrderEitherWay) {
  History before{{Write(0, 0, 1, "1"), Write(0, 2, 10, "2"), Read(1, 3, 5, "1")}};
  History after{{Write(0, 0, 1, "1"), Write(0, 2, 10, "2"), Read(1, 3, 5, "2")}};
  EXPECT_EQ(VerdictOf(before), Verdict::kLinearizable);
  EXPECT_EQ(VerdictOf(after), Verdict::kLinearizable);
}

TEST(Lincheck, ReadsMustAgreeOnOneOrder) {
  // Both concurrent writes are over before the reads start, so the register no longer changes:
  // seeing "1" and then "2" fits no order of the writes.
  History h{
      {Write(0, 0, 10, "1"), Write(1, 0, 10, "2"), Read(2, 11, 12, "1"), Read(2, 13, 14, "2")}};
  EXPECT_EQ(VerdictOf(h), Verdict::kNotLinearizable);
}

TEST(Lincheck, InfoWriteMayTakeEffectLater) {
  // The write timed out, yet a read long after sees it: it took effect after its invoke.
  History h{{Write(0, 0, 1, "1"), Write(1, 2, 0, "2", Outcome::kInfo), Read(2, 50, 51, "2"),
             Read(2, 60, 61, "2")}};
  EXPECT_EQ(VerdictOf(h), Verdict::kLinearizable);
}

TEST(Lincheck, InfoWriteMayNeverTakeEffect) {
  History h{{Write(0, 0, 1, "1"), Write(1, 2, 0, "2", Outcome::kInfo), Read(2, 50, 51, "1")}};
  EXPECT_EQ(VerdictOf(h), Verdict::kLinearizable);
}

TEST(Lincheck, InfoWriteCannotTakeEffectBeforeItsInvoke) {
  History h{{Read(2, 0, 1, "2"), Write(1, 2, 0, "2", Outcome::kInfo)}};
  EXPECT_EQ(VerdictOf(h), Verdict::kNotLinearizable);
}

TEST(Lincheck, InfoWriteTakesEffectAtMostOnce) {
  History h{{Write(1, 0, 0, "2", Outcome::kInfo), Read(2, 1, 2, "2"), Write(0, 3, 4, "1"),
             Read(2, 5, 6, "2")}};
  EXPECT_EQ(VerdictOf(h), Verdict::kNotLinearizable);
}

// Many writes and CASes with unknown outcomes on one key (a member partitioned away while clients
// kept writing through it): those whose values nobody observed are set aside, so the search does
// not explore every subset of them; one that was observed still counts.
TEST(Lincheck, ManyUnobservedInfoWritesOnOneKeyCheckQuickly) {
  History h;
  h.ops.push_back(Write(0, 0, 1, "0"));
  for (int i = 1; i <= 60; ++i) {
    h.ops.push_back(Write(i, 10 + i, 0, "w" + std::to_string(i), Outcome::kInfo));
    h.ops.push_back(Cas(i, 10 + i, 0, "0", "c" + std::to_string(i), Outcome::kInfo));
  }
  h.ops.push_back(Read(0, 100, 101, "w7"));
  h.ops.push_back(Read(0, 102, 103, "w7"));
  CheckOptions o;
  o.max_steps = 100000;
  auto r = Check(h, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kLinearizable);
  EXPECT_EQ(r->ops, 4u) << "the first write, w7, and the two reads";
  // Then a read of c3 after the reads of w7: c3's CAS expects "0", which nothing restores once
  // w7 is in place.
  h.ops.push_back(Read(0, 104, 105, "c3"));
  EXPECT_EQ(VerdictOf(h), Verdict::kNotLinearizable) << "c3 needs \"0\", w7 was read after it";
}

TEST(Lincheck, FailedCasDidNotHappen) {
  History h{{Write(0, 0, 1, "1"), Cas(1, 2, 3, "1", "2", Outcome::kFail), Read(0, 4, 5, "1")}};
  EXPECT_EQ(VerdictOf(h), Verdict::kLinearizable);
  History seen{{Write(0, 0, 1, "1"), Cas(1, 2, 3, "1", "2", Outcome::kFail), Read(0, 4, 5, "2")}};
  EXPECT_EQ(VerdictOf(seen), Verdict::kNotLinearizable);
}

TEST(Lincheck, OkCasNeedsItsExpectedValue) {
  History h{{Write(0, 0, 1, "1"), Cas(1, 2, 3, "3", "2")}};
  EXPECT_EQ(VerdictOf(h), Verdict::kNotLinearizable);
  History absent{{Cas(1, 0, 1, std::nullopt, "2"), Read(0, 2, 3, "2")}};
  EXPECT_EQ(VerdictOf(absent), Verdict::kLinearizable);
}

TEST(Lincheck, KeysAreIndependentRegisters) {
  History h{{Write(0, 0, 1, "1", Outcome::kOk, "a"), Write(0, 2, 3, "2", Outcome::kOk, "b"),
             Read(1, 4, 5, "1", Outcome::kOk, "a"),
             Read(1, 6, 7, std::nullopt, Outcome::kOk, "c")}};
  EXPECT_EQ(VerdictOf(h), Verdict::kLinearizable);
  h.ops.push_back(Read(1, 8, 9, "1", Outcome::kOk, "b"));
  auto r = Check(h);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r->key, "b");
}

TEST(Lincheck, OperationCompletingBeforeItsInvokeIsRejected) {
  History h{{Write(0, 5, 4, "1")}};
  EXPECT_EQ(Check(h).code(), ErrorCode::kInvalidArgument);
}

TEST(Lincheck, ExhaustedStepBudgetAnswersUnknown) {
  History h;
  for (int i = 0; i < 20; ++i)
    h.ops.push_back(Write(i, 0, 100, std::to_string(i)));
  h.ops.push_back(Read(99, 101, 102, "never written"));
  CheckOptions options;
  options.max_steps = 1000;
  auto r = Check(h, options);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kUnknown);
  EXPECT_NE(r->explanation.find("step budget"), std::string::npos) << r->explanation;
}

// A register per key, driven by concurrent clients with real (simulated) timings: each operation
// takes effect at a random instant inside its interval, so the history is linearizable by
// construction. Some operations time out (info; half of them still take effect) and cas that
// finds another value fails.
History SimulatedHistory(size_t keys, size_t clients_per_key, size_t ops, uint64_t seed) {
  std::mt19937_64 rng(seed);
  struct Planned {
    Operation op;
    int64_t effect_at;
    bool takes_effect;
  };
  std::vector<Planned> planned;
  std::vector<int64_t> client_free(keys * clients_per_key, 0);
  for (size_t i = 0; i < ops; ++i) {
    const size_t client = rng() % client_free.size();
    Operation op;
    op.key = "key" + std::to_string(client / clients_per_key);
    op.client = static_cast<int64_t>(client);
    op.invoke_time = client_free[client] + static_cast<int64_t>(rng() % 5);
    op.complete_time = op.invoke_time + 1 + static_cast<int64_t>(rng() % 20);
    client_free[client] = op.complete_time + 1;
    const auto kind = rng() % 3;
    op.kind = kind == 0 ? OpKind::kRead : kind == 1 ? OpKind::kWrite : OpKind::kCas;
    op.value = std::to_string(rng() % 5);
    op.new_value = std::to_string(rng() % 5);
    const bool info = rng() % 20 == 0;
    op.outcome = info ? Outcome::kInfo : Outcome::kOk;
    const int64_t effect =
        op.invoke_time +
        static_cast<int64_t>(rng() % static_cast<uint64_t>(op.complete_time - op.invoke_time + 1));
    planned.push_back({std::move(op), effect, !info || rng() % 2 == 0});
  }
  std::sort(planned.begin(), planned.end(),
            [](const Planned& a, const Planned& b) { return a.effect_at < b.effect_at; });
  std::map<std::string, Value> reg;
  History h;
  for (Planned& p : planned) {
    Value& v = reg[p.op.key];
    if (p.op.kind == OpKind::kRead) {
      p.op.value = v;
    } else if (p.op.kind == OpKind::kWrite) {
      if (p.takes_effect) v = p.op.value;
    } else if (v == p.op.value) {
      if (p.takes_effect) v = p.op.new_value;
    } else if (p.op.outcome == Outcome::kOk) {
      p.op.outcome = Outcome::kFail;
    }
    h.ops.push_back(std::move(p.op));
  }
  return h;
}

TEST(Lincheck, HundredThousandOperationsOverThousandKeysAreLinearizable) {
  const History h = SimulatedHistory(1000, 8, 100000, 8);
  CheckOptions options;
  options.timeout = std::chrono::seconds(60);
  const auto start = std::chrono::steady_clock::now();
  auto r = Check(h, options);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kLinearizable) << r->explanation;
  std::printf("lincheck: %zu operations over %zu keys checked in %.3f s (%llu steps)\n",
              h.ops.size(), r->keys, took.count(), static_cast<unsigned long long>(r->steps));
}

TEST(Lincheck, CorruptedLargeHistoryIsCaughtAndExplained) {
  History h = SimulatedHistory(50, 4, 5000, 9);
  // A read that sees a value no one ever wrote.
  for (Operation& op : h.ops) {
    if (op.kind == OpKind::kRead && op.outcome == Outcome::kOk && op.key == "key7") {
      op.value = "bogus";
      break;
    }
  }
  auto r = Check(h);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r->key, "key7");
  EXPECT_NE(r->explanation.find("\"bogus\""), std::string::npos) << r->explanation;
  std::printf("%s", r->explanation.c_str());
}

}  // namespace
}  // namespace raftkit::lincheck
