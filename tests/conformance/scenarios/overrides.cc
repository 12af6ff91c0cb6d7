// The per-command overrides: where raftkit deliberately prints something else than etcd 3.4 in
// etcd's scenario files. Each entry names the row of docs/etcd-deviations.md that explains it, and
// the runner checks that the core reported taking that deviation (core/deviations.h) at or before
// the command. README.md in this folder explains each entry. The runner also fails if an entry is
// not reached, names the wrong command, or is no longer needed.
#include "conformance/scenarios/runner.h"

namespace raftkit::conformance {

const std::vector<Override>& Overrides() {
  static const std::vector<Override> kOverrides = {
      // Deviation #5. Applying the joint configuration (index 5, autoleave) made the leader append
      // the automatic leave entry (index 7). etcd 3.4 leaves its pending conf index at 5, so the
      // explicit leave proposal of command #9 is accepted and appended as a second leave entry at
      // index 8 (whose application would panic every replica: "can't leave a non-joint config").
      // raftkit's pending conf index moved to 7 with the automatic entry, so it refuses the
      // proposal (as etcd 3.5 does) and appends an empty normal entry at index 8 instead.
      {"testdata/confchange_v2_add_single_auto.txt", 10, "stabilize", 5,
       "> 1 handling Ready\n"
       "  Ready MustSync=true:\n"
       "  Entries:\n"
       "  1/8 EntryNormal \"\"\n"
       "  Messages:\n"
       "  1->2 MsgApp Term:1 Log:1/6 Commit:6 Entries:[1/7 EntryConfChangeV2, 1/8 EntryNormal "
       "\"\"]\n"
       "> 2 receiving messages\n"
       "  1->2 MsgApp Term:1 Log:1/6 Commit:6 Entries:[1/7 EntryConfChangeV2, 1/8 EntryNormal "
       "\"\"]\n"
       "> 2 handling Ready\n"
       "  Ready MustSync=true:\n"
       "  Entries:\n"
       "  1/7 EntryConfChangeV2\n"
       "  1/8 EntryNormal \"\"\n"
       "  Messages:\n"
       "  2->1 MsgAppResp Term:1 Log:0/8\n"
       "> 1 receiving messages\n"
       "  2->1 MsgAppResp Term:1 Log:0/8\n"},
  };
  return kOverrides;
}

}  // namespace raftkit::conformance
