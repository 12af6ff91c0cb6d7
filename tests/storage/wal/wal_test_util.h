// Helpers shared by the WAL tests: entries, options on a MemEnv, and a reader of segment files.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "raftkit/raftpb/types.h"
#include "raftkit/storage/fs/mem_env.h"
#include "raftkit/storage/wal/wal.h"

namespace raftkit::storage::wal::waltest {

inline constexpr const char* kDir = "/wal";

inline raftpb::Entry MakeEntry(uint64_t index, uint64_t term, std::string data = "") {
  raftpb::Entry e;
  e.index = Index(index);
  e.term = Term(term);
  e.data = Bytes(data.empty() ? fmt::format("entry {} term {}", index, term) : std::move(data));
  return e;
}

/// Entries [lo, hi] of one term.
inline std::vector<raftpb::Entry> MakeEntries(uint64_t lo, uint64_t hi, uint64_t term) {
  std::vector<raftpb::Entry> out;
  for (uint64_t i = lo; i <= hi; ++i)
    out.push_back(MakeEntry(i, term));
  return out;
}

inline raftpb::HardState MakeHardState(uint64_t term, uint64_t vote, uint64_t commit) {
  raftpb::HardState hs;
  hs.term = Term(term);
  hs.vote = NodeId(vote);
  hs.commit = Index(commit);
  return hs;
}

inline Options MemOptions(MemEnv* env, uint64_t segment_size = 64ull << 20) {
  Options o;
  o.env = env;
  o.dir = kDir;
  o.segment_size = segment_size;
  // Deterministic order of file operations, so a crash point reproduces (PosixEnv tests and the
  // benchmark exercise the background spare).
  o.background_spare = false;
  return o;
}

inline Metadata TestMetadata() {
  return Metadata{0x11, 0xc1, "app"};
}

inline std::string SegPath(const std::string& name) {
  return std::string(kDir) + "/" + name;
}

/// The indexes of `entries`, for compact assertions.
inline std::vector<uint64_t> Indexes(const std::vector<raftpb::Entry>& entries) {
  std::vector<uint64_t> out;
  out.reserve(entries.size());
  for (const raftpb::Entry& e : entries)
    out.push_back(e.index.value());
  return out;
}

/// Every record Scan finds, and the damage it reports.
struct ScanResult {
  std::vector<RecordInfo> records;
  std::optional<Damage> damage;
};

inline ScanResult ScanAll(Env* env, const std::string& dir = kDir) {
  ScanResult out;
  auto r = Scan(env, dir, [&](const RecordInfo& info) { out.records.push_back(info); });
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (r.ok()) out.damage = *r;
  return out;
}

/// Opens the WAL, failing the test on error.
inline std::unique_ptr<Wal> MustOpen(const Options& o, Contents* c) {
  auto w = Wal::Open(o, c);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  return w.ok() ? std::move(w).value() : nullptr;
}

}  // namespace raftkit::storage::wal::waltest
