// The writer: Create, Open (replay and crash-tail truncation), group-committed batches, segment
// cuts through a preallocated spare, ReleaseTo. The format is docs/formats/wal.md.
#include "raftkit/storage/wal/wal.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "raftkit/raftpb/codec.h"
#include "raftkit/util/logger.h"
#include "storage/wal/reader.h"
#include "storage/wal/record.h"
#include "storage/wal/recovery.h"
#include "storage/wal/segment.h"
#include "storage/wal/spare.h"

namespace raftkit::storage::wal {

using internal::BatchEncoder;
using internal::SegmentId;

std::string_view RecordTypeName(RecordType t) {
  switch (t) {
    case RecordType::kCrcChain:
      return "crc-chain";
    case RecordType::kMetadata:
      return "metadata";
    case RecordType::kEntry:
      return "entry";
    case RecordType::kHardState:
      return "hardstate";
    case RecordType::kSnapshot:
      return "snapshot";
  }
  return "unknown";
}

struct Wal::Impl {
  explicit Impl(const Options& o)
      : options(o),
        env(o.env),
        spare(o.env, o.dir, o.segment_size, o.preallocate, o.background_spare) {}

  Status Usable() const;
  Status Fail(Status st);
  Status ValidateEntries(std::span<const raftpb::Entry> entries) const;
  template <class Fill>
  Status WriteBatch(bool has_records, const Fill& fill, bool sync);
  Status Cut(BatchEncoder* enc);
  void AddHeader(BatchEncoder* enc, const internal::CrcChain& chain) const;
  Status SyncPending();
  [[nodiscard]] std::string Path(const SegmentId& id) const {
    return JoinPath(options.dir, id.name);
  }

  Options options;
  Env* env;
  std::unique_ptr<FileLock> lock;
  std::vector<SegmentId> segments;     // retained, oldest first; the last one is being appended
  std::unique_ptr<WritableFile> file;  // the last segment
  internal::SpareFile spare;
  Metadata metadata;
  raftpb::HardState hard_state;  // the last non-empty one saved: restated by each new segment
  SnapshotMarker marker;         // the latest: restated by each new segment
  Index last_index;
  uint32_t rolling = 0;  // rolling CRC (ExtendRolling) of the last segment so far
  uint32_t next_batch = 0;
  bool file_unsynced = false;  // bytes appended since the last Sync of `file`
  bool dir_unsynced = false;   // a rename (a cut) not yet made durable by SyncDir
  uint64_t sync_count = 0;
  Status failed;  // sticky: the first I/O failure
  bool closed = false;
  std::string buf;  // the batch being encoded, reused
};

Status Wal::Impl::Usable() const {
  if (closed) return Status(ErrorCode::kInternal, "the WAL is closed");
  return failed;
}

Status Wal::Impl::Fail(Status st) {
  // After a failed write or sync the state of the file is unknown (a failed fsync may even have
  // dropped dirty pages), so nothing more may be appended to it: Open() works out what is there.
  if (failed.ok()) failed = st;
  return st;
}

Status Wal::Impl::ValidateEntries(std::span<const raftpb::Entry> entries) const {
  for (size_t i = 0; i < entries.size(); ++i) {
    const raftpb::Entry& e = entries[i];
    if (e.index == Index(0)) return Status(ErrorCode::kInvalidArgument, "entry index 0");
    if (i > 0 && e.index != entries[i - 1].index + 1) {
      return Status(
          ErrorCode::kInvalidArgument,
          fmt::format("entries are not consecutive: {} follows {}", e.index, entries[i - 1].index));
    }
    if (e.ByteSize() > internal::kMaxPayload) {
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("entry {} encodes to {} bytes, more than the maximum record "
                                "payload {}",
                                e.index, e.ByteSize(), internal::kMaxPayload));
    }
  }
  if (!entries.empty() && entries.front().index > last_index + 1) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("entry {} would leave a gap after the last entry {}",
                              entries.front().index, last_index));
  }
  return Status::Ok();
}

// Encodes one batch (a cut first if the segment is full), appends it with one write and, with
// `sync`, makes it durable with one fdatasync (plus the directory sync of a cut).
template <class Fill>
Status Wal::Impl::WriteBatch(bool has_records, const Fill& fill, bool sync) {
  RAFTKIT_RETURN_IF_ERROR(Usable());
  if (!has_records) return sync ? SyncPending() : Status::Ok();
  buf.clear();
  BatchEncoder enc(&buf, next_batch, rolling);
  // Cuts happen only between batches, so a batch never spans two segments; a batch larger than
  // segment_size simply makes a larger segment.
  const bool cut = file->Size() >= options.segment_size;
  if (cut) RAFTKIT_RETURN_IF_ERROR(Cut(&enc));
  fill(&enc);
  enc.Finish();
  if (Status st = file->Append(buf); !st.ok()) return Fail(std::move(st));
  rolling = enc.rolling();
  ++next_batch;
  file_unsynced = true;
  if (buf.capacity() > (16u << 20)) std::string().swap(buf);  // do not pin a huge batch's memory
  if (sync) RAFTKIT_RETURN_IF_ERROR(SyncPending());
  // The next spare is prepared while this segment fills.
  if (cut) spare.StartPreparing();
  return Status::Ok();
}

// Switches to a new segment. The old segment's bytes are made durable first (a later segment may
// only become durable after every earlier one is complete: the reader treats a hole as damage);
// the new segment's name becomes durable with the sync of the batch that follows.
Status Wal::Impl::Cut(BatchEncoder* enc) {
  RAFTKIT_RETURN_IF_ERROR(SyncPending());
  // Gives back the preallocated blocks past the end (a no-op for the logical size).
  if (Status st = file->Truncate(file->Size()); !st.ok()) return Fail(std::move(st));
  if (Status st = file->Close(); !st.ok()) return Fail(std::move(st));
  auto next = spare.Take();
  if (!next.ok()) return Fail(next.status());
  const SegmentId& prev = segments.back();
  SegmentId id;
  id.seq = prev.seq + 1;
  id.first_index = last_index + 1;
  id.name = internal::SegmentFileName(id.seq, id.first_index);
  if (Status st = env->Rename(spare.path(), Path(id)); !st.ok()) return Fail(std::move(st));
  dir_unsynced = true;
  file = std::move(next).value();
  const internal::CrcChain chain{rolling, prev.seq};
  enc->ResetRolling();
  AddHeader(enc, chain);
  segments.push_back(std::move(id));
  return Status::Ok();
}

// Every segment opens with the chain to its predecessor and the state a reader needs to start
// there: metadata, the current HardState and the latest snapshot marker.
void Wal::Impl::AddHeader(BatchEncoder* enc, const internal::CrcChain& chain) const {
  enc->Add(RecordType::kCrcChain, internal::EncodeCrcChain(chain));
  enc->Add(RecordType::kMetadata, internal::EncodeMetadata(metadata));
  if (!hard_state.IsEmpty()) enc->Add(RecordType::kHardState, raftpb::Encode(hard_state));
  enc->Add(RecordType::kSnapshot, internal::EncodeSnapshotMarker(marker));
}

Status Wal::Impl::SyncPending() {
  if (file_unsynced) {
    if (Status st = file->Sync(); !st.ok()) return Fail(std::move(st));
    ++sync_count;
    file_unsynced = false;
  }
  if (dir_unsynced) {
    if (Status st = env->SyncDir(options.dir); !st.ok()) return Fail(std::move(st));
    dir_unsynced = false;
  }
  return Status::Ok();
}

// --- Create / Open ------------------------------------------------------------------------------

namespace {

Result<std::unique_ptr<FileLock>> LockDir(Env* env, const std::string& dir) {
  auto lock = env->LockFile(JoinPath(dir, internal::kLockFileName));
  if (lock.code() == ErrorCode::kNotFound) {
    return Status(ErrorCode::kNotFound, fmt::format("{}: no WAL (no such directory)", dir));
  }
  return lock;
}

// Appends `e` to a log whose overwrites are resolved: an index at or below the last one replaces
// that entry and everything after it; a jump forward (possible only after a resets_log marker)
// starts the log afresh, so that the result stays contiguous.
void AppendResolved(std::vector<raftpb::Entry>* entries, raftpb::Entry&& e) {
  if (!entries->empty()) {
    const Index front = entries->front().index;
    const Index back = entries->back().index;
    if (e.index <= front || e.index > back + 1) {
      entries->clear();
    } else if (e.index <= back) {
      entries->erase(entries->begin() + static_cast<ptrdiff_t>(e.index - front), entries->end());
    }
  }
  entries->push_back(std::move(e));
}

// Collects what Open returns from the records the reader hands over.
internal::RecordVisitor ContentsBuilder(Contents* c) {
  return [c](const internal::RecordEvent& ev) {
    if (ev.record->offset == 0) {
      // Room for the segment's entries up front (a record is rarely under 64 bytes): growing the
      // vector by doubling would copy it and touch twice the memory on a replay of millions.
      c->entries.reserve(c->entries.size() + ev.segment->size / 64);
    }
    if (ev.entry != nullptr) {
      AppendResolved(&c->entries, std::move(*ev.entry));
    } else if (ev.marker != nullptr && !ev.header_repeat) {
      c->snapshots.push_back(*ev.marker);
      if (ev.marker->resets_log) {
        while (!c->entries.empty() && c->entries.back().index > ev.marker->index)
          c->entries.pop_back();
      }
    }
  };
}

Status CheckExpectedIds(const Options& o, const Metadata& m) {
  if (o.expect_cluster_id && *o.expect_cluster_id != m.cluster_id) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("{}: the WAL belongs to cluster {:x}, expected cluster {:x}", o.dir,
                              m.cluster_id, *o.expect_cluster_id));
  }
  if (o.expect_node_id && *o.expect_node_id != m.node_id) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("{}: the WAL belongs to node {:x}, expected node {:x}", o.dir,
                              m.node_id, *o.expect_node_id));
  }
  return Status::Ok();
}

}  // namespace

Wal::Wal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Wal::~Wal() {
  if (impl_ == nullptr || impl_->closed) return;
  const bool healthy = impl_->failed.ok();
  if (Status st = Close(); !st.ok() && healthy) {
    // A failure already returned to the caller is not repeated here.
    StderrLogger(LogLevel::kWarn).Errorf("wal {}: close: {}", impl_->options.dir, st.ToString());
  }
}

bool Wal::Exists(Env* env, const std::string& dir) {
  auto listing = internal::ListSegments(env, dir);
  return listing.ok() && !listing->segments.empty();
}

Result<std::unique_ptr<Wal>> Wal::Create(const Options& options, const Metadata& metadata) {
  Env* env = options.env;
  RAFTKIT_RETURN_IF_ERROR(env->CreateDirs(options.dir));
  auto lock = LockDir(env, options.dir);
  if (!lock.ok()) return lock.status();
  auto listing = internal::ListSegments(env, options.dir);
  if (!listing.ok()) return listing.status();
  if (!listing->segments.empty() || !listing->bad_names.empty()) {
    return Status(ErrorCode::kAlreadyExists,
                  fmt::format("{}: the directory already holds WAL segments", options.dir));
  }

  auto impl = std::make_unique<Impl>(options);
  impl->lock = std::move(lock).value();
  impl->metadata = metadata;
  SegmentId id;
  id.seq = 0;
  id.first_index = Index(1);
  id.name = internal::SegmentFileName(0, Index(1));
  auto file = env->OpenWritable(impl->Path(id), /*truncate=*/true);
  if (!file.ok()) return file.status();
  if (options.preallocate) RAFTKIT_RETURN_IF_ERROR((*file)->Preallocate(options.segment_size));
  BatchEncoder enc(&impl->buf, /*batch=*/0, /*rolling=*/0);
  impl->AddHeader(&enc, internal::CrcChain{0, 0});
  enc.Finish();
  RAFTKIT_RETURN_IF_ERROR((*file)->Append(impl->buf));
  RAFTKIT_RETURN_IF_ERROR((*file)->Sync());
  RAFTKIT_RETURN_IF_ERROR(env->SyncDir(options.dir));
  impl->sync_count = 1;
  impl->rolling = enc.rolling();
  impl->next_batch = 1;
  impl->file = std::move(file).value();
  impl->segments.push_back(std::move(id));
  impl->spare.StartPreparing();
  return std::unique_ptr<Wal>(new Wal(std::move(impl)));
}

Result<std::unique_ptr<Wal>> Wal::Open(const Options& options, Contents* contents) {
  Env* env = options.env;
  auto lock = LockDir(env, options.dir);
  if (!lock.ok()) return lock.status();
  Contents c;
  auto read = internal::ReadLog(env, options.dir, ContentsBuilder(&c));
  if (!read.ok()) return read.status();
  internal::ReadResult& r = *read;
  if (r.segments.empty() && !r.damage) {
    return Status(ErrorCode::kNotFound, fmt::format("{}: no WAL segment", options.dir));
  }
  if (r.damage && !r.damage->damage.tail) {
    return Status(ErrorCode::kCorruption, internal::DamageMessage(options.dir, r.damage->damage));
  }
  if (r.metadata) RAFTKIT_RETURN_IF_ERROR(CheckExpectedIds(options, *r.metadata));
  if (r.damage) {
    // A crash tail: bytes of a batch whose write or sync never completed.
    const internal::ReadDamage& d = *r.damage;
    RAFTKIT_RETURN_IF_ERROR(internal::CutLog(env, options.dir, r, d));
    c.truncated_tail = internal::DamageMessage(options.dir, d.damage);
    c.truncated_bytes = r.segments[d.segment].size - (d.removes_segment ? 0 : d.cut_offset);
    if (d.removes_segment) r.segments.pop_back();
  }
  if (r.segments.empty()) {
    return Status(ErrorCode::kNotFound,
                  fmt::format("{}: no WAL segment (an unfinished Create was removed: {})",
                              options.dir, c.truncated_tail.value_or("")));
  }

  auto impl = std::make_unique<Impl>(options);
  impl->lock = std::move(lock).value();
  const internal::SegmentState& active = r.segments.back();
  for (const internal::SegmentState& s : r.segments)
    impl->segments.push_back(s.id);
  impl->metadata = r.metadata.value_or(Metadata{});
  impl->hard_state = r.hard_state;
  impl->marker = r.marker;
  impl->last_index = r.last_index;
  impl->rolling = active.rolling;
  impl->next_batch = active.last_batch.value_or(0) + 1;
  auto file = env->OpenWritable(impl->Path(active.id), /*truncate=*/false);
  if (!file.ok()) return file.status();
  if ((*file)->Size() != active.valid_end) {
    return Status(ErrorCode::kInternal,
                  fmt::format("{}: size {} after recovery, expected {}", impl->Path(active.id),
                              (*file)->Size(), active.valid_end));
  }
  // What was read may be only in the page cache (a process crash keeps unsynced bytes): make it
  // durable before anyone acts on it.
  RAFTKIT_RETURN_IF_ERROR((*file)->Sync());
  RAFTKIT_RETURN_IF_ERROR(env->SyncDir(options.dir));
  impl->sync_count = 1;
  impl->file = std::move(file).value();
  impl->spare.StartPreparing();

  c.metadata = impl->metadata;
  c.hard_state = r.hard_state;
  *contents = std::move(c);
  return std::unique_ptr<Wal>(new Wal(std::move(impl)));
}

// --- appending ----------------------------------------------------------------------------------

Status Wal::Save(const raftpb::HardState& hs, std::span<const raftpb::Entry> entries, bool sync) {
  Impl& w = *impl_;
  RAFTKIT_RETURN_IF_ERROR(w.Usable());
  RAFTKIT_RETURN_IF_ERROR(w.ValidateEntries(entries));
  const bool has_hs = !hs.IsEmpty();
  auto fill = [&](BatchEncoder* enc) {
    for (const raftpb::Entry& e : entries)
      enc->Add(RecordType::kEntry, raftpb::Encode(e));
    if (has_hs) enc->Add(RecordType::kHardState, raftpb::Encode(hs));
  };
  RAFTKIT_RETURN_IF_ERROR(w.WriteBatch(!entries.empty() || has_hs, fill, sync));
  if (!entries.empty()) w.last_index = entries.back().index;
  if (has_hs) w.hard_state = hs;
  return Status::Ok();
}

Status Wal::SaveSnapshot(const SnapshotMarker& marker) {
  Impl& w = *impl_;
  auto fill = [&](BatchEncoder* enc) {
    enc->Add(RecordType::kSnapshot, internal::EncodeSnapshotMarker(marker));
  };
  RAFTKIT_RETURN_IF_ERROR(w.WriteBatch(true, fill, /*sync=*/true));
  w.marker = marker;
  if (marker.resets_log) w.last_index = marker.index;
  return Status::Ok();
}

Status Wal::Sync() {
  RAFTKIT_RETURN_IF_ERROR(impl_->Usable());
  return impl_->SyncPending();
}

Status Wal::ReleaseTo(Index index) {
  Impl& w = *impl_;
  RAFTKIT_RETURN_IF_ERROR(w.Usable());
  // Keep the last segment starting at or below `index` (it may hold `index`) and all later ones.
  size_t keep = 0;
  for (size_t i = 0; i < w.segments.size(); ++i) {
    if (w.segments[i].first_index <= index) keep = i;
  }
  for (size_t i = 0; i < keep; ++i) {
    // Oldest first, each removal durable before the next, so that a crash can only leave a
    // shorter prefix removed, never a hole in the sequence.
    if (Status st = w.env->Remove(w.Path(w.segments[i])); !st.ok()) return w.Fail(std::move(st));
    if (Status st = w.env->SyncDir(w.options.dir); !st.ok()) return w.Fail(std::move(st));
  }
  w.segments.erase(w.segments.begin(), w.segments.begin() + static_cast<ptrdiff_t>(keep));
  return Status::Ok();
}

Status Wal::Close() {
  Impl& w = *impl_;
  if (w.closed) return Status::Ok();
  Status st = w.failed.ok() ? w.SyncPending() : w.failed;
  w.closed = true;
  w.spare.Wait();
  if (w.file != nullptr) {
    Status c = w.file->Close();
    if (st.ok()) st = std::move(c);
    w.file.reset();
  }
  w.lock.reset();
  return st;
}

Index Wal::last_index() const {
  return impl_->last_index;
}

std::vector<std::string> Wal::segments() const {
  std::vector<std::string> out;
  out.reserve(impl_->segments.size());
  for (const SegmentId& id : impl_->segments)
    out.push_back(id.name);
  return out;
}

uint64_t Wal::sync_count() const {
  return impl_->sync_count;
}

}  // namespace raftkit::storage::wal
