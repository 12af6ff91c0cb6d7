// History files in JSON Lines: one operation per line, in the order the operations were recorded,
// so that a history recorded by one program (the chaos harness) can be re-checked offline by
// raftkit-lincheck and read by a person or by jq. The format is documented with an example in
// docs/tools.md ("History files (JSON Lines)"). Each line is one JSON object:
//
//   {"process": 3, "key": "k1", "f": "cas", "value": "1", "new": "2", "type": "ok",
//    "invoke": 1500, "complete": 2750}
//
//   process   integer (int64)                  Operation::client
//   key       string or bytes (below)          Operation::key
//   f         "read" | "write" | "cas"         Operation::kind
//   value     string, bytes or null            Operation::value (null = absent)
//   new       string, bytes or null            Operation::new_value; present iff f is "cas"
//   type      "ok" | "fail" | "info"           Operation::outcome
//   invoke    integer (int64)                  Operation::invoke_time
//   complete  integer (int64)                  Operation::complete_time; required for ok and
//                                              fail, omitted for an info operation whose
//                                              complete_time is kOpenEnded
//
// Times are microseconds since the recording run started; the checker only uses their order.
//
// Keys and values are byte strings. One that is valid UTF-8 is written as a JSON string; any other
// is written as the object {"base64": "<standard base64 with padding>"} so that no byte is lost and
// the line stays valid UTF-8 JSON. A reader accepts either form for any key or value.
//
// Reading is strict: every field above is required unless stated otherwise, unknown fields and
// fields given twice are errors, and ok / fail operations must not complete before they are
// invoked. Blank lines (only spaces, tabs, '\r') and lines whose first non-blank character is '#'
// are skipped, so a file can carry a header comment.
#pragma once

#include <string>
#include <string_view>

#include "history.h"
#include "raftkit/util/status.h"

namespace raftkit::lincheck {

/// `op` as one line of the format above, without a trailing newline. Fields are written in the
/// order of the table; the same operation always gives the same line.
std::string OperationToJson(const Operation& op);

/// Writes every operation of `history`, one line each (each ending in '\n'), to `path`, replacing
/// the file. No header line is written, so the file is plain JSON Lines. kIoError if the file
/// cannot be created or written.
Status WriteHistoryJsonl(const History& history, const std::string& path);

/// Parses a history in the format above, operations in line order. kInvalidArgument naming the
/// 1-based line number and what is wrong on the first bad line.
Result<History> ParseHistoryJsonl(std::string_view text);

/// Reads and parses the file at `path` (kIoError if it cannot be read).
Result<History> ReadHistoryJsonl(const std::string& path);

/// Whether a history file is JSON Lines rather than a Jepsen log: true if `path` ends in ".jsonl",
/// or if the first line of `text` that is neither blank nor a '#' comment starts (after blanks)
/// with '{'. raftkit-lincheck's `--format auto`.
bool LooksLikeJsonl(std::string_view path, std::string_view text);

}  // namespace raftkit::lincheck
