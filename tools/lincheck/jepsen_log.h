// Reads Jepsen's textual register logs, as in the etcd histories of the ahorn/porcupine test
// suites:
//
//   INFO  jepsen.util - 3	:invoke	:cas	[1 4]
//   INFO  jepsen.util - 3	:ok	:cas	[1 4]
//   INFO  jepsen.util - 0	:ok	:read	nil
//
// Fields after "jepsen.util - " are separated by tabs or spaces: process, :type (:invoke, :ok,
// :fail, :info), :f (:read, :write, :cas) and the value (nil = absent, a number, or "[old new]" for
// cas). Lines without "jepsen.util - ", or whose process is not a number (e.g. the nemesis), are
// ignored. The line number is used as the time. A completion takes its arguments from the invoke
// (an :info line carries ":timed-out"); an ok read's value is what was observed. Operations still
// open at the end of the log are info.
#pragma once

#include <string>
#include <string_view>

#include "history.h"
#include "raftkit/util/status.h"

namespace raftkit::lincheck {

/// Parses a log as described above; every operation gets key `key`. kCorruption (with the line
/// number) for a malformed line, a completion without an invoke, or a second invoke by a process
/// whose operation is still open.
Result<History> ParseJepsenLog(std::string_view text, const std::string& key = "");

/// Reads and parses the file at `path` (kIoError if it cannot be read).
Result<History> ReadJepsenLog(const std::string& path, const std::string& key = "");

}  // namespace raftkit::lincheck
