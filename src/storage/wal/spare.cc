#include "storage/wal/spare.h"

#include <utility>

#include "raftkit/util/panic.h"
#include "storage/wal/segment.h"

namespace raftkit::storage::wal::internal {

namespace {
Status NotPrepared() {
  return Status(ErrorCode::kInternal, "no spare segment prepared");
}
}  // namespace

SpareFile::SpareFile(Env* env, std::string dir, uint64_t size, bool preallocate, bool background)
    : env_(env),
      dir_(std::move(dir)),
      size_(size),
      preallocate_(preallocate),
      background_(background),
      prepared_(NotPrepared()) {}

SpareFile::~SpareFile() {
  Wait();
}

std::string SpareFile::path() const {
  return JoinPath(dir_, kSpareFileName);
}

Result<std::unique_ptr<WritableFile>> SpareFile::Prepare() const {
  // Truncating: a spare.tmp left by a crash may hold the bytes of a segment whose rename was
  // undone.
  auto file = env_->OpenWritable(path(), /*truncate=*/true);
  if (!file.ok()) return file.status();
  if (preallocate_) RAFTKIT_RETURN_IF_ERROR((*file)->Preallocate(size_));
  // The allocation and the name are durable before the spare is used, so that the cut that
  // renames it needs only the directory sync folded into its batch's sync.
  RAFTKIT_RETURN_IF_ERROR((*file)->Sync());
  RAFTKIT_RETURN_IF_ERROR(env_->SyncDir(dir_));
  return file;
}

void SpareFile::StartPreparing() {
  RAFTKIT_CHECK(!thread_.joinable(), "a spare segment is already being prepared");
  prepared_ = NotPrepared();
  if (!background_) {
    prepared_ = Prepare();
    return;
  }
  thread_ = std::thread([this] { prepared_ = Prepare(); });
}

void SpareFile::Wait() {
  if (thread_.joinable()) thread_.join();
}

Result<std::unique_ptr<WritableFile>> SpareFile::Take() {
  Wait();
  Result<std::unique_ptr<WritableFile>> out = std::move(prepared_);
  prepared_ = NotPrepared();
  if (out.ok()) return out;
  // A background failure (say a full disk that has since been cleaned) gets one more try, on the
  // caller's thread, before the cut fails.
  return Prepare();
}

}  // namespace raftkit::storage::wal::internal
