// The crash test: a workload of Saves (random batches, overwrites by new leaders, HardStates, a
// snapshot marker with ReleaseTo, a resets_log marker, cuts at a 4 KiB segment size) is cut short
// at EVERY mutating file operation in turn, the machine "loses power" with each fate for the
// unsynced bytes, and the reopened WAL must hold:
//   * every entry, HardState and marker of every Save that returned OK (all Saves sync), with
//     exactly its content, overwrites taken into account;
//   * nothing that was not written: what is there is the replay of a prefix of the records the
//     workload wrote, in order (the prefix may end inside the batch that was cut short).
// With kGarble a damaged final batch may make Open refuse; Repair must then fix it without
// accept_loss, and Open must succeed. Finally the recovered WAL must accept a new Save and read
// back consistently.
//
// RAFTKIT_BUDGET=long runs more seeds and a longer workload.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <variant>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "raftkit/util/rand.h"
#include "storage/wal/wal_test_util.h"

namespace raftkit::storage::wal {
namespace {

using namespace waltest;  // NOLINT(google-build-using-namespace)

bool LongBudget() {
  const char* b = std::getenv("RAFTKIT_BUDGET");
  return b != nullptr && std::string(b) == "long";
}

// --- the workload -------------------------------------------------------------------------------

struct SaveOp {
  raftpb::HardState hs;
  std::vector<raftpb::Entry> entries;
};
struct SnapshotOp {
  SnapshotMarker marker;
};
struct ReleaseOp {
  Index index;
};
using Op = std::variant<SaveOp, SnapshotOp, ReleaseOp>;

// A Raft-like history: entries above the commit index get rewritten by new leaders, the commit
// index only grows, one local snapshot is followed by a release, one snapshot from a leader
// resets the log beyond its end.
std::vector<Op> MakeWorkload(uint64_t seed, int length) {
  Rand rng(seed);
  std::vector<Op> ops;
  uint64_t last = 0;
  uint64_t commit = 0;
  uint64_t term = 1;
  for (int n = 0; n < length; ++n) {
    if (n == length / 2) {
      ops.emplace_back(SnapshotOp{SnapshotMarker{Index(commit), Term(term), false}});
      ops.emplace_back(ReleaseOp{Index(commit)});
      continue;
    }
    if (n == 3 * length / 4) {
      last += 3;
      ops.emplace_back(SnapshotOp{SnapshotMarker{Index(last), Term(term), true}});
      commit = last;
      continue;
    }
    SaveOp s;
    const uint64_t count = rng.Uniform(5);
    uint64_t start = last + 1;
    if (count > 0 && last > commit && rng.Uniform(100) < 25) {
      start = commit + 1 + rng.Uniform(last - commit);  // a new leader rewrites the suffix
      ++term;
    }
    for (uint64_t i = 0; i < count; ++i) {
      std::string data(rng.Uniform(300), '\0');
      for (char& c : data)
        c = static_cast<char>(rng.Next());
      s.entries.push_back(MakeEntry(start + i, term, std::move(data)));
    }
    if (count > 0) last = start + count - 1;
    if (count == 0 || rng.Uniform(100) < 70) {
      commit = std::min(last, commit + rng.Uniform(4));
      s.hs = MakeHardState(term, 1 + rng.Uniform(3), commit);
    }
    ops.emplace_back(std::move(s));
  }
  return ops;
}

// --- the model ----------------------------------------------------------------------------------

// One record of the workload as the model sees it (header restatements are not records here).
using ModelRecord = std::variant<raftpb::Entry, raftpb::HardState, SnapshotMarker>;

std::vector<ModelRecord> RecordsOf(const Op& op) {
  std::vector<ModelRecord> out;
  if (const auto* s = std::get_if<SaveOp>(&op)) {
    for (const raftpb::Entry& e : s->entries)
      out.emplace_back(e);
    if (!s->hs.IsEmpty()) out.emplace_back(s->hs);
  } else if (const auto* m = std::get_if<SnapshotOp>(&op)) {
    out.emplace_back(m->marker);
  }
  return out;
}

// The state after replaying records in order, written independently of the WAL's reader.
struct ModelState {
  std::map<uint64_t, raftpb::Entry> entries;
  raftpb::HardState hs;
  std::vector<SnapshotMarker> markers{SnapshotMarker{}};

  void Apply(const ModelRecord& r) {
    if (const auto* e = std::get_if<raftpb::Entry>(&r)) {
      const uint64_t i = e->index.value();
      if (!entries.empty() && i > entries.rbegin()->first + 1) entries.clear();
      entries.erase(entries.lower_bound(i), entries.end());
      entries.emplace(i, *e);
    } else if (const auto* hs_rec = std::get_if<raftpb::HardState>(&r)) {
      hs = *hs_rec;
    } else {
      const auto& m = std::get<SnapshotMarker>(r);
      markers.push_back(m);
      if (m.resets_log) entries.erase(entries.upper_bound(m.index.value()), entries.end());
    }
  }
};

// Whether `c` is what the model holds, given that a release may have dropped a prefix of the
// entries below `released` and a prefix of the markers.
bool Matches(const Contents& c, const ModelState& m, std::optional<Index> released) {
  if (!(c.hard_state == m.hs)) return false;
  std::vector<raftpb::Entry> want;
  for (const auto& [i, e] : m.entries)
    want.push_back(e);
  if (c.entries.size() > want.size()) return false;
  const size_t dropped = want.size() - c.entries.size();
  if (dropped > 0 && (!released || want[dropped - 1].index >= *released)) return false;
  if (!std::equal(c.entries.begin(), c.entries.end(),
                  want.begin() + static_cast<ptrdiff_t>(dropped))) {
    return false;
  }
  if (c.snapshots.size() > m.markers.size() || c.snapshots.empty()) return false;
  const size_t skipped = m.markers.size() - c.snapshots.size();
  if (skipped > 0 && !released) return false;
  return std::equal(c.snapshots.begin(), c.snapshots.end(),
                    m.markers.begin() + static_cast<ptrdiff_t>(skipped));
}

// --- running ------------------------------------------------------------------------------------

constexpr uint64_t kSegmentSize = 4096;

// What the runs exercised, printed at the end so that a reader can see the test is not vacuous.
struct Coverage {
  uint64_t runs = 0;
  uint64_t no_wal = 0;           // the crash came before Create returned
  uint64_t truncated_tails = 0;  // Open cut a crash tail
  uint64_t repaired = 0;         // Open refused, Repair fixed it
  uint64_t partial_batches = 0;  // recovered more than the acknowledged records
};
Coverage coverage;

struct RunOutcome {
  bool created = false;
  size_t acked_records = 0;       // records of the operations that returned OK
  size_t attempted_records = 0;   // records of every operation started
  std::optional<Index> released;  // a ReleaseTo was started
};

// Runs the workload until the first error (or to the end).
RunOutcome RunWorkload(MemEnv* env, const std::vector<Op>& ops) {
  RunOutcome out;
  auto created = Wal::Create(MemOptions(env, kSegmentSize), TestMetadata());
  if (!created.ok()) return out;
  out.created = true;
  std::unique_ptr<Wal> w = std::move(created).value();
  for (const Op& op : ops) {
    const size_t n = RecordsOf(op).size();
    out.attempted_records += n;
    Status st;
    if (const auto* s = std::get_if<SaveOp>(&op)) {
      st = w->Save(s->hs, s->entries, /*sync=*/true);
    } else if (const auto* m = std::get_if<SnapshotOp>(&op)) {
      st = w->SaveSnapshot(m->marker);
    } else {
      out.released = std::get<ReleaseOp>(op).index;
      st = w->ReleaseTo(*out.released);
    }
    if (!st.ok()) break;
    out.acked_records += n;
  }
  (void)w->Close();  // joins the spare thread; in a cut-short run it fails like everything else
  return out;
}

std::string Describe(UnsyncedFate fate, uint64_t k, uint64_t seed) {
  static const char* const kNames[] = {"lose", "torn", "garble", "keep-all"};
  return fmt::format("fate {} seed {} failing op {}", kNames[static_cast<int>(fate)], seed, k);
}

// Crashes at op k with `fate`, recovers, and checks the outcome against the model.
void CrashAndCheck(const std::vector<Op>& ops, const std::vector<ModelRecord>& records, uint64_t k,
                   UnsyncedFate fate, uint64_t seed) {
  SCOPED_TRACE(Describe(fate, k, seed));
  ++coverage.runs;
  MemEnv env;
  env.FailAfter(k);
  const RunOutcome run = RunWorkload(&env, ops);
  env.Crash(fate, seed);

  const Options o = MemOptions(&env, kSegmentSize);
  Contents c;
  auto opened = Wal::Open(o, &c);
  if (!opened.ok() && opened.code() == ErrorCode::kCorruption && fate == UnsyncedFate::kGarble) {
    auto repaired = Repair(o);
    ASSERT_TRUE(repaired.ok()) << opened.status().ToString() << " / "
                               << repaired.status().ToString();
    ASSERT_TRUE(repaired->changed);
    ++coverage.repaired;
    opened = Wal::Open(o, &c);
  }
  if (!run.created) {
    // Create never returned: no WAL, or an empty one.
    ++coverage.no_wal;
    if (opened.code() == ErrorCode::kNotFound) return;
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_TRUE(c.entries.empty());
    return;
  }
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  if (c.truncated_tail) ++coverage.truncated_tails;

  ModelState model;
  for (size_t i = 0; i < run.acked_records; ++i)
    model.Apply(records[i]);
  bool matched = Matches(c, model, run.released);
  for (size_t p = run.acked_records; !matched && p < run.attempted_records; ++p) {
    model.Apply(records[p]);
    matched = Matches(c, model, run.released);
    if (matched) ++coverage.partial_batches;
  }
  ASSERT_TRUE(matched) << "recovered " << c.entries.size() << " entries, hs commit "
                       << c.hard_state.commit.value() << "; acked records " << run.acked_records
                       << " of " << run.attempted_records;

  // The recovered WAL continues: one more Save reads back after the entries recovered.
  std::unique_ptr<Wal> w = std::move(opened).value();
  const raftpb::Entry next = MakeEntry(w->last_index().value() + 1, 99);
  ASSERT_TRUE(w->Save(MakeHardState(99, 1, 0), std::vector{next}).ok());
  ASSERT_TRUE(w->Close().ok());
  w.reset();
  Contents again;
  auto reopened = Wal::Open(o, &again);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_FALSE(again.truncated_tail.has_value());
  ASSERT_FALSE(again.entries.empty());
  EXPECT_EQ(again.entries.back(), next);
  EXPECT_EQ(again.hard_state, MakeHardState(99, 1, 0));
}

TEST(WalCrashTest, EverySyncedSaveSurvivesACrashAtEveryOperationAndNothingIsInvented) {
  const bool long_budget = LongBudget();
  const int length = long_budget ? 400 : 150;
  const std::vector<Op> ops = MakeWorkload(7, length);
  std::vector<ModelRecord> records;
  for (const Op& op : ops) {
    for (ModelRecord& r : RecordsOf(op))
      records.push_back(std::move(r));
  }

  // The uninterrupted run: how many mutating operations there are, and a sanity check of the
  // model against the WAL when nothing goes wrong.
  uint64_t total_ops = 0;
  {
    MemEnv env;
    const RunOutcome run = RunWorkload(&env, ops);
    ASSERT_EQ(run.acked_records, records.size());
    total_ops = env.mutating_ops();
    Contents c;
    auto w = Wal::Open(MemOptions(&env, kSegmentSize), &c);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ModelState model;
    for (const ModelRecord& r : records)
      model.Apply(r);
    ASSERT_TRUE(Matches(c, model, run.released));
    ASSERT_GE((*w)->segments().size(), 3u) << "the workload must cross several cuts";
  }
  ASSERT_GT(total_ops, 50u);
  std::printf("workload: %zu operations, %zu records, %llu mutating file operations\n", ops.size(),
              records.size(), static_cast<unsigned long long>(total_ops));

  const uint64_t random_seeds = long_budget ? 6 : 2;
  for (uint64_t k = 1; k <= total_ops; ++k) {
    CrashAndCheck(ops, records, k, UnsyncedFate::kLose, 1);
    CrashAndCheck(ops, records, k, UnsyncedFate::kKeepAll, 1);
    for (uint64_t seed = 1; seed <= random_seeds; ++seed) {
      CrashAndCheck(ops, records, k, UnsyncedFate::kKeepTornPrefix, seed * 31 + k);
      CrashAndCheck(ops, records, k, UnsyncedFate::kGarble, seed * 17 + k);
    }
    if (::testing::Test::HasFatalFailure()) return;
  }
  std::printf(
      "%llu runs: %llu before Create returned, %llu crash tails cut, %llu repaired, "
      "%llu recovered part of an unacknowledged batch\n",
      static_cast<unsigned long long>(coverage.runs),
      static_cast<unsigned long long>(coverage.no_wal),
      static_cast<unsigned long long>(coverage.truncated_tails),
      static_cast<unsigned long long>(coverage.repaired),
      static_cast<unsigned long long>(coverage.partial_batches));
  EXPECT_GT(coverage.truncated_tails, 0u);
  EXPECT_GT(coverage.repaired, 0u);
  EXPECT_GT(coverage.partial_batches, 0u);
}

}  // namespace
}  // namespace raftkit::storage::wal
