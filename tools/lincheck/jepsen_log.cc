#include "jepsen_log.h"

#include <charconv>
#include <map>
#include <vector>

#include <fmt/format.h>

namespace raftkit::lincheck {
namespace {

constexpr std::string_view kMarker = "jepsen.util - ";

std::vector<std::string_view> SplitFields(std::string_view s, size_t max_fields) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < s.size() && fields.size() < max_fields) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
      ++i;
    if (i == s.size()) break;
    size_t end = i;
    // The last field (the value) keeps its inner spaces: "[1 4]".
    if (fields.size() + 1 == max_fields) {
      end = s.size();
      while (end > i && (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\r'))
        --end;
    } else {
      while (end < s.size() && s[end] != ' ' && s[end] != '\t')
        ++end;
    }
    fields.push_back(s.substr(i, end - i));
    i = end;
  }
  return fields;
}

Value ParseScalar(std::string_view s) {
  if (s == "nil") return std::nullopt;
  return std::string(s);
}

}  // namespace

Result<History> ParseJepsenLog(std::string_view text, const std::string& key) {
  History history;
  std::map<int64_t, size_t> open;  // process -> index of its open operation
  LineCursor lines(text);
  std::string_view line;
  while (lines.Next(&line)) {
    const int64_t line_no = lines.line_no();
    const size_t at = line.find(kMarker);
    if (at == std::string_view::npos) continue;
    const auto fields = SplitFields(line.substr(at + kMarker.size()), 4);
    auto bad = [&](std::string_view why) {
      return Status(ErrorCode::kCorruption, fmt::format("line {}: {}: {}", line_no, why, line));
    };
    if (fields.size() < 3) return bad("expected process, type, function and value");
    int64_t process = 0;
    const std::string_view p = fields[0];
    if (std::from_chars(p.data(), p.data() + p.size(), process).ptr != p.data() + p.size()) {
      continue;  // the nemesis or another non-client process
    }
    const std::string_view type = fields[1];
    const std::string_view f = fields[2];
    const std::string_view value = fields.size() > 3 ? fields[3] : std::string_view();
    if (type == ":invoke") {
      if (open.count(process) != 0) return bad("a second invoke while the process is busy");
      Operation op;
      op.key = key;
      op.client = process;
      op.invoke_time = line_no;
      op.outcome = Outcome::kInfo;  // until a completion says otherwise
      if (f == ":read") {
        op.kind = OpKind::kRead;
      } else if (f == ":write") {
        op.kind = OpKind::kWrite;
        op.value = ParseScalar(value);
      } else if (f == ":cas") {
        op.kind = OpKind::kCas;
        if (value.size() < 2 || value.front() != '[' || value.back() != ']') {
          return bad("a cas value must be [old new]");
        }
        const auto pair = SplitFields(value.substr(1, value.size() - 2), 2);
        if (pair.size() != 2 || pair[1].find_first_of(" \t") != std::string_view::npos) {
          return bad("a cas value must be [old new]");
        }
        op.value = ParseScalar(pair[0]);
        op.new_value = ParseScalar(pair[1]);
      } else {
        return bad("unknown function");
      }
      open[process] = history.ops.size();
      history.ops.push_back(std::move(op));
      continue;
    }
    Outcome outcome;
    if (type == ":ok") {
      outcome = Outcome::kOk;
    } else if (type == ":fail") {
      outcome = Outcome::kFail;
    } else if (type == ":info") {
      outcome = Outcome::kInfo;
    } else {
      return bad("unknown type");
    }
    auto it = open.find(process);
    if (it == open.end()) return bad("a completion without an invoke");
    Operation& op = history.ops[it->second];
    open.erase(it);
    op.outcome = outcome;
    op.complete_time = line_no;
    if (outcome == Outcome::kOk && op.kind == OpKind::kRead) op.value = ParseScalar(value);
  }
  return history;
}

Result<History> ReadJepsenLog(const std::string& path, const std::string& key) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  return ParseJepsenLog(*text, key);
}

}  // namespace raftkit::lincheck
