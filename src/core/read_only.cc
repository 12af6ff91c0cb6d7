#include "core/read_only.h"

#include "raftkit/util/panic.h"

namespace raftkit::raft {

void ReadOnly::AddRequest(Index index, raftpb::Message m) {
  std::string ctx = m.entries.at(0).data.str();
  if (pending_.contains(ctx)) return;
  pending_.emplace(ctx, ReadIndexStatus{std::move(m), index, {}});
  queue_.push_back(std::move(ctx));
}

const quorum::VoteMap* ReadOnly::RecvAck(NodeId id, std::string_view context) {
  auto it = pending_.find(context);
  if (it == pending_.end()) return nullptr;
  it->second.acks[id] = true;
  return &it->second.acks;
}

std::vector<ReadIndexStatus> ReadOnly::Advance(std::string_view context) {
  size_t n = 0;
  bool found = false;
  for (const std::string& ctx : queue_) {
    ++n;
    RAFTKIT_CHECK(pending_.contains(ctx), "cannot find corresponding read state from pending map");
    if (ctx == context) {
      found = true;
      break;
    }
  }
  if (!found) return {};
  std::vector<ReadIndexStatus> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto it = pending_.find(queue_.front());
    out.push_back(std::move(it->second));
    pending_.erase(it);
    queue_.pop_front();
  }
  return out;
}

std::string ReadOnly::LastPendingRequestCtx() const {
  return queue_.empty() ? std::string() : queue_.back();
}

}  // namespace raftkit::raft
