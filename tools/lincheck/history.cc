#include "history.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace raftkit::lincheck {

Status ValidateHistory(const History& history) {
  for (size_t i = 0; i < history.ops.size(); ++i) {
    const Operation& op = history.ops[i];
    if (op.outcome != Outcome::kInfo && op.complete_time < op.invoke_time) {
      return Status(
          ErrorCode::kInvalidArgument,
          fmt::format("operation {} completes before it is invoked: {}", i, DescribeOperation(op)));
    }
  }
  return Status::Ok();
}

std::string DescribeValue(const Value& v) {
  return v ? fmt::format("\"{}\"", *v) : std::string("absent");
}

std::string DescribeOperation(const Operation& op) {
  std::string what;
  switch (op.kind) {
    case OpKind::kRead:
      what = op.outcome == Outcome::kOk ? fmt::format("read() -> {}", DescribeValue(op.value))
                                        : std::string("read()");
      break;
    case OpKind::kWrite:
      what = fmt::format("write({})", DescribeValue(op.value));
      break;
    case OpKind::kCas:
      what = fmt::format("cas({} -> {})", DescribeValue(op.value), DescribeValue(op.new_value));
      break;
  }
  const char* outcome = op.outcome == Outcome::kOk     ? "ok"
                        : op.outcome == Outcome::kFail ? "fail"
                                                       : "info";
  std::string end =
      op.outcome == Outcome::kInfo ? std::string("open") : fmt::format("{}", op.complete_time);
  return fmt::format("client {} [{}, {}] {} {}", op.client, op.invoke_time, end, what, outcome);
}

bool LineCursor::Next(std::string_view* line) {
  if (start_ >= text_.size()) return false;
  size_t end = text_.find('\n', start_);
  if (end == std::string_view::npos) end = text_.size();
  *line = text_.substr(start_, end - start_);
  start_ = end + 1;
  ++line_no_;
  return true;
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::kIoError, fmt::format("cannot open {}", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status(ErrorCode::kIoError, fmt::format("cannot read {}", path));
  return text.str();
}

}  // namespace raftkit::lincheck
