// raft/testdata: the interaction environment. A group of RawNodes, each over its own
// MemoryStorage, driven command by command; messages wait in one global queue until delivered.
// README.md lists the commands and what each prints.
#include <fmt/format.h>

#include <cctype>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "conformance/scenarios/handlers.h"
#include "raftkit/core/raw_node.h"
#include "raftkit/core/storage.h"
#include "raftkit/raftpb/codec.h"
#include "raftkit/raftpb/describe.h"
#include "raftkit/raftpb/types.h"

namespace raftkit::conformance {
namespace {

using raftpb::Entry;
using raftpb::EntryType;
using raftpb::Message;
using raftpb::Snapshot;

// The level names of the environment's log-level command, lowest first. raftkit's runner prints no
// log lines (README: translations), so the level only matters for NONE, which also silences the
// harness's own output.
constexpr const char* kLevels[] = {"DEBUG", "INFO", "WARN", "ERROR", "FATAL", "NONE"};
constexpr int kLevelNone = 5;

// The text etcd's sentinel errors print (raft.ErrProposalDropped etc.); raftkit's Status carries a
// code and its own explanation. Anything else prints raftkit's description.
std::string ErrorText(const Status& st) {
  switch (st.code()) {
    case ErrorCode::kProposalDropped:
      return "raft proposal dropped";
    case ErrorCode::kStepLocalMsg:
      return "raft: cannot step raft local message";
    case ErrorCode::kStepPeerNotFound:
      return "raft: cannot step as peer not found";
    case ErrorCode::kCompacted:
      return "requested index is unavailable due to compaction";
    case ErrorCode::kSnapOutOfDate:
      return "requested index is older than the existing snapshot";
    case ErrorCode::kUnavailable:
      return "requested entry at index is unavailable";
    case ErrorCode::kSnapshotTemporarilyUnavailable:
      return "snapshot is temporarily unavailable";
    default:
      return st.ToString();
  }
}

// Each line of `s` prefixed with two spaces; every line ends in '\n'.
std::string Indent(std::string_view s) {
  std::string out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string_view::npos) nl = s.size();
    out += "  ";
    out += s.substr(pos, nl - pos);
    out += '\n';
    pos = nl + 1;
  }
  return out;
}

// A MemoryStorage whose snapshot is always the newest state of the node's application (the last
// element of its history), as in etcd's environment.
class HistoryStorage final : public raft::Storage {
 public:
  explicit HistoryStorage(const std::vector<Snapshot>* history) : history_(history) {}

  raft::MemoryStorage mem;

  [[nodiscard]] Result<InitialState> GetInitialState() const override {
    return mem.GetInitialState();
  }
  [[nodiscard]] Result<std::vector<Entry>> Entries(Index lo, Index hi,
                                                   uint64_t max_size) const override {
    return mem.Entries(lo, hi, max_size);
  }
  [[nodiscard]] Result<Term> TermAt(Index i) const override { return mem.TermAt(i); }
  [[nodiscard]] Result<Index> LastIndex() const override { return mem.LastIndex(); }
  [[nodiscard]] Result<Index> FirstIndex() const override { return mem.FirstIndex(); }
  [[nodiscard]] Result<Snapshot> GetSnapshot() const override { return history_->back(); }

 private:
  const std::vector<Snapshot>* history_;
};

struct Node {
  // The application's state after each applied entry, starting with the bootstrap snapshot (the
  // "appender" state machine: the data is the concatenation of all applied payloads).
  std::vector<Snapshot> history;
  std::unique_ptr<HistoryStorage> storage;
  raft::Config config;
  std::unique_ptr<raft::RawNode> rn;
};

class InteractionHandler final : public Handler {
 public:
  std::string Handle(const TestCase& tc) override {
    out_.clear();
    std::optional<std::string> err;
    if (tc.cmd == "_breakpoint") {
      // nothing
    } else if (tc.cmd == "add-nodes") {
      err = AddNodes(tc);
    } else if (tc.cmd == "campaign") {
      err = FromStatus(NodeAt(FirstAsIndex(tc)).rn->Campaign());
    } else if (tc.cmd == "compact") {
      err = Compact(tc);
    } else if (tc.cmd == "deliver-msgs") {
      DeliverMsgsCmd(tc);
    } else if (tc.cmd == "process-ready") {
      err = ProcessReady(FirstAsIndex(tc));
    } else if (tc.cmd == "log-level") {
      err = LogLevel(tc);
    } else if (tc.cmd == "raft-log") {
      err = RaftLog(FirstAsIndex(tc));
    } else if (tc.cmd == "stabilize") {
      Stabilize(tc);
    } else if (tc.cmd == "status") {
      out_ += raft::tracker::ToString(NodeAt(FirstAsIndex(tc)).rn->GetStatus().progress);
    } else if (tc.cmd == "tick-heartbeat") {
      Node& n = NodeAt(FirstAsIndex(tc));
      for (int i = 0; i < n.config.heartbeat_tick; ++i)
        n.rn->Tick();
    } else if (tc.cmd == "propose") {
      if (tc.args.size() != 2 || !tc.args[1].vals.empty()) {
        throw HarnessError("expected exactly one key with no vals");
      }
      err = FromStatus(NodeAt(FirstAsIndex(tc)).rn->Propose(Bytes(tc.args[1].key)));
    } else if (tc.cmd == "propose-conf-change") {
      err = ProposeConfChange(tc);
    } else {
      err = "unknown command";
    }
    if (err) out_ += *err;
    // The highest level silences everything but errors.
    if (out_.empty()) return "ok";
    if (level_ == kLevelNone) return err ? *err : "ok (quiet)";
    return out_;
  }

 private:
  static std::optional<std::string> FromStatus(const Status& st) {
    if (st.ok()) return std::nullopt;
    return ErrorText(st);
  }

  static int FirstAsInt(const TestCase& tc) {
    if (tc.args.empty()) throw HarnessError("missing first argument");
    return static_cast<int>(ParseU64(tc.args[0].key));
  }
  static size_t FirstAsIndex(const TestCase& tc) { return static_cast<size_t>(FirstAsInt(tc) - 1); }

  Node& NodeAt(size_t idx) {
    if (idx >= nodes_.size()) throw HarnessError(fmt::format("no node {}", idx + 1));
    return *nodes_[idx];
  }

  // add-nodes <n> [voters=(...)] [learners=(...)] [index=<i>] [content=<data>]
  std::optional<std::string> AddNodes(const TestCase& tc) {
    const int n = FirstAsInt(tc);
    Snapshot snap;
    bool has_content = false;
    for (size_t a = 1; a < tc.args.size(); ++a) {
      const CmdArg& arg = tc.args[a];
      for (const std::string& v : arg.vals) {
        if (arg.key == "voters") {
          snap.metadata.conf_state.voters.push_back(NodeId(ParseU64(v)));
        } else if (arg.key == "learners") {
          snap.metadata.conf_state.learners.push_back(NodeId(ParseU64(v)));
        } else if (arg.key == "index") {
          snap.metadata.index = Index(ParseU64(v));
        } else if (arg.key == "content") {
          snap.data = Bytes(v);
          has_content = has_content || !v.empty();
        }
      }
    }
    // Bootstrapped from the snapshot unless nothing at all was given.
    const bool bootstrap = snap.metadata.index != Index(0) || has_content ||
                           !snap.metadata.conf_state.voters.empty() ||
                           !snap.metadata.conf_state.learners.empty();
    for (int i = 0; i < n; ++i) {
      const uint64_t id = nodes_.size() + 1;
      auto node = std::make_unique<Node>();
      node->storage = std::make_unique<HistoryStorage>(&node->history);
      if (bootstrap) {
        if (snap.metadata.index <= Index(1)) {
          return "index must be specified as > 1 due to bootstrap";
        }
        snap.metadata.term = Term(1);
        if (Status st = node->storage->mem.ApplySnapshot(snap); !st.ok()) return ErrorText(st);
        Result<Index> fi = node->storage->mem.FirstIndex();
        if (!fi.ok()) return ErrorText(fi.status());
        if (*fi != snap.metadata.index + 1) {
          return fmt::format("failed to establish first index {}; got {}", snap.metadata.index + 1,
                             *fi);
        }
      }
      node->history.push_back(snap);
      raft::Config& c = node->config;
      c.id = NodeId(id);
      c.applied = snap.metadata.index;
      c.election_tick = 3;
      c.heartbeat_tick = 1;
      c.storage = node->storage.get();
      c.max_size_per_msg = kNoLimit;
      c.max_inflight_msgs = std::numeric_limits<int32_t>::max();
      auto rn = raft::RawNode::Create(c);
      if (!rn.ok()) return ErrorText(rn.status());
      node->rn = std::move(rn).value();
      nodes_.push_back(std::move(node));
    }
    return std::nullopt;
  }

  // compact <id> <new-first-index>: compacts the storage, then prints the log.
  std::optional<std::string> Compact(const TestCase& tc) {
    const size_t idx = FirstAsIndex(tc);
    if (tc.args.size() < 2) throw HarnessError("compact needs <id> <new-first-index>");
    const uint64_t first = ParseU64(tc.args[1].key);
    if (Status st = NodeAt(idx).storage->mem.Compact(Index(first)); !st.ok()) {
      return ErrorText(st);
    }
    return RaftLog(idx);
  }

  std::optional<std::string> RaftLog(size_t idx) {
    const raft::MemoryStorage& s = NodeAt(idx).storage->mem;
    Result<Index> fi = s.FirstIndex();
    if (!fi.ok()) return ErrorText(fi.status());
    Result<Index> li = s.LastIndex();
    if (!li.ok()) return ErrorText(li.status());
    if (*li < *fi) {
      out_ += fmt::format("log is empty: first index={}, last index={}", *fi, *li);
      return std::nullopt;
    }
    auto ents = s.Entries(*fi, *li + 1, kNoLimit);
    if (!ents.ok()) return ErrorText(ents.status());
    out_ += raftpb::DescribeEntries(*ents);
    return std::nullopt;
  }

  // log-level <DEBUG|INFO|WARN|ERROR|FATAL|NONE>
  std::optional<std::string> LogLevel(const TestCase& tc) {
    if (tc.args.empty()) throw HarnessError("log-level needs a level");
    std::string want = tc.args[0].key;
    for (char& ch : want)
      ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    for (int i = 0; i <= kLevelNone; ++i) {
      if (want == kLevels[i]) {
        level_ = i;
        return std::nullopt;
      }
    }
    return "log levels must be either of [DEBUG INFO WARN ERROR FATAL NONE]";
  }

  // propose-conf-change <id> [v1=<bool>] [transition=auto|implicit|explicit], changes as input.
  std::optional<std::string> ProposeConfChange(const TestCase& tc) {
    const size_t idx = FirstAsIndex(tc);
    bool v1 = false;
    auto transition = raftpb::ConfChangeTransition::ConfChangeTransitionAuto;
    for (size_t a = 1; a < tc.args.size(); ++a) {
      const CmdArg& arg = tc.args[a];
      for (const std::string& v : arg.vals) {
        if (arg.key == "v1") {
          v1 = ParseBool(v);
        } else if (arg.key == "transition") {
          if (v == "auto") {
            transition = raftpb::ConfChangeTransition::ConfChangeTransitionAuto;
          } else if (v == "implicit") {
            transition = raftpb::ConfChangeTransition::ConfChangeTransitionJointImplicit;
          } else if (v == "explicit") {
            transition = raftpb::ConfChangeTransition::ConfChangeTransitionJointExplicit;
          } else {
            return "unknown transition " + v;
          }
        } else {
          return "unknown command " + arg.key;
        }
      }
    }
    std::vector<raftpb::ConfChangeSingle> ccs;
    if (!raftpb::ConfChangesFromString(tc.input, &ccs)) return "unknown input: " + tc.input;
    raft::RawNode& rn = *NodeAt(idx).rn;
    if (v1) {
      if (ccs.size() != 1 || transition != raftpb::ConfChangeTransition::ConfChangeTransitionAuto) {
        return "v1 conf change can only have one operation and no transition";
      }
      raftpb::ConfChange cc;
      cc.type = ccs[0].type;
      cc.node_id = ccs[0].node_id;
      return FromStatus(rn.ProposeConfChange(cc));
    }
    raftpb::ConfChangeV2 cc;
    cc.transition = transition;
    cc.changes = std::move(ccs);
    return FromStatus(rn.ProposeConfChange(cc));
  }

  // Handles one Ready: prints it, persists it, applies the committed entries (recording the
  // application's state after each), queues the messages and advances.
  std::optional<std::string> ProcessReady(size_t idx) {
    Node& n = NodeAt(idx);
    raft::Ready rd = n.rn->GetReady();
    out_ += raft::DescribeReady(rd);
    if (!rd.hard_state.IsEmpty()) n.storage->mem.SetHardState(rd.hard_state);
    if (Status st = n.storage->mem.Append(rd.entries); !st.ok()) return ErrorText(st);
    if (!rd.snapshot.IsEmpty()) {
      if (Status st = n.storage->mem.ApplySnapshot(rd.snapshot); !st.ok()) return ErrorText(st);
    }
    for (const Entry& e : rd.committed_entries) {
      std::string_view update;
      std::optional<raftpb::ConfState> cs;
      if (e.type == EntryType::EntryConfChange) {
        auto cc = raftpb::DecodeConfChange(e.data.view());
        if (!cc.ok()) return ErrorText(cc.status());
        cs = n.rn->ApplyConfChange(*cc);
        update = cc->context.view();
        Record(n, e, update, cs);
      } else if (e.type == EntryType::EntryConfChangeV2) {
        auto cc = raftpb::DecodeConfChangeV2(e.data.view());
        if (!cc.ok()) return ErrorText(cc.status());
        cs = n.rn->ApplyConfChange(*cc);
        update = cc->context.view();
        Record(n, e, update, cs);
      } else {
        Record(n, e, e.data.view(), cs);
      }
    }
    for (Message& m : rd.messages)
      msgs_.push_back(std::move(m));
    n.rn->Advance(rd);
    return std::nullopt;
  }

  static void Record(Node& n, const Entry& e, std::string_view update,
                     const std::optional<raftpb::ConfState>& cs) {
    const Snapshot& last = n.history.back();
    Snapshot snap;
    std::string data(last.data.view());
    data += update;
    if (!data.empty()) snap.data = Bytes(std::move(data));
    snap.metadata.index = e.index;
    snap.metadata.term = e.term;
    snap.metadata.conf_state = cs ? *cs : last.metadata.conf_state;
    n.history.push_back(std::move(snap));
  }

  struct Recipient {
    uint64_t id;
    bool drop;
  };

  // deliver-msgs <id>... [drop=(<id>...)]
  void DeliverMsgsCmd(const TestCase& tc) {
    std::vector<Recipient> rs;
    for (const CmdArg& arg : tc.args) {
      if (arg.vals.empty()) rs.push_back({ParseU64(arg.key), false});
      for (const std::string& v : arg.vals) {
        if (arg.key != "drop") continue;
        const uint64_t id = ParseU64(v);
        for (const Recipient& r : rs) {
          if (r.id == id)
            throw HarnessError(fmt::format("can't both deliver and drop msgs to {}", id));
        }
        rs.push_back({id, true});
      }
    }
    if (DeliverMsgs(rs) == 0) out_ += "no messages\n";
  }

  // Delivers (or drops) the queued messages of each recipient in turn, in queue order; returns how
  // many were handled.
  size_t DeliverMsgs(const std::vector<Recipient>& rs) {
    size_t handled = 0;
    for (const Recipient& r : rs) {
      std::vector<Message> mine;
      std::vector<Message> rest;
      for (Message& m : msgs_)
        (m.to == NodeId(r.id) ? mine : rest).push_back(std::move(m));
      msgs_ = std::move(rest);
      handled += mine.size();
      for (Message& m : mine) {
        if (r.drop) out_ += "dropped: ";
        out_ += raftpb::DescribeMessage(m) + "\n";
        if (r.drop) continue;
        Node& to = NodeAt(static_cast<size_t>(m.to.value() - 1));
        if (Status st = to.rn->Step(std::move(m)); !st.ok()) out_ += ErrorText(st);
      }
    }
    return handled;
  }

  bool HasMsgsFor(uint64_t id) const {
    for (const Message& m : msgs_) {
      if (m.to == NodeId(id)) return true;
    }
    return false;
  }

  // stabilize [<id>...]: Ready handling and message delivery on the given nodes (all if none)
  // until nothing changes.
  void Stabilize(const TestCase& tc) {
    std::vector<size_t> idxs;
    for (const CmdArg& arg : tc.args) {
      if (arg.vals.empty()) idxs.push_back(static_cast<size_t>(ParseU64(arg.key) - 1));
    }
    if (idxs.empty()) {
      for (size_t i = 0; i < nodes_.size(); ++i)
        idxs.push_back(i);
    }
    // etcd's loop has no bound; this one gives up long after any scenario could still be moving.
    for (int round = 0;; ++round) {
      if (round == 10000) throw HarnessError("stabilize: no fixed point after 10000 rounds");
      bool done = true;
      for (size_t idx : idxs) {
        if (!NodeAt(idx).rn->HasReady()) continue;
        done = false;
        out_ += fmt::format("> {} handling Ready\n", idx + 1);
        WithIndent([&] { (void)ProcessReady(idx); });
      }
      for (size_t idx : idxs) {
        const uint64_t id = idx + 1;
        if (!HasMsgsFor(id)) continue;
        out_ += fmt::format("> {} receiving messages\n", id);
        WithIndent([&] { DeliverMsgs({{id, false}}); });
        done = false;
      }
      if (done) return;
    }
  }

  // Runs f with a fresh output buffer and appends what it printed, indented.
  template <class F>
  void WithIndent(F&& f) {
    std::string outer = std::move(out_);
    out_.clear();
    f();
    outer += Indent(out_);
    out_ = std::move(outer);
  }

  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<Message> msgs_;  // in flight, in the order they were sent
  std::string out_;
  int level_ = 0;  // DEBUG
};

}  // namespace

std::unique_ptr<Handler> NewInteractionHandler() {
  return std::make_unique<InteractionHandler>();
}

}  // namespace raftkit::conformance
