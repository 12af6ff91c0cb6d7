#include "sim/sim_storage.h"

#include <fmt/format.h>

#include "raftkit/util/panic.h"

namespace raftkit::sim {

namespace {
// MemoryStorage has no copy: rebuild `to` as an exact replica of `from` — same compaction point
// (which may lie below the snapshot: a tail of entries is kept for slow followers), same entries,
// same snapshot, same HardState.
void CopyInto(const raft::MemoryStorage& from, raft::MemoryStorage& to) {
  auto snap = from.GetSnapshot();
  RAFTKIT_CHECK(snap.ok(), "snapshot");
  const Index first = *from.FirstIndex();
  const Index last = *from.LastIndex();
  if (first > Index(1)) {
    // Recreate the compaction point: the snapshot itself if it is there, else a placeholder at the
    // compaction point with the real snapshot put on top below.
    raftpb::Snapshot base = *snap;
    if (snap->IsEmpty() || snap->metadata.index != first - 1) {
      base = raftpb::Snapshot{};
      base.metadata.index = first - 1;
      base.metadata.term = *from.TermAt(first - 1);
      base.metadata.conf_state = snap->metadata.conf_state;
    }
    RAFTKIT_CHECK(to.ApplySnapshot(base).ok(), "apply base snapshot");
  }
  if (last >= first) {
    auto ents = from.Entries(first, last + 1, kNoLimit);
    RAFTKIT_CHECK(ents.ok(), "entries: {}", ents.status().ToString());
    RAFTKIT_CHECK(to.Append(std::move(ents).value()).ok(), "append");
  }
  if (!snap->IsEmpty() && snap->metadata.index > first - 1) {
    auto made = to.CreateSnapshot(snap->metadata.index, &snap->metadata.conf_state, snap->data);
    RAFTKIT_CHECK(made.ok(), "recreate snapshot: {}", made.status().ToString());
  }
  auto init = from.GetInitialState();
  RAFTKIT_CHECK(init.ok(), "initial state");
  to.SetHardState(init->hard_state);
}
}  // namespace

SimStorage::SimStorage()
    : live_(std::make_unique<raft::MemoryStorage>()),
      durable_(std::make_unique<raft::MemoryStorage>()) {}

void SimStorage::ApplyTo(raft::MemoryStorage& s, const Write& w) {
  if (const auto* sw = std::get_if<SnapshotWrite>(&w)) {
    // An older snapshot than the one stored is a no-op (kSnapOutOfDate), as a real store would
    // keep the newer one.
    (void)s.ApplySnapshot(sw->snap);
  } else if (const auto* aw = std::get_if<AppendWrite>(&w)) {
    RAFTKIT_CHECK(s.Append(aw->ents).ok(), "append");
  } else if (const auto* hw = std::get_if<HardStateWrite>(&w)) {
    s.SetHardState(hw->hs);
  }
}

void SimStorage::ApplySnapshot(const raftpb::Snapshot& s) {
  unsynced_.emplace_back(SnapshotWrite{s});
  ApplyTo(*live_, unsynced_.back());
}

void SimStorage::Append(const std::vector<raftpb::Entry>& ents) {
  if (ents.empty()) return;
  unsynced_.emplace_back(AppendWrite{ents});
  ApplyTo(*live_, unsynced_.back());
}

void SimStorage::SetHardState(const raftpb::HardState& hs) {
  unsynced_.emplace_back(HardStateWrite{hs});
  ApplyTo(*live_, unsynced_.back());
}

void SimStorage::Sync() {
  for (const Write& w : unsynced_)
    ApplyTo(*durable_, w);
  unsynced_.clear();
}

bool SimStorage::SnapshotAndCompact(Index index, const raftpb::ConfState& cs, Bytes data,
                                    uint64_t keep) {
  Sync();
  auto snap = durable_->CreateSnapshot(index, &cs, data);
  if (!snap.ok()) return false;
  RAFTKIT_CHECK(live_->CreateSnapshot(index, &cs, std::move(data)).ok(), "live snapshot");
  if (index.value() > keep) {
    const Index compact_to = index - keep;
    (void)durable_->Compact(compact_to);
    (void)live_->Compact(compact_to);
  }
  return true;
}

std::string SimStorage::Crash(Rand& rand) {
  const size_t total = unsynced_.size();
  // How many unsynced writes reached the disk before the power went out.
  const size_t kept = total == 0 ? 0 : static_cast<size_t>(rand.Uniform(total + 1));
  std::string torn;
  for (size_t i = 0; i < kept; ++i) {
    Write& w = unsynced_[i];
    if (i + 1 == kept) {
      if (auto* aw = std::get_if<AppendWrite>(&w); aw != nullptr && rand.Uniform(2) == 0) {
        // The last write was cut off: only a prefix of its entries made it.
        const size_t n = static_cast<size_t>(rand.Uniform(aw->ents.size() + 1));
        torn = fmt::format(", last append torn to {}/{} entries", n, aw->ents.size());
        aw->ents.resize(n);
        if (n == 0) break;
      } else if (std::holds_alternative<HardStateWrite>(w) && rand.Uniform(2) == 0) {
        // A torn HardState record fails its checksum and is dropped.
        torn = ", last HardState write torn (dropped)";
        break;
      }
    }
    ApplyTo(*durable_, w);
  }
  const std::string out = fmt::format("{} of {} unsynced writes survived{}", kept, total, torn);
  unsynced_.clear();
  RebuildLive();
  return out;
}

void SimStorage::RebuildLive() {
  live_ = std::make_unique<raft::MemoryStorage>();
  CopyInto(*durable_, *live_);
}

raftpb::HardState SimStorage::DurableHardState() const {
  return durable_->GetInitialState()->hard_state;
}

}  // namespace raftkit::sim
