#include "raftkit/server/server.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <streambuf>
#include <thread>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "raftkit/core/raw_node.h"
#include "raftkit/raftpb/codec.h"
#include "raftkit/storage/disk_storage.h"
#include "raftkit/transport/http/server.h"
#include "raftkit/util/panic.h"

namespace raftkit::server {
namespace {

using Clock = std::chrono::steady_clock;
using raftpb::EntryType;
using raftpb::MessageType;

// A proposal's entry: "RK", the request id (BE64), then the application's bytes. The id lets the
// member that proposed it find the waiting caller when the entry is applied. Entries without the
// prefix (e.g. from raftexample members) are applied with id 0.
constexpr char kEnvelopeMagic[2] = {'R', 'K'};
constexpr size_t kEnvelopeSize = 10;

std::string Envelope(uint64_t id, std::string_view payload) {
  std::string out(kEnvelopeMagic, 2);
  for (int i = 7; i >= 0; --i)
    out.push_back(static_cast<char>(id >> (8 * i)));
  out.append(payload);
  return out;
}

std::pair<uint64_t, std::string_view> OpenEnvelope(std::string_view data) {
  if (data.size() < kEnvelopeSize || data[0] != kEnvelopeMagic[0] || data[1] != kEnvelopeMagic[1]) {
    return {0, data};
  }
  uint64_t id = 0;
  for (size_t i = 2; i < kEnvelopeSize; ++i)
    id = (id << 8) | static_cast<uint8_t>(data[i]);
  return {id, data.substr(kEnvelopeSize)};
}

// The server's snapshot: the member table (JSON) and the state machine's bytes.
constexpr std::string_view kSnapshotMagic = "RKSNAP1\n";

std::string MembersJson(const std::map<NodeId, Member>& members) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& [id, m] : members) {
    j.push_back({{"id", id.value()},
                 {"peer_urls", m.peer_urls},
                 {"client_urls", m.client_urls},
                 {"learner", m.learner}});
  }
  return j.dump();
}

std::optional<std::map<NodeId, Member>> ParseMembers(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return std::nullopt;
  std::map<NodeId, Member> out;
  for (const auto& m : j) {
    if (!m.is_object() || !m.contains("id") || !m["id"].is_number_unsigned()) return std::nullopt;
    Member mem;
    mem.id = NodeId(m["id"].get<uint64_t>());
    for (const char* field : {"peer_urls", "client_urls"}) {
      if (!m.contains(field) || !m[field].is_array()) continue;
      for (const auto& u : m[field]) {
        if (u.is_string()) {
          (field[0] == 'p' ? mem.peer_urls : mem.client_urls).push_back(u.get<std::string>());
        }
      }
    }
    mem.learner = m.value("learner", false);
    out[mem.id] = mem;
  }
  return out;
}

std::string EncodeServerSnapshot(const std::map<NodeId, Member>& members, std::string_view sm) {
  const std::string mj = MembersJson(members);
  std::string out(kSnapshotMagic);
  out += std::to_string(mj.size());
  out += '\n';
  out += mj;
  out.append(sm);
  return out;
}

Status DecodeServerSnapshot(std::string_view data, std::map<NodeId, Member>* members,
                            std::string_view* sm) {
  if (data.substr(0, kSnapshotMagic.size()) != kSnapshotMagic) {
    // Not ours (e.g. a raftexample snapshot): all of it is the state machine's.
    *sm = data;
    return Status::Ok();
  }
  data.remove_prefix(kSnapshotMagic.size());
  const size_t nl = data.find('\n');
  if (nl == std::string_view::npos) return Status(ErrorCode::kCorruption, "bad snapshot header");
  size_t len = 0;
  for (char c : data.substr(0, nl)) {
    if (c < '0' || c > '9') return Status(ErrorCode::kCorruption, "bad snapshot header");
    len = len * 10 + static_cast<size_t>(c - '0');
  }
  data.remove_prefix(nl + 1);
  if (len > data.size()) return Status(ErrorCode::kCorruption, "truncated snapshot");
  auto parsed = ParseMembers(data.substr(0, len));
  if (!parsed) return Status(ErrorCode::kCorruption, "bad member table in snapshot");
  *members = std::move(*parsed);
  *sm = data.substr(len);
  return Status::Ok();
}

// What a conf change carries in its context: the request id and the member's record.
std::string ConfContext(uint64_t request, const Member& m) {
  return nlohmann::json{{"request", request},
                        {"id", m.id.value()},
                        {"peer_urls", m.peer_urls},
                        {"client_urls", m.client_urls},
                        {"learner", m.learner}}
      .dump();
}

constexpr std::string_view kCommandTag = "RKC1";

// An input stream over bytes in memory, without copying them (std::spanstream is C++23).
class ViewStreambuf final : public std::streambuf {
 public:
  explicit ViewStreambuf(std::string_view v) {
    char* p = const_cast<char*>(v.data());  // the get area is only read
    setg(p, p, p + v.size());
  }
};

}  // namespace

std::string CommandCodec::Encode(std::string_view name, std::string_view args) const {
  std::string out(kCommandTag);
  out.push_back(static_cast<char>(name.size()));
  out.append(name);
  out.append(args);
  return out;
}

std::optional<std::pair<std::string, std::string_view>> CommandCodec::Decode(
    std::string_view data) const {
  if (data.substr(0, kCommandTag.size()) != kCommandTag || data.size() < kCommandTag.size() + 1) {
    return std::nullopt;
  }
  data.remove_prefix(kCommandTag.size());
  const size_t n = static_cast<uint8_t>(data[0]);
  data.remove_prefix(1);
  if (n > data.size()) return std::nullopt;
  return std::make_pair(std::string(data.substr(0, n)), data.substr(n));
}

struct Server::Impl final : public rafthttp::RaftNode {
  ServerOptions opts;
  Logger* logger = nullptr;
  std::unique_ptr<storage::DiskStorage> storage;
  std::unique_ptr<raft::RawNode> node;
  std::unique_ptr<rafthttp::Transport> transport;
  std::unique_ptr<http::Server> peer_server;
  std::string peer_url;
  uint64_t id_prefix = 0;
  std::atomic<uint64_t> next_request{1};

  // --- the Ready loop's inbox ---
  struct ReadRequest {
    std::function<void(Status)> done;
    Clock::time_point deadline;
    Index index;  // known once the read state arrived
  };
  std::mutex mu;
  std::condition_variable cv;
  std::vector<raftpb::Message> inbox_messages;
  std::vector<std::pair<uint64_t, std::string>> inbox_proposals;
  std::vector<std::function<void()>> inbox_tasks;
  std::vector<std::shared_ptr<ReadRequest>> inbox_reads;
  bool stopping = false;

  // --- requests waiting for their entry to be applied ---
  struct Waiter {
    std::function<void(Result<std::string>)> done;
    Clock::time_point deadline;
    // The leader when the Ready loop handed the proposal to Raft (kNoNode before that).
    NodeId lead;
    bool proposed = false;
  };
  std::mutex waiters_mu;
  std::unordered_map<uint64_t, Waiter> waiters;
  // LogFormat::kRaftexample: entries carry no request id, so waiting callers are found by the
  // entry's bytes (oldest first), and membership changes by (change type, node).
  std::unordered_map<std::string, std::deque<uint64_t>> waiters_by_data;
  std::multimap<std::pair<int, uint64_t>, uint64_t> waiters_by_conf;

  // --- Ready-loop-only state ---
  std::map<uint64_t, std::vector<std::shared_ptr<ReadRequest>>> reads_by_ctx;
  // Membership changes held back, in order, while this leader has a conf change (or, after its
  // election, any entry) not yet applied: proposed then, Raft would turn them into empty entries
  // and their callers would wait in vain. Each proposes itself and reports a refusal.
  struct DeferredConf {
    uint64_t waiter;
    std::function<void()> propose;
  };
  std::deque<DeferredConf> deferred_conf;
  uint64_t read_seq = 0;
  raftpb::ConfState conf_state;
  std::vector<std::pair<Index, raftpb::ConfState>> conf_history;  // (index, cs) for snapshots
  NodeId last_lead;
  // Leader only: when the oldest unanswered heartbeat to each follower left, and when each
  // follower last triggered kElectionTimeoutThreshold.
  std::map<NodeId, Clock::time_point> heartbeat_sent;
  std::map<NodeId, Clock::time_point> threshold_warned;

  // --- status, read by any thread ---
  mutable std::mutex status_mu;
  raft::SoftState soft;
  raftpb::HardState hard;
  std::map<NodeId, Member> members;
  std::set<NodeId> removed_ids;
  std::atomic<uint64_t> applied{0};
  // Set when this member was removed from the cluster (by a committed change, or a peer's word);
  // the Ready loop then stops after a grace period that lets the others learn of the commit.
  std::optional<Clock::time_point> removed_at;
  std::atomic<bool> removed{false};
  std::vector<EventListener> listeners;

  // --- named commands ---
  std::shared_ptr<const CommandCodec> codec;
  mutable std::mutex commands_mu;
  std::map<std::string, CommandHandler, std::less<>> commands;

  // The state machine's snapshot through its stream interface, in memory.
  Result<std::string> SnapshotStateMachine() {
    std::ostringstream out(std::ios::binary);
    RAFTKIT_RETURN_IF_ERROR(opts.state_machine->WriteSnapshot(out));
    if (!out) return Status(ErrorCode::kIoError, "writing the state machine's snapshot failed");
    return std::move(out).str();
  }
  Status RestoreStateMachine(std::string_view data) {
    ViewStreambuf buf(data);
    std::istream in(&buf);
    return opts.state_machine->RestoreSnapshot(in);
  }

  Result<std::string> ApplyPayload(Index index, std::string_view payload) {
    if (auto cmd = codec->Decode(payload)) {
      CommandHandler h;
      {
        std::lock_guard<std::mutex> g(commands_mu);
        auto it = commands.find(cmd->first);
        if (it != commands.end()) h = it->second;
      }
      if (!h) return Status(ErrorCode::kInvalidArgument, "unknown command " + cmd->first);
      return h(index, cmd->second);
    }
    return opts.state_machine->Apply(index, payload);
  }

  // --- the applier ---
  struct ApplyBatch {
    raftpb::Snapshot snapshot;
    std::vector<raftpb::Entry> entries;
    std::vector<std::shared_ptr<ReadRequest>> reads;
    // Proposals handed to an earlier leader when leadership moved (in `orphans_term`); those not
    // applied by the time an entry of that term is applied were not in the new leader's log.
    std::vector<uint64_t> orphans;
    Term orphans_term;
    // Server::Snapshot(): take one now and report when it is saved.
    std::function<void(Status)> snapshot_now;
  };
  std::mutex apply_mu;
  std::condition_variable apply_cv;
  std::deque<ApplyBatch> apply_queue;
  std::multimap<Index, std::shared_ptr<ReadRequest>> reads_waiting_apply;  // applier only
  uint64_t last_snapshot_index = 0;                                        // applier only
  std::vector<std::pair<Term, std::vector<uint64_t>>> orphans;             // applier only
  bool force_snapshot = false;                                             // applier only
  bool apply_stopping = false;

  std::thread raft_thread;
  std::thread apply_thread;
  std::atomic<bool> stopped{false};

  Logger& Log() const { return logger != nullptr ? *logger : NullLogger(); }

  void Emit(EventType type, uint64_t value, uint64_t prev,
            std::chrono::microseconds duration = std::chrono::microseconds(0)) {
    std::vector<EventListener> ls;
    {
      std::lock_guard<std::mutex> g(status_mu);
      if (listeners.empty()) return;
      ls = listeners;
    }
    for (auto& l : ls)
      l(Event{type, value, prev, duration});
  }

  // ---- heartbeat round trips (leader) ----
  void NoteHeartbeatsSent(const std::vector<raftpb::Message>& msgs, Clock::time_point now) {
    for (const auto& m : msgs) {
      if (m.type == MessageType::MsgHeartbeat) heartbeat_sent.try_emplace(m.to, now);
    }
  }
  void NoteHeartbeatAnswered(NodeId from, Clock::time_point now) {
    auto it = heartbeat_sent.find(from);
    if (it == heartbeat_sent.end()) return;
    const auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(now - it->second);
    heartbeat_sent.erase(it);
    Emit(EventType::kHeartbeat, from.value(), 0, rtt);
    MaybeWarnThreshold(from, rtt, now);
  }
  void MaybeWarnThreshold(NodeId peer, std::chrono::microseconds waited, Clock::time_point now) {
    const auto threshold = std::chrono::duration_cast<std::chrono::microseconds>(
        opts.election_timeout * opts.election_timeout_threshold);
    if (waited < threshold) return;
    auto w = threshold_warned.find(peer);
    if (w != threshold_warned.end() && now - w->second < 10 * opts.election_timeout) return;
    threshold_warned[peer] = now;
    Log().Warnf(
        "server {}: heartbeat round trip to {} took {} ms, near the election timeout "
        "({} ms)",
        opts.id.value(), peer.value(), waited.count() / 1000, opts.election_timeout.count());
    Emit(EventType::kElectionTimeoutThreshold, peer.value(), 0, waited);
  }
  // Followers silent since an unanswered heartbeat count too (their answer may never come).
  void CheckSilentFollowers(Clock::time_point now) {
    for (const auto& [peer, sent] : heartbeat_sent) {
      MaybeWarnThreshold(peer, std::chrono::duration_cast<std::chrono::microseconds>(now - sent),
                         now);
    }
  }

  void Post(std::function<void()> task) {
    std::lock_guard<std::mutex> g(mu);
    inbox_tasks.push_back(std::move(task));
    cv.notify_one();
  }

  // ---- rafthttp::RaftNode ----
  Status Process(raftpb::Message m) override {
    std::lock_guard<std::mutex> g(mu);
    if (stopping) return Status(ErrorCode::kStopped, "server stopped");
    inbox_messages.push_back(std::move(m));
    if (inbox_messages.size() == 1) cv.notify_one();
    return Status::Ok();
  }
  Status ProcessSnapshot(raftpb::Message m, rafthttp::SnapshotData& data) override {
    std::string all(m.snapshot.data.view());
    std::string buf(256 * 1024, '\0');
    for (;;) {
      auto n = data.Read(buf.data(), buf.size());
      if (!n.ok()) return n.status();
      if (n.value() == 0) break;
      all.append(buf.data(), n.value());
    }
    m.snapshot.data = Bytes(std::move(all));
    return Process(std::move(m));
  }
  bool IsIdRemoved(NodeId id) override {
    std::lock_guard<std::mutex> g(status_mu);
    return removed_ids.count(id) > 0;
  }
  void ReportUnreachable(NodeId id) override {
    Post([this, id] { node->ReportUnreachable(id); });
  }
  void ReportSnapshot(NodeId id, rafthttp::SnapshotStatus status) override {
    Post([this, id, status] {
      node->ReportSnapshot(id, status == rafthttp::SnapshotStatus::kFinish
                                   ? raft::SnapshotStatus::kFinish
                                   : raft::SnapshotStatus::kFailure);
    });
  }

  // ---- requests ----
  void Register(uint64_t id, std::function<void(Result<std::string>)> done) {
    std::lock_guard<std::mutex> g(waiters_mu);
    Waiter& w = waiters[id];
    w.deadline = Clock::now() + opts.request_timeout;
    w.done = std::move(done);
  }
  void Complete(uint64_t id, Result<std::string> r) {
    std::optional<Waiter> w;
    {
      std::lock_guard<std::mutex> g(waiters_mu);
      auto it = waiters.find(id);
      if (it == waiters.end()) return;
      w.emplace(std::move(it->second));
      waiters.erase(it);
    }
    w->done(std::move(r));
  }
  // LogFormat::kRaftexample: the oldest caller waiting for an entry holding `data`.
  void CompleteByData(std::string_view data, Result<std::string> r) {
    std::optional<Waiter> w;
    {
      std::lock_guard<std::mutex> g(waiters_mu);
      auto it = waiters_by_data.find(std::string(data));
      if (it == waiters_by_data.end()) return;
      auto& ids = it->second;
      while (!ids.empty() && !w) {
        auto wi = waiters.find(ids.front());
        ids.pop_front();
        if (wi != waiters.end()) {
          w.emplace(std::move(wi->second));
          waiters.erase(wi);
        }
      }
      if (ids.empty()) waiters_by_data.erase(it);
    }
    if (w) w->done(std::move(r));
  }
  void CompleteByConf(raftpb::ConfChangeType type, NodeId node_id) {
    uint64_t id = 0;
    {
      std::lock_guard<std::mutex> g(waiters_mu);
      auto it = waiters_by_conf.find({static_cast<int>(type), node_id.value()});
      if (it == waiters_by_conf.end()) return;
      id = it->second;
      waiters_by_conf.erase(it);
    }
    Complete(id, std::string());
  }
  bool RaftexampleFormat() const { return opts.log_format == LogFormat::kRaftexample; }
  size_t PendingCount() {
    std::lock_guard<std::mutex> g(waiters_mu);
    return waiters.size();
  }
  uint64_t NewRequestId() { return id_prefix | (next_request.fetch_add(1) & 0xffffffffu); }

  Status NoLeaderError() const {
    return Status(ErrorCode::kNotLeader, "no leader is known (an election may be under way)");
  }

  // ---- the Ready loop ----
  void RaftLoop() {
    const auto tick = opts.heartbeat_interval;
    auto next_tick = Clock::now() + tick;
    auto next_expiry = Clock::now() + std::chrono::milliseconds(100);
    std::vector<raftpb::Message> msgs;
    std::vector<std::pair<uint64_t, std::string>> props;
    std::vector<std::function<void()>> tasks;
    std::vector<std::shared_ptr<ReadRequest>> reads;
    for (;;) {
      {
        std::unique_lock<std::mutex> l(mu);
        cv.wait_until(l, next_tick, [&] {
          return stopping || !inbox_messages.empty() || !inbox_proposals.empty() ||
                 !inbox_tasks.empty() || !inbox_reads.empty();
        });
        if (stopping) break;
        msgs.swap(inbox_messages);
        props.swap(inbox_proposals);
        tasks.swap(inbox_tasks);
        reads.swap(inbox_reads);
      }
      for (auto& m : msgs) {
        if (m.type == MessageType::MsgHeartbeatResp) NoteHeartbeatAnswered(m.from, Clock::now());
        const Status st = node->Step(std::move(m));
        if (!st.ok()) Log().Debugf("server: step: {}", st.ToString());
      }
      msgs.clear();
      if (!props.empty()) ProposeBatch(&props);
      for (auto& t : tasks)
        t();
      tasks.clear();
      if (!reads.empty()) StartReads(&reads);
      const auto now = Clock::now();
      if (now >= next_tick) {
        if (!heartbeat_sent.empty()) CheckSilentFollowers(now);
        node->Tick();
        next_tick += tick;
        if (next_tick < now) next_tick = now + tick;  // fell behind: do not tick in a burst
      }
      if (now >= next_expiry) {
        MaybePublishClientUrls(now);
        ExpireRequests(now);
        next_expiry = now + std::chrono::milliseconds(100);
      }
      while (node->HasReady()) {
        if (!HandleReady(node->GetReady())) return;
      }
      if (!deferred_conf.empty()) ProposeDeferredConf();
      if (removed_at && Clock::now() >= *removed_at + 5 * opts.heartbeat_interval) {
        Log().Warnf("server {}: this member was removed from the cluster; stopping",
                    opts.id.value());
        removed = true;
        FailAllPending(Status(ErrorCode::kStopped, "this member was removed from the cluster"));
        return;
      }
    }
  }

  // Proposes a membership change now, or once no earlier one is pending on this leader.
  void ProposeConfInOrder(uint64_t waiter, std::function<void()> propose) {
    deferred_conf.push_back({waiter, std::move(propose)});
    ProposeDeferredConf();
  }
  void ProposeDeferredConf() {
    while (!deferred_conf.empty() && !node->ConfChangePending()) {
      DeferredConf d = std::move(deferred_conf.front());
      deferred_conf.pop_front();
      bool waiting = false;
      {
        std::lock_guard<std::mutex> g(waiters_mu);
        waiting = waiters.count(d.waiter) > 0;
      }
      // A caller that gave up (its request timed out) does not get its change made later.
      if (waiting) d.propose();
    }
  }

  // Publishes this member's client URLs into the member table (like etcd's member attributes):
  // once a leader is known, retried every few seconds until the table shows them.
  Clock::time_point last_publish{};
  void MaybePublishClientUrls(Clock::time_point now) {
    if (opts.advertise_client_urls.empty() || RaftexampleFormat() || removed_at) return;
    if (now - last_publish <
        std::max<Clock::duration>(opts.election_timeout, std::chrono::milliseconds(500)))
      return;
    Member me;
    {
      std::lock_guard<std::mutex> g(status_mu);
      if (soft.lead == kNoNode) return;
      auto it = members.find(opts.id);
      if (it == members.end() || it->second.client_urls == opts.advertise_client_urls) return;
      me = it->second;
    }
    // A conf change in progress (a caller's, or this leader's election): try again later rather
    // than have Raft refuse it.
    if (node->ConfChangePending() || !deferred_conf.empty()) return;
    last_publish = now;
    me.client_urls = opts.advertise_client_urls;
    raftpb::ConfChangeV2 cc;
    cc.changes.push_back({raftpb::ConfChangeType::ConfChangeUpdateNode, opts.id, Bytes()});
    cc.context = Bytes(ConfContext(0, me));
    const Status st = node->ProposeConfChange(cc);
    if (!st.ok())
      Log().Debugf("server {}: publishing client URLs: {}", opts.id.value(), st.ToString());
  }

  void FailAllPending(const Status& why) {
    std::unordered_map<uint64_t, Waiter> ws;
    {
      std::lock_guard<std::mutex> g(waiters_mu);
      ws.swap(waiters);
    }
    for (auto& [id, w] : ws)
      w.done(why);
    for (auto& [ctx, v] : reads_by_ctx) {
      for (auto& r : v)
        r->done(why);
    }
    reads_by_ctx.clear();
  }

  void ProposeBatch(std::vector<std::pair<uint64_t, std::string>>* props) {
    std::vector<Bytes> batch;
    batch.reserve(props->size());
    for (auto& [id, data] : *props)
      batch.emplace_back(std::move(data));
    const Status st = node->ProposeBatch(batch);
    const NodeId lead = node->GetBasicStatus().soft_state.lead;
    if (!st.ok()) {
      for (auto& [id, data] : *props) {
        Complete(id, lead == kNoNode ? NoLeaderError() : st);
      }
    } else {
      std::lock_guard<std::mutex> g(waiters_mu);
      for (auto& [id, data] : *props) {
        auto it = waiters.find(id);
        if (it == waiters.end()) continue;
        it->second.lead = lead;
        it->second.proposed = true;
      }
    }
    props->clear();
  }

  void StartReads(std::vector<std::shared_ptr<ReadRequest>>* reads) {
    if (node->GetBasicStatus().soft_state.lead == kNoNode) {
      for (auto& r : *reads)
        r->done(NoLeaderError());
      reads->clear();
      return;
    }
    // The leader keys pending reads by context and ignores a context it already holds, so a
    // context must be unique across members and restarts: this member's id, then a sequence
    // number under the random per-start prefix.
    const uint64_t ctx = id_prefix | (++read_seq & 0xffffffffu);
    std::string c(16, '\0');
    for (int i = 0; i < 8; ++i) {
      c[static_cast<size_t>(i)] = static_cast<char>(opts.id.value() >> (56 - 8 * i));
      c[static_cast<size_t>(8 + i)] = static_cast<char>(ctx >> (56 - 8 * i));
    }
    reads_by_ctx[ctx] = std::move(*reads);
    reads->clear();
    node->ReadIndex(Bytes(std::move(c)));
  }

  void ExpireRequests(Clock::time_point now) {
    std::vector<Waiter> expired;
    {
      std::lock_guard<std::mutex> g(waiters_mu);
      for (auto it = waiters.begin(); it != waiters.end();) {
        if (it->second.deadline <= now) {
          expired.push_back(std::move(it->second));
          it = waiters.erase(it);
        } else {
          ++it;
        }
      }
    }
    if (!expired.empty()) {
      std::lock_guard<std::mutex> g(waiters_mu);
      for (auto it = waiters_by_data.begin(); it != waiters_by_data.end();) {
        auto& ids = it->second;
        ids.erase(std::remove_if(ids.begin(), ids.end(),
                                 [&](uint64_t id) { return waiters.count(id) == 0; }),
                  ids.end());
        it = ids.empty() ? waiters_by_data.erase(it) : std::next(it);
      }
      for (auto it = waiters_by_conf.begin(); it != waiters_by_conf.end();) {
        it = waiters.count(it->second) == 0 ? waiters_by_conf.erase(it) : std::next(it);
      }
    }
    for (auto& w : expired) {
      w.done(Status(ErrorCode::kTimeout, "not applied within the request timeout"));
    }
    for (auto it = reads_by_ctx.begin(); it != reads_by_ctx.end();) {
      auto& v = it->second;
      if (!v.empty() && v.front()->deadline <= now) {
        for (auto& r : v) {
          r->done(Status(ErrorCode::kTimeout, "read index not confirmed in time"));
        }
        it = reads_by_ctx.erase(it);
      } else {
        ++it;
      }
    }
  }

  void UpdateSoftState(const raft::SoftState& s) {
    raft::SoftState old;
    {
      std::lock_guard<std::mutex> g(status_mu);
      old = soft;
      soft = s;
    }
    if (old.raft_state != s.raft_state) {
      Emit(EventType::kStateChange, static_cast<uint64_t>(s.raft_state),
           static_cast<uint64_t>(old.raft_state));
    }
    if (old.lead != s.lead) Emit(EventType::kLeaderChange, s.lead.value(), old.lead.value());
  }

  void UpdateHardState(const raftpb::HardState& hs) {
    if (hs.IsEmpty()) return;
    raftpb::HardState old;
    {
      std::lock_guard<std::mutex> g(status_mu);
      old = hard;
      hard = hs;
    }
    if (old.term != hs.term) Emit(EventType::kTermChange, hs.term.value(), old.term.value());
  }

  void Send(std::vector<raftpb::Message>& msgs) {
    std::vector<raftpb::Message> plain;
    for (auto& m : msgs) {
      if (m.type != MessageType::MsgSnap) {
        plain.push_back(std::move(m));
        continue;
      }
      rafthttp::OutgoingSnapshot snap;
      if (opts.snapshot_mode == rafthttp::SnapshotMode::kSnapshotEndpoint) {
        // The state travels after the message, read from memory here.
        auto data = std::make_shared<Bytes>(std::move(m.snapshot.data));
        m.snapshot.data = Bytes();
        snap.data_size = data->size();
        snap.read = [data, off = size_t{0}](char* buf, size_t cap) mutable -> Result<size_t> {
          const size_t n = std::min(cap, data->size() - off);
          std::copy_n(data->data() + off, n, buf);
          off += n;
          return n;
        };
      }
      snap.message = std::move(m);
      transport->SendSnapshot(std::move(snap));
    }
    if (!plain.empty()) transport->Send(std::move(plain));
  }

  // Handles one Ready (docs/ready_loop.md). False when the server must stop.
  bool HandleReady(raft::Ready rd) {
    if (rd.soft_state) UpdateSoftState(*rd.soft_state);
    bool leader;
    {
      std::lock_guard<std::mutex> g(status_mu);
      leader = soft.raft_state == raft::StateType::kLeader;
    }
    // A committed conf change is acted on below: its commit must be durable first (rule 7).
    const bool conf_committed =
        std::any_of(rd.committed_entries.begin(), rd.committed_entries.end(),
                    [](const raftpb::Entry& e) { return e.type != EntryType::EntryNormal; });
    // A leader sends its appends while its own write is in flight (thesis §10.2.1); everyone
    // else persists first.
    std::vector<raftpb::Message> msgs = std::move(rd.messages);
    if (leader) {
      NoteHeartbeatsSent(msgs, Clock::now());
    } else if (!heartbeat_sent.empty()) {
      heartbeat_sent.clear();
    }
    if (leader) Send(msgs);
    const Status st = storage->Save(rd.hard_state, rd.entries, rd.snapshot,
                                    rd.must_sync || conf_committed || !rd.snapshot.IsEmpty());
    if (!st.ok()) {
      Log().Errorf("server {}: cannot persist: {}; stopping", opts.id.value(), st.ToString());
      return false;
    }
    if (!leader) Send(msgs);
    UpdateHardState(rd.hard_state);

    ApplyBatch batch;
    if (rd.soft_state && rd.soft_state->lead != kNoNode && rd.soft_state->lead != last_lead) {
      // Leadership moved: what was handed to another leader may be lost (docs/server.md).
      const NodeId lead = rd.soft_state->lead;
      last_lead = lead;
      std::lock_guard<std::mutex> g(waiters_mu);
      for (const auto& [id, w] : waiters) {
        if (w.proposed && w.lead != lead) batch.orphans.push_back(id);
      }
      batch.orphans_term = hard.term;
    }
    if (!rd.snapshot.IsEmpty()) {
      conf_state = rd.snapshot.metadata.conf_state;
      conf_history.clear();
      conf_history.emplace_back(rd.snapshot.metadata.index, conf_state);
      std::map<NodeId, Member> restored;
      std::string_view sm;
      if (DecodeServerSnapshot(rd.snapshot.data.view(), &restored, &sm).ok() && !restored.empty()) {
        SetMembers(std::move(restored));
      } else {
        SetMembers(MembersOf(conf_state));
      }
      batch.snapshot = rd.snapshot;
    }
    for (const auto& rs : rd.read_states) {
      if (rs.request_ctx.size() != 16) continue;
      uint64_t ctx = 0;
      for (char c : rs.request_ctx.view().substr(8))
        ctx = (ctx << 8) | static_cast<uint8_t>(c);
      auto it = reads_by_ctx.find(ctx);
      if (it == reads_by_ctx.end()) continue;
      for (auto& r : it->second) {
        r->index = rs.index;
        batch.reads.push_back(r);
      }
      reads_by_ctx.erase(it);
    }
    for (const auto& e : rd.committed_entries) {
      if (e.type != EntryType::EntryNormal) ApplyConfEntry(e);
    }
    // Copied, not moved: Advance(rd) reads the committed entries (Bytes are shared, not copied).
    batch.entries = rd.committed_entries;
    if (!batch.snapshot.IsEmpty() || !batch.entries.empty() || !batch.reads.empty() ||
        !batch.orphans.empty()) {
      std::lock_guard<std::mutex> g(apply_mu);
      apply_queue.push_back(std::move(batch));
      apply_cv.notify_one();
    }
    node->Advance(rd);
    return true;
  }

  std::vector<std::string> InitialUrls(NodeId id) const {
    for (const auto& m : opts.initial_members) {
      if (m.id == id) return m.peer_urls;
    }
    return {};
  }

  // The member table a snapshot without one implies (raftexample's): the configuration's ids,
  // with the URLs known here.
  std::map<NodeId, Member> MembersOf(const raftpb::ConfState& cs) {
    std::map<NodeId, Member> known;
    {
      std::lock_guard<std::mutex> g(status_mu);
      known = members;
    }
    std::map<NodeId, Member> out;
    auto add = [&](NodeId id, bool learner) {
      Member m;
      m.id = id;
      m.learner = learner;
      auto it = known.find(id);
      m.peer_urls = it != known.end() ? it->second.peer_urls : InitialUrls(id);
      out[id] = std::move(m);
    };
    for (NodeId id : cs.voters)
      add(id, false);
    for (NodeId id : cs.voters_outgoing)
      if (out.count(id) == 0) add(id, false);
    for (NodeId id : cs.learners)
      add(id, true);
    for (NodeId id : cs.learners_next)
      if (out.count(id) == 0) add(id, true);
    return out;
  }

  void SetMembers(std::map<NodeId, Member> next) {
    std::map<NodeId, Member> prev;
    {
      std::lock_guard<std::mutex> g(status_mu);
      prev = members;
      members = next;
    }
    auto dial = [this](NodeId id, const Member& m) {
      auto o = opts.peer_dial_urls.find(id);
      if (o != opts.peer_dial_urls.end()) return o->second;
      std::vector<std::string> urls = m.peer_urls;
      for (auto& u : urls) {
        auto r = opts.peer_dial_by_url.find(u);
        if (r != opts.peer_dial_by_url.end()) u = r->second;
      }
      return urls;
    };
    for (const auto& [id, m] : next) {
      if (id == opts.id) continue;
      if (prev.count(id) == 0) {
        transport->AddPeer(id, dial(id, m));
      } else if (dial(id, prev[id]) != dial(id, m)) {
        transport->UpdatePeer(id, dial(id, m));
      }
    }
    for (const auto& [id, m] : prev) {
      if (next.count(id) == 0 && id != opts.id) transport->RemovePeer(id);
    }
  }

  // A committed conf change, on the Ready loop (the RawNode is not thread-safe).
  void ApplyConfEntry(const raftpb::Entry& e) {
    raftpb::ConfChangeV2 cc;
    if (e.type == EntryType::EntryConfChange) {
      auto v1 = raftpb::DecodeConfChange(e.data.view());
      if (!v1.ok()) return;
      cc = raftpb::ConfChangeV2::FromV1(v1.value());
    } else {
      auto v2 = raftpb::DecodeConfChangeV2(e.data.view());
      if (!v2.ok()) return;
      cc = std::move(v2).value();
    }
    conf_state = node->ApplyConfChange(cc);
    conf_history.emplace_back(e.index, conf_state);
    if (conf_history.size() > 64) conf_history.erase(conf_history.begin());
    // The member record travels in the context (JSON), when raftkit proposed the change.
    std::map<NodeId, Member> next;
    {
      std::lock_guard<std::mutex> g(status_mu);
      next = members;
    }
    auto ctx = nlohmann::json::parse(cc.context.view(), nullptr, false);
    for (const auto& ch : cc.changes) {
      switch (ch.type) {
        case raftpb::ConfChangeType::ConfChangeAddNode:
        case raftpb::ConfChangeType::ConfChangeAddLearnerNode: {
          Member& m = next[ch.node_id];
          m.id = ch.node_id;
          m.learner = ch.type == raftpb::ConfChangeType::ConfChangeAddLearnerNode;
          if (ctx.is_object() && ctx.value("id", uint64_t{0}) == ch.node_id.value() &&
              ctx.contains("peer_urls")) {
            m.peer_urls = ctx["peer_urls"].get<std::vector<std::string>>();
            if (ctx.contains("client_urls") && !ctx["client_urls"].empty()) {
              m.client_urls = ctx["client_urls"].get<std::vector<std::string>>();
            }
          } else if (!ctx.is_object() && !cc.context.empty()) {
            // raftexample's form: the context is the new member's peer URL.
            m.peer_urls = {cc.context.str()};
          } else if (m.peer_urls.empty()) {
            m.peer_urls = InitialUrls(ch.node_id);
          }
          Emit(EventType::kAddPeer, ch.node_id.value(), 0);
          break;
        }
        case raftpb::ConfChangeType::ConfChangeRemoveNode:
          next.erase(ch.node_id);
          heartbeat_sent.erase(ch.node_id);
          {
            std::lock_guard<std::mutex> g(status_mu);
            removed_ids.insert(ch.node_id);
          }
          if (ch.node_id == opts.id && !removed_at) removed_at = Clock::now();
          Emit(EventType::kRemovePeer, ch.node_id.value(), 0);
          break;
        case raftpb::ConfChangeType::ConfChangeUpdateNode:
          if (ctx.is_object() && ctx.contains("peer_urls") && next.count(ch.node_id) > 0) {
            Member& m = next[ch.node_id];
            m.peer_urls = ctx["peer_urls"].get<std::vector<std::string>>();
            if (ctx.contains("client_urls")) {
              m.client_urls = ctx["client_urls"].get<std::vector<std::string>>();
            }
          }
          break;
      }
    }
    SetMembers(std::move(next));
  }

  // ---- the applier ----
  void ApplyLoop() {
    for (;;) {
      ApplyBatch b;
      {
        std::unique_lock<std::mutex> l(apply_mu);
        apply_cv.wait(l, [&] { return apply_stopping || !apply_queue.empty(); });
        if (apply_stopping) return;
        b = std::move(apply_queue.front());
        apply_queue.pop_front();
      }
      if (!b.snapshot.IsEmpty()) {
        std::map<NodeId, Member> ignored;
        std::string_view sm;
        Status st = DecodeServerSnapshot(b.snapshot.data.view(), &ignored, &sm);
        if (st.ok()) st = RestoreStateMachine(sm);
        if (!st.ok()) {
          Log().Errorf("server {}: cannot restore snapshot at {}: {}", opts.id.value(),
                       b.snapshot.metadata.index.value(), st.ToString());
        }
        applied = b.snapshot.metadata.index.value();
        last_snapshot_index = applied;
        FailOrphans(b.snapshot.metadata.term);
      }
      if (!b.orphans.empty()) orphans.emplace_back(b.orphans_term, std::move(b.orphans));
      for (const auto& e : b.entries) {
        if (e.index.value() <= applied) continue;
        if (e.type == EntryType::EntryNormal) {
          if (!e.data.empty()) {
            if (RaftexampleFormat()) {
              Result<std::string> r = ApplyPayload(e.index, e.data.view());
              applied = e.index.value();
              CompleteByData(e.data.view(), std::move(r));
            } else {
              auto [id, payload] = OpenEnvelope(e.data.view());
              Result<std::string> r = ApplyPayload(e.index, payload);
              applied = e.index.value();
              if (id != 0) Complete(id, std::move(r));
            }
          }
        } else {
          applied = e.index.value();
          // A member added to a compacted log can only be brought up by a snapshot that already
          // lists it (docs/ready_loop.md): take one right after any membership change.
          force_snapshot = true;
          CompleteConf(e);
        }
        applied = e.index.value();
        FailOrphans(e.term);
      }
      for (auto& r : b.reads)
        reads_waiting_apply.emplace(r->index, std::move(r));
      while (!reads_waiting_apply.empty() &&
             reads_waiting_apply.begin()->first.value() <= applied) {
        reads_waiting_apply.begin()->second->done(Status::Ok());
        reads_waiting_apply.erase(reads_waiting_apply.begin());
      }
      if (!b.entries.empty()) Emit(EventType::kCommit, applied, 0);
      if (b.snapshot_now) {
        force_snapshot = true;
        MaybeSnapshot(std::move(b.snapshot_now));
      } else {
        MaybeSnapshot();
      }
    }
  }

  // Fails the orphaned proposals of every leadership change up to `term` that are still waiting:
  // an entry of the new leader's term was applied here, so they were not in its log.
  void FailOrphans(Term term) {
    while (!orphans.empty() && orphans.front().first <= term) {
      for (uint64_t id : orphans.front().second) {
        Complete(id, Status(ErrorCode::kProposalDropped,
                            "leadership moved before the proposal was committed; it was dropped"));
      }
      orphans.erase(orphans.begin());
    }
  }

  // The caller waiting for a committed membership change, if it was proposed here.
  void CompleteConf(const raftpb::Entry& e) {
    if (e.type == EntryType::EntryConfChange) {
      auto v1 = raftpb::DecodeConfChange(e.data.view());
      if (!v1.ok()) return;
      auto ctx = nlohmann::json::parse(v1.value().context.view(), nullptr, false);
      if (ctx.is_object() && ctx.contains("request") && ctx["request"].is_number_unsigned()) {
        Complete(ctx["request"].get<uint64_t>(), std::string());
      } else {
        CompleteByConf(v1.value().type, v1.value().node_id);
      }
      return;
    }
    auto v2 = raftpb::DecodeConfChangeV2(e.data.view());
    if (!v2.ok()) return;
    auto ctx = nlohmann::json::parse(v2.value().context.view(), nullptr, false);
    if (ctx.is_object() && ctx.contains("request") && ctx["request"].is_number_unsigned()) {
      Complete(ctx["request"].get<uint64_t>(), std::string());
    }
  }

  // Every snapshot_count applied entries: the state machine's snapshot (taken here, between two
  // applies) is recorded and the log compacted by the Ready loop, which owns the storage.
  // `done` (Server::Snapshot) hears when the snapshot is saved, or why not.
  void MaybeSnapshot(std::function<void(Status)> done = nullptr) {
    const uint64_t at = applied.load();
    if (at <= last_snapshot_index || (opts.snapshot_count == 0 && !done)) {
      if (done) done(Status::Ok());
      return;
    }
    if (!force_snapshot && at < last_snapshot_index + opts.snapshot_count) return;
    force_snapshot = false;
    auto sm = SnapshotStateMachine();
    if (!sm.ok()) {
      Log().Errorf("server {}: state machine snapshot failed: {}", opts.id.value(),
                   sm.status().ToString());
      if (done) done(sm.status());
      return;
    }
    last_snapshot_index = at;
    auto data = std::make_shared<std::string>(std::move(sm).value());
    Post([this, at, data, done = std::move(done)] {
      raftpb::ConfState cs = conf_state;
      for (auto it = conf_history.rbegin(); it != conf_history.rend(); ++it) {
        if (it->first.value() <= at) {
          cs = it->second;
          break;
        }
      }
      std::map<NodeId, Member> ms;
      {
        std::lock_guard<std::mutex> g(status_mu);
        ms = members;
      }
      auto snap = storage->CreateSnapshot(
          Index(at), cs, Bytes(RaftexampleFormat() ? *data : EncodeServerSnapshot(ms, *data)));
      if (!snap.ok()) {
        Log().Errorf("server {}: cannot save snapshot at {}: {}", opts.id.value(), at,
                     snap.status().ToString());
        if (done) done(snap.status());
        return;
      }
      const uint64_t keep = opts.snapshot_catchup_entries;
      if (at > keep + 1) {
        const Status st = storage->Compact(Index(at - keep));
        if (!st.ok()) Log().Warnf("server: compaction failed: {}", st.ToString());
      }
      Log().Infof("server {}: snapshot at {} ({} bytes)", opts.id.value(), at, data->size());
      if (done) done(Status::Ok());
    });
  }
};

Result<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  if (options.id == kNoNode) return Status(ErrorCode::kInvalidArgument, "server: id 0");
  if (options.state_machine == nullptr) {
    return Status(ErrorCode::kInvalidArgument, "server: a state machine is required");
  }
  if (options.data_dir.empty()) {
    return Status(ErrorCode::kInvalidArgument, "server: a data directory is required");
  }
  auto impl = std::make_unique<Impl>();
  Impl& s = *impl;
  s.opts = std::move(options);
  s.logger = s.opts.logger;
  s.codec = s.opts.command_codec ? s.opts.command_codec : std::make_shared<const CommandCodec>();
  std::random_device rd;
  s.id_prefix = (static_cast<uint64_t>(rd()) << 32) & 0xffffffff00000000ull;

  storage::DiskStorageOptions so;
  so.dir = s.opts.data_dir;
  so.node_id = s.opts.id.value();
  so.cluster_id = s.opts.cluster_id;
  storage::OpenReport report;
  auto st = storage::DiskStorage::Open(so, &report);
  if (!st.ok()) return st.status();
  s.storage = std::move(st).value();
  // What a crash left behind and recovery dealt with is worth an operator's attention.
  if (report.truncated_tail) {
    s.Log().Warnf("server {}: cut a torn WAL tail ({} bytes): {}", s.opts.id.value(),
                  report.truncated_bytes, *report.truncated_tail);
  }
  for (const auto& f : report.broken_snapshots)
    s.Log().Warnf("server {}: set aside a corrupt snapshot file {}", s.opts.id.value(), f);

  // The state machine and the member table from the newest snapshot.
  Index applied;
  if (!report.created) {
    auto snap = s.storage->GetSnapshot();
    if (snap.ok() && !snap.value().IsEmpty()) {
      std::string_view sm;
      std::map<NodeId, Member> ms;
      RAFTKIT_RETURN_IF_ERROR(DecodeServerSnapshot(snap.value().data.view(), &ms, &sm));
      RAFTKIT_RETURN_IF_ERROR(s.RestoreStateMachine(sm));
      applied = snap.value().metadata.index;
      s.applied = applied.value();
      s.last_snapshot_index = applied.value();
      s.conf_state = snap.value().metadata.conf_state;
      s.members = ms.empty() ? s.MembersOf(s.conf_state) : std::move(ms);
      s.conf_history.emplace_back(applied, s.conf_state);
    }
  }

  raft::Config rc;
  rc.id = s.opts.id;
  rc.heartbeat_tick = 1;
  rc.election_tick = static_cast<int>(std::max<int64_t>(
      2,
      s.opts.election_timeout.count() / std::max<int64_t>(1, s.opts.heartbeat_interval.count())));
  rc.storage = s.storage.get();
  rc.applied = applied;
  rc.check_quorum = s.opts.check_quorum;
  rc.pre_vote = s.opts.pre_vote;
  rc.max_size_per_msg = 1024 * 1024;
  rc.max_inflight_msgs = 256;
  rc.max_uncommitted_entries_size = 1 << 30;
  rc.random_seed = s.id_prefix ^ s.opts.id.value();
  rc.logger = s.logger;
  auto node = raft::RawNode::Create(rc);
  if (!node.ok()) return node.status();
  s.node = std::move(node).value();

  // The transport and the peer listener.
  rafthttp::TransportOptions to;
  to.id = s.opts.id;
  to.cluster_id = s.opts.cluster_id;
  to.raft = &s;
  to.snapshot_mode = s.opts.snapshot_mode;
  to.client_tls = s.opts.peer_client_tls;
  to.metrics = s.opts.metrics;
  to.logger = s.logger;
  http::ServerOptions ho;
  ho.address = s.opts.peer_listen_address;
  ho.port = s.opts.peer_listen_port;
  ho.tls = s.opts.peer_tls;
  ho.logger = s.logger;
  // The URLs are known only once the listener is bound (port 0 picks one), so the transport is
  // created first with the advertised URLs given, and the routes are bound to it.
  to.urls = s.opts.advertise_peer_urls;
  auto tr = rafthttp::Transport::Create(std::move(to));
  if (!tr.ok()) return tr.status();
  s.transport = std::move(tr).value();
  auto ps = http::Server::Start(ho, s.transport->Routes());
  if (!ps.ok()) return ps.status();
  s.peer_server = std::move(ps).value();
  s.peer_url = s.peer_server->url();
  // A peer saying we were removed (410 to a stream dial, 403 to a POST) ends this member too.
  s.transport->OnCriticalError([&s](const Status& why) {
    s.Log().Errorf("server {}: {}", s.opts.id.value(), why.message());
    s.Post([&s] {
      if (!s.removed_at) s.removed_at = Clock::now();
    });
  });
  RAFTKIT_RETURN_IF_ERROR(s.transport->Start());

  // Peers: from the snapshot's member table, else the initial members.
  std::map<NodeId, Member> initial;
  for (const auto& m : s.opts.initial_members)
    initial[m.id] = m;
  if (s.members.empty()) {
    std::map<NodeId, Member> ms = initial;
    s.SetMembers(std::move(ms));
  } else {
    std::map<NodeId, Member> ms = s.members;
    s.members.clear();
    s.SetMembers(std::move(ms));
  }
  if (report.created && !s.opts.join) {
    std::vector<raft::Peer> peers;
    for (const auto& [id, m] : initial) {
      // raftexample bootstraps without contexts; the first entries must be the same bytes.
      peers.push_back({id, s.RaftexampleFormat() ? Bytes() : Bytes(ConfContext(0, m))});
    }
    if (peers.empty()) {
      return Status(ErrorCode::kInvalidArgument, "server: a new cluster needs initial members");
    }
    RAFTKIT_RETURN_IF_ERROR(s.node->Bootstrap(peers));
  }
  {
    auto bs = s.node->GetBasicStatus();
    s.hard = bs.hard_state;
  }
  // Logged before the loops start: from then on the member table belongs to them.
  s.Log().Infof("server {}: starting (peer URL {}, {} members, applied {})", s.opts.id.value(),
                s.peer_url, s.members.size(), s.applied.load());
  s.raft_thread = std::thread([&s] { s.RaftLoop(); });
  s.apply_thread = std::thread([&s] { s.ApplyLoop(); });
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() {
  Stop();
}

void Server::Stop() {
  Impl& s = *impl_;
  if (s.stopped.exchange(true)) return;
  {
    std::lock_guard<std::mutex> g(s.mu);
    s.stopping = true;
    s.cv.notify_all();
  }
  if (s.raft_thread.joinable()) s.raft_thread.join();
  {
    std::lock_guard<std::mutex> g(s.apply_mu);
    s.apply_stopping = true;
    s.apply_cv.notify_all();
  }
  if (s.apply_thread.joinable()) s.apply_thread.join();
  s.peer_server->Stop();
  s.transport->Stop();
  // Everything still waiting learns that the server stopped.
  std::unordered_map<uint64_t, Impl::Waiter> waiters;
  {
    std::lock_guard<std::mutex> g(s.waiters_mu);
    waiters.swap(s.waiters);
  }
  for (auto& [id, w] : waiters)
    w.done(Status(ErrorCode::kStopped, "server stopped"));
  for (auto& [ctx, v] : s.reads_by_ctx) {
    for (auto& r : v)
      r->done(Status(ErrorCode::kStopped, "server stopped"));
  }
  for (auto& r : s.inbox_reads)
    r->done(Status(ErrorCode::kStopped, "server stopped"));
  for (auto& [i, r] : s.reads_waiting_apply) {
    r->done(Status(ErrorCode::kStopped, "server stopped"));
  }
  for (auto& [id, data] : s.inbox_proposals) {
    (void)data;
    (void)id;  // their waiters were failed above
  }
  (void)s.storage->Close();
  s.Log().Infof("server {}: stopped", s.opts.id.value());
}

namespace {

// A future fed by a completion callback.
std::pair<std::future<Result<std::string>>, ProposalCallback> FutureCallback() {
  auto p = std::make_shared<std::promise<Result<std::string>>>();
  auto f = p->get_future();
  return {std::move(f), [p](Result<std::string> r) { p->set_value(std::move(r)); }};
}

}  // namespace

std::future<Result<std::string>> Server::Propose(std::string data) {
  auto [f, cb] = FutureCallback();
  Propose(std::move(data), std::move(cb));
  return std::move(f);
}

void Server::Propose(std::string data, ProposalCallback done) {
  Impl& s = *impl_;
  if (s.stopped || s.removed) return done(Status(ErrorCode::kStopped, "server stopped"));
  if (s.PendingCount() >= s.opts.max_pending_proposals) {
    return done(Status(ErrorCode::kOverloaded,
                       fmt::format("{} proposals pending", s.opts.max_pending_proposals)));
  }
  const uint64_t id = s.NewRequestId();
  s.Register(id, std::move(done));
  if (s.RaftexampleFormat()) {
    {
      std::lock_guard<std::mutex> g(s.waiters_mu);
      s.waiters_by_data[data].push_back(id);
    }
    std::lock_guard<std::mutex> g(s.mu);
    s.inbox_proposals.emplace_back(id, std::move(data));
    if (s.inbox_proposals.size() == 1) s.cv.notify_one();
    return;
  }
  std::lock_guard<std::mutex> g(s.mu);
  s.inbox_proposals.emplace_back(id, Envelope(id, data));
  if (s.inbox_proposals.size() == 1) s.cv.notify_one();
}

Result<std::string> Server::ProposeAndWait(std::string data) {
  return Propose(std::move(data)).get();
}

void Server::RegisterCommand(std::string name, CommandHandler handler) {
  RAFTKIT_CHECK(name.size() <= 255, "command name of {} bytes (at most 255)", name.size());
  std::lock_guard<std::mutex> g(impl_->commands_mu);
  impl_->commands[std::move(name)] = std::move(handler);
}

std::future<Result<std::string>> Server::Do(std::string_view name, std::string_view args) {
  {
    std::lock_guard<std::mutex> g(impl_->commands_mu);
    if (impl_->commands.find(name) == impl_->commands.end()) {
      std::promise<Result<std::string>> p;
      p.set_value(Status(ErrorCode::kInvalidArgument, "unknown command " + std::string(name)));
      return p.get_future();
    }
  }
  return Propose(impl_->codec->Encode(name, args));
}

Status Server::LinearizableRead() {
  auto p = std::make_shared<std::promise<Status>>();
  auto f = p->get_future();
  LinearizableRead([p](Status st) { p->set_value(std::move(st)); });
  return f.get();
}

void Server::LinearizableRead(ReadCallback done) {
  Impl& s = *impl_;
  if (s.stopped || s.removed) return done(Status(ErrorCode::kStopped, "server stopped"));
  auto r = std::make_shared<Impl::ReadRequest>();
  r->deadline = Clock::now() + s.opts.request_timeout;
  r->done = std::move(done);
  std::lock_guard<std::mutex> g(s.mu);
  if (s.stopping) {
    r->done(Status(ErrorCode::kStopped, "server stopped"));
    return;
  }
  s.inbox_reads.push_back(std::move(r));
  if (s.inbox_reads.size() == 1) s.cv.notify_one();
}

namespace {

Status ProposeConf(Server::Impl& s, raftpb::ConfChangeType type, const Member& m) {
  const uint64_t id = s.NewRequestId();
  auto [f, cb] = FutureCallback();
  s.Register(id, std::move(cb));
  if (s.RaftexampleFormat()) {
    // raftexample's form: a v1 change (raftexample ignores v2 entries) whose context is the
    // member's peer URL.
    raftpb::ConfChange v1;
    v1.type = type;
    v1.node_id = m.id;
    if (type != raftpb::ConfChangeType::ConfChangeRemoveNode && !m.peer_urls.empty()) {
      v1.context = Bytes(m.peer_urls.front());
    }
    {
      std::lock_guard<std::mutex> g(s.waiters_mu);
      s.waiters_by_conf.emplace(std::make_pair(static_cast<int>(type), m.id.value()), id);
    }
    s.Post([&s, v1, id] {
      s.ProposeConfInOrder(id, [&s, v1, id] {
        const Status st = s.node->ProposeConfChange(v1);
        if (!st.ok()) s.Complete(id, st);
      });
    });
  } else {
    raftpb::ConfChangeV2 cc;
    cc.changes.push_back({type, m.id, Bytes()});
    cc.context = Bytes(ConfContext(id, m));
    s.Post([&s, cc, id] {
      s.ProposeConfInOrder(id, [&s, cc, id] {
        const Status st = s.node->ProposeConfChange(cc);
        if (!st.ok()) s.Complete(id, st);
      });
    });
  }
  auto r = f.get();
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace

Status Server::AddMember(const Member& member) {
  return ProposeConf(*impl_,
                     member.learner ? raftpb::ConfChangeType::ConfChangeAddLearnerNode
                                    : raftpb::ConfChangeType::ConfChangeAddNode,
                     member);
}

Status Server::PromoteMember(NodeId id) {
  Member m;
  {
    std::lock_guard<std::mutex> g(impl_->status_mu);
    auto it = impl_->members.find(id);
    if (it == impl_->members.end()) return Status(ErrorCode::kNotFound, "no such member");
    m = it->second;
  }
  m.learner = false;
  return ProposeConf(*impl_, raftpb::ConfChangeType::ConfChangeAddNode, m);
}

Status Server::RemoveMember(NodeId id) {
  Member m;
  m.id = id;
  return ProposeConf(*impl_, raftpb::ConfChangeType::ConfChangeRemoveNode, m);
}

Status Server::Snapshot(std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  auto result = std::make_shared<std::promise<Status>>();
  auto future = result->get_future();
  {
    std::lock_guard<std::mutex> g(s.apply_mu);
    if (s.stopped || s.apply_stopping) return Status(ErrorCode::kStopped, "server stopped");
    Impl::ApplyBatch b;
    // Queued behind the batches already waiting, so it covers everything committed so far.
    b.snapshot_now = [result](Status st) { result->set_value(std::move(st)); };
    s.apply_queue.push_back(std::move(b));
    s.apply_cv.notify_one();
  }
  if (future.wait_for(timeout) != std::future_status::ready) {
    return Status(ErrorCode::kTimeout, "the snapshot was not saved in time");
  }
  try {
    return future.get();
  } catch (const std::future_error&) {
    return Status(ErrorCode::kStopped, "server stopped before the snapshot was saved");
  }
}

Status Server::TransferLeadership(NodeId to, std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  if (Leader() == to) return Status::Ok();
  if (!IsLeader() && to != s.opts.id) {
    const NodeId lead = Leader();
    return Status(ErrorCode::kNotLeader,
                  lead == kNoNode
                      ? std::string("no leader is known")
                      : fmt::format("ask the leader (member {}) to move leadership", lead.value()));
  }
  // The request is a message like any other: the transferee's copy is dropped while it knows no
  // leader, and a leader abandons a transfer after an election timeout. Ask again each timeout.
  const auto deadline = Clock::now() + timeout;
  auto next_ask = Clock::now();
  while (Clock::now() < deadline) {
    if (Leader() == to) return Status::Ok();
    if (Clock::now() >= next_ask) {
      s.Post([&s, to] { s.node->TransferLeader(to); });
      next_ask = Clock::now() + s.opts.election_timeout;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Status(ErrorCode::kTimeout, "leadership did not move in time");
}

ServerStatus Server::GetStatus() const {
  const Impl& s = *impl_;
  std::lock_guard<std::mutex> g(s.status_mu);
  ServerStatus out;
  out.id = s.opts.id;
  out.leader = s.soft.lead;
  out.state = s.soft.raft_state;
  out.term = s.hard.term;
  out.voted_for = s.hard.vote;
  out.commit_index = s.hard.commit;
  out.applied_index = Index(s.applied.load());
  for (const auto& [id, m] : s.members)
    out.members.push_back(m);
  return out;
}

NodeId Server::Leader() const {
  std::lock_guard<std::mutex> g(impl_->status_mu);
  return impl_->soft.lead;
}

bool Server::IsLeader() const {
  std::lock_guard<std::mutex> g(impl_->status_mu);
  return impl_->soft.raft_state == raft::StateType::kLeader;
}

std::string Server::PeerUrl() const {
  return impl_->peer_url;
}
std::string Server::TransportStats() const {
  return impl_->transport->StatsJson();
}

void Server::AddListener(EventListener listener) {
  std::lock_guard<std::mutex> g(impl_->status_mu);
  impl_->listeners.push_back(std::move(listener));
}

}  // namespace raftkit::server
