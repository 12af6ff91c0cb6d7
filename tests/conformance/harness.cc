#include "conformance/harness.h"

#include <charconv>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "core/deviations.h"
#include "raftkit/raftpb/codec.h"
#include "raftkit/util/panic.h"

namespace raftkit::conformance {

using raftpb::ConfChangeType;
using raftpb::Entry;
using raftpb::EntryType;
using raftpb::Message;

namespace {

// Deviation notes of the core during the current command (core/deviations.h).
std::set<int>& Noted() {
  static std::set<int> noted;
  return noted;
}
void OnDeviation(int number) {
  Noted().insert(number);
}

std::vector<std::string> Split(std::string_view line) {
  std::vector<std::string> out;
  std::istringstream in{std::string(line)};
  std::string tok;
  while (in >> tok)
    out.push_back(tok);
  return out;
}

uint64_t Num(const std::string& s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    throw std::invalid_argument("not a number: " + s);
  }
  return v;
}

Bytes FromHex(const std::string& s) {
  if (s == "-") return Bytes();
  if (s == "\"\"") return Bytes::Empty();
  if (s.size() % 2 != 0) throw std::invalid_argument("odd hex: " + s);
  std::string out;
  for (size_t i = 0; i < s.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(s.substr(i, 2), nullptr, 16)));
  }
  return Bytes(std::move(out));
}

std::string Ids(const std::vector<NodeId>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ' ';
    out += std::to_string(ids[i].value());
  }
  return out + "]";
}

const char* Bool(bool b) {
  return b ? "true" : "false";
}

}  // namespace

std::string Hex(const Bytes& b) {
  if (b.is_null()) return "-";
  if (b.empty()) return "\"\"";
  std::string out;
  out.reserve(b.size() * 2);
  for (unsigned char c : b.view())
    out += fmt::format("{:02x}", c);
  return out;
}

std::string PrintEntry(const Entry& e) {
  return fmt::format("{} {}/{} {}", raftpb::Name(e.type), e.term, e.index, Hex(e.data));
}

std::string PrintConfState(const raftpb::ConfState& cs) {
  return fmt::format("voters={} learners={} outgoing={} learners_next={} autoleave={}",
                     Ids(cs.voters), Ids(cs.learners), Ids(cs.voters_outgoing),
                     Ids(cs.learners_next), Bool(cs.auto_leave));
}

std::string PrintSnapshot(const raftpb::Snapshot& s) {
  return fmt::format("{}/{} {} data={}", s.metadata.index, s.metadata.term,
                     PrintConfState(s.metadata.conf_state), Hex(s.data));
}

std::string PrintMessage(const Message& m) {
  std::string ents;
  for (size_t i = 0; i < m.entries.size(); ++i) {
    if (i > 0) ents += "; ";
    ents += PrintEntry(m.entries[i]);
  }
  return fmt::format(
      "{} {}->{} term={} logterm={} index={} commit={} reject={} hint={} ctx={} snap={} ents=[{}]",
      raftpb::Name(m.type), m.from, m.to, m.term, m.log_term, m.index, m.commit, Bool(m.reject),
      m.reject_hint, Hex(m.context), m.snapshot.IsEmpty() ? "none" : PrintSnapshot(m.snapshot),
      ents);
}

std::string ErrorName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kProposalDropped:
    case ErrorCode::kStepLocalMsg:
    case ErrorCode::kStepPeerNotFound:
    case ErrorCode::kCompacted:
    case ErrorCode::kSnapOutOfDate:
    case ErrorCode::kUnavailable:
    case ErrorCode::kSnapshotTemporarilyUnavailable:
      return std::string(ErrorCodeName(code));
    default:
      return "Other";
  }
}

Harness::Harness() {
  raft::deviation::SetObserver(&OnDeviation);
}

Harness::~Harness() {
  raft::deviation::SetObserver(nullptr);
}

std::unique_ptr<raft::RawNode> Harness::MakeRawNode(NodeId id, raft::Storage* storage,
                                                    Index applied) {
  raft::Config c;
  c.id = id;
  c.election_tick = config_.election;
  c.heartbeat_tick = config_.heartbeat;
  c.storage = storage;
  c.applied = applied;
  c.max_size_per_msg = config_.max_size_per_msg;
  c.max_committed_size_per_ready = config_.max_committed_per_ready;
  c.max_uncommitted_entries_size = config_.max_uncommitted;
  c.max_inflight_msgs = config_.max_inflight;
  c.check_quorum = config_.check_quorum;
  c.pre_vote = config_.pre_vote;
  c.read_only_option =
      config_.lease_reads ? raft::ReadOnlyOption::kLeaseBased : raft::ReadOnlyOption::kSafe;
  c.disable_proposal_forwarding = config_.disable_forwarding;
  auto rn = raft::RawNode::Create(c);
  if (!rn.ok()) throw std::invalid_argument("config: " + rn.status().ToString());
  return std::move(rn).value();
}

void Harness::AddNode(NodeId id, bool bootstrap) {
  nodes_.erase(id);  // adding an existing id replaces the node (as the Go runner does)
  ScriptNode n;
  n.storage = std::make_unique<raft::MemoryStorage>();
  n.rn = MakeRawNode(id, n.storage.get(), Index(0));
  if (bootstrap) {
    std::vector<raft::Peer> peers;
    for (int i = 1; i <= config_.nodes; ++i)
      peers.push_back({NodeId(i), Bytes()});
    Status st = n.rn->Bootstrap(peers);
    if (!st.ok()) throw std::invalid_argument("bootstrap: " + st.ToString());
  }
  nodes_.emplace(id, std::move(n));
}

std::string Harness::Configure(const std::vector<std::string>& args) {
  for (size_t i = 1; i < args.size(); ++i) {
    const auto eq = args[i].find('=');
    if (eq == std::string::npos) throw std::invalid_argument("bad config arg " + args[i]);
    const std::string key = args[i].substr(0, eq);
    const std::string val = args[i].substr(eq + 1);
    if (key == "nodes") {
      config_.nodes = static_cast<int>(Num(val));
    } else if (key == "prevote") {
      config_.pre_vote = Num(val) != 0;
    } else if (key == "checkquorum") {
      config_.check_quorum = Num(val) != 0;
    } else if (key == "readonly") {
      config_.lease_reads = val == "lease";
    } else if (key == "maxsizepermsg") {
      config_.max_size_per_msg = Num(val);
    } else if (key == "maxinflight") {
      config_.max_inflight = Num(val);
    } else if (key == "maxuncommitted") {
      config_.max_uncommitted = Num(val);
    } else if (key == "maxcommittedperready") {
      config_.max_committed_per_ready = Num(val);
    } else if (key == "disableforwarding") {
      config_.disable_forwarding = Num(val) != 0;
    } else if (key == "election") {
      config_.election = static_cast<int>(Num(val));
    } else if (key == "heartbeat") {
      config_.heartbeat = static_cast<int>(Num(val));
    } else {
      throw std::invalid_argument("unknown config key " + key);
    }
  }
  configured_ = true;
  for (int i = 1; i <= config_.nodes; ++i)
    AddNode(NodeId(i), /*bootstrap=*/true);
  return "";
}

ScriptNode& Harness::Node(const std::string& id_text) {
  auto it = nodes_.find(NodeId(Num(id_text)));
  if (it == nodes_.end()) throw NoSuchNode{};
  return it->second;
}

std::string Harness::HandleReady(NodeId id) {
  ScriptNode& n = nodes_.at(id);
  if (!n.rn->HasReady()) return "no ready\n";
  raft::Ready rd = n.rn->GetReady();
  std::string out = fmt::format("ready {}\n", id);
  if (rd.soft_state) {
    out += fmt::format("  soft lead={} state={}\n", rd.soft_state->lead,
                       raft::Name(rd.soft_state->raft_state));
  }
  if (!rd.hard_state.IsEmpty()) {
    out += fmt::format("  hard term={} vote={} commit={}\n", rd.hard_state.term, rd.hard_state.vote,
                       rd.hard_state.commit);
  }
  if (!rd.entries.empty()) {
    out += "  entries:\n";
    for (const Entry& e : rd.entries)
      out += "    " + PrintEntry(e) + "\n";
  }
  if (!rd.snapshot.IsEmpty()) out += "  snapshot " + PrintSnapshot(rd.snapshot) + "\n";
  if (!rd.committed_entries.empty()) {
    out += "  committed:\n";
    for (const Entry& e : rd.committed_entries)
      out += "    " + PrintEntry(e) + "\n";
  }
  if (!rd.messages.empty()) {
    out += "  messages:\n";
    for (const Message& m : rd.messages)
      out += "    " + PrintMessage(m) + "\n";
  }
  if (!rd.read_states.empty()) {
    out += "  read-states:\n";
    for (const raft::ReadState& rs : rd.read_states) {
      out += fmt::format("    index={} ctx={}\n", rs.index, Hex(rs.request_ctx));
    }
  }
  out += fmt::format("  must-sync={}\n", Bool(rd.must_sync));

  if (!rd.snapshot.IsEmpty()) {
    (void)n.storage->ApplySnapshot(rd.snapshot);
    n.applied = rd.snapshot.metadata.index;
    n.conf_state = rd.snapshot.metadata.conf_state;
  }
  (void)n.storage->Append(rd.entries);
  if (!rd.hard_state.IsEmpty()) n.storage->SetHardState(rd.hard_state);
  for (Message& m : rd.messages)
    pending_.push_back(m);
  for (const Entry& e : rd.committed_entries) {
    n.applied = e.index;
    if (e.type == EntryType::EntryConfChange) {
      auto cc = raftpb::DecodeConfChange(e.data.view());
      if (!cc.ok()) throw std::invalid_argument("bad conf change entry");
      n.conf_state = n.rn->ApplyConfChange(*cc);
    } else if (e.type == EntryType::EntryConfChangeV2) {
      auto cc = raftpb::DecodeConfChangeV2(e.data.view());
      if (!cc.ok()) throw std::invalid_argument("bad conf change entry");
      n.conf_state = n.rn->ApplyConfChange(*cc);
    } else {
      continue;
    }
    out += fmt::format("  applied-cc {} {}\n", e.index, PrintConfState(n.conf_state));
  }
  n.rn->Advance(rd);
  return out;
}

std::string Harness::PrintStatus(NodeId id) {
  const raft::NodeStatus s = nodes_.at(id).rn->GetStatus();
  std::string out =
      fmt::format("status {} term={} vote={} commit={} lead={} state={} applied={} transferee={}\n",
                  id, s.basic.hard_state.term, s.basic.hard_state.vote, s.basic.hard_state.commit,
                  s.basic.soft_state.lead, raft::Name(s.basic.soft_state.raft_state),
                  s.basic.applied, s.basic.lead_transferee);
  for (const auto& [pid, pr] : s.progress) {
    out += fmt::format(
        "  progress {} match={} next={} state={} pending={} active={} probe-sent={} inflight={} "
        "learner={}\n",
        pid, pr.match, pr.next, raft::tracker::Name(pr.state), pr.pending_snapshot,
        Bool(pr.recent_active), Bool(pr.probe_sent), pr.inflights.Count(), Bool(pr.is_learner));
  }
  return out;
}

std::string Harness::Execute(int n, std::string_view line) {
  Noted().clear();
  const std::vector<std::string> a = Split(line);
  std::string out = fmt::format("> {} {}\n", n, line);
  if (a.empty()) throw std::invalid_argument("empty command");
  if (!configured_ && a[0] != "config") throw std::invalid_argument("config must come first");
  try {
    ExecuteCommand(a, line, out);
  } catch (const NoSuchNode&) {
    out += "no such node\n";
  }
  for (int d : Noted())
    out += fmt::format("[deviation #{}]\n", d);
  return out;
}

void Harness::ExecuteCommand(const std::vector<std::string>& a, std::string_view line,
                             std::string& out) {
  const std::string& cmd = a[0];
  auto need = [&](size_t count) {
    if (a.size() < count) throw std::invalid_argument("too few arguments: " + std::string(line));
  };
  auto err = [&](const Status& st) {
    if (!st.ok()) out += "error: " + ErrorName(st.code()) + "\n";
  };

  if (cmd == "config") {
    out += Configure(a);
  } else if (cmd == "add-node") {
    need(2);
    AddNode(NodeId(Num(a[1])), /*bootstrap=*/false);
  } else if (cmd == "campaign") {
    need(2);
    err(Node(a[1]).rn->Campaign());
  } else if (cmd == "propose") {
    need(3);
    err(Node(a[1]).rn->Propose(FromHex(a[2])));
  } else if (cmd == "propose-cc-v1") {
    need(5);
    raftpb::ConfChange cc;
    cc.id = Num(a[2]);
    if (a[3] == "add") {
      cc.type = ConfChangeType::ConfChangeAddNode;
    } else if (a[3] == "remove") {
      cc.type = ConfChangeType::ConfChangeRemoveNode;
    } else if (a[3] == "update") {
      cc.type = ConfChangeType::ConfChangeUpdateNode;
    } else if (a[3] == "learner") {
      cc.type = ConfChangeType::ConfChangeAddLearnerNode;
    } else {
      throw std::invalid_argument("bad v1 type " + a[3]);
    }
    cc.node_id = NodeId(Num(a[4]));
    if (a.size() > 5) cc.context = FromHex(a[5]);
    err(Node(a[1]).rn->ProposeConfChange(cc));
  } else if (cmd == "propose-cc-v2") {
    need(3);
    raftpb::ConfChangeV2 cc;
    if (a[2] == "auto") {
      cc.transition = raftpb::ConfChangeTransition::ConfChangeTransitionAuto;
    } else if (a[2] == "implicit") {
      cc.transition = raftpb::ConfChangeTransition::ConfChangeTransitionJointImplicit;
    } else if (a[2] == "explicit") {
      cc.transition = raftpb::ConfChangeTransition::ConfChangeTransitionJointExplicit;
    } else {
      throw std::invalid_argument("bad transition " + a[2]);
    }
    std::string changes;
    for (size_t i = 3; i < a.size(); ++i) {
      if (a[i].rfind("ctx=", 0) == 0) {
        cc.context = FromHex(a[i].substr(4));
      } else {
        changes += (changes.empty() ? "" : " ") + a[i];
      }
    }
    if (!raftpb::ConfChangesFromString(changes, &cc.changes)) {
      throw std::invalid_argument("bad changes " + changes);
    }
    err(Node(a[1]).rn->ProposeConfChange(cc));
  } else if (cmd == "tick") {
    need(2);
    Node(a[1]).rn->Tick();
  } else if (cmd == "ready") {
    need(2);
    Node(a[1]);  // validates the id
    out += HandleReady(NodeId(Num(a[1])));
  } else if (cmd == "deliver" || cmd == "drop") {
    need(2);
    const size_t k = Num(a[1]);
    if (k >= pending_.size()) {
      out += "no such message\n";
      return;
    }
    Message m = pending_[k];
    pending_.erase(pending_.begin() + static_cast<ptrdiff_t>(k));
    if (cmd == "deliver") {
      out += "deliver " + PrintMessage(m) + "\n";
      auto it = nodes_.find(m.to);
      if (it == nodes_.end()) {
        out += "no such node\n";
      } else {
        err(it->second.rn->Step(std::move(m)));
      }
    }
  } else if (cmd == "report-unreachable") {
    need(3);
    Node(a[1]).rn->ReportUnreachable(NodeId(Num(a[2])));
  } else if (cmd == "report-snapshot") {
    need(4);
    Node(a[1]).rn->ReportSnapshot(NodeId(Num(a[2])), a[3] == "ok" ? raft::SnapshotStatus::kFinish
                                                                  : raft::SnapshotStatus::kFailure);
  } else if (cmd == "read-index") {
    need(3);
    Node(a[1]).rn->ReadIndex(FromHex(a[2]));
  } else if (cmd == "transfer-leader") {
    need(3);
    Node(a[1]).rn->TransferLeader(NodeId(Num(a[2])));
  } else if (cmd == "snapshot") {
    need(2);
    ScriptNode& node = Node(a[1]);
    auto r = node.storage->CreateSnapshot(node.applied, &node.conf_state,
                                          Bytes(fmt::format("snap@{}", node.applied)));
    out += r.ok() ? "ok\n" : "error: " + ErrorName(r.code()) + "\n";
  } else if (cmd == "compact") {
    need(3);
    const Status st = Node(a[1]).storage->Compact(Index(Num(a[2])));
    out += st.ok() ? "ok\n" : "error: " + ErrorName(st.code()) + "\n";
  } else if (cmd == "restart") {
    need(2);
    // A restarted process rebuilds its state machine from the latest snapshot and lets raft
    // hand out the committed entries after it again.
    ScriptNode& node = Node(a[1]);
    const raftpb::Snapshot snap = *node.storage->GetSnapshot();
    node.applied = snap.metadata.index;
    node.conf_state = snap.metadata.conf_state;
    node.rn = MakeRawNode(NodeId(Num(a[1])), node.storage.get(), node.applied);
  } else if (cmd == "status") {
    need(2);
    Node(a[1]);
    out += PrintStatus(NodeId(Num(a[1])));
  } else {
    throw std::invalid_argument("unknown command " + cmd);
  }
}

std::string RunScript(std::string_view script, std::string* panic_message) {
  Harness h;
  ScopedPanicHandler throwing(ThrowingPanicHandler);
  std::string out;
  std::istringstream in{std::string(script)};
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r'))
      line.pop_back();
    size_t start = line.find_first_not_of(' ');
    if (start == std::string::npos) continue;
    line = line.substr(start);
    try {
      out += h.Execute(++n, line);
    } catch (const PanicError& p) {
      out += fmt::format("> {} {}\nPANIC\n", n, line);
      if (panic_message != nullptr) *panic_message = p.message;
      return out;
    }
  }
  return out;
}

}  // namespace raftkit::conformance
