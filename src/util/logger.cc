#include "raftkit/util/logger.h"

#include <cstdio>
#include <ctime>

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
  // A UTC timestamp with milliseconds: logs of several members line up, whatever their zones.
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char stamp[32];
  const size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  // One fprintf per line keeps concurrent writers from interleaving within a line.
  std::fprintf(stderr, "%.*s.%03ldZ %s %.*s\n", static_cast<int>(n), stamp, ts.tv_nsec / 1000000,
               LogLevelName(level).data(), static_cast<int>(line.size()), line.data());
}

}  // namespace raftkit
