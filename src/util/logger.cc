#include "raftkit/util/logger.h"

#include <cstdio>

namespace raftkit {

std::string_view LogLevelName(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarn:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}

namespace {
class Null final : public Logger {
 public:
  [[nodiscard]] bool Enabled(LogLevel /*level*/) const override { return false; }
  void Write(LogLevel /*level*/, std::string_view /*line*/) override {}
};
}  // namespace

Logger& NullLogger() noexcept {
  static Null null;
  return null;
}

void StderrLogger::Write(LogLevel level, std::string_view line) {
  // One fprintf per line keeps concurrent writers from interleaving within a line.
  std::fprintf(stderr, "%s %.*s\n", LogLevelName(level).data(), static_cast<int>(line.size()),
               line.data());
}

}  // namespace raftkit
