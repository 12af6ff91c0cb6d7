// Replays one of etcd's scenario files against raftkit and compares the outputs command by
// command, after the documented translations and overrides (README.md in this folder).
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace raftkit::conformance {

/// The three families of scenario files, by the folder they live in under etcd's raft package.
enum class Family {
  kInteraction,  ///< raft/testdata
  kConfChange,   ///< raft/confchange/testdata
  kQuorum,       ///< raft/quorum/testdata
};

/// The folder of `f` relative to etcd's raft package: "testdata", "confchange/testdata", ...
std::string_view FamilyDir(Family f);

/// etcd's raft package as installed by Debian's golang-etcd-server-dev, or $RAFTKIT_ETCD_RAFT_DIR.
std::string EtcdRaftDir();

/// Translation 1 (README): removes etcd's log lines ("INFO ...", "  DEBUG ...", any indentation,
/// levels DEBUG INFO WARN ERROR FATAL) from an expected output. An output that consisted of log
/// lines only becomes "ok\n", which is what the environment prints for an empty output.
std::string StripLogLines(std::string_view expected);

/// A documented, deliberate difference between raftkit and etcd 3.4 at one command of one file.
struct Override {
  std::string_view file;       ///< relative to etcd's raft package, e.g. "testdata/x.txt"
  int command;                 ///< 1-based position of the command among the file's commands
  std::string_view directive;  ///< the command line, to catch a misnumbered entry
  int deviation;               ///< the row of docs/etcd-deviations.md that explains it
  std::string_view raftkit;    ///< what raftkit prints instead (after the translations)
};

/// Every override, in one place (overrides.cc).
const std::vector<Override>& Overrides();

struct FileReport {
  int commands = 0;                   ///< commands run
  int overridden = 0;                 ///< of which compared against an override
  std::vector<std::string> failures;  ///< one readable message per problem
  std::set<int> deviations;           ///< deviations the core reported taking (core/deviations.h)
};

/// Runs the scenario file at `path` (etcd's raft package relative name `rel`, as in Override) of
/// family `family` against raftkit.
FileReport RunScenarioFile(Family family, const std::string& path, std::string_view rel);

}  // namespace raftkit::conformance
