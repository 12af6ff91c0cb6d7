// raftkit-sim: runs the deterministic cluster simulator over a range of seeds.
//
//   raftkit-sim --seeds N [--seed-start S] [--nodes 3|5|7]   many seeds, one summary line
//   raftkit-sim --seed S --trace                             one seed with its full trace
//   raftkit-sim --seed-file tests/sim/regression_seeds.txt   every seed listed in a file
//
// The last line is always `sim: <N> seeds, <steps> steps, <faults> faults injected, <violations>
// violations`; the exit code is 1 if there was any violation. Each violation prints its seed, the
// invariant, and the last events before it. docs/simulator.md explains the model.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "raftkit/util/panic.h"
#include "sim/sim.h"

namespace {

struct Seed {
  uint64_t seed;
  int nodes;
};

std::vector<Seed> ReadSeedFile(const std::string& path, int nodes) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<Seed> out;
  std::string line;
  while (std::getline(in, line)) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    Seed s{0, nodes};
    if (!(fields >> s.seed)) continue;
    int n = 0;
    if (fields >> n) s.nodes = n;
    out.push_back(s);
  }
  return out;
}

// FNV-1a of a string: turns a commit id into a seed range that differs from run to run.
uint64_t HashString(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h % 1'000'000'000'000ULL;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"raftkit-sim: deterministic cluster simulator for the Raft core"};
  uint64_t seeds = 0;
  uint64_t seed_start = 1;
  std::string seed_start_from;
  uint64_t one_seed = 0;
  std::string seed_file;
  int nodes = 0;
  bool trace = false;
  bool verbose = false;
  unsigned jobs = 1;
  app.add_option("--seeds", seeds, "number of seeds to run");
  app.add_option("--seed-start", seed_start, "first seed of the range");
  app.add_option("--seed-start-from", seed_start_from,
                 "derive the first seed from this string (e.g. a commit id)");
  app.add_option("--seed", one_seed, "run exactly this seed");
  app.add_option("--seed-file", seed_file, "run the seeds listed in a file (seed [nodes] # note)");
  app.add_option("--nodes", nodes, "initial cluster size (3, 5 or 7; default: chosen per seed)")
      ->check(CLI::IsMember({0, 3, 5, 7}));
  app.add_flag("--trace", trace, "print the full event trace (with --seed)");
  app.add_flag("-v,--verbose", verbose, "print one line per seed");
  app.add_option("-j,--jobs", jobs, "seeds run in parallel (results are printed in seed order)")
      ->check(CLI::Range(1u, 256u));
  CLI11_PARSE(app, argc, argv);

  std::vector<Seed> todo;
  if (!seed_file.empty()) {
    try {
      todo = ReadSeedFile(seed_file, nodes);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "raftkit-sim: %s\n", e.what());
      return 2;
    }
  } else if (one_seed != 0) {
    todo.push_back({one_seed, nodes});
  } else {
    if (seeds == 0) seeds = 1;
    if (!seed_start_from.empty()) seed_start = HashString(seed_start_from) + 1;
    for (uint64_t s = seed_start; s < seed_start + seeds; ++s)
      todo.push_back({s, nodes});
    std::printf("sim: seeds %llu..%llu\n", static_cast<unsigned long long>(seed_start),
                static_cast<unsigned long long>(seed_start + seeds - 1));
  }

  if (trace) jobs = 1;
  // Panics inside the core become violations. Installed once, before any worker starts, so that
  // RunSeed's own install/restore of the same handler is a no-op across threads.
  raftkit::SetPanicHandler(raftkit::ThrowingPanicHandler);

  std::vector<raftkit::sim::RunResult> results(todo.size());
  std::vector<char> done(todo.size(), 0);
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < todo.size(); i = next++) {
      raftkit::sim::Options opts;
      opts.seed = todo[i].seed;
      opts.nodes = todo[i].nodes;
      if (trace) opts.trace_sink = [](const std::string& line) { std::puts(line.c_str()); };
      raftkit::sim::RunResult r = raftkit::sim::RunSeed(opts);
      {
        std::lock_guard lock(mu);
        results[i] = std::move(r);
        done[i] = 1;
      }
      cv.notify_one();
    }
  };
  std::vector<std::thread> threads;
  if (jobs > 1) {
    for (unsigned t = 0; t < jobs; ++t)
      threads.emplace_back(worker);
  }

  uint64_t steps = 0;
  uint64_t faults = 0;
  uint64_t violations = 0;
  auto report = [&](const raftkit::sim::RunResult& r) {
    steps += r.steps;
    faults += r.faults;
    if (verbose || trace) std::puts(r.summary.c_str());
    if (r.violation) {
      ++violations;
      std::printf("VIOLATION seed %llu (%d nodes): %s: %s\n",
                  static_cast<unsigned long long>(r.seed), r.nodes, r.violation->invariant.c_str(),
                  r.violation->detail.c_str());
      std::printf("  replay: raftkit-sim --seed %llu --nodes %d --trace\n",
                  static_cast<unsigned long long>(r.seed), r.nodes);
      if (!trace) std::printf("  last events:\n%s", r.trace_tail.c_str());
    }
    std::fflush(stdout);
  };
  if (jobs == 1) {
    worker();
    for (const auto& r : results)
      report(r);
  } else {
    // The main thread reports in seed order as results arrive.
    for (size_t i = 0; i < todo.size(); ++i) {
      raftkit::sim::RunResult r;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return done[i] != 0; });
        r = std::move(results[i]);
      }
      report(r);
    }
  }
  for (std::thread& t : threads)
    t.join();
  std::printf("sim: %zu seeds, %llu steps, %llu faults injected, %llu violations\n", todo.size(),
              static_cast<unsigned long long>(steps), static_cast<unsigned long long>(faults),
              static_cast<unsigned long long>(violations));
  return violations == 0 ? 0 : 1;
}
