#include "testlib/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace raftkit::testing {

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& log_path,
                           const std::string& cwd) {
  std::vector<std::string> args = argv;
  std::vector<char*> cargs;
  for (auto& a : args)
    cargs.push_back(a.data());
  cargs.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  pid_t pid = 0;
  if (posix_spawn(&pid, cargs[0], &fa, nullptr, cargs.data(), environ) == 0) pid_ = pid;
  posix_spawn_file_actions_destroy(&fa);
}

ChildProcess::~ChildProcess() {
  Stop(SIGKILL);
}

void ChildProcess::Signal(int sig) const {
  if (pid_ > 0) kill(pid_, sig);
}

int ChildProcess::Stop(int sig) {
  if (pid_ <= 0) return status_;
  kill(pid_, sig);
  // A stopped process does not act on SIGTERM until it is continued.
  kill(pid_, SIGCONT);
  waitpid(pid_, &status_, 0);
  pid_ = -1;
  return status_;
}

bool ChildProcess::Running() {
  if (pid_ <= 0) return false;
  if (waitpid(pid_, &status_, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

uint16_t TestPortBase() {
  return static_cast<uint16_t>(20000 + (getpid() % 600) * 20);
}

}  // namespace raftkit::testing
