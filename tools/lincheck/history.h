// The input of the linearizability checker: a history of operations on a key-value store, each key
// a register supporting read, write and compare-and-set. See checker.h for what is checked.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "raftkit/util/status.h"

namespace raftkit::lincheck {

/// A register value. std::nullopt is "absent" (the key does not exist); every register starts
/// absent. Values are opaque strings compared byte for byte (Jepsen's integers are kept as their
/// decimal text).
using Value = std::optional<std::string>;

enum class OpKind {
  kRead,   ///< returns the register's value (`value` is what was observed)
  kWrite,  ///< sets the register to `value` (absent = delete)
  kCas,    ///< if the register equals `value`, sets it to `new_value`; otherwise fails
};

/// How the client saw the operation end (Jepsen's :ok / :fail / :info).
enum class Outcome {
  kOk,    ///< it took effect, between invoke and completion
  kFail,  ///< it definitely did not take effect; the checker drops it
  kInfo,  ///< unknown: it may take effect at any point after invoke (until the history's end) or
          ///< never; `complete_time` is ignored and a read's `value` is meaningless
};

/// Times are in any unit, only their order matters. Operation a precedes operation b in real time
/// iff a.complete_time < b.invoke_time (equal times count as concurrent).
struct Operation {
  std::string key;
  int64_t client = 0;  ///< the client / Jepsen process; for display only
  OpKind kind = OpKind::kRead;
  Value value;      ///< read: observed; write: written; cas: expected
  Value new_value;  ///< cas only: the value set on success
  int64_t invoke_time = 0;
  int64_t complete_time = 0;  ///< must be >= invoke_time unless outcome is kInfo
  Outcome outcome = Outcome::kOk;
};

/// The "never completes" time given to info operations.
inline constexpr int64_t kOpenEnded = std::numeric_limits<int64_t>::max();

struct History {
  std::vector<Operation> ops;
};

/// Ok unless an operation completes before it is invoked (kInvalidArgument naming it).
Status ValidateHistory(const History& history);

/// "absent" or the value in double quotes.
std::string DescribeValue(const Value& v);

/// One line for a person, e.g. `client 3 [10, 14] cas("1" -> "2") ok` or `... write("4") info`.
std::string DescribeOperation(const Operation& op);

/// For the history readers: the lines of a text one by one (without their '\n'), numbered from 1.
class LineCursor {
 public:
  explicit LineCursor(std::string_view text) : text_(text) {}
  /// The next line, or false at the end.
  bool Next(std::string_view* line);
  [[nodiscard]] int64_t line_no() const { return line_no_; }

 private:
  std::string_view text_;
  size_t start_ = 0;
  int64_t line_no_ = 0;
};

/// The whole content of a file (kIoError naming it if it cannot be read).
Result<std::string> ReadWholeFile(const std::string& path);

}  // namespace raftkit::lincheck
