// A reader for the "datadriven" text format of etcd's scenario files (raft/testdata,
// raft/confchange/testdata, raft/quorum/testdata). Our own implementation of the format as those
// files use it; see README.md in this folder.
//
//   # a comment
//   <command> [<key>] [<key>=<value>] [<key>=(<value>, <value>, ...)]
//   [input lines]
//   ----
//   expected output, up to the first blank line
//
// When the expected output contains blank lines, the separator is doubled (`----` twice) and the
// output runs up to the next doubled `----`. A directive line ending in `\` continues on the next
// line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "raftkit/util/status.h"

namespace raftkit::conformance {

/// One argument of a directive: `key`, `key=value` or `key=(v1, v2, ...)`.
struct CmdArg {
  std::string key;
  std::vector<std::string> vals;  ///< empty for a bare key

  friend bool operator==(const CmdArg&, const CmdArg&) = default;
};

/// One command of a scenario file with its expected output.
struct TestCase {
  int line = 0;                ///< 1-based line of the directive in the file
  std::string directive;       ///< the directive line as written (continuations joined)
  std::string cmd;             ///< the command name
  std::vector<CmdArg> args;    ///< its arguments, in order
  std::string input;           ///< the input lines, whitespace-trimmed at both ends
  std::string expected;        ///< the expected output; every line ends in '\n'
  bool has_separator = false;  ///< whether a `----` followed (else: no expected output)

  /// The argument named `key`, or nullptr.
  [[nodiscard]] const CmdArg* Find(std::string_view key) const;
};

/// Splits one directive line into a command and its arguments. kInvalidArgument (with the column)
/// on a malformed line; an empty line gives an empty command.
Status ParseDirective(std::string_view line, std::string* cmd, std::vector<CmdArg>* args);

/// Parses the whole text of a scenario file. `source` names it in error messages.
Result<std::vector<TestCase>> ParseScenario(std::string_view text, std::string_view source);

/// Reads and parses a file.
Result<std::vector<TestCase>> ParseScenarioFile(const std::string& path);

}  // namespace raftkit::conformance
