// DiskStorage: WAL + snapshot files behind the core's Storage interface. The order of every write
// below is what makes a restart see exactly what was synced; each step says why.
#include "raftkit/storage/disk_storage.h"

#include <algorithm>
#include <mutex>
#include <utility>

#include <fmt/format.h>

#include "raftkit/raftpb/codec.h"

namespace raftkit::storage {

namespace {

constexpr const char* kLockName = "LOCK";
constexpr const char* kWalDir = "wal";
constexpr const char* kSnapDir = "snap";

bool HasMarker(const std::vector<wal::SnapshotMarker>& markers, const raftpb::SnapshotMetadata& m) {
  return std::any_of(markers.begin(), markers.end(), [&](const wal::SnapshotMarker& s) {
    return s.index == m.index && s.term == m.term;
  });
}

}  // namespace

struct DiskStorage::Impl {
  DiskStorageOptions options;
  std::unique_ptr<FileLock> lock;
  std::unique_ptr<wal::Wal> wal;
  std::unique_ptr<snap::Snapshotter> snapshotter;
  raft::MemoryStorage mem;
  // Snapshots durable on disk with a WAL marker, oldest first (index, term). Drives Compact's
  // choice of how much WAL to keep.
  std::vector<wal::SnapshotMarker> snapshots;
  // Set when the latest snapshot's data lives only in its file (CreateSnapshotStream).
  mutable std::mutex snap_mu;
  std::optional<std::string> streamed_snapshot_file;
  bool closed = false;

  Status RecordSnapshot(const raftpb::SnapshotMetadata& m, bool resets_log) {
    // The file is durable (Snapshotter syncs file and directory) before the marker exists: a
    // marker without its file would make Open search for a snapshot that never was.
    RAFTKIT_RETURN_IF_ERROR(wal->SaveSnapshot(wal::SnapshotMarker{m.index, m.term, resets_log}));
    snapshots.push_back(wal::SnapshotMarker{m.index, m.term, resets_log});
    if (snapshots.size() > options.snapshots_to_keep) {
      snapshots.erase(snapshots.begin(),
                      snapshots.end() - static_cast<ptrdiff_t>(options.snapshots_to_keep));
    }
    return snapshotter->Purge(options.snapshots_to_keep);
  }
};

DiskStorage::DiskStorage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DiskStorage::~DiskStorage() {
  if (impl_ && !impl_->closed) (void)Close();
}

Result<std::unique_ptr<DiskStorage>> DiskStorage::Open(const DiskStorageOptions& options,
                                                       OpenReport* report) {
  OpenReport local;
  OpenReport& rep = report ? *report : local;
  rep = OpenReport{};
  Env* env = options.env;
  RAFTKIT_RETURN_IF_ERROR(env->CreateDirs(options.dir));
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  auto lock = env->LockFile(JoinPath(options.dir, kLockName));
  if (!lock.ok()) return lock.status();
  impl->lock = std::move(lock).value();

  wal::Options wo;
  wo.env = env;
  wo.dir = JoinPath(options.dir, kWalDir);
  wo.segment_size = options.segment_size;
  wo.background_spare = options.background_spare;
  if (options.node_id != 0) wo.expect_node_id = options.node_id;
  if (options.cluster_id != 0) wo.expect_cluster_id = options.cluster_id;
  snap::Options so;
  so.env = env;
  so.dir = JoinPath(options.dir, kSnapDir);
  RAFTKIT_RETURN_IF_ERROR(env->CreateDirs(so.dir));
  impl->snapshotter = std::make_unique<snap::Snapshotter>(so);

  if (!wal::Wal::Exists(env, wo.dir)) {
    // A fresh directory. Snapshot files without any WAL mean the WAL was lost: refusing is the
    // only answer that cannot silently forget acknowledged entries.
    auto files = impl->snapshotter->List();
    if (!files.ok()) return files.status();
    if (!files->empty()) {
      return Status(ErrorCode::kCorruption,
                    fmt::format("{}: snapshot files exist but the WAL directory {} has no "
                                "segment; refusing to start with an empty log",
                                options.dir, wo.dir));
    }
    auto w = wal::Wal::Create(wo, wal::Metadata{options.node_id, options.cluster_id, {}});
    if (!w.ok()) return w.status();
    impl->wal = std::move(w).value();
    rep.created = true;
    return std::unique_ptr<DiskStorage>(new DiskStorage(std::move(impl)));
  }

  wal::Contents contents;
  auto w = wal::Wal::Open(wo, &contents);
  if (!w.ok()) return w.status();
  impl->wal = std::move(w).value();
  rep.truncated_tail = contents.truncated_tail;
  rep.truncated_bytes = contents.truncated_bytes;

  // The newest snapshot whose file verifies and whose marker the WAL holds (a file without a
  // marker was being saved when the process stopped: its entries may not be in the WAL).
  auto snap = impl->snapshotter->LoadNewest(
      [&](const raftpb::SnapshotMetadata& m) { return HasMarker(contents.snapshots, m); },
      &rep.broken_snapshots);
  Index snap_index(0);
  if (snap.ok()) {
    snap_index = snap->metadata.index;
    RAFTKIT_RETURN_IF_ERROR(impl->mem.ApplySnapshot(*snap));
  } else if (snap.code() != ErrorCode::kNotFound) {
    return snap.status();
  }
  for (const auto& m : contents.snapshots) {
    if (m.index <= snap_index && m.index > Index(0)) impl->snapshots.push_back(m);
  }

  // The log must continue right after the snapshot; a gap means entries the WAL released were
  // only covered by a snapshot that is now unusable.
  auto first = std::find_if(contents.entries.begin(), contents.entries.end(),
                            [&](const raftpb::Entry& e) { return e.index > snap_index; });
  if (first != contents.entries.end() && first->index != snap_index + 1) {
    return Status(
        ErrorCode::kCorruption,
        fmt::format("{}: the WAL's entries resume at index {} but the newest usable "
                    "snapshot ends at index {}{}",
                    options.dir, first->index.value(), snap_index.value(),
                    rep.broken_snapshots.empty() ? "" : " (newer snapshots are corrupt)"));
  }
  RAFTKIT_RETURN_IF_ERROR(
      impl->mem.Append(std::vector<raftpb::Entry>(first, contents.entries.end())));
  if (!contents.hard_state.IsEmpty()) impl->mem.SetHardState(contents.hard_state);
  rep.snapshot_index = snap_index;
  rep.last_index = impl->mem.LastIndex().value();
  return std::unique_ptr<DiskStorage>(new DiskStorage(std::move(impl)));
}

Result<raft::Storage::InitialState> DiskStorage::GetInitialState() const {
  return impl_->mem.GetInitialState();
}
Result<std::vector<raftpb::Entry>> DiskStorage::Entries(Index lo, Index hi,
                                                        uint64_t max_size) const {
  return impl_->mem.Entries(lo, hi, max_size);
}
Result<Term> DiskStorage::TermAt(Index i) const {
  return impl_->mem.TermAt(i);
}
Result<Index> DiskStorage::LastIndex() const {
  return impl_->mem.LastIndex();
}
Result<Index> DiskStorage::FirstIndex() const {
  return impl_->mem.FirstIndex();
}

Result<raftpb::Snapshot> DiskStorage::GetSnapshot() const {
  auto s = impl_->mem.GetSnapshot();
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> g(impl_->snap_mu);
  if (impl_->streamed_snapshot_file) {
    // Loaded on demand: the core asks only when a follower needs a snapshot.
    auto full = impl_->snapshotter->Load(*impl_->streamed_snapshot_file);
    if (!full.ok()) return full.status();
    s->data = full->data;
  }
  return s;
}

Status DiskStorage::SaveReady(const raft::Ready& rd) {
  return Save(rd.hard_state, rd.entries, rd.snapshot, rd.must_sync);
}

Status DiskStorage::Save(const raftpb::HardState& hs, std::span<const raftpb::Entry> entries,
                         const raftpb::Snapshot& snap, bool sync) {
  if (!snap.IsEmpty()) {
    // A snapshot from the leader replaces the log (the core only restores one that does not
    // match it), so the marker voids the WAL's older entries above it.
    RAFTKIT_RETURN_IF_ERROR(impl_->snapshotter->Save(snap));
    RAFTKIT_RETURN_IF_ERROR(impl_->RecordSnapshot(snap.metadata, /*resets_log=*/true));
    {
      std::lock_guard<std::mutex> g(impl_->snap_mu);
      impl_->streamed_snapshot_file.reset();
    }
    RAFTKIT_RETURN_IF_ERROR(impl_->mem.ApplySnapshot(snap));
    sync = true;
  }
  if (!entries.empty() || !hs.IsEmpty()) {
    RAFTKIT_RETURN_IF_ERROR(impl_->wal->Save(hs, entries, sync));
  }
  // Memory follows the disk: a reader never sees an entry that a crash could take back.
  if (!entries.empty()) {
    RAFTKIT_RETURN_IF_ERROR(
        impl_->mem.Append(std::vector<raftpb::Entry>(entries.begin(), entries.end())));
  }
  if (!hs.IsEmpty()) impl_->mem.SetHardState(hs);
  return Status::Ok();
}

Result<raftpb::Snapshot> DiskStorage::CreateSnapshot(Index index, const raftpb::ConfState& cs,
                                                     Bytes data) {
  auto s = impl_->mem.CreateSnapshot(index, &cs, std::move(data));
  if (!s.ok()) return s;
  RAFTKIT_RETURN_IF_ERROR(impl_->snapshotter->Save(*s));
  RAFTKIT_RETURN_IF_ERROR(impl_->RecordSnapshot(s->metadata, /*resets_log=*/false));
  std::lock_guard<std::mutex> g(impl_->snap_mu);
  impl_->streamed_snapshot_file.reset();
  return s;
}

Result<raftpb::SnapshotMetadata> DiskStorage::CreateSnapshotStream(Index index,
                                                                   const raftpb::ConfState& cs,
                                                                   uint64_t size,
                                                                   snap::DataSource* source) {
  auto term = impl_->mem.TermAt(index);
  if (!term.ok()) return term.status();
  raftpb::SnapshotMetadata m;
  m.index = index;
  m.term = *term;
  m.conf_state = cs;
  // Validate against memory first (kSnapOutOfDate) so no file is written for a stale request.
  auto current = impl_->mem.GetSnapshot();
  if (current.ok() && index <= current->metadata.index) {
    return Status(ErrorCode::kSnapOutOfDate,
                  fmt::format("snapshot at {} is not newer than {}", index.value(),
                              current->metadata.index.value()));
  }
  RAFTKIT_RETURN_IF_ERROR(impl_->snapshotter->SaveStream(m, size, source));
  auto s = impl_->mem.CreateSnapshot(index, &cs, Bytes());
  if (!s.ok()) return s.status();
  RAFTKIT_RETURN_IF_ERROR(impl_->RecordSnapshot(m, /*resets_log=*/false));
  std::lock_guard<std::mutex> g(impl_->snap_mu);
  impl_->streamed_snapshot_file = snap::Snapshotter::FileName(m.term, m.index);
  return m;
}

Status DiskStorage::Compact(Index index) {
  auto snap = impl_->mem.GetSnapshot();
  if (!snap.ok()) return snap.status();
  if (index > snap->metadata.index) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("compact index {} is beyond the latest snapshot ({})", index.value(),
                              snap->metadata.index.value()));
  }
  Status st = impl_->mem.Compact(index);
  if (!st.ok() && st.code() != ErrorCode::kCompacted) return st;
  // Keep the WAL back to the second-newest snapshot (see the header).
  const auto& snaps = impl_->snapshots;
  if (snaps.size() >= 2) {
    const Index release = std::min(index, snaps[snaps.size() - 2].index);
    RAFTKIT_RETURN_IF_ERROR(impl_->wal->ReleaseTo(release));
  }
  return Status::Ok();
}

Status DiskStorage::Close() {
  if (impl_->closed) return Status::Ok();
  impl_->closed = true;
  Status st = impl_->wal ? impl_->wal->Close() : Status::Ok();
  impl_->lock.reset();
  return st;
}

snap::Snapshotter& DiskStorage::snapshotter() {
  return *impl_->snapshotter;
}

}  // namespace raftkit::storage
