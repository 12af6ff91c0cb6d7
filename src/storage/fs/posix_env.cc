// PosixEnv: the file seam on the real file system (Linux).
//
// Every descriptor is opened with O_CLOEXEC so that a child started with exec never inherits a
// file or, worse, a lock. Errors become kNotFound for ENOENT and kIoError otherwise, with messages
// of the form "<op> <path>: <reason>".
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "raftkit/storage/fs/env.h"

namespace raftkit::storage {
namespace {

Status PosixError(std::string_view op, std::string_view path, int err) {
  const ErrorCode code = err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIoError;
  // std::generic_category's message is the strerror text without strerror's shared buffer.
  return Status(code, fmt::format("{} {}: {}", op, path, std::generic_category().message(err)));
}

Status ClosedError(std::string_view op, std::string_view path) {
  return Status(ErrorCode::kIoError, fmt::format("{} {}: file is closed", op, path));
}

// Opens `path`, retrying when a signal interrupts the call.
int OpenRetrying(const std::string& path, int flags, mode_t mode = 0644) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// Writes all of `data` at `offset`, looping over short writes and EINTR. Returns 0 or an errno.
int PwriteFully(int fd, std::string_view data, uint64_t offset) {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return 0;
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixWritableFile() override { (void)Close(); }
  PosixWritableFile(const PosixWritableFile&) = delete;
  PosixWritableFile& operator=(const PosixWritableFile&) = delete;

  Status Append(std::string_view data) override {
    if (fd_ < 0) return ClosedError("append", path_);
    // pwrite at our own position rather than O_APPEND, so that Truncate can move the position.
    if (const int err = PwriteFully(fd_, data, size_); err != 0) {
      return PosixError("append", path_, err);
    }
    size_ += data.size();
    return Status::Ok();
  }

  Status Sync() override {
    if (fd_ < 0) return ClosedError("sync", path_);
    // fdatasync suffices: with preallocated blocks the size is the only metadata that changes, and
    // fdatasync flushes a size change too.
    if (::fdatasync(fd_) != 0) return PosixError("sync", path_, errno);
    return Status::Ok();
  }

  Status Preallocate(uint64_t len) override {
    if (fd_ < 0) return ClosedError("preallocate", path_);
    if (len == 0) return Status::Ok();  // fallocate rejects a zero length with EINVAL
    int rc;
    do {
      rc =
          ::fallocate(fd_, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(size_), static_cast<off_t>(len));
    } while (rc != 0 && errno == EINTR);
    // Some file systems (tmpfs on old kernels, NFS, ...) cannot reserve blocks; preallocation is
    // an optimisation, so that is not an error.
    if (rc != 0 && errno != EOPNOTSUPP && errno != ENOSYS) {
      return PosixError("preallocate", path_, errno);
    }
    return Status::Ok();
  }

  Status Truncate(uint64_t size) override {
    if (fd_ < 0) return ClosedError("truncate", path_);
    if (size > size_) {
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("truncate {}: size {} is beyond the end {}", path_, size, size_));
    }
    int rc;
    do {
      rc = ::ftruncate(fd_, static_cast<off_t>(size));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) return PosixError("truncate", path_, errno);
    size_ = size;
    return Status::Ok();
  }

  [[nodiscard]] uint64_t Size() const override { return size_; }

  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    // No retry on EINTR: on Linux the descriptor is released even when close reports it.
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return PosixError("close", path_, errno);
    return Status::Ok();
  }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;  // the write position
};

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }
  PosixSequentialFile(const PosixSequentialFile&) = delete;
  PosixSequentialFile& operator=(const PosixSequentialFile&) = delete;

  Status Read(size_t n, std::string* scratch) override {
    scratch->resize(n);
    size_t got = 0;
    // read(2) may return less than asked before the end of file (signals, pipes); only 0 is EOF.
    while (got < n) {
      const ssize_t r = ::read(fd_, scratch->data() + got, n - got);
      if (r < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        scratch->clear();
        return PosixError("read", path_, err);
      }
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    scratch->resize(got);
    return Status::Ok();
  }

  Status Skip(uint64_t n) override {
    if (::lseek(fd_, static_cast<off_t>(n), SEEK_CUR) < 0) return PosixError("skip", path_, errno);
    return Status::Ok();
  }

 private:
  std::string path_;
  int fd_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  // Closing the last descriptor of the open file description drops the flock.
  ~PosixFileLock() override { ::close(fd_); }
  PosixFileLock(const PosixFileLock&) = delete;
  PosixFileLock& operator=(const PosixFileLock&) = delete;

 private:
  int fd_;
};

// The pid a lock holder wrote into its lock file, or 0 if it cannot be read (yet).
pid_t ReadHolderPid(int fd) {
  char buf[32];
  const ssize_t n = ::pread(fd, buf, sizeof(buf), 0);
  if (n <= 0) return 0;
  pid_t pid = 0;
  const auto [end, ec] = std::from_chars(buf, buf + n, pid);
  (void)end;
  return ec == std::errc() ? pid : 0;
}

class PosixEnvImpl final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                     bool truncate) override {
    const int fd = OpenRetrying(path, O_WRONLY | O_CREAT | (truncate ? O_TRUNC : 0));
    if (fd < 0) return PosixError("open", path, errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return PosixError("stat", path, err);
    }
    return std::unique_ptr<WritableFile>(
        new PosixWritableFile(path, fd, static_cast<uint64_t>(st.st_size)));
  }

  Result<std::unique_ptr<SequentialFile>> OpenSequential(const std::string& path) override {
    const int fd = OpenRetrying(path, O_RDONLY);
    if (fd < 0) return PosixError("open", path, errno);
    return std::unique_ptr<SequentialFile>(new PosixSequentialFile(path, fd));
  }

  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    // glibc's opendir opens with O_CLOEXEC.
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError("list", dir, errno);
    std::vector<std::string> names;
    while (true) {
      errno = 0;
      const dirent* e = ::readdir(d);
      if (e == nullptr) break;
      const std::string_view name = e->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0) return PosixError("list", dir, err);
    std::sort(names.begin(), names.end());
    return names;
  }

  [[nodiscard]] bool Exists(const std::string& path) override {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
  }

  Result<uint64_t> FileSize(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Status CreateDirs(const std::string& dir) override {
    // mkdir each prefix in turn; EEXIST is fine as long as what exists is a directory.
    for (size_t pos = 0; pos != std::string::npos;) {
      pos = dir.find('/', pos + 1);
      const std::string prefix = dir.substr(0, pos);
      if (prefix.empty() || prefix.back() == '/') continue;  // "//" or a trailing '/'
      if (::mkdir(prefix.c_str(), 0755) == 0) continue;
      const int err = errno;
      struct stat st {};
      if (err == EEXIST && ::stat(prefix.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
      return PosixError("mkdir", prefix, err == EEXIST ? ENOTDIR : err);
    }
    return Status::Ok();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return PosixError("rename", fmt::format("{} to {}", from, to), errno);
    }
    return Status::Ok();
  }

  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) == 0) return Status::Ok();
    // Linux reports EISDIR for a directory; an empty one is removed like a file.
    if (errno == EISDIR && ::rmdir(path.c_str()) == 0) return Status::Ok();
    return PosixError("remove", path, errno);
  }

  Status Truncate(const std::string& path, uint64_t size) override {
    // truncate(2) would also extend; the contract only cuts, as MemEnv does.
    auto current = FileSize(path);
    if (!current.ok()) return current.status();
    if (size > *current) {
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("truncate {}: size {} is beyond the end {}", path, size, *current));
    }
    int rc;
    do {
      rc = ::truncate(path.c_str(), static_cast<off_t>(size));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) return PosixError("truncate", path, errno);
    return Status::Ok();
  }

  Status SyncDir(const std::string& dir) override {
    const int fd = OpenRetrying(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return PosixError("open", dir, errno);
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return PosixError("sync", dir, err);
    return Status::Ok();
  }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    const int fd = OpenRetrying(path, O_RDWR | O_CREAT);
    if (fd < 0) return PosixError("open", path, errno);
    // flock belongs to the open file description, so a second LockFile in this very process (a
    // second open) conflicts too, unlike fcntl record locks, which a process never conflicts with.
    int rc;
    do {
      rc = ::flock(fd, LOCK_EX | LOCK_NB);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      const int err = errno;
      if (err != EWOULDBLOCK) {
        ::close(fd);
        return PosixError("lock", path, err);
      }
      const pid_t holder = ReadHolderPid(fd);
      ::close(fd);
      std::string who = "another raftkit process";
      if (holder == ::getpid()) who = "this process";
      return Status(ErrorCode::kAlreadyExists,
                    holder == 0 ? fmt::format("{} is locked by {}", path, who)
                                : fmt::format("{} is locked by {} (pid {})", path, who, holder));
    }
    // Record the holder for the error message of whoever comes next. A failure here leaves the
    // lock unusable for diagnostics only, but report it: the disk is probably in trouble.
    const std::string pid = fmt::format("{}\n", ::getpid());
    if (::ftruncate(fd, 0) != 0) {
      const int err = errno;
      ::close(fd);
      return PosixError("truncate", path, err);
    }
    if (const int err = PwriteFully(fd, pid, 0); err != 0) {
      ::close(fd);
      return PosixError("write", path, err);
    }
    return std::unique_ptr<FileLock>(new PosixFileLock(fd));
  }
};

}  // namespace

Env* PosixEnv() {
  // Leaked on purpose: files may be closed from static destructors after main returns.
  static Env* const env = new PosixEnvImpl();
  return env;
}

}  // namespace raftkit::storage
