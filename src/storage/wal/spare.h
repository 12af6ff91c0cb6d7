// The spare segment: the next segment file, created, preallocated and made durable by a background
// thread while the current segment fills, so that cutting a segment on the hot path is a rename.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "raftkit/storage/fs/env.h"
#include "raftkit/util/status.h"

namespace raftkit::storage::wal::internal {

class SpareFile {
 public:
  /// The spare is `dir`/spare.tmp, preallocated to `size` bytes if `preallocate`. With
  /// `background` false, StartPreparing() prepares it on the caller's thread (deterministic file
  /// operation order, for crash tests).
  SpareFile(Env* env, std::string dir, uint64_t size, bool preallocate, bool background = true);
  /// Waits for a preparation in progress (the file it made stays on disk).
  ~SpareFile();
  SpareFile(const SpareFile&) = delete;
  SpareFile& operator=(const SpareFile&) = delete;

  /// Starts preparing a fresh spare in the background. Requires that none is held or in progress.
  void StartPreparing();
  /// Waits for the background preparation; if it failed (or was never started) prepares the spare
  /// now. Returns the spare, open for appending at offset 0, and forgets it.
  Result<std::unique_ptr<WritableFile>> Take();
  /// Waits for a preparation in progress, if any.
  void Wait();

  [[nodiscard]] std::string path() const;

 private:
  Result<std::unique_ptr<WritableFile>> Prepare() const;

  Env* env_;
  std::string dir_;
  uint64_t size_;
  bool preallocate_;
  bool background_;
  std::thread thread_;
  // Written by the thread, read after join (which orders the two).
  Result<std::unique_ptr<WritableFile>> prepared_;
};

}  // namespace raftkit::storage::wal::internal
