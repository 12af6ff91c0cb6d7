// MemEnv: an in-memory Env that simulates crashes and injects faults, for storage tests.
//
// It models the durability contract of env.h strictly:
//   * each file has a synced prefix (bytes made durable by Sync) and an unsynced rest;
//   * the directory (the map of names to files) has a durable image that SyncDir(dir) refreshes
//     for that directory's entries; creations, renames and removals not yet synced are undone by
//     a crash.
// Crash() turns the current state into what a power failure would leave, per a policy for the
// unsynced bytes. FailAfter() makes the process "die" at a chosen mutating operation, so a test can
// enumerate every write and sync point of a workload.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "raftkit/storage/fs/env.h"

namespace raftkit::storage {

/// What a crash does to the bytes of a file that were written but not synced.
enum class UnsyncedFate {
  kLose,            ///< all of them are lost (the file ends at its synced prefix)
  kKeepTornPrefix,  ///< a random-length prefix of them survives
  kGarble,          ///< a random-length prefix survives with some bytes flipped
  kKeepAll,         ///< all survive (a process crash without a power failure)
};

class MemEnv final : public Env {
 public:
  MemEnv();
  ~MemEnv() override;

  // --- Env ---
  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                     bool truncate) override;
  Result<std::unique_ptr<SequentialFile>> OpenSequential(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override;
  [[nodiscard]] bool Exists(const std::string& path) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  Status CreateDirs(const std::string& dir) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& dir) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

  // --- crash simulation ---
  /// A power failure: every file keeps its synced bytes and its unsynced bytes meet `fate`
  /// (random choices drawn from `seed`); unsynced directory changes are undone; locks are
  /// released; handles opened before the crash fail every later call with kIoError. Clears any
  /// FailAfter. The env is usable again afterwards (a "reboot").
  void Crash(UnsyncedFate fate, uint64_t seed);

  // --- fault injection ---
  /// The `n`-th mutating operation from now (counting from 1; mutating = OpenWritable, Append,
  /// Sync, Preallocate, Truncate, Rename, Remove, SyncDir) fails with kIoError, and so does every
  /// later one until Crash() or ClearFailure(): the process is considered dead from that point.
  /// A failing Append first writes a random-length prefix of its data (a torn write).
  void FailAfter(uint64_t n);
  void ClearFailure();
  /// Mutating operations performed (successfully or not) since construction.
  [[nodiscard]] uint64_t mutating_ops() const;

  // --- direct inspection and damage (bypass fault injection; for edge-case tests) ---
  /// The current content of a file (synced or not). kNotFound if missing.
  Result<std::string> Contents(const std::string& path) const;
  /// Creates or replaces a file with `data`, durable (synced, and its name synced).
  void SetContents(const std::string& path, std::string data);
  /// XORs the byte at `offset` with `mask` (offset must be inside the file).
  void FlipByte(const std::string& path, uint64_t offset, uint8_t mask = 0x5a);
  /// The length of the synced prefix of a file (0 if missing).
  [[nodiscard]] uint64_t SyncedSize(const std::string& path) const;

 private:
  struct FileData;
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace raftkit::storage
