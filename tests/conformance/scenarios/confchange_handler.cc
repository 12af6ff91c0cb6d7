// raft/confchange/testdata: membership transitions through confchange::Changer.
//
//   simple                  one tracker per file; input: changes such as "v1 l2 r3 u4"
//   enter-joint [autoleave=true|false]
//   leave-joint             (no input)
//
// Prints the new configuration and progress map, or the error. The Changer's last index starts at
// 0 and grows by one after every command (also after a failed one), which is what the `next=`
// values of newly added members reflect.
#include <optional>
#include <vector>

#include "conformance/scenarios/handlers.h"
#include "raftkit/core/confchange/confchange.h"
#include "raftkit/core/tracker/tracker.h"
#include "raftkit/raftpb/types.h"

namespace raftkit::conformance {
namespace {

using raft::confchange::Changed;
using raft::confchange::Changer;

class ConfChangeHandler final : public Handler {
 public:
  std::string Handle(const TestCase& tc) override {
    const uint64_t last_index = last_index_++;
    std::vector<raftpb::ConfChangeSingle> ccs;
    if (!raftpb::ConfChangesFromString(tc.input, &ccs)) return "unknown input: " + tc.input;

    const Changer changer(tracker_, Index(last_index));
    std::optional<Result<Changed>> res;
    if (tc.cmd == "simple") {
      res = changer.Simple(ccs);
    } else if (tc.cmd == "enter-joint") {
      bool auto_leave = false;
      if (!tc.args.empty()) {
        const CmdArg* a = tc.Find("autoleave");
        if (a == nullptr || a->vals.size() != 1) throw HarnessError("expected autoleave=<bool>");
        auto_leave = ParseBool(a->vals[0]);
      }
      res = changer.EnterJoint(auto_leave, ccs);
    } else if (tc.cmd == "leave-joint") {
      if (!ccs.empty()) return "this command takes no input\n";
      res = changer.LeaveJoint();
    } else {
      return "unknown command";
    }
    if (!res->ok()) return res->status().message() + "\n";
    tracker_.config = res->value().config;
    tracker_.progress = res->value().progress;
    return tracker_.config.String() + "\n" + raft::tracker::ToString(tracker_.progress);
  }

 private:
  raft::tracker::ProgressTracker tracker_{10, 0};
  uint64_t last_index_ = 0;
};

}  // namespace

std::unique_ptr<Handler> NewConfChangeHandler() {
  return std::make_unique<ConfChangeHandler>();
}

}  // namespace raftkit::conformance
