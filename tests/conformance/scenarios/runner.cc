#include "conformance/scenarios/runner.h"

#include <fmt/format.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <set>

#include "conformance/scenarios/datadriven.h"
#include "conformance/scenarios/handlers.h"
#include "core/deviations.h"
#include "raftkit/util/panic.h"

namespace raftkit::conformance {
namespace {

constexpr std::string_view kLogLevels[] = {"DEBUG", "INFO", "WARN", "ERROR", "FATAL"};

bool IsLogLine(std::string_view line) {
  const size_t b = line.find_first_not_of(' ');
  if (b == std::string_view::npos) return false;
  line.remove_prefix(b);
  for (std::string_view level : kLogLevels) {
    if (line.size() > level.size() && line.substr(0, level.size()) == level &&
        line[level.size()] == ' ') {
      return true;
    }
  }
  return false;
}

// The first line (1-based) where a and b differ.
size_t FirstDifferentLine(std::string_view a, std::string_view b) {
  size_t line = 1;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] != b[i]) return line;
    if (a[i] == '\n') ++line;
  }
  return line;
}

std::string Block(std::string_view text) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    out += "    | ";
    out += text.substr(pos, nl - pos);
    out += '\n';
    pos = nl + 1;
  }
  return out;
}

std::unique_ptr<Handler> NewHandler(Family f) {
  switch (f) {
    case Family::kInteraction:
      return NewInteractionHandler();
    case Family::kConfChange:
      return NewConfChangeHandler();
    case Family::kQuorum:
      return NewQuorumHandler();
  }
  return nullptr;
}

// The deviations (docs/etcd-deviations.md rows) the core reported while the current file ran.
std::set<int>* g_noted = nullptr;

void NoteDeviation(int number) {
  if (g_noted != nullptr) g_noted->insert(number);
}

// Observes the core's deviation reports for its lifetime.
class DeviationRecorder {
 public:
  explicit DeviationRecorder(std::set<int>* noted) {
    g_noted = noted;
    raft::deviation::SetObserver(&NoteDeviation);
  }
  ~DeviationRecorder() {
    raft::deviation::SetObserver(nullptr);
    g_noted = nullptr;
  }
  DeviationRecorder(const DeviationRecorder&) = delete;
  DeviationRecorder& operator=(const DeviationRecorder&) = delete;
};

}  // namespace

std::string_view FamilyDir(Family f) {
  switch (f) {
    case Family::kInteraction:
      return "testdata";
    case Family::kConfChange:
      return "confchange/testdata";
    case Family::kQuorum:
      return "quorum/testdata";
  }
  return "";
}

std::string EtcdRaftDir() {
  if (const char* dir = std::getenv("RAFTKIT_ETCD_RAFT_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  return "/usr/share/gocode/src/go.etcd.io/etcd/raft";
}

std::string StripLogLines(std::string_view expected) {
  std::string out;
  bool stripped = false;
  size_t pos = 0;
  while (pos < expected.size()) {
    size_t nl = expected.find('\n', pos);
    if (nl == std::string_view::npos) nl = expected.size();
    const std::string_view line = expected.substr(pos, nl - pos);
    if (IsLogLine(line)) {
      stripped = true;
    } else {
      out += line;
      out += '\n';
    }
    pos = nl + 1;
  }
  if (stripped && out.empty()) return "ok\n";
  return out;
}

FileReport RunScenarioFile(Family family, const std::string& path, std::string_view rel) {
  FileReport report;
  auto cases = ParseScenarioFile(path);
  if (!cases.ok()) {
    report.failures.push_back(cases.status().ToString());
    return report;
  }
  if (cases->empty()) {
    report.failures.push_back(path + ": no commands");
    return report;
  }

  std::vector<const Override*> mine;
  for (const Override& o : Overrides()) {
    if (o.file == rel) mine.push_back(&o);
  }
  std::set<const Override*> used;

  ScopedPanicHandler throwing(ThrowingPanicHandler);
  DeviationRecorder recorder(&report.deviations);
  std::unique_ptr<Handler> handler = NewHandler(family);
  int ordinal = 0;
  for (const TestCase& tc : *cases) {
    ++ordinal;
    ++report.commands;
    const std::string where =
        fmt::format("{}:{}: command #{} `{}`", rel, tc.line, ordinal, tc.directive);
    std::string actual;
    try {
      actual = handler->Handle(tc);
    } catch (const HarnessError& e) {
      report.failures.push_back(fmt::format("{}: harness error: {}", where, e.what()));
      return report;
    } catch (const PanicError& e) {
      report.failures.push_back(fmt::format("{}: raftkit panicked: {}", where, e.message));
      return report;
    } catch (const std::exception& e) {
      report.failures.push_back(fmt::format("{}: exception: {}", where, e.what()));
      return report;
    }
    // The datadriven framework ends every non-empty output with a newline.
    if (!actual.empty() && actual.back() != '\n') actual += '\n';

    const std::string etcd =
        family == Family::kInteraction ? StripLogLines(tc.expected) : tc.expected;
    std::string want = etcd;
    const Override* ov = nullptr;
    for (const Override* o : mine) {
      if (o->command == ordinal) ov = o;
    }
    if (ov != nullptr) {
      used.insert(ov);
      ++report.overridden;
      if (ov->directive != tc.directive) {
        report.failures.push_back(fmt::format("{}: override for deviation #{} names command `{}`",
                                              where, ov->deviation, ov->directive));
        continue;
      }
      if (report.deviations.count(ov->deviation) == 0) {
        report.failures.push_back(fmt::format(
            "{}: the override cites deviation #{}, but the core has not reported taking it", where,
            ov->deviation));
        continue;
      }
      if (actual == etcd) {
        report.failures.push_back(fmt::format(
            "{}: the override for deviation #{} is stale: raftkit now prints what etcd printed",
            where, ov->deviation));
        continue;
      }
      want = std::string(ov->raftkit);
    }
    if (actual != want) {
      std::string msg =
          fmt::format("{}: output differs at line {}\n", where, FirstDifferentLine(want, actual));
      if (!tc.input.empty()) msg += "  input:\n" + Block(tc.input);
      if (ov != nullptr) {
        msg += fmt::format("  expected (override for deviation #{}):\n", ov->deviation);
      } else {
        msg += "  expected (etcd, translated):\n";
      }
      msg += Block(want) + "  raftkit:\n" + Block(actual);
      report.failures.push_back(std::move(msg));
    }
  }
  for (const Override* o : mine) {
    if (used.count(o) == 0) {
      report.failures.push_back(fmt::format("{}: override for command #{} `{}` was not reached",
                                            rel, o->command, o->directive));
    }
  }
  return report;
}

}  // namespace raftkit::conformance
