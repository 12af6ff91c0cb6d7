// A real process is killed with SIGKILL at random moments while it appends to a DiskStorage on the
// real file system; after each kill the parent reopens the directory and checks that every entry
// the child acknowledged (reported after SaveReady's fdatasync returned) is there with its exact
// content, and that the log holds nothing that was never written. The child then continues from
// what survived, so each round also tests appending after a recovery.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "raftkit/storage/disk_storage.h"
#include "raftkit/util/rand.h"

namespace raftkit::storage {
namespace {

// The content of entry `index`: deterministic, of varying size (1 B .. 4 KiB).
std::string Payload(uint64_t index) {
  Rand r(index * 0x9e3779b97f4a7c15ULL);
  std::string s(1 + r.Uniform(4096), '\0');
  for (auto& c : s)
    c = static_cast<char>('a' + r.Uniform(26));
  return s;
}

DiskStorageOptions Options(const std::string& dir) {
  DiskStorageOptions o;
  o.dir = dir;
  o.node_id = 1;
  o.cluster_id = 42;
  o.segment_size = 256 << 10;  // cuts happen while the child is being killed
  return o;
}

// The child: append batches forever, acknowledging each synced batch's last index on `ack_fd`.
[[noreturn]] void ChildAppends(const std::string& dir, int ack_fd, uint64_t seed) {
  auto s = DiskStorage::Open(Options(dir));
  if (!s.ok()) {
    std::fprintf(stderr, "child: open: %s\n", s.status().ToString().c_str());
    _exit(3);
  }
  Rand r(seed);
  uint64_t next = s.value()->LastIndex().value().value() + 1;
  for (;;) {
    std::vector<raftpb::Entry> batch;
    const uint64_t n = 1 + r.Uniform(64);
    for (uint64_t k = 0; k < n; ++k) {
      raftpb::Entry e;
      e.index = Index(next + k);
      e.term = Term(1);
      e.data = Bytes(Payload(next + k));
      batch.push_back(std::move(e));
    }
    raftpb::HardState hs;
    hs.term = Term(1);
    hs.vote = NodeId(1);
    hs.commit = Index(next + n - 1);
    Status st = s.value()->Save(hs, batch, {}, /*sync=*/true);
    if (!st.ok()) {
      std::fprintf(stderr, "child: save: %s\n", st.ToString().c_str());
      _exit(4);
    }
    next += n;
    const uint64_t acked = next - 1;
    if (write(ack_fd, &acked, sizeof acked) != sizeof acked) _exit(5);
  }
}

TEST(DiskStorageProcessCrashTest, EveryAcknowledgedEntrySurvivesSigkill) {
  const bool long_budget =
      std::getenv("RAFTKIT_BUDGET") && std::string(std::getenv("RAFTKIT_BUDGET")) == "long";
  const int rounds = long_budget ? 200 : 25;
  char tmpl[] = "/tmp/raftkit-crash-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  struct Cleanup {
    std::string d;
    ~Cleanup() { std::filesystem::remove_all(d); }
  } cleanup{dir};

  Rand r(20261122);
  uint64_t acked_max = 0;
  uint64_t total_acks = 0;
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      ChildAppends(dir, fds[1], r.Next());
    }
    close(fds[1]);
    // Let the child run for a random time (it must at least have opened and acknowledged once in
    // most rounds), then kill it without warning.
    const auto budget = std::chrono::milliseconds(5 + r.Uniform(150));
    const auto deadline = std::chrono::steady_clock::now() + budget;
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    uint64_t v = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      const ssize_t got = read(fds[0], &v, sizeof v);
      if (got == sizeof v) {
        acked_max = std::max(acked_max, v);
        ++total_acks;
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    }
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    // Acknowledgements already in the pipe were sent before the kill: they count too.
    while (read(fds[0], &v, sizeof v) == sizeof v) {
      acked_max = std::max(acked_max, v);
      ++total_acks;
    }
    close(fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status))
        << "the child exited by itself with status " << WEXITSTATUS(status);

    auto s = DiskStorage::Open(Options(dir));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    const Index last = s.value()->LastIndex().value();
    ASSERT_GE(last.value(), acked_max) << "an acknowledged entry was lost";
    if (last.value() > 0) {
      auto ents = s.value()->Entries(Index(1), last + 1, UINT64_MAX);
      ASSERT_TRUE(ents.ok());
      ASSERT_EQ(ents->size(), last.value());
      for (const auto& e : *ents) {
        ASSERT_EQ(e.data.view(), Payload(e.index.value())) << "entry " << e.index.value();
      }
    }
    ASSERT_TRUE(s.value()->Close().ok());
  }
  EXPECT_GT(total_acks, 0u);
  std::printf(
      "process crash test: %d SIGKILLs, %llu acknowledged batches, last acknowledged "
      "index %llu, all present\n",
      rounds, static_cast<unsigned long long>(total_acks),
      static_cast<unsigned long long>(acked_max));
}

}  // namespace
}  // namespace raftkit::storage
