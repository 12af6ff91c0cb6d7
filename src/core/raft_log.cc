#include "core/raft_log.h"
#include "core/log.h"
#include "core/planted_bugs.h"

#include <fmt/format.h>

#include "raftkit/util/panic.h"

namespace raftkit::raft {

using raftpb::Entry;

namespace {
template <class T>
T MustOk(Result<T> r, const char* what) {
  RAFTKIT_CHECK(r.ok(), "storage {} failed: {}", what, r.status().ToString());
  return std::move(r).value();
}
}  // namespace

RaftLog::RaftLog(Storage& storage, Logger& logger, uint64_t max_next_ents_size)
    : storage_(&storage),
      unstable_(logger),
      logger_(&logger),
      max_next_ents_size_(max_next_ents_size) {
  const Index first = MustOk(storage.FirstIndex(), "FirstIndex");
  const Index last = MustOk(storage.LastIndex(), "LastIndex");
  unstable_.set_offset(last + 1);
  // Everything up to the snapshot is committed and applied by definition.
  committed_ = first - 1;
  applied_ = first - 1;
}

std::string RaftLog::String() const {
  return fmt::format("committed={}, applied={}, unstable.offset={}, len(unstable.Entries)={}",
                     committed_, applied_, unstable_.offset(), unstable_.entries().size());
}

std::optional<Index> RaftLog::MaybeAppend(Index index, Term log_term, Index committed,
                                          std::span<const Entry> ents) {
  if (!MatchTerm(index, log_term)) return std::nullopt;
  // The entries must follow `index` without gaps; anything else is a malformed MsgApp.
  for (size_t i = 0; i < ents.size(); ++i) {
    RAFTKIT_CHECK(ents[i].index == index + 1 + i,
                  "MsgApp entries are not consecutive after index {}: entry {} has index {}", index,
                  i, ents[i].index);
  }
  const Index last_new = index + ents.size();
  const Index ci = FindConflict(ents);
  if (ci == Index(0)) {
    // Everything is already in the log: nothing to append.
  } else if (ci <= committed_) {
    RAFTKIT_PANIC("entry {} conflict with committed entry [committed({})]", ci, committed_);
  } else if (planted::Is(planted::Bug::kKeepConflictingEntries)) {
    if (last_new > LastIndex()) Append(ents.subspan(LastIndex() + 1 - (index + 1)));
  } else {
    Append(ents.subspan(ci - (index + 1)));
  }
  CommitTo(Min(committed, last_new));
  return last_new;
}

Index RaftLog::Append(std::span<const Entry> ents) {
  if (ents.empty()) return LastIndex();
  const Index after = ents.front().index - 1;
  RAFTKIT_CHECK(after >= committed_, "after({}) is out of range [committed({})]", after,
                committed_);
  unstable_.TruncateAndAppend(ents);
  return LastIndex();
}

Index RaftLog::FindConflict(std::span<const Entry> ents) const {
  for (const Entry& e : ents) {
    if (!MatchTerm(e.index, e.term)) {
      if (e.index <= LastIndex()) {
        RAFT_INFO("found conflict at index {} [existing term: {}, conflicting term: {}]", e.index,
                  ZeroTermOnErrCompacted(TermAt(e.index)), e.term);
      }
      return e.index;
    }
  }
  return Index(0);
}

std::vector<Entry> RaftLog::NextEnts() const {
  const Index off = Max(applied_ + 1, FirstIndex());
  if (committed_ + 1 > off) {
    auto ents = Slice(off, committed_ + 1, max_next_ents_size_);
    RAFTKIT_CHECK(ents.ok(), "unexpected error when getting unapplied entries ({})",
                  ents.status().ToString());
    return std::move(ents).value();
  }
  return {};
}

bool RaftLog::HasNextEnts() const {
  const Index off = Max(applied_ + 1, FirstIndex());
  return committed_ + 1 > off;
}

Result<raftpb::Snapshot> RaftLog::GetSnapshot() const {
  if (const raftpb::Snapshot* s = unstable_.snapshot()) return *s;
  return storage_->GetSnapshot();
}

Index RaftLog::FirstIndex() const {
  if (auto i = unstable_.MaybeFirstIndex()) return *i;
  return MustOk(storage_->FirstIndex(), "FirstIndex");
}

Index RaftLog::LastIndex() const {
  if (auto i = unstable_.MaybeLastIndex()) return *i;
  return MustOk(storage_->LastIndex(), "LastIndex");
}

void RaftLog::CommitTo(Index to) {
  if (committed_ < to) {
    RAFTKIT_CHECK(LastIndex() >= to,
                  "tocommit({}) is out of range [lastIndex({})]. Was the raft log corrupted, "
                  "truncated, or lost?",
                  to, LastIndex());
    committed_ = to;
  }
}

void RaftLog::AppliedTo(Index i) {
  if (i == Index(0)) return;
  RAFTKIT_CHECK(committed_ >= i && i >= applied_,
                "applied({}) is out of range [prevApplied({}), committed({})]", i, applied_,
                committed_);
  applied_ = i;
}

Term RaftLog::LastTerm() const {
  auto t = TermAt(LastIndex());
  RAFTKIT_CHECK(t.ok(), "unexpected error when getting the last term ({})", t.status().ToString());
  return *t;
}

Result<Term> RaftLog::TermAt(Index i) const {
  // The unstable part answers most lookups (the tail of the log); whatever it knows is within
  // [FirstIndex() - 1, LastIndex()], so checking it first changes no result.
  if (auto t = unstable_.MaybeTerm(i)) return *t;
  // The valid range also covers the dummy entry just before the first index (the snapshot's).
  const Index dummy = FirstIndex() - 1;
  if (i < dummy || i > LastIndex()) return Term(0);
  Result<Term> t = storage_->TermAt(i);
  if (t.ok() || t.code() == ErrorCode::kCompacted || t.code() == ErrorCode::kUnavailable) return t;
  RAFTKIT_PANIC("storage TermAt({}) failed: {}", i, t.status().ToString());
}

Result<std::vector<Entry>> RaftLog::EntriesFrom(Index i, uint64_t max_size) const {
  if (i > LastIndex()) return std::vector<Entry>{};
  return Slice(i, LastIndex() + 1, max_size);
}

std::vector<Entry> RaftLog::AllEntries() const {
  for (;;) {
    auto ents = EntriesFrom(FirstIndex(), kNoLimit);
    if (ents.ok()) return std::move(ents).value();
    // A compaction raced with us (storage is shared with the application): try again.
    RAFTKIT_CHECK(ents.code() == ErrorCode::kCompacted, "AllEntries: {}", ents.status().ToString());
  }
}

bool RaftLog::IsUpToDate(Index lasti, Term term) const {
  const Term last_term = LastTerm();
  return term > last_term || (term == last_term && lasti >= LastIndex());
}

bool RaftLog::MatchTerm(Index i, Term t) const {
  auto term = TermAt(i);
  return term.ok() && *term == t;
}

bool RaftLog::MaybeCommit(Index max_index, Term term) {
  // Only an entry of the current term is committed by counting replicas (thesis §3.6.2).
  const bool own_term = planted::Is(planted::Bug::kCommitPreviousTermByCount) ||
                        ZeroTermOnErrCompacted(TermAt(max_index)) == term;
  if (max_index > committed_ && own_term) {
    CommitTo(max_index);
    return true;
  }
  return false;
}

void RaftLog::Restore(const raftpb::Snapshot& s) {
  RAFT_INFO("log [{}] starts to restore snapshot [index: {}, term: {}]", String(), s.metadata.index,
            s.metadata.term);
  committed_ = s.metadata.index;
  unstable_.Restore(s);
}

Result<std::vector<Entry>> RaftLog::Slice(Index lo, Index hi, uint64_t max_size) const {
  if (Status st = MustCheckOutOfBounds(lo, hi); !st.ok()) return st;
  if (lo == hi) return std::vector<Entry>{};
  std::vector<Entry> ents;
  const Index offset = unstable_.offset();
  if (lo < offset) {
    const Index stored_hi = Min(hi, offset);
    auto stored = storage_->Entries(lo, stored_hi, max_size);
    if (stored.code() == ErrorCode::kCompacted) return stored.status();
    RAFTKIT_CHECK(stored.code() != ErrorCode::kUnavailable,
                  "entries[{}:{}) is unavailable from storage", lo, stored_hi);
    RAFTKIT_CHECK(stored.ok(), "storage Entries failed: {}", stored.status().ToString());
    ents = std::move(stored).value();
    // The size limit already cut the stored entries short: do not add unstable ones.
    if (ents.size() < stored_hi - lo) return ents;
  }
  if (hi > offset) {
    std::vector<Entry> unstable = unstable_.Slice(Max(lo, offset), hi);
    if (ents.empty()) {
      ents = std::move(unstable);
    } else {
      ents.insert(ents.end(), std::make_move_iterator(unstable.begin()),
                  std::make_move_iterator(unstable.end()));
    }
  }
  LimitSize(&ents, max_size);
  return ents;
}

Status RaftLog::MustCheckOutOfBounds(Index lo, Index hi) const {
  RAFTKIT_CHECK(lo <= hi, "invalid slice {} > {}", lo, hi);
  const Index fi = FirstIndex();
  if (lo < fi) return Status(ErrorCode::kCompacted, "requested index is compacted");
  const uint64_t length = LastIndex() + 1 - fi;
  RAFTKIT_CHECK(hi <= fi + length, "slice[{},{}) out of bound [{},{}]", lo, hi, fi, LastIndex());
  return Status::Ok();
}

Term RaftLog::ZeroTermOnErrCompacted(const Result<Term>& t) const {
  if (t.ok()) return *t;
  if (t.code() == ErrorCode::kCompacted) return Term(0);
  RAFTKIT_PANIC("unexpected error ({})", t.status().ToString());
}

}  // namespace raftkit::raft
