// WAL benchmarks on the real disk (not tmpfs): group-commit append throughput beside the raw
// write+fdatasync rate of the same disk, and replay speed on restart.
//
//   wal_bench [--benchmark_filter=...]     files go to $RAFTKIT_BENCH_DIR (default: the current
//                                          directory), in a scratch directory removed afterwards
//
// BM_RawWriteSync/<entry bytes>/<batch>: one write(2) of batch * (entry bytes + 16) appended to a
//   preallocated file and one fdatasync per iteration — the ceiling group commit is measured
//   against.
// BM_WalSave/<entry bytes>/<batch>: Wal::Save of `batch` entries with sync, one fdatasync each;
//   old segments are released (untimed) as a node does after snapshots.
// BM_WalReplay/<entries>: Wal::Open of a WAL holding that many 100-byte entries.
// Counters: entries/s ("entries"), bytes/s of entry payload ("bytes_per_second").
#include <fcntl.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "raftkit/storage/wal/wal.h"

namespace {

using raftkit::Bytes;
using raftkit::Index;
using raftkit::Term;
namespace wal = raftkit::storage::wal;

// Set when any benchmark fails, so a smoke run in CI catches a broken WAL.
bool g_failed = false;
void Fail(benchmark::State& state, const std::string& why) {
  g_failed = true;
  state.SkipWithError(why.c_str());
}

std::string ScratchDir(const std::string& name) {
  const char* base = std::getenv("RAFTKIT_BENCH_DIR");
  std::filesystem::path p = base ? base : std::filesystem::current_path().string();
  p /= "raftkit-bench-" + name + "-" + std::to_string(getpid());
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

std::vector<raftkit::raftpb::Entry> Batch(uint64_t first, int n, size_t size) {
  std::vector<raftkit::raftpb::Entry> es(static_cast<size_t>(n));
  const Bytes payload(std::string(size, 'x'));
  for (int k = 0; k < n; ++k) {
    es[static_cast<size_t>(k)].index = Index(first + static_cast<uint64_t>(k));
    es[static_cast<size_t>(k)].term = Term(1);
    es[static_cast<size_t>(k)].data = payload;
  }
  return es;
}

// Appends to fresh 64 MiB files preallocated with fallocate(KEEP_SIZE), as the WAL's segments
// are, so both pay the same page-cache and block-allocation costs; switching files is not timed.
void BM_RawWriteSync(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  const int batch = static_cast<int>(state.range(1));
  const std::string dir = ScratchDir("raw");
  constexpr off_t kFile = 64ll << 20;
  int fd = -1;
  int files = 0;
  auto next_file = [&]() {
    if (fd >= 0) {
      close(fd);
      std::filesystem::remove(dir + "/raw" + std::to_string(files - 1) + ".dat");
    }
    const std::string path = dir + "/raw" + std::to_string(files++) + ".dat";
    fd = open(path.c_str(), O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) (void)fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, kFile);
    return fd >= 0;
  };
  if (!next_file()) {
    Fail(state, "open failed");
    return;
  }
  // The same bytes a WAL batch writes: payload plus a 16-byte record header per entry (the
  // entry's own encoding adds ~10 bytes more, which this ceiling leaves out).
  const std::string buf(static_cast<size_t>(batch) * (size + 16), 'r');
  off_t off = 0;
  for (auto _ : state) {
    if (off + static_cast<off_t>(buf.size()) > kFile) {
      state.PauseTiming();
      const bool ok = next_file();
      off = 0;
      state.ResumeTiming();
      if (!ok) {
        Fail(state, "open failed");
        break;
      }
    }
    if (pwrite(fd, buf.data(), buf.size(), off) != static_cast<ssize_t>(buf.size()) ||
        fdatasync(fd) != 0) {
      Fail(state, "write/fdatasync failed");
      break;
    }
    off += static_cast<off_t>(buf.size());
  }
  if (fd >= 0) close(fd);
  std::filesystem::remove_all(dir);
  state.counters["entries"] = benchmark::Counter(static_cast<double>(state.iterations()) * batch,
                                                 benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * batch *
                          static_cast<int64_t>(size));
}

void BM_WalSave(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  const int batch = static_cast<int>(state.range(1));
  const std::string dir = ScratchDir("save");
  wal::Options o;
  o.dir = dir + "/wal";
  auto w = wal::Wal::Create(o, wal::Metadata{1, 1, {}});
  if (!w.ok()) {
    Fail(state, w.status().ToString());
    return;
  }
  raftkit::raftpb::HardState hs;
  hs.term = Term(1);
  hs.vote = raftkit::NodeId(1);
  uint64_t next = 1;
  for (auto _ : state) {
    state.PauseTiming();
    auto es = Batch(next, batch, size);
    state.ResumeTiming();
    if (!w.value()->Save(hs, es, true).ok()) {
      Fail(state, "save failed");
      break;
    }
    next += static_cast<uint64_t>(batch);
    if (w.value()->segments().size() > 2) {
      // What a node does after a snapshot: whole old segments go. Keeps the page cache and disk
      // usage bounded like the raw benchmark's (which deletes each file it has filled).
      state.PauseTiming();
      (void)w.value()->ReleaseTo(Index(next));
      state.ResumeTiming();
    }
  }
  (void)w.value()->Close();
  std::filesystem::remove_all(dir);
  state.counters["entries"] = benchmark::Counter(static_cast<double>(state.iterations()) * batch,
                                                 benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * batch *
                          static_cast<int64_t>(size));
}

void BM_WalReplay(benchmark::State& state) {
  const int64_t n = state.range(0);
  const std::string dir = ScratchDir("replay");
  wal::Options o;
  o.dir = dir + "/wal";
  {
    auto w = wal::Wal::Create(o, wal::Metadata{1, 1, {}}).value();
    raftkit::raftpb::HardState hs;
    hs.term = Term(1);
    uint64_t next = 1;
    while (next <= static_cast<uint64_t>(n)) {
      const int b = static_cast<int>(std::min<int64_t>(4096, n - static_cast<int64_t>(next) + 1));
      auto es = Batch(next, b, 100);
      next += static_cast<uint64_t>(b);
      hs.commit = Index(next - 1);
      if (!w->Save(hs, es, false).ok()) {
        Fail(state, "setup failed");
        return;
      }
    }
    (void)w->Close();
  }
  for (auto _ : state) {
    wal::Contents c;
    auto w = wal::Wal::Open(o, &c);
    if (!w.ok() || c.entries.size() != static_cast<size_t>(n)) {
      Fail(state, "replay failed");
      break;
    }
    benchmark::DoNotOptimize(c.entries.data());
    state.PauseTiming();
    (void)w.value()->Close();
    state.ResumeTiming();
  }
  std::filesystem::remove_all(dir);
  state.counters["entries"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(n),
                         benchmark::Counter::kIsRate);
}

// Each raw/WAL pair runs back to back, so both see the same disk conditions (a large write leaves
// writeback running that slows whatever runs next).
[[maybe_unused]] const bool kRegistered = [] {
  for (int64_t bytes : {100, 4096}) {
    for (int64_t batch : {1, 16, 256}) {
      benchmark::RegisterBenchmark("BM_RawWriteSync", BM_RawWriteSync)
          ->Args({bytes, batch})
          ->ArgNames({"bytes", "batch"})
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark("BM_WalSave", BM_WalSave)
          ->Args({bytes, batch})
          ->ArgNames({"bytes", "batch"})
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::RegisterBenchmark("BM_WalReplay", BM_WalReplay)
      ->Arg(1000000)
      ->ArgName("entries")
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  const size_t ran = benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (ran == 0) {
    std::fprintf(stderr, "wal_bench: no benchmark matched the filter\n");
    return 1;
  }
  return g_failed ? 1 : 0;
}
