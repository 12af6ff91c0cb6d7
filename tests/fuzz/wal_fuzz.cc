// Fuzz target for WAL segments (docs/formats/wal.md): arbitrary bytes, stored as the only segment
// and as the second segment after a valid first one, must never crash or hang Scan, Open or
// Repair, and the three must agree:
//   * Open succeeds (or finds no WAL) exactly when Scan reports no damage or a crash tail;
//   * a WAL that Open accepted takes one more Save and opens again;
//   * after a Repair that succeeded, Open succeeds (or finds no WAL left).
//
// Seed corpus: tests/fuzz/corpus/wal/ (written by tests/storage/wal/format_test.cc). Builds as a
// libFuzzer target with clang, and with g++ as a plain object for a replay driver.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "raftkit/storage/fs/mem_env.h"
#include "raftkit/storage/wal/wal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using raftkit::ErrorCode;
using raftkit::Index;
using raftkit::storage::MemEnv;
namespace wal = raftkit::storage::wal;

constexpr const char* kDir = "/wal";
constexpr uint64_t kSegmentSize = 1024;

void Check(bool ok) {
  if (!ok) std::abort();
}

wal::Options MakeOptions(MemEnv* env) {
  wal::Options o;
  o.env = env;
  o.dir = kDir;
  o.segment_size = kSegmentSize;
  return o;
}

raftkit::raftpb::Entry MakeEntry(uint64_t index) {
  raftkit::raftpb::Entry e;
  e.index = Index(index);
  e.term = raftkit::Term(1);
  e.data = raftkit::Bytes(std::string(40, 'e'));
  return e;
}

// Opens, and if that works, saves one more entry and opens again.
bool OpenAndContinue(const wal::Options& o) {
  wal::Contents c;
  auto w = wal::Wal::Open(o, &c);
  if (w.code() == ErrorCode::kNotFound) return true;
  if (!w.ok()) return false;
  const Index next = (*w)->last_index() + 1;
  if (next == Index(0)) return true;  // a fuzzed index at the very end of the range
  Check((*w)->Save({}, std::vector{MakeEntry(next.value())}).ok());
  Check((*w)->Close().ok());
  wal::Contents again;
  auto reopened = wal::Wal::Open(o, &again);
  Check(reopened.ok());
  Check(!again.entries.empty() && again.entries.back().index == next);
  return true;
}

void Exercise(MemEnv* env) {
  const wal::Options o = MakeOptions(env);
  size_t records = 0;
  auto scanned = wal::Scan(env, kDir, [&](const wal::RecordInfo&) { ++records; });
  Check(scanned.ok());
  const bool acceptable = !scanned->has_value() || (*scanned)->tail;
  const bool opened = OpenAndContinue(o);
  Check(opened == acceptable);
  if (opened) return;
  for (bool accept_loss : {false, true}) {
    auto repaired = wal::Repair(o, accept_loss);
    if (repaired.ok()) {
      Check(repaired->changed);
      Check(OpenAndContinue(o));
      return;
    }
    Check(repaired.code() == ErrorCode::kCorruption);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  {
    MemEnv env;
    env.SetContents(std::string(kDir) + "/0000000000000000-0000000000000001.wal", bytes);
    Exercise(&env);
  }
  {
    // A valid first segment, then the input as the segment the WAL cut to.
    MemEnv env;
    auto w = wal::Wal::Create(MakeOptions(&env), wal::Metadata{1, 0x1000, "kv"});
    Check(w.ok());
    uint64_t i = 1;
    while ((*w)->segments().size() < 2) {
      Check((*w)->Save({}, std::vector{MakeEntry(i++)}).ok());
    }
    const std::string second = (*w)->segments().back();
    Check((*w)->Close().ok());
    env.SetContents(std::string(kDir) + "/" + second, bytes);
    Exercise(&env);
  }
  return 0;
}
