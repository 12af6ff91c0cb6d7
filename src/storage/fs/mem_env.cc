// MemEnv: an in-memory file system that forgets what a power failure would forget.
//
// The model is an inode tree, because that is what makes renames of whole directories come out
// right: a Dir holds its current entries and the durable image of them that its last SyncDir saw,
// and both point at the same file objects (inodes), so bytes written to a file are visible through
// either. A crash walks the durable images from the root, and cuts every file it reaches back to
// its synced prefix plus whatever the UnsyncedFate lets survive.
//
// Directory creation is the one simplification: CreateDirs (and SetContents' missing parents)
// make new directories durable at once, as if the parent had been synced. Storage code creates
// its directories once at startup, and the WAL's and the snapshotter's crash tests are about the
// files inside them.
#include "raftkit/storage/fs/mem_env.h"

#include <algorithm>
#include <set>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "raftkit/util/panic.h"
#include "raftkit/util/rand.h"

namespace raftkit::storage {

struct MemEnv::FileData {
  std::string data;
  // Invariant: synced <= data.size(). Bytes [0, synced) survive a crash.
  uint64_t synced = 0;
};

struct MemEnv::State {
  struct Dir;
  using FilePtr = std::shared_ptr<FileData>;
  using DirPtr = std::shared_ptr<Dir>;
  using Node = std::variant<FilePtr, DirPtr>;
  struct Dir {
    std::map<std::string, Node> entries;  // what the process sees now
    std::map<std::string, Node> durable;  // what a crash would leave (as of the last SyncDir)
  };

  class Writable;
  class Sequential;
  class Lock;

  // Where a path leads: its parent directory (null if the parent is missing) and its last name.
  struct Resolved {
    DirPtr parent;
    std::string name;  // empty for the root
    Node* node = nullptr;
  };

  mutable std::mutex mu;
  DirPtr root = std::make_shared<Dir>();
  // Bumped by Crash(); handles and locks from an older generation are dead.
  uint64_t generation = 0;
  std::map<std::string, uint64_t> locks;  // normalized path -> generation it was taken in
  uint64_t ops = 0;
  uint64_t fail_from = 0;  // 0: no failure armed; else the op number from which all ops fail
  Rand rng{1};

  // Splits on '/', dropping empty and "." components: "/a//b/" and "a/./b" are both {a, b}.
  static std::vector<std::string> Split(std::string_view path) {
    std::vector<std::string> parts;
    while (!path.empty()) {
      const size_t slash = path.find('/');
      const std::string_view part = path.substr(0, slash);
      if (!part.empty() && part != ".") parts.emplace_back(part);
      if (slash == std::string_view::npos) break;
      path.remove_prefix(slash + 1);
    }
    return parts;
  }

  static std::string Normalize(std::string_view path) {
    std::string out;
    for (const std::string& part : Split(path)) {
      out += '/';
      out += part;
    }
    return out.empty() ? "/" : out;
  }

  // The directory at `parts` (all of them), or null.
  DirPtr FindDir(const std::vector<std::string>& parts, size_t count) const {
    DirPtr dir = root;
    for (size_t i = 0; i < count; ++i) {
      auto it = dir->entries.find(parts[i]);
      if (it == dir->entries.end()) return nullptr;
      const DirPtr* next = std::get_if<DirPtr>(&it->second);
      if (next == nullptr) return nullptr;
      dir = *next;
    }
    return dir;
  }

  Resolved Resolve(std::string_view path) const {
    const std::vector<std::string> parts = Split(path);
    Resolved r;
    if (parts.empty()) return r;  // the root: no parent, no name
    r.parent = FindDir(parts, parts.size() - 1);
    r.name = parts.back();
    if (r.parent != nullptr) {
      auto it = r.parent->entries.find(r.name);
      if (it != r.parent->entries.end()) r.node = &it->second;
    }
    return r;
  }

  FilePtr FindFile(std::string_view path) const {
    const Resolved r = Resolve(path);
    if (r.node == nullptr) return nullptr;
    const FilePtr* file = std::get_if<FilePtr>(r.node);
    return file == nullptr ? nullptr : *file;
  }

  bool IsRoot(std::string_view path) const { return Split(path).empty(); }

  // Counts one mutating operation and says whether it must fail (FailAfter).
  bool CountOpAndCheckFailure() {
    ++ops;
    return fail_from != 0 && ops >= fail_from;
  }

  static Status Injected(std::string_view op, std::string_view path) {
    return Status(ErrorCode::kIoError, fmt::format("{} {}: injected failure", op, path));
  }
  static Status NotFound(std::string_view op, std::string_view path) {
    return Status(ErrorCode::kNotFound, fmt::format("{} {}: no such file or directory", op, path));
  }
  static Status IoError(std::string_view op, std::string_view path, std::string_view why) {
    return Status(ErrorCode::kIoError, fmt::format("{} {}: {}", op, path, why));
  }
  static Status Stale(std::string_view op) {
    return Status(ErrorCode::kIoError,
                  fmt::format("{}: the handle was opened before a simulated crash", op));
  }

  // Cuts `file` after a crash: its synced prefix plus what `fate` lets survive of the rest.
  void ApplyFate(FileData* file, UnsyncedFate fate) {
    const uint64_t synced = file->synced;
    const uint64_t unsynced = file->data.size() - synced;
    uint64_t keep = 0;
    switch (fate) {
      case UnsyncedFate::kLose:
        keep = 0;
        break;
      case UnsyncedFate::kKeepAll:
        keep = unsynced;
        break;
      case UnsyncedFate::kKeepTornPrefix:
      case UnsyncedFate::kGarble:
        keep = rng.Uniform(unsynced + 1);
        break;
    }
    file->data.resize(synced + keep);
    if (fate == UnsyncedFate::kGarble && keep > 0) {
      // Distinct offsets, so that two flips never cancel out: a garbled tail always differs.
      const uint64_t flips = std::min<uint64_t>(1 + rng.Uniform(3), keep);
      std::set<uint64_t> offsets;
      while (offsets.size() < flips)
        offsets.insert(synced + rng.Uniform(keep));
      for (const uint64_t off : offsets) {
        const auto mask = static_cast<uint8_t>(1 + rng.Uniform(255));
        file->data[off] = static_cast<char>(static_cast<uint8_t>(file->data[off]) ^ mask);
      }
    }
    // After the reboot whatever is on the platter is, by definition, durable.
    file->synced = file->data.size();
  }

  // Replaces the current tree under `dir` by its durable image, cutting each file once. `seen`
  // guards against visiting an inode twice: unsynced cross-directory renames can leave the same
  // file or directory in two durable images (even a directory cycle, in contrived sequences).
  void Reboot(Dir* dir, UnsyncedFate fate, std::set<const void*>* seen) {
    if (!seen->insert(dir).second) return;
    dir->entries = dir->durable;
    for (auto& [name, node] : dir->entries) {
      if (auto* sub = std::get_if<DirPtr>(&node)) {
        Reboot(sub->get(), fate, seen);
      } else {
        FileData* file = std::get<FilePtr>(node).get();
        if (seen->insert(file).second) ApplyFate(file, fate);
      }
    }
  }
};

// --- handles ------------------------------------------------------------------------------------

class MemEnv::State::Writable final : public WritableFile {
 public:
  Writable(std::shared_ptr<State> state, FilePtr file, std::string path)
      : state_(std::move(state)),
        file_(std::move(file)),
        path_(std::move(path)),
        generation_(state_->generation) {}
  ~Writable() override { (void)Close(); }
  Writable(const Writable&) = delete;
  Writable& operator=(const Writable&) = delete;

  Status Append(std::string_view data) override {
    std::lock_guard lock(state_->mu);
    RAFTKIT_RETURN_IF_ERROR(CheckUsable("append"));
    if (state_->CountOpAndCheckFailure()) {
      // A torn write: some prefix reached the file before the "process died", never all of it.
      const uint64_t torn = data.empty() ? 0 : state_->rng.Uniform(data.size());
      file_->data.append(data.substr(0, torn));
      return Injected("append", path_);
    }
    file_->data.append(data);
    return Status::Ok();
  }

  Status Sync() override {
    std::lock_guard lock(state_->mu);
    RAFTKIT_RETURN_IF_ERROR(CheckUsable("sync"));
    if (state_->CountOpAndCheckFailure()) return Injected("sync", path_);
    file_->synced = file_->data.size();
    return Status::Ok();
  }

  Status Preallocate(uint64_t /*len*/) override {
    std::lock_guard lock(state_->mu);
    RAFTKIT_RETURN_IF_ERROR(CheckUsable("preallocate"));
    if (state_->CountOpAndCheckFailure()) return Injected("preallocate", path_);
    return Status::Ok();  // reserves nothing in memory; the size stays as it is
  }

  Status Truncate(uint64_t size) override {
    std::lock_guard lock(state_->mu);
    RAFTKIT_RETURN_IF_ERROR(CheckUsable("truncate"));
    if (state_->CountOpAndCheckFailure()) return Injected("truncate", path_);
    if (size > file_->data.size()) {
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("truncate {}: size {} is beyond the end {}", path_, size,
                                file_->data.size()));
    }
    file_->data.resize(size);
    file_->synced = std::min(file_->synced, size);
    return Status::Ok();
  }

  [[nodiscard]] uint64_t Size() const override {
    std::lock_guard lock(state_->mu);
    return file_->data.size();
  }

  Status Close() override {
    std::lock_guard lock(state_->mu);
    if (closed_) return Status::Ok();
    closed_ = true;
    if (generation_ != state_->generation) return Stale("close " + path_);
    return Status::Ok();
  }

 private:
  Status CheckUsable(std::string_view op) const {
    if (closed_) return IoError(op, path_, "file is closed");
    if (generation_ != state_->generation) return Stale(fmt::format("{} {}", op, path_));
    return Status::Ok();
  }

  std::shared_ptr<State> state_;
  FilePtr file_;
  std::string path_;
  uint64_t generation_;
  bool closed_ = false;
};

class MemEnv::State::Sequential final : public SequentialFile {
 public:
  Sequential(std::shared_ptr<State> state, FilePtr file, std::string path)
      : state_(std::move(state)),
        file_(std::move(file)),
        path_(std::move(path)),
        generation_(state_->generation) {}

  Status Read(size_t n, std::string* scratch) override {
    std::lock_guard lock(state_->mu);
    scratch->clear();
    if (generation_ != state_->generation) return Stale(fmt::format("read {}", path_));
    // Reads see the file as it is now, appends included, like a descriptor on a real file.
    if (pos_ < file_->data.size()) {
      *scratch = file_->data.substr(pos_, n);
      pos_ += scratch->size();
    }
    return Status::Ok();
  }

  Status Skip(uint64_t n) override {
    std::lock_guard lock(state_->mu);
    if (generation_ != state_->generation) return Stale(fmt::format("skip {}", path_));
    pos_ += n;  // past the end is allowed; reads there return nothing
    return Status::Ok();
  }

 private:
  std::shared_ptr<State> state_;
  FilePtr file_;
  std::string path_;
  uint64_t generation_;
  uint64_t pos_ = 0;
};

class MemEnv::State::Lock final : public FileLock {
 public:
  Lock(std::shared_ptr<State> state, std::string key)
      : state_(std::move(state)), key_(std::move(key)), generation_(state_->generation) {}
  ~Lock() override {
    std::lock_guard lock(state_->mu);
    // A crash already released it, and someone may have taken it again since.
    auto it = state_->locks.find(key_);
    if (it != state_->locks.end() && it->second == generation_) state_->locks.erase(it);
  }
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

 private:
  std::shared_ptr<State> state_;
  std::string key_;
  uint64_t generation_;
};

// --- Env ----------------------------------------------------------------------------------------

MemEnv::MemEnv() : state_(std::make_shared<State>()) {}
MemEnv::~MemEnv() = default;

Result<std::unique_ptr<WritableFile>> MemEnv::OpenWritable(const std::string& path, bool truncate) {
  std::lock_guard lock(state_->mu);
  if (state_->CountOpAndCheckFailure()) return State::Injected("open", path);
  State::Resolved r = state_->Resolve(path);
  if (r.parent == nullptr) {
    if (state_->IsRoot(path)) return State::IoError("open", path, "is a directory");
    return State::NotFound("open", path);
  }
  State::FilePtr file;
  if (r.node == nullptr) {
    file = std::make_shared<FileData>();
    r.parent->entries.emplace(r.name, file);  // durable only after SyncDir(parent)
  } else if (auto* existing = std::get_if<State::FilePtr>(r.node)) {
    file = *existing;
    if (truncate) {
      file->data.clear();
      file->synced = 0;
    }
  } else {
    return State::IoError("open", path, "is a directory");
  }
  return std::unique_ptr<WritableFile>(new State::Writable(state_, std::move(file), path));
}

Result<std::unique_ptr<SequentialFile>> MemEnv::OpenSequential(const std::string& path) {
  std::lock_guard lock(state_->mu);
  const State::Resolved r = state_->Resolve(path);
  if (r.node == nullptr) {
    if (state_->IsRoot(path)) return State::IoError("open", path, "is a directory");
    return State::NotFound("open", path);
  }
  const auto* file = std::get_if<State::FilePtr>(r.node);
  if (file == nullptr) return State::IoError("open", path, "is a directory");
  return std::unique_ptr<SequentialFile>(new State::Sequential(state_, *file, path));
}

Result<std::vector<std::string>> MemEnv::ListDir(const std::string& dir) {
  std::lock_guard lock(state_->mu);
  const std::vector<std::string> parts = State::Split(dir);
  const State::DirPtr d = state_->FindDir(parts, parts.size());
  if (d == nullptr) {
    if (state_->FindFile(dir) != nullptr) return State::IoError("list", dir, "not a directory");
    return State::NotFound("list", dir);
  }
  std::vector<std::string> names;
  names.reserve(d->entries.size());
  for (const auto& [name, node] : d->entries)
    names.push_back(name);  // std::map: sorted
  return names;
}

bool MemEnv::Exists(const std::string& path) {
  std::lock_guard lock(state_->mu);
  return state_->IsRoot(path) || state_->Resolve(path).node != nullptr;
}

Result<uint64_t> MemEnv::FileSize(const std::string& path) {
  std::lock_guard lock(state_->mu);
  const State::Resolved r = state_->Resolve(path);
  if (r.node == nullptr) {
    if (state_->IsRoot(path)) return State::IoError("stat", path, "is a directory");
    return State::NotFound("stat", path);
  }
  const auto* file = std::get_if<State::FilePtr>(r.node);
  if (file == nullptr) return State::IoError("stat", path, "is a directory");
  return static_cast<uint64_t>((*file)->data.size());
}

Status MemEnv::CreateDirs(const std::string& dir) {
  std::lock_guard lock(state_->mu);
  State::DirPtr d = state_->root;
  for (const std::string& part : State::Split(dir)) {
    auto it = d->entries.find(part);
    if (it == d->entries.end()) {
      auto sub = std::make_shared<State::Dir>();
      // Durable at once: see the note at the top of this file.
      d->entries.emplace(part, sub);
      d->durable.emplace(part, sub);
      d = std::move(sub);
      continue;
    }
    const auto* sub = std::get_if<State::DirPtr>(&it->second);
    if (sub == nullptr) return State::IoError("mkdir", dir, "a path component is a file");
    d = *sub;
  }
  return Status::Ok();
}

Status MemEnv::Rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(state_->mu);
  const std::string what = fmt::format("{} to {}", from, to);
  if (state_->CountOpAndCheckFailure()) return State::Injected("rename", what);
  if (state_->IsRoot(from) || state_->IsRoot(to)) {
    return State::IoError("rename", what, "cannot rename the root");
  }
  State::Resolved src = state_->Resolve(from);
  State::Resolved dst = state_->Resolve(to);
  if (src.node == nullptr || dst.parent == nullptr) return State::NotFound("rename", what);
  if (src.node == dst.node) return Status::Ok();  // rename(2) does nothing for the same entry
  const State::Node moving = *src.node;
  if (std::holds_alternative<State::DirPtr>(moving)) {
    // rename(2) refuses to move a directory into its own subtree (EINVAL).
    const std::string src_norm = State::Normalize(from) + "/";
    if (State::Normalize(to).starts_with(src_norm)) {
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("rename {}: a directory cannot move into itself", what));
    }
    if (dst.node != nullptr) {
      const auto* target = std::get_if<State::DirPtr>(dst.node);
      if (target == nullptr) return State::IoError("rename", what, "not a directory");
      if (!(*target)->entries.empty()) return State::IoError("rename", what, "directory not empty");
    }
  } else if (dst.node != nullptr && std::holds_alternative<State::DirPtr>(*dst.node)) {
    return State::IoError("rename", what, "is a directory");
  }
  // Both changes are in the current tree only; each parent's SyncDir makes its half durable.
  src.parent->entries.erase(src.name);
  dst.parent->entries.insert_or_assign(dst.name, moving);
  return Status::Ok();
}

Status MemEnv::Remove(const std::string& path) {
  std::lock_guard lock(state_->mu);
  if (state_->CountOpAndCheckFailure()) return State::Injected("remove", path);
  const State::Resolved r = state_->Resolve(path);
  if (r.node == nullptr) {
    if (state_->IsRoot(path)) return State::IoError("remove", path, "cannot remove the root");
    return State::NotFound("remove", path);
  }
  if (const auto* dir = std::get_if<State::DirPtr>(r.node); dir != nullptr) {
    if (!(*dir)->entries.empty()) return State::IoError("remove", path, "directory not empty");
  }
  r.parent->entries.erase(r.name);  // durable only after SyncDir(parent)
  return Status::Ok();
}

Status MemEnv::Truncate(const std::string& path, uint64_t size) {
  std::lock_guard lock(state_->mu);
  if (state_->CountOpAndCheckFailure()) return State::Injected("truncate", path);
  const State::Resolved r = state_->Resolve(path);
  if (r.node == nullptr) return State::NotFound("truncate", path);
  const auto* file = std::get_if<State::FilePtr>(r.node);
  if (file == nullptr) return State::IoError("truncate", path, "is a directory");
  FileData& f = **file;
  if (size > f.data.size()) {
    return Status(
        ErrorCode::kInvalidArgument,
        fmt::format("truncate {}: size {} is beyond the end {}", path, size, f.data.size()));
  }
  f.data.resize(size);
  f.synced = std::min(f.synced, size);
  return Status::Ok();
}

Status MemEnv::SyncDir(const std::string& dir) {
  std::lock_guard lock(state_->mu);
  if (state_->CountOpAndCheckFailure()) return State::Injected("sync", dir);
  const std::vector<std::string> parts = State::Split(dir);
  const State::DirPtr d = state_->FindDir(parts, parts.size());
  if (d == nullptr) {
    if (state_->FindFile(dir) != nullptr) return State::IoError("sync", dir, "not a directory");
    return State::NotFound("sync", dir);
  }
  // Only this directory's own entries; subdirectories keep their own images.
  d->durable = d->entries;
  return Status::Ok();
}

Result<std::unique_ptr<FileLock>> MemEnv::LockFile(const std::string& path) {
  std::lock_guard lock(state_->mu);
  State::Resolved r = state_->Resolve(path);
  if (r.parent == nullptr) {
    if (state_->IsRoot(path)) return State::IoError("lock", path, "is a directory");
    return State::NotFound("lock", path);
  }
  if (r.node == nullptr) {
    r.parent->entries.emplace(r.name, std::make_shared<FileData>());
  } else if (std::holds_alternative<State::DirPtr>(*r.node)) {
    return State::IoError("lock", path, "is a directory");
  }
  std::string key = State::Normalize(path);
  if (state_->locks.contains(key)) {
    return Status(ErrorCode::kAlreadyExists,
                  fmt::format("{} is locked by another holder in this MemEnv", path));
  }
  state_->locks.emplace(key, state_->generation);
  return std::unique_ptr<FileLock>(new State::Lock(state_, std::move(key)));
}

// --- crash simulation and fault injection -------------------------------------------------------

void MemEnv::Crash(UnsyncedFate fate, uint64_t seed) {
  std::lock_guard lock(state_->mu);
  state_->rng = Rand(seed);
  std::set<const void*> seen;
  state_->Reboot(state_->root.get(), fate, &seen);
  ++state_->generation;
  state_->locks.clear();
  state_->fail_from = 0;
}

void MemEnv::FailAfter(uint64_t n) {
  RAFTKIT_CHECK(n >= 1, "FailAfter counts from 1, got {}", n);
  std::lock_guard lock(state_->mu);
  state_->fail_from = state_->ops + n;
}

void MemEnv::ClearFailure() {
  std::lock_guard lock(state_->mu);
  state_->fail_from = 0;
}

uint64_t MemEnv::mutating_ops() const {
  std::lock_guard lock(state_->mu);
  return state_->ops;
}

Result<std::string> MemEnv::Contents(const std::string& path) const {
  std::lock_guard lock(state_->mu);
  const State::FilePtr file = state_->FindFile(path);
  if (file == nullptr) return State::NotFound("contents", path);
  return file->data;
}

void MemEnv::SetContents(const std::string& path, std::string data) {
  std::lock_guard lock(state_->mu);
  const std::vector<std::string> parts = State::Split(path);
  RAFTKIT_CHECK(!parts.empty(), "SetContents needs a file path, got '{}'", path);
  State::DirPtr d = state_->root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    auto it = d->entries.find(parts[i]);
    if (it == d->entries.end()) {
      auto sub = std::make_shared<State::Dir>();
      d->entries.emplace(parts[i], sub);
      d->durable.emplace(parts[i], sub);
      d = std::move(sub);
      continue;
    }
    const auto* sub = std::get_if<State::DirPtr>(&it->second);
    RAFTKIT_CHECK(sub != nullptr, "SetContents {}: {} is a file", path, parts[i]);
    d = *sub;
  }
  const std::string& name = parts.back();
  State::FilePtr file;
  if (auto it = d->entries.find(name); it != d->entries.end()) {
    const auto* existing = std::get_if<State::FilePtr>(&it->second);
    RAFTKIT_CHECK(existing != nullptr, "SetContents {}: is a directory", path);
    file = *existing;  // the same inode, so open handles see the new content
  } else {
    file = std::make_shared<FileData>();
    d->entries.emplace(name, file);
  }
  file->data = std::move(data);
  file->synced = file->data.size();
  d->durable.insert_or_assign(name, file);
}

void MemEnv::FlipByte(const std::string& path, uint64_t offset, uint8_t mask) {
  std::lock_guard lock(state_->mu);
  const State::FilePtr file = state_->FindFile(path);
  RAFTKIT_CHECK(file != nullptr, "FlipByte: no file {}", path);
  RAFTKIT_CHECK(offset < file->data.size(), "FlipByte {}: offset {} is beyond the size {}", path,
                offset, file->data.size());
  file->data[offset] = static_cast<char>(static_cast<uint8_t>(file->data[offset]) ^ mask);
}

uint64_t MemEnv::SyncedSize(const std::string& path) const {
  std::lock_guard lock(state_->mu);
  const State::FilePtr file = state_->FindFile(path);
  return file == nullptr ? 0 : file->synced;
}

}  // namespace raftkit::storage
