// raftkit-conformance: differential testing of raftkit's core against etcd raft 3.4.
//
//   raftkit-conformance run <script>                       raftkit's canonical output of a script
//   raftkit-conformance generate --seed S [--commands N]   a random script
//   raftkit-conformance diff --oracle <etcd-oracle> --seeds N [--seed-start S | --seed-start-from
//   X] raftkit-conformance diff --oracle <etcd-oracle> --files a.script b.script ...
//
// `diff` runs every script against raftkit (here) and against etcd (the Go oracle, one batch
// process), compares the outputs step by step, and ends with one line
// `conformance: <N> scripts, <I> identical, <E> explained by deviations (...), <D> diverged`;
// the exit code is 1 if any script diverged. docs/conformance.md describes the format.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "conformance/compare.h"
#include "conformance/generator.h"
#include "conformance/harness.h"

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

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
  CLI::App app{"raftkit-conformance: raftkit's core against etcd raft 3.4"};
  app.require_subcommand(1);

  std::string run_file;
  auto* run = app.add_subcommand("run", "print raftkit's canonical output of a script");
  run->add_option("script", run_file)->required();

  uint64_t gen_seed = 1;
  int commands = 200;
  auto* gen = app.add_subcommand("generate", "print a random script");
  gen->add_option("--seed", gen_seed);
  gen->add_option("--commands", commands);

  std::string oracle;
  uint64_t seeds = 0;
  uint64_t seed_start = 1;
  std::string seed_start_from;
  std::vector<std::string> files;
  std::string save_dir;
  auto* diff = app.add_subcommand("diff", "compare raftkit with etcd on many scripts");
  diff->add_option("--oracle", oracle, "the Go runner (built from tests/conformance/oracle)")
      ->required();
  diff->add_option("--seeds", seeds, "number of random scripts");
  diff->add_option("--seed-start", seed_start);
  diff->add_option("--seed-start-from", seed_start_from, "derive the first seed from a string");
  diff->add_option("--files", files, "scripts to compare (instead of random ones)");
  diff->add_option("--commands", commands, "commands per random script");
  diff->add_option("--save-dir", save_dir, "where to write the scripts that diverge");

  CLI11_PARSE(app, argc, argv);

  try {
    if (*run) {
      std::string panic;
      std::fputs(raftkit::conformance::RunScript(ReadFile(run_file), &panic).c_str(), stdout);
      if (!panic.empty())
        std::fprintf(stderr, "raftkit-conformance: core panic: %s\n", panic.c_str());
      return 0;
    }
    if (*gen) {
      raftkit::conformance::GeneratorOptions o;
      o.seed = gen_seed;
      o.commands = commands;
      std::fputs(raftkit::conformance::GenerateScript(o).c_str(), stdout);
      return 0;
    }
    std::vector<raftkit::conformance::NamedScript> scripts;
    if (!files.empty()) {
      for (const std::string& f : files) {
        scripts.push_back({std::filesystem::path(f).filename().string(), ReadFile(f)});
      }
    } else {
      if (!seed_start_from.empty()) seed_start = HashString(seed_start_from) + 1;
      if (seeds == 0) seeds = 1;
      std::printf("conformance: seeds %llu..%llu, %d commands each\n",
                  static_cast<unsigned long long>(seed_start),
                  static_cast<unsigned long long>(seed_start + seeds - 1), commands);
      for (uint64_t s = seed_start; s < seed_start + seeds; ++s) {
        raftkit::conformance::GeneratorOptions o;
        o.seed = s;
        o.commands = commands;
        scripts.push_back({fmt::format("seed-{}", s), raftkit::conformance::GenerateScript(o)});
      }
    }
    const raftkit::conformance::DiffSummary sum =
        raftkit::conformance::DiffAgainstOracle(oracle, scripts, save_dir, stdout);
    std::printf("%s\n", sum.Line().c_str());
    return sum.diverged == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "raftkit-conformance: %s\n", e.what());
    return 2;
  }
}
