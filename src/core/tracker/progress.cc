#include "raftkit/core/tracker/progress.h"

#include <fmt/format.h>

#include "raftkit/util/panic.h"

namespace raftkit::raft::tracker {

const char* Name(StateType s) noexcept {
  switch (s) {
    case StateType::kProbe:
      return "StateProbe";
    case StateType::kReplicate:
      return "StateReplicate";
    case StateType::kSnapshot:
      return "StateSnapshot";
  }
  return "StateType(?)";
}

void Progress::ResetState(StateType s) {
  probe_sent = false;
  pending_snapshot = Index(0);
  state = s;
  inflights.Reset();
}

void Progress::BecomeProbe() {
  // Coming back from a snapshot, the follower may already hold the snapshot's index even though
  // no MsgAppResp said so yet: resume after whichever is further.
  if (state == StateType::kSnapshot) {
    const Index pending = pending_snapshot;
    ResetState(StateType::kProbe);
    next = Max(match + 1, pending + 1);
  } else {
    ResetState(StateType::kProbe);
    next = match + 1;
  }
}

void Progress::BecomeReplicate() {
  ResetState(StateType::kReplicate);
  next = match + 1;
}

void Progress::BecomeSnapshot(Index snapshot_index) {
  ResetState(StateType::kSnapshot);
  pending_snapshot = snapshot_index;
}

bool Progress::MaybeUpdate(Index n) {
  bool updated = false;
  if (match < n) {
    match = n;
    updated = true;
    probe_sent = false;  // the probe was answered
  }
  if (next < n + 1) next = n + 1;
  return updated;
}

bool Progress::MaybeDecrTo(Index rejected, Index match_hint) {
  if (state == StateType::kReplicate) {
    // A rejection of something at or below match is an old message arriving late.
    if (rejected <= match) return false;
    // Optimistic sending overshot: fall back to just after what is known to match.
    next = match + 1;
    return true;
  }
  // In probe state only the answer to the outstanding probe (at next-1) counts.
  if (next - 1 != rejected) return false;
  next = Min(rejected, match_hint + 1);
  if (next < Index(1)) next = Index(1);
  probe_sent = false;
  return true;
}

bool Progress::IsPaused() const {
  switch (state) {
    case StateType::kProbe:
      return probe_sent;
    case StateType::kReplicate:
      return inflights.Full();
    case StateType::kSnapshot:
      return true;
  }
  RAFTKIT_PANIC("unexpected progress state {}", static_cast<int>(state));
}

std::string Progress::String() const {
  std::string out = fmt::format("{} match={} next={}", Name(state), match, next);
  if (is_learner) out += " learner";
  if (IsPaused()) out += " paused";
  if (pending_snapshot > Index(0)) out += fmt::format(" pendingSnap={}", pending_snapshot);
  if (!recent_active) out += " inactive";
  if (const size_t n = inflights.Count(); n > 0) {
    out += fmt::format(" inflight={}", n);
    if (inflights.Full()) out += "[full]";
  }
  return out;
}

std::string ToString(const ProgressMap& m) {
  std::string out;
  for (const auto& [id, pr] : m)
    out += fmt::format("{}: {}\n", id, pr.String());
  return out;
}

}  // namespace raftkit::raft::tracker
