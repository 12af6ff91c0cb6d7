#include "raftkit/core/raw_node.h"

#include <fmt/format.h>

#include "core/deviations.h"
#include "core/raft.h"
#include "raftkit/raftpb/codec.h"
#include "raftkit/raftpb/describe.h"
#include "raftkit/util/panic.h"

namespace raftkit::raft {

using raftpb::Entry;
using raftpb::Message;
using raftpb::MessageType;

bool Ready::ContainsUpdates() const {
  return soft_state.has_value() || !hard_state.IsEmpty() || !snapshot.IsEmpty() ||
         !entries.empty() || !committed_entries.empty() || !messages.empty() ||
         !read_states.empty();
}

bool MustSync(const raftpb::HardState& st, const raftpb::HardState& prev, size_t num_entries) {
  // Raft's persistent state is currentTerm, votedFor and the log (thesis Figure 3.1); the commit
  // index can be recovered, so a change of commit alone needs no fsync.
  return num_entries != 0 || st.vote != prev.vote || st.term != prev.term;
}

Result<std::unique_ptr<RawNode>> RawNode::Create(const Config& config) {
  Result<Config> c = config.Validate();
  if (!c.ok()) return c.status();
  return std::unique_ptr<RawNode>(new RawNode(std::make_unique<Raft>(*c)));
}

RawNode::RawNode(std::unique_ptr<Raft> r) : raft_(std::move(r)) {
  prev_soft_ = raft_->GetSoftState();
  prev_hard_ = raft_->GetHardState();
}

RawNode::~RawNode() = default;

Status RawNode::Bootstrap(const std::vector<Peer>& peers) {
  if (peers.empty()) {
    return Status(ErrorCode::kInvalidArgument, "must provide at least one peer to Bootstrap");
  }
  Result<Index> last = raft_->log.storage().LastIndex();
  if (!last.ok()) return last.status();
  if (*last != Index(0)) {
    return Status(ErrorCode::kInvalidArgument, "can't bootstrap a nonempty Storage");
  }
  // The first Ready must report the bootstrap HardState even though it equals what the node
  // computed, so that the application persists it.
  prev_hard_ = raftpb::HardState{};
  raft_->BecomeFollower(Term(1), kNoNode);
  std::vector<Entry> ents(peers.size());
  for (size_t i = 0; i < peers.size(); ++i) {
    raftpb::ConfChange cc;
    cc.type = raftpb::ConfChangeType::ConfChangeAddNode;
    cc.node_id = peers[i].id;
    cc.context = peers[i].context;
    ents[i].type = raftpb::EntryType::EntryConfChange;
    ents[i].term = Term(1);
    ents[i].index = Index(i + 1);
    ents[i].data = Bytes(raftpb::Encode(cc));
  }
  raft_->log.Append(ents);
  // The bootstrap entries are committed by fiat (every member starts with them) and applied
  // right away, so the configuration exists before the first election. The application will
  // still see them in committed_entries, and apply them again harmlessly.
  raft_->log.set_committed(Index(ents.size()));
  for (const Peer& p : peers) {
    raftpb::ConfChange cc;
    cc.type = raftpb::ConfChangeType::ConfChangeAddNode;
    cc.node_id = p.id;
    raft_->ApplyConfChange(raftpb::ConfChangeV2::FromV1(cc));
  }
  return Status::Ok();
}

void RawNode::Tick() {
  raft_->Tick();
}

void RawNode::TickQuiesced() {
  ++raft_->election_elapsed;
}

Status RawNode::Campaign() {
  Message m;
  m.type = MessageType::MsgHup;
  return raft_->Step(std::move(m));
}

Status RawNode::Propose(Bytes data) {
  Message m;
  m.type = MessageType::MsgProp;
  m.from = raft_->id;
  m.entries.resize(1);
  m.entries[0].data = std::move(data);
  return raft_->Step(std::move(m));
}

Status RawNode::ProposeBatch(std::span<const Bytes> batch) {
  if (batch.empty()) return Status(ErrorCode::kInvalidArgument, "empty proposal batch");
  Message m;
  m.type = MessageType::MsgProp;
  m.from = raft_->id;
  m.entries.resize(batch.size());
  for (size_t i = 0; i < batch.size(); ++i)
    m.entries[i].data = batch[i];
  return raft_->Step(std::move(m));
}

namespace {
Message ConfChangeMsg(raftpb::EncodedConfChange enc) {
  Message m;
  m.type = MessageType::MsgProp;
  m.entries.resize(1);
  m.entries[0].type = enc.type;
  m.entries[0].data = std::move(enc.data);
  return m;
}
}  // namespace

Status RawNode::ProposeConfChange(const raftpb::ConfChange& cc) {
  return raft_->Step(ConfChangeMsg(raftpb::MarshalConfChange(cc)));
}

Status RawNode::ProposeConfChange(const raftpb::ConfChangeV2& cc) {
  return raft_->Step(ConfChangeMsg(raftpb::MarshalConfChange(cc)));
}

raftpb::ConfState RawNode::ApplyConfChange(const raftpb::ConfChange& cc) {
  return raft_->ApplyConfChange(raftpb::ConfChangeV2::FromV1(cc));
}

raftpb::ConfState RawNode::ApplyConfChange(const raftpb::ConfChangeV2& cc) {
  return raft_->ApplyConfChange(cc);
}

namespace {
// Shape checks on messages from peers: what the core would otherwise treat as a broken invariant
// (and abort on, as etcd does) is refused as an error, so a faulty or hostile peer cannot crash
// the node.
Status ValidateIncoming(const Message& m) {
  auto bad = [&](std::string_view why) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("malformed {} from {:x}: {}", raftpb::Name(m.type), m.from, why));
  };
  switch (m.type) {
    case MessageType::MsgProp:
      if (m.entries.empty()) return bad("no entries");
      if (m.term != Term(0)) return bad("a forwarded proposal must not carry a term");
      break;
    case MessageType::MsgReadIndex:
      if (m.entries.size() != 1) return bad("expected exactly one entry (the request context)");
      if (m.term != Term(0)) return bad("a forwarded read request must not carry a term");
      break;
    case MessageType::MsgApp:
      for (size_t i = 0; i < m.entries.size(); ++i) {
        if (m.entries[i].index != m.index + 1 + i) return bad("entries are not consecutive");
      }
      break;
    case MessageType::MsgVote:
    case MessageType::MsgVoteResp:
    case MessageType::MsgPreVote:
    case MessageType::MsgPreVoteResp:
      if (m.term == Term(0)) return bad("vote messages must carry a term");
      break;
    default:
      break;
  }
  return Status::Ok();
}
}  // namespace

Status RawNode::Step(Message m) {
  if (raftpb::IsLocalMsg(m.type)) {
    return Status(ErrorCode::kStepLocalMsg, "raft: cannot step raft local message");
  }
  if (Status st = ValidateIncoming(m); !st.ok()) {
    deviation::Note(8);  // etcd 3.4 would go on and abort somewhere inside
    return st;
  }
  if (raftpb::IsResponseMsg(m.type) && !raft_->prs.progress.contains(m.from)) {
    return Status(ErrorCode::kStepPeerNotFound, "raft: cannot step as peer not found");
  }
  return raft_->Step(std::move(m));
}

Ready RawNode::GetReady() {
  Raft& r = *raft_;
  Ready rd;
  // Unstable entries are copied (they stay unstable until Advance); Bytes payloads are shared.
  rd.entries = r.log.UnstableEntries();
  rd.committed_entries = r.log.NextEnts();
  // Messages and read states belong to this Ready from now on.
  rd.messages = std::move(r.msgs);
  r.msgs.clear();
  r.msgs.reserve(8);  // most rounds produce a few messages; avoid regrowing from zero
  rd.read_states = std::move(r.read_states);
  r.read_states.clear();
  if (SoftState ss = r.GetSoftState(); !(ss == prev_soft_)) {
    rd.soft_state = ss;
    prev_soft_ = ss;
  }
  const raftpb::HardState hs = r.GetHardState();
  if (!hs.SameAs(prev_hard_)) rd.hard_state = hs;
  if (const raftpb::Snapshot* s = r.log.unstable().snapshot()) rd.snapshot = *s;
  // As in etcd, must_sync covers the HardState and entries; a snapshot is always written durably
  // by the application (docs/ready_loop.md).
  rd.must_sync = MustSync(hs, prev_hard_, rd.entries.size());
  return rd;
}

bool RawNode::HasReady() const {
  const Raft& r = *raft_;
  if (!(r.GetSoftState() == prev_soft_)) return true;
  if (raftpb::HardState hs = r.GetHardState(); !hs.IsEmpty() && !hs.SameAs(prev_hard_)) {
    return true;
  }
  if (const raftpb::Snapshot* s = r.log.unstable().snapshot(); s != nullptr && !s->IsEmpty()) {
    return true;
  }
  if (!r.msgs.empty() || !r.log.UnstableEntries().empty() || r.log.HasNextEnts()) return true;
  return !r.read_states.empty();
}

void RawNode::Advance(const Ready& rd) {
  if (!rd.hard_state.IsEmpty()) prev_hard_ = rd.hard_state;
  raft_->Advance(rd);
}

void RawNode::ReportUnreachable(NodeId id) {
  Message m;
  m.type = MessageType::MsgUnreachable;
  m.from = id;
  (void)raft_->Step(std::move(m));
}

void RawNode::ReportSnapshot(NodeId id, SnapshotStatus status) {
  Message m;
  m.type = MessageType::MsgSnapStatus;
  m.from = id;
  m.reject = status == SnapshotStatus::kFailure;
  (void)raft_->Step(std::move(m));
}

void RawNode::TransferLeader(NodeId transferee) {
  Message m;
  m.type = MessageType::MsgTransferLeader;
  m.from = transferee;
  (void)raft_->Step(std::move(m));
}

void RawNode::ReadIndex(Bytes rctx) {
  Message m;
  m.type = MessageType::MsgReadIndex;
  m.entries.resize(1);
  m.entries[0].data = std::move(rctx);
  (void)raft_->Step(std::move(m));
}

bool RawNode::ConfChangePending() const {
  const Raft& r = *raft_;
  return r.state == StateType::kLeader && r.pending_conf_index > r.log.applied();
}

BasicStatus RawNode::GetBasicStatus() const {
  const Raft& r = *raft_;
  return BasicStatus{r.id, r.GetHardState(), r.GetSoftState(), r.log.applied(), r.lead_transferee};
}

NodeStatus RawNode::GetStatus() const {
  NodeStatus s;
  s.basic = GetBasicStatus();
  if (s.basic.soft_state.raft_state == StateType::kLeader) s.progress = raft_->prs.progress;
  s.config = raft_->prs.config;
  return s;
}

std::string NodeStatus::ToJson() const {
  std::string j = fmt::format(
      R"({{"id":"{:x}","term":{},"vote":"{:x}","commit":{},"lead":"{:x}","raftState":"{}",)"
      R"("applied":{},"progress":{{)",
      basic.id, basic.hard_state.term, basic.hard_state.vote, basic.hard_state.commit,
      basic.soft_state.lead, Name(basic.soft_state.raft_state), basic.applied);
  bool first = true;
  for (const auto& [id, pr] : progress) {
    if (!first) j += ',';
    first = false;
    j += fmt::format(R"("{:x}":{{"match":{},"next":{},"state":"{}"}})", id, pr.match, pr.next,
                     tracker::Name(pr.state));
  }
  j += fmt::format(R"(}},"leadtransferee":"{:x}"}})", basic.lead_transferee);
  return j;
}

std::string DescribeReady(const Ready& rd) {
  std::string buf;
  if (rd.soft_state) {
    buf += fmt::format("Lead:{} State:{}\n", rd.soft_state->lead, Name(rd.soft_state->raft_state));
  }
  if (!rd.hard_state.IsEmpty()) {
    buf += "HardState " + raftpb::DescribeHardState(rd.hard_state) + "\n";
  }
  if (!rd.read_states.empty()) {
    buf += "ReadStates [";
    for (size_t i = 0; i < rd.read_states.size(); ++i) {
      if (i > 0) buf += ' ';
      // Go's %v of a []byte: the byte values in decimal, e.g. {3 [99 116 120]}.
      std::string ctx;
      for (unsigned char c : rd.read_states[i].request_ctx.view()) {
        if (!ctx.empty()) ctx += ' ';
        ctx += std::to_string(c);
      }
      buf += fmt::format("{{{} [{}]}}", rd.read_states[i].index, ctx);
    }
    buf += "]\n";
  }
  if (!rd.entries.empty()) buf += "Entries:\n" + raftpb::DescribeEntries(rd.entries);
  if (!rd.snapshot.IsEmpty()) buf += "Snapshot " + raftpb::DescribeSnapshot(rd.snapshot) + "\n";
  if (!rd.committed_entries.empty()) {
    buf += "CommittedEntries:\n" + raftpb::DescribeEntries(rd.committed_entries);
  }
  if (!rd.messages.empty()) {
    buf += "Messages:\n";
    for (const Message& m : rd.messages)
      buf += raftpb::DescribeMessage(m) + "\n";
  }
  if (buf.empty()) return "<empty Ready>";
  return fmt::format("Ready MustSync={}:\n{}", rd.must_sync, buf);
}

}  // namespace raftkit::raft
