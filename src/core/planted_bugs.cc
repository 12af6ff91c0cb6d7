#include "core/planted_bugs.h"

#ifdef RAFTKIT_PLANTED_BUGS
namespace raftkit::raft::planted {
Bug& Active() {
  static Bug active = Bug::kNone;
  return active;
}
}  // namespace raftkit::raft::planted
#endif
