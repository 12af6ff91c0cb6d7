// raftkit-lincheck: checks a key-value history — a Jepsen register log (see jepsen_log.h) or a
// JSON Lines history file (see history_json.h) — for linearizability and prints the verdict; exit
// status 0 = linearizable, 1 = not linearizable, 2 = unknown, 3 = bad input.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "checker.h"
#include "history_json.h"
#include "jepsen_log.h"

namespace {

namespace lc = raftkit::lincheck;

// Reads the history at `path` in `format` ("auto", "jepsen" or "jsonl"; CLI11 checks the name).
raftkit::Result<lc::History> ReadHistory(const std::string& path, const std::string& format) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return raftkit::Status(raftkit::ErrorCode::kIoError, "cannot open " + path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return raftkit::Status(raftkit::ErrorCode::kIoError, "cannot read " + path);
  const std::string text = buffer.str();
  const bool jsonl = format == "jsonl" || (format == "auto" && lc::LooksLikeJsonl(path, text));
  // A Jepsen log holds one register; name it after the file in explanations.
  auto history = jsonl ? lc::ParseHistoryJsonl(text)
                       : lc::ParseJepsenLog(text, std::filesystem::path(path).filename().string());
  if (!history.ok()) {
    return raftkit::Status(history.code(), path + ": " + history.status().message());
  }
  return history;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("raftkit-lincheck: checks a key-value history for linearizability");
  std::string path;
  int64_t timeout_ms = 60000;
  uint64_t max_steps = 0;
  std::string format = "auto";
  app.add_option("history", path,
                 "a Jepsen register log (jepsen.util lines) or a JSON Lines history")
      ->required();
  app.add_option("--format", format,
                 "auto (a .jsonl name or a first line starting with '{' is JSON Lines), jepsen "
                 "or jsonl")
      ->check(CLI::IsMember({"auto", "jepsen", "jsonl"}));
  app.add_option("--timeout-ms", timeout_ms, "give up with 'unknown' after this long (0 = never)");
  app.add_option("--max-steps", max_steps, "give up after this many search steps (0 = never)");
  CLI11_PARSE(app, argc, argv);

  auto history = ReadHistory(path, format);
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
