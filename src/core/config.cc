#include <fmt/format.h>

#include "raftkit/core/config.h"

namespace raftkit::raft {

namespace {
Status Invalid(std::string msg) {
  return Status(ErrorCode::kInvalidArgument, std::move(msg));
}
}  // namespace

Result<Config> Config::Validate() const {
  if (id == kNoNode) return Invalid("id: cannot use 0 (none) as the node id");
  if (heartbeat_tick <= 0) {
    return Invalid(fmt::format("heartbeat_tick: must be greater than 0 (is {})", heartbeat_tick));
  }
  if (election_tick <= heartbeat_tick) {
    return Invalid(fmt::format("election_tick: must be greater than heartbeat_tick ({} <= {})",
                               election_tick, heartbeat_tick));
  }
  if (storage == nullptr) return Invalid("storage: cannot be null");
  if (max_inflight_msgs == 0) return Invalid("max_inflight_msgs: must be greater than 0");
  if (read_only_option == ReadOnlyOption::kLeaseBased && !check_quorum) {
    return Invalid("read_only_option: lease-based reads require check_quorum to be enabled");
  }
  Config c = *this;
  if (c.max_uncommitted_entries_size == 0) c.max_uncommitted_entries_size = kNoLimit;
  // Committed entries per Ready used to share the MaxSizePerMsg limit in etcd; keep that default.
  if (c.max_committed_size_per_ready == 0) c.max_committed_size_per_ready = c.max_size_per_msg;
  return c;
}

}  // namespace raftkit::raft
