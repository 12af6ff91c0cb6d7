#include "conformance/compare.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "conformance/harness.h"

namespace raftkit::conformance {

namespace {

// Splits an output into steps, each starting with its "> n ..." header line.
std::vector<std::string> Steps(const std::string& output) {
  std::vector<std::string> steps;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("> ", 0) == 0 || steps.empty()) steps.emplace_back();
    steps.back() += line;
    steps.back() += '\n';
  }
  return steps;
}

bool HasLine(const std::string& step, const std::string& line) {
  std::istringstream in(step);
  std::string l;
  while (std::getline(in, l)) {
    if (l == line) return true;
  }
  return false;
}

int DeviationIn(const std::string& step) {
  const size_t p = step.find("[deviation #");
  if (p == std::string::npos) return 0;
  return std::atoi(step.c_str() + p + 12);
}

}  // namespace

Verdict Compare(const std::string& raftkit_output, const std::string& etcd_output) {
  const std::vector<std::string> ours = Steps(raftkit_output);
  const std::vector<std::string> theirs = Steps(etcd_output);
  Verdict v;
  for (size_t i = 0; i < ours.size() || i < theirs.size(); ++i) {
    const std::string none = "(no such step)\n";
    const std::string& a = i < ours.size() ? ours[i] : none;
    const std::string& b = i < theirs.size() ? theirs[i] : none;
    if (int d = DeviationIn(a); d != 0) {
      v.kind = Verdict::Kind::kExplained;
      v.deviation = d;
      v.step = static_cast<int>(i + 1);
      return v;
    }
    const bool pa = HasLine(a, "PANIC");
    const bool pb = HasLine(b, "PANIC");
    if (pa && pb) return v;  // both gave up at the same step (partial output may differ)
    if (a != b) {
      v.kind = Verdict::Kind::kDiverged;
      v.step = static_cast<int>(i + 1);
      v.detail = "--- raftkit\n" + a + "--- etcd 3.4\n" + b;
      return v;
    }
  }
  return v;
}

std::string DiffSummary::Line() const {
  std::string devs;
  for (const auto& [d, n] : by_deviation) {
    if (!devs.empty()) devs += ", ";
    devs += fmt::format("#{}: {}", d, n);
  }
  return fmt::format(
      "conformance: {} scripts, {} identical, {} explained by deviations ({}), {} diverged",
      scripts, identical, explained, devs.empty() ? "none" : devs, diverged);
}

DiffSummary DiffAgainstOracle(const std::string& oracle, const std::vector<NamedScript>& scripts,
                              const std::string& save_dir, std::FILE* out) {
  // One batch file for the oracle.
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / fmt::format("raftkit-conformance-{}", ::getpid());
  std::filesystem::create_directories(dir);
  const std::filesystem::path batch = dir / "scripts.txt";
  const std::filesystem::path result = dir / "etcd.txt";
  {
    std::ofstream f(batch);
    for (const NamedScript& s : scripts)
      f << "=== " << s.name << "\n" << s.text;
  }
  const std::string cmd =
      fmt::format("'{}' -batch '{}' > '{}'", oracle, batch.string(), result.string());
  const int rc = std::system(cmd.c_str());
  std::map<std::string, std::string> etcd;
  {
    std::ifstream f(result);
    std::string line;
    std::string* cur = nullptr;
    while (std::getline(f, line)) {
      if (line.rfind("=== ", 0) == 0) {
        cur = &etcd[line.substr(4)];
        continue;
      }
      if (cur != nullptr) {
        *cur += line;
        *cur += '\n';
      }
    }
  }
  std::filesystem::remove_all(dir);
  if (rc != 0) throw std::runtime_error(fmt::format("the oracle failed (exit {}): {}", rc, cmd));

  DiffSummary sum;
  for (const NamedScript& s : scripts) {
    ++sum.scripts;
    auto it = etcd.find(s.name);
    if (it == etcd.end()) throw std::runtime_error("the oracle printed nothing for " + s.name);
    const Verdict v = Compare(RunScript(s.text), it->second);
    switch (v.kind) {
      case Verdict::Kind::kIdentical:
        ++sum.identical;
        break;
      case Verdict::Kind::kExplained:
        ++sum.explained;
        ++sum.by_deviation[v.deviation];
        break;
      case Verdict::Kind::kDiverged:
        ++sum.diverged;
        std::fprintf(out, "DIVERGED %s at step %d\n%s", s.name.c_str(), v.step, v.detail.c_str());
        if (!save_dir.empty()) {
          std::filesystem::create_directories(save_dir);
          std::ofstream f(std::filesystem::path(save_dir) / (s.name + ".script"));
          f << s.text;
          std::fprintf(out, "  saved to %s/%s.script\n", save_dir.c_str(), s.name.c_str());
        }
        break;
    }
  }
  return sum;
}

}  // namespace raftkit::conformance
