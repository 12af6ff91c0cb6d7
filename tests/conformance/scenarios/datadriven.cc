#include "conformance/scenarios/datadriven.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace raftkit::conformance {
namespace {

constexpr std::string_view kSpace = " \t\n\v\f\r";

std::string_view Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kSpace) - b + 1);
}

// The file as lines, without their terminators ("\n" or "\r\n").
std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view l = text.substr(pos, nl - pos);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    lines.push_back(l);
    pos = nl + 1;
  }
  return lines;
}

Status Malformed(std::string_view line, size_t column) {
  return Status(ErrorCode::kInvalidArgument,
                fmt::format("cannot parse directive at column {}: {}", column, line));
}

}  // namespace

const CmdArg* TestCase::Find(std::string_view key) const {
  for (const CmdArg& a : args) {
    if (a.key == key) return &a;
  }
  return nullptr;
}

Status ParseDirective(std::string_view line, std::string* cmd, std::vector<CmdArg>* args) {
  cmd->clear();
  args->clear();
  const std::string_view whole = Trim(line);
  std::string_view rest = whole;
  if (rest.empty()) return Status::Ok();
  auto column = [&] { return whole.size() - rest.size() + 1; };

  size_t end = rest.find(' ');
  if (end == std::string_view::npos) end = rest.size();
  *cmd = std::string(rest.substr(0, end));
  rest = Trim(rest.substr(end));

  while (!rest.empty()) {
    CmdArg arg;
    size_t key_end = rest.find_first_of(" =");
    if (key_end == std::string_view::npos) key_end = rest.size();
    if (key_end == 0) return Malformed(whole, column());
    arg.key = std::string(rest.substr(0, key_end));
    rest = rest.substr(key_end);
    if (!rest.empty() && rest[0] == '=') {
      rest.remove_prefix(1);
      if (rest.empty() || rest[0] == ' ') {
        arg.vals.emplace_back();  // `key=` is one empty value
      } else if (rest[0] != '(') {
        size_t val_end = rest.find(' ');
        if (val_end == std::string_view::npos) val_end = rest.size();
        arg.vals.emplace_back(rest.substr(0, val_end));
        rest = rest.substr(val_end);
      } else {
        // A parenthesized list: values are cut at commas outside nested parentheses; spaces
        // after a comma are skipped.
        size_t pos = 1;
        size_t start = 1;
        int depth = 1;
        while (depth > 0) {
          if (pos == rest.size()) return Malformed(whole, column());
          const char c = rest[pos++];
          if (c == '(') {
            ++depth;
          } else if (c == ')') {
            --depth;
          } else if (c == ',' && depth == 1) {
            arg.vals.emplace_back(rest.substr(start, pos - 1 - start));
            while (pos < rest.size() && rest[pos] == ' ')
              ++pos;
            start = pos;
          }
        }
        arg.vals.emplace_back(rest.substr(start, pos - 1 - start));
        rest = rest.substr(pos);
      }
    }
    args->push_back(std::move(arg));
    rest = Trim(rest);
  }
  return Status::Ok();
}

Result<std::vector<TestCase>> ParseScenario(std::string_view text, std::string_view source) {
  const std::vector<std::string_view> lines = SplitLines(text);
  std::vector<TestCase> cases;
  size_t i = 0;
  const size_t n = lines.size();
  while (i < n) {
    const int directive_line = static_cast<int>(i) + 1;
    std::string directive(Trim(lines[i++]));
    if (directive.empty() || directive[0] == '#') continue;
    // A trailing backslash continues the directive on the next line.
    while (!directive.empty() && directive.back() == '\\' && i < n) {
      directive.pop_back();
      directive += ' ';
      directive += Trim(lines[i++]);
    }
    TestCase tc;
    tc.line = directive_line;
    tc.directive = directive;
    if (Status st = ParseDirective(directive, &tc.cmd, &tc.args); !st.ok()) {
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("{}:{}: {}", source, directive_line, st.message()));
    }

    // Input: everything up to the separator (or the end of the file).
    std::string input;
    while (i < n && lines[i] != "----") {
      input += lines[i++];
      input += '\n';
    }
    tc.input = std::string(Trim(input));
    if (i < n) {
      ++i;  // the separator
      tc.has_separator = true;
      if (i < n && lines[i] == "----") {
        // Doubled separator: the output may contain blank lines and ends at the next doubled
        // separator, which must be followed by a blank line (or the end of the file).
        ++i;
        bool closed = false;
        while (i < n) {
          if (lines[i] == "----" && i + 1 < n && lines[i + 1] == "----") {
            i += 2;
            closed = true;
            break;
          }
          tc.expected += lines[i++];
          tc.expected += '\n';
        }
        if (!closed) {
          return Status(
              ErrorCode::kInvalidArgument,
              fmt::format("{}:{}: unterminated doubled ---- section", source, directive_line));
        }
        if (i < n) {
          if (!Trim(lines[i]).empty()) {
            return Status(ErrorCode::kInvalidArgument,
                          fmt::format("{}:{}: non-blank line after the end of a doubled ---- "
                                      "section",
                                      source, i + 1));
          }
          ++i;
        }
      } else {
        // Single separator: the output ends at the first blank line.
        while (i < n && !Trim(lines[i]).empty()) {
          tc.expected += lines[i++];
          tc.expected += '\n';
        }
      }
    }
    cases.push_back(std::move(tc));
  }
  return cases;
}

Result<std::vector<TestCase>> ParseScenarioFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::kNotFound, "cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status(ErrorCode::kIoError, "cannot read " + path);
  return ParseScenario(ss.str(), path);
}

}  // namespace raftkit::conformance
