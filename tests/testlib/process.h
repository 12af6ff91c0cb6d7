// Child processes for the multi-process suites (e2e, interop, chaos): started with posix_spawn,
// their output appended to a log file, and always ended by the test that started them (by PID).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace raftkit::testing {

/// A process the test started. Destroying it sends SIGKILL and reaps it.
class ChildProcess {
 public:
  /// Starts argv[0] with `argv`, stdout and stderr appended to `log_path`, in `cwd` (empty: the
  /// test's). Check ok(): false when the program could not be started.
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path,
               const std::string& cwd = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  [[nodiscard]] bool ok() const { return pid_ > 0; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  /// Sends `sig` (SIGSTOP, SIGCONT, ...) without waiting.
  void Signal(int sig) const;
  /// Sends `sig` and waits until the process ended; returns its wait status. Idempotent.
  int Stop(int sig);
  /// Whether it has not ended yet (reaps it if it has).
  [[nodiscard]] bool Running();

 private:
  pid_t pid_ = -1;
  int status_ = 0;
};

/// The first of 20 ports that belong to this test process: derived from its pid so that suites
/// running in parallel do not collide, and below Linux's ephemeral range (32768 and up).
uint16_t TestPortBase();

}  // namespace raftkit::testing
