// The file-system seam of the storage layer (STYLE.md practice 10, after leveldb's Env/memenv).
//
// Everything the WAL and the snapshotter do to disk goes through an Env: PosixEnv() for real
// files, MemEnv (mem_env.h) for tests that inject faults and crashes. The interface is small on
// purpose: only the operations whose durability semantics storage code reasons about.
//
// Durability model (what storage code may assume, and what MemEnv simulates):
//   * Bytes written to a file are durable only after WritableFile::Sync() returns OK.
//   * Creating, renaming or removing a directory entry is durable only after SyncDir() of the
//     directory containing it returns OK.
//   * After a crash, unsynced bytes may be lost, partially kept (a torn prefix), or garbled.
// All paths are plain strings; directories are joined with '/'.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "raftkit/util/status.h"

namespace raftkit::storage {

/// A file open for appending. Not thread-safe: one writer at a time.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  /// Appends `data` at the current end (the write position). kIoError on failure; after a failure
  /// the file's state is unknown and the caller must stop using it.
  virtual Status Append(std::string_view data) = 0;
  /// Makes every byte appended so far durable (fdatasync).
  virtual Status Sync() = 0;
  /// Reserves `len` bytes of disk from the current end without changing the logical write
  /// position (fallocate with KEEP_SIZE semantics: later appends do not allocate blocks, so
  /// Sync() need not update the file size). A no-op where unsupported.
  virtual Status Preallocate(uint64_t len) = 0;
  /// Cuts the file to `size` bytes (<= the current size) and moves the write position there.
  virtual Status Truncate(uint64_t size) = 0;
  /// The write position: bytes appended (or present when opened) so far.
  [[nodiscard]] virtual uint64_t Size() const = 0;
  /// Closes the file; unsynced bytes are not made durable. Called by the destructor if needed.
  virtual Status Close() = 0;
};

/// A file open for sequential reading.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  /// Reads up to `n` bytes into `scratch` (resized to what was read; empty at the end of file).
  virtual Status Read(size_t n, std::string* scratch) = 0;
  /// Skips `n` bytes forward.
  virtual Status Skip(uint64_t n) = 0;
};

/// A held exclusive lock on a file (see Env::LockFile); released by the destructor.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  /// Opens `path` for appending, creating it if missing. With `truncate`, existing content is
  /// discarded; otherwise the write position is the current end.
  virtual Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                             bool truncate) = 0;
  /// Opens an existing file for reading. kNotFound if it does not exist.
  virtual Result<std::unique_ptr<SequentialFile>> OpenSequential(const std::string& path) = 0;
  /// The whole content of a (small) file. kNotFound if it does not exist.
  virtual Result<std::string> ReadFile(const std::string& path);

  /// The names (not paths) of the entries in `dir`, sorted, without "." and "..".
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  [[nodiscard]] virtual bool Exists(const std::string& path) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  /// Creates `dir` and its missing parents; OK if it exists.
  virtual Status CreateDirs(const std::string& dir) = 0;
  /// Atomically replaces `to` with `from` (rename(2)).
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status Remove(const std::string& path) = 0;
  /// Cuts the file at `path` to `size` bytes.
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  /// Makes the directory's entries (creations, renames, removals) durable (fsync on the dir).
  virtual Status SyncDir(const std::string& dir) = 0;

  /// Takes an exclusive, advisory, process-level lock on `path` (created if missing). A second
  /// holder, in this or another process, gets kAlreadyExists with a message naming the path and,
  /// where known, the holder's pid. The lock dies with the process.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
};

/// An Env that forwards every call to another one; derive from it and override only what a test
/// (or a decorator) needs to observe or change. `base` must outlive the wrapper.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* base) : base_(base) {}

  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                     bool truncate) override {
    return base_->OpenWritable(path, truncate);
  }
  Result<std::unique_ptr<SequentialFile>> OpenSequential(const std::string& path) override {
    return base_->OpenSequential(path);
  }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return base_->ListDir(dir);
  }
  [[nodiscard]] bool Exists(const std::string& path) override { return base_->Exists(path); }
  Result<uint64_t> FileSize(const std::string& path) override { return base_->FileSize(path); }
  Status CreateDirs(const std::string& dir) override { return base_->CreateDirs(dir); }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_->Rename(from, to);
  }
  Status Remove(const std::string& path) override { return base_->Remove(path); }
  Status Truncate(const std::string& path, uint64_t size) override {
    return base_->Truncate(path, size);
  }
  Status SyncDir(const std::string& dir) override { return base_->SyncDir(dir); }
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    return base_->LockFile(path);
  }

  [[nodiscard]] Env* base() const { return base_; }

 private:
  Env* base_;
};

/// The real file system (POSIX: open/pwrite/fdatasync/fallocate/flock). Never destroyed.
Env* PosixEnv();

/// "dir/name", tolerating a trailing '/' on dir.
std::string JoinPath(std::string_view dir, std::string_view name);

}  // namespace raftkit::storage
