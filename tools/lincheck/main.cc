// raftkit-lincheck: checks a Jepsen register log (see jepsen_log.h) for linearizability and prints
// the verdict; exit status 0 = linearizable, 1 = not linearizable, 2 = unknown, 3 = bad input.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>

#include "checker.h"
#include "jepsen_log.h"

int main(int argc, char** argv) {
  CLI::App app("raftkit-lincheck: checks a key-value history for linearizability");
  std::string path;
  int64_t timeout_ms = 60000;
  uint64_t max_steps = 0;
  app.add_option("history", path, "a Jepsen register log (jepsen.util lines)")->required();
  app.add_option("--timeout-ms", timeout_ms, "give up with 'unknown' after this long (0 = never)");
  app.add_option("--max-steps", max_steps, "give up after this many search steps (0 = never)");
  CLI11_PARSE(app, argc, argv);

  // The log holds one register; name it after the file in explanations.
  auto history =
      raftkit::lincheck::ReadJepsenLog(path, std::filesystem::path(path).filename().string());
  if (!history.ok()) {
    std::fprintf(stderr, "raftkit-lincheck: %s\n", history.status().ToString().c_str());
    return 3;
  }
  raftkit::lincheck::CheckOptions options;
  options.timeout = std::chrono::milliseconds(timeout_ms);
  options.max_steps = max_steps;
  const auto start = std::chrono::steady_clock::now();
  auto result = raftkit::lincheck::Check(*history, options);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  if (!result.ok()) {
    std::fprintf(stderr, "raftkit-lincheck: %s\n", result.status().ToString().c_str());
    return 3;
  }
  std::printf("%s: %s (%zu keys, %zu operations, %llu steps, %.3f s)\n", path.c_str(),
              raftkit::lincheck::VerdictName(result->verdict), result->keys, result->ops,
              static_cast<unsigned long long>(result->steps), took.count());
  if (!result->explanation.empty()) std::printf("%s", result->explanation.c_str());
  switch (result->verdict) {
    case raftkit::lincheck::Verdict::kLinearizable:
      return 0;
    case raftkit::lincheck::Verdict::kNotLinearizable:
      return 1;
    case raftkit::lincheck::Verdict::kUnknown:
      return 2;
  }
  return 2;
}
