// The logging seam. The Raft core never writes anywhere by itself: it reports through a Logger
// the embedding application injects (the server wires spdlog; tests capture lines).
#pragma once

#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace raftkit {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

/// "DEBUG", "INFO", "WARN", "ERROR".
std::string_view LogLevelName(LogLevel level) noexcept;

/// Receives fully formatted lines. Implementations must be callable from the thread that drives
/// the component using them; the core calls it from inside Step/Tick/Ready.
class Logger {
 public:
  virtual ~Logger() = default;
  /// Whether lines at `level` are wanted; formatting is skipped when not.
  [[nodiscard]] virtual bool Enabled(LogLevel level) const = 0;
  virtual void Write(LogLevel level, std::string_view line) = 0;

  template <class... Args>
  void Logf(LogLevel level, fmt::format_string<Args...> f, Args&&... args) {
    if (Enabled(level)) Write(level, fmt::format(f, std::forward<Args>(args)...));
  }
  template <class... Args>
  void Debugf(fmt::format_string<Args...> f, Args&&... args) {
    Logf(LogLevel::kDebug, f, std::forward<Args>(args)...);
  }
  template <class... Args>
  void Infof(fmt::format_string<Args...> f, Args&&... args) {
    Logf(LogLevel::kInfo, f, std::forward<Args>(args)...);
  }
  template <class... Args>
  void Warnf(fmt::format_string<Args...> f, Args&&... args) {
    Logf(LogLevel::kWarn, f, std::forward<Args>(args)...);
  }
  template <class... Args>
  void Errorf(fmt::format_string<Args...> f, Args&&... args) {
    Logf(LogLevel::kError, f, std::forward<Args>(args)...);
  }
};

/// Discards everything. The default of components that were given no logger.
Logger& NullLogger() noexcept;

/// Writes "<UTC time, ms> <LEVEL> <line>" to stderr for levels >= min_level, e.g.
/// "2026-11-22T21:40:01.123Z WARN ...". Handy in tools and while debugging.
class StderrLogger final : public Logger {
 public:
  explicit StderrLogger(LogLevel min_level = LogLevel::kInfo) : min_(min_level) {}
  [[nodiscard]] bool Enabled(LogLevel level) const override { return level >= min_; }
  void Write(LogLevel level, std::string_view line) override;

 private:
  LogLevel min_;
};

}  // namespace raftkit

/// RAFTKIT_LOG(logger, level, "format {}", args...): formats and writes only when the level is
/// enabled, so that arguments (which may be costly to compute) are not evaluated otherwise. Hot
/// paths use this rather than Logger::Infof and friends.
#define RAFTKIT_LOG(logger, level, ...)                                                   \
  do {                                                                                    \
    ::raftkit::Logger& raftkit_lg_ = (logger);                                            \
    if (raftkit_lg_.Enabled(level)) raftkit_lg_.Write(level, ::fmt::format(__VA_ARGS__)); \
  } while (0)
