#include "raftkit/transport/rafthttp/transport.h"

#include <algorithm>
#include <condition_variable>
#include <list>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "raftkit/raftpb/codec.h"
#include "raftkit/transport/http/client.h"
#include "transport/rafthttp/compat.h"
#include "transport/rafthttp/handlers.h"
#include "transport/rafthttp/metrics.h"
#include "transport/rafthttp/msg_codec.h"
#include "transport/rafthttp/peer.h"

namespace raftkit::rafthttp {
namespace {

// How long a snapshot sender waits for the receiver's answer once the body is sent: the receiver
// syncs the data to disk and steps the message first.
constexpr auto kSnapshotAnswerTimeout = std::chrono::seconds(60);
// The longest pause in writing a snapshot body (a receiver writing to a slow disk).
constexpr auto kSnapshotIdleTimeout = std::chrono::seconds(30);
// Keep-alive connections per peer for pipeline POSTs and probes (etcd keeps up to 1024).
constexpr size_t kPipelineIdlePerHost = 64;
// Largest answer read from a peer (etcd's answers are a line of text at most).
constexpr uint64_t kMaxAnswerBytes = 1 << 20;

StreamType ParseStreamName(std::string_view type) {
  return type == "msgapp" ? StreamType::kMsgAppV2 : StreamType::kMessage;
}

}  // namespace

struct Transport::Impl {
  TransportOptions opts;
  std::unique_ptr<TransportMetrics> metrics;
  std::unique_ptr<http::Client> pipeline_client;
  std::unique_ptr<http::Client> stream_client;
  std::unique_ptr<http::Client> snapshot_client;
  std::atomic<bool> paused{false};
  PeerContext ctx;

  mutable std::shared_mutex mu;  // peers, remotes, started, stopped
  std::map<NodeId, std::shared_ptr<Peer>> peers;
  std::map<NodeId, std::shared_ptr<Remote>> remotes;
  bool started = false;
  bool stopped = false;

  std::mutex critical_mu;
  CriticalErrorHandler critical_handler;
  bool critical_reported = false;

  // Snapshot sends in flight, one thread each (joined by Stop or by the next send).
  struct SnapshotSend {
    std::thread thread;
    std::shared_ptr<http::CancelToken> token;
    std::atomic<bool> done{false};
  };
  std::mutex snap_mu;
  std::list<std::unique_ptr<SnapshotSend>> snapshot_sends;

  Logger& Log() const { return opts.logger != nullptr ? *opts.logger : NullLogger(); }

  void ReportCritical(const Status& st) {
    CriticalErrorHandler handler;
    {
      std::lock_guard<std::mutex> g(critical_mu);
      if (critical_reported) return;
      critical_reported = true;
      handler = critical_handler;
    }
    Log().Errorf("rafthttp: critical error: {}", st.message());
    if (handler) handler(st);
  }

  std::shared_ptr<Peer> FindPeer(NodeId id) const {
    std::shared_lock<std::shared_mutex> l(mu);
    auto it = peers.find(id);
    return it == peers.end() ? nullptr : it->second;
  }

  void SendSnapshotNow(std::shared_ptr<Peer> peer, OutgoingSnapshot& snap,
                       const std::shared_ptr<http::CancelToken>& token);
  Status PostSnapshot(Peer& peer, OutgoingSnapshot& snap, const std::string& url,
                      const std::shared_ptr<http::CancelToken>& token, uint64_t* bytes);
  Status PostInline(Peer& peer, OutgoingSnapshot& snap, const std::string& url,
                    const std::shared_ptr<http::CancelToken>& token, uint64_t* bytes);
  void ReapSnapshotSends(bool all);
};

Result<std::unique_ptr<Transport>> Transport::Create(TransportOptions options) {
  if (options.id.value() == 0) {
    return Status(ErrorCode::kInvalidArgument, "rafthttp: the member id must not be 0");
  }
  if (options.raft == nullptr) {
    return Status(ErrorCode::kInvalidArgument, "rafthttp: a RaftNode is required");
  }
  auto impl = std::make_shared<Impl>();
  impl->opts = std::move(options);
  const TransportOptions& o = impl->opts;
  impl->metrics = std::make_unique<TransportMetrics>(o.metrics, o.id.value());

  http::ClientOptions pipeline;
  pipeline.connect_timeout = o.dial_timeout;
  pipeline.response_header_timeout = o.pipeline_response_timeout;
  pipeline.idle_timeout = o.stream_read_timeout;
  pipeline.max_idle_per_host = kPipelineIdlePerHost;
  pipeline.max_response_body = kMaxAnswerBytes;
  pipeline.tls = o.client_tls;
  http::ClientOptions stream = pipeline;
  // etcd's stream connections have 5 s read deadlines; writers heartbeat every third of that.
  stream.response_header_timeout = o.stream_read_timeout;
  stream.idle_timeout = o.stream_read_timeout;
  stream.max_idle_per_host = 0;
  http::ClientOptions snapshot = pipeline;
  snapshot.response_header_timeout = kSnapshotAnswerTimeout;
  snapshot.idle_timeout = kSnapshotIdleTimeout;
  snapshot.max_idle_per_host = 0;
  for (auto [opts, out] :
       {std::pair{&pipeline, &impl->pipeline_client}, std::pair{&stream, &impl->stream_client},
        std::pair{&snapshot, &impl->snapshot_client}}) {
    auto c = http::Client::Create(*opts);
    if (!c.ok()) return c.status();
    *out = std::move(c).value();
  }

  PeerContext& ctx = impl->ctx;
  ctx.local = o.id;
  ctx.cluster_id = o.cluster_id;
  ctx.local_urls = o.urls;
  ctx.raft = o.raft;
  ctx.metrics = impl->metrics.get();
  ctx.logger = o.logger;
  ctx.pipeline_client = impl->pipeline_client.get();
  ctx.stream_client = impl->stream_client.get();
  ctx.snapshot_client = impl->snapshot_client.get();
  ctx.heartbeat_interval = std::max(std::chrono::milliseconds(1), o.stream_read_timeout / 3);
  ctx.pipeline_response_timeout = o.pipeline_response_timeout;
  ctx.probe_interval = o.probe_interval;
  ctx.probe_rtt_warning = o.probe_rtt_warning;
  ctx.max_message_bytes = o.max_message_bytes;
  ctx.paused = &impl->paused;
  Impl* raw = impl.get();
  ctx.critical = [raw](const Status& st) { raw->ReportCritical(st); };
  return std::unique_ptr<Transport>(new Transport(std::move(impl)));
}

Transport::Transport(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Transport::~Transport() {
  Stop();
}

std::vector<http::Route> Transport::Routes() {
  std::shared_ptr<Impl> impl = impl_;
  HandlerContext hc;
  hc.local = impl->opts.id;
  hc.cluster_id = impl->opts.cluster_id;
  hc.raft = impl->opts.raft;
  hc.metrics = impl->metrics.get();
  hc.logger = impl->opts.logger;
  hc.max_message_bytes = impl->opts.max_message_bytes;
  hc.is_peer = [impl](NodeId id) { return impl->FindPeer(id) != nullptr; };
  hc.is_remote = [impl](NodeId id) {
    std::shared_lock<std::shared_mutex> l(impl->mu);
    return impl->remotes.count(id) > 0;
  };
  // These may run after this object is gone (a server still serving): they use only `impl`.
  hc.add_remote = [impl](NodeId id, std::vector<std::string> urls) {
    std::unique_lock<std::shared_mutex> l(impl->mu);
    if (impl->stopped || impl->peers.count(id) > 0 || impl->remotes.count(id) > 0) return;
    impl->Log().Infof("rafthttp: added remote {} at {}", FormatId(id.value()), urls.front());
    impl->remotes.emplace(id, std::make_shared<Remote>(impl->ctx, id, std::move(urls)));
  };
  hc.serve_stream = [impl](NodeId from, StreamType t, http::ResponseWriter& writer) {
    if (auto peer = impl->FindPeer(from)) peer->ServeStream(t, writer);
  };
  return MakeRoutes(std::move(hc));
}

Status Transport::Start() {
  std::vector<std::shared_ptr<Peer>> peers;
  {
    std::unique_lock<std::shared_mutex> l(impl_->mu);
    if (impl_->stopped) return Status(ErrorCode::kInvalidArgument, "rafthttp: transport stopped");
    if (impl_->started) return Status::Ok();
    impl_->started = true;
    for (auto& [id, p] : impl_->peers)
      peers.push_back(p);
  }
  for (auto& p : peers)
    p->Start();
  impl_->Log().Infof("rafthttp: transport of member {} started (cluster {})",
                     FormatId(impl_->opts.id.value()), FormatId(impl_->opts.cluster_id));
  return Status::Ok();
}

void Transport::Stop() {
  std::map<NodeId, std::shared_ptr<Peer>> peers;
  std::map<NodeId, std::shared_ptr<Remote>> remotes;
  {
    std::unique_lock<std::shared_mutex> l(impl_->mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
    peers.swap(impl_->peers);
    remotes.swap(impl_->remotes);
  }
  for (auto& [id, p] : peers)
    p->Stop();
  for (auto& [id, r] : remotes)
    r->Stop();
  impl_->ReapSnapshotSends(/*all=*/true);
  impl_->Log().Infof("rafthttp: transport of member {} stopped", FormatId(impl_->opts.id.value()));
}

void Transport::Send(std::vector<raftpb::Message> msgs) {
  if (impl_->paused.load(std::memory_order_relaxed)) return;
  std::shared_lock<std::shared_mutex> l(impl_->mu);
  if (impl_->stopped) return;
  for (auto& m : msgs) {
    if (m.to.value() == 0) continue;
    if (auto it = impl_->peers.find(m.to); it != impl_->peers.end()) {
      it->second->Send(std::move(m));
    } else if (auto r = impl_->remotes.find(m.to); r != impl_->remotes.end()) {
      r->second->Send(std::move(m));
    } else {
      impl_->Log().Debugf("rafthttp: ignored {} to unknown member {}", raftpb::Name(m.type),
                          FormatId(m.to.value()));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Snapshots

void Transport::SendSnapshot(OutgoingSnapshot snap) {
  const NodeId to = snap.message.to;
  std::shared_ptr<Peer> peer = impl_->FindPeer(to);
  bool stopped;
  {
    std::shared_lock<std::shared_mutex> l(impl_->mu);
    stopped = impl_->stopped;
  }
  if (peer == nullptr || stopped) {
    // etcd closes the snapshot with "member not found" and reports nothing to Raft.
    impl_->Log().Warnf("rafthttp: snapshot to {} not sent: {}", FormatId(to.value()),
                       stopped ? "the transport is stopped" : "not a peer");
    if (snap.done) snap.done(false);
    return;
  }
  impl_->ReapSnapshotSends(/*all=*/false);
  auto send = std::make_unique<Impl::SnapshotSend>();
  send->token = std::make_shared<http::CancelToken>();
  Impl::SnapshotSend* raw = send.get();
  Impl* impl = impl_.get();
  std::lock_guard<std::mutex> g(impl_->snap_mu);
  raw->thread = std::thread([impl, raw, peer, s = std::move(snap)]() mutable {
    impl->SendSnapshotNow(peer, s, raw->token);
    raw->done = true;
  });
  impl_->snapshot_sends.push_back(std::move(send));
}

void Transport::Impl::ReapSnapshotSends(bool all) {
  std::list<std::unique_ptr<SnapshotSend>> finished;
  {
    std::lock_guard<std::mutex> g(snap_mu);
    for (auto it = snapshot_sends.begin(); it != snapshot_sends.end();) {
      if (all || (*it)->done) {
        if (all) (*it)->token->Cancel();
        finished.push_back(std::move(*it));
        it = snapshot_sends.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& s : finished)
    s->thread.join();
}

void Transport::Impl::SendSnapshotNow(std::shared_ptr<Peer> peer, OutgoingSnapshot& snap,
                                      const std::shared_ptr<http::CancelToken>& token) {
  const NodeId to = peer->id();
  const auto index = snap.message.snapshot.metadata.index;
  const bool inline_mode = opts.snapshot_mode == SnapshotMode::kInline;
  metrics->SnapshotSendStarted(to.value());
  const auto t0 = std::chrono::steady_clock::now();
  const std::string url = peer->picker().Pick();
  Log().Infof("rafthttp: sending snapshot at index {} to {} ({} data bytes, {})", index.value(),
              FormatId(to.value()), snap.data_size,
              inline_mode ? "inline on the pipeline" : "snapshot endpoint");
  uint64_t bytes = 0;
  const Status st = inline_mode ? PostInline(*peer, snap, url, token, &bytes)
                                : PostSnapshot(*peer, snap, url, token, &bytes);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  metrics->SnapshotSendFinished(to.value(), st.ok(), seconds);
  if (st.ok()) {
    MarkActive(ctx, peer->status(), to);
    metrics->SentBytes(to.value(), bytes);
    Log().Infof("rafthttp: sent snapshot at index {} to {} ({} bytes in {:.3f} s)", index.value(),
                FormatId(to.value()), bytes, seconds);
    opts.raft->ReportSnapshot(to, SnapshotStatus::kFinish);
  } else {
    Log().Warnf("rafthttp: failed to send snapshot at index {} to {}: {}", index.value(),
                FormatId(to.value()), st.message());
    peer->picker().Unreachable(url);
    MarkInactive(ctx, peer->status(), to, {"snapshot", "write"}, st.message());
    metrics->SentFailure(to.value());
    opts.raft->ReportUnreachable(to);
    opts.raft->ReportSnapshot(to, SnapshotStatus::kFailure);
  }
  if (snap.done) snap.done(st.ok());
}

// POST /raft/snapshot: BE64 length, the message, then exactly data_size bytes read from the source
// as they are sent (never the whole snapshot in memory).
Status Transport::Impl::PostSnapshot(Peer& peer, OutgoingSnapshot& snap, const std::string& url,
                                     const std::shared_ptr<http::CancelToken>& token,
                                     uint64_t* bytes) {
  std::string prefix;
  const std::string encoded = raftpb::Encode(snap.message);
  AppendBE64(encoded.size(), &prefix);
  prefix += encoded;
  http::ClientRequest req;
  req.method = "POST";
  req.url = url + "/raft/snapshot";
  req.headers = PeerRequestHeaders(ctx, std::nullopt);
  req.headers.Add("Content-Type", "application/octet-stream");
  req.body_length = prefix.size() + snap.data_size;
  size_t prefix_sent = 0;
  uint64_t data_left = snap.data_size;
  Status source_error;
  req.body_source = [&](char* buf, size_t capacity) -> Result<size_t> {
    if (prefix_sent < prefix.size()) {
      const size_t n = std::min(capacity, prefix.size() - prefix_sent);
      std::copy_n(prefix.data() + prefix_sent, n, buf);
      prefix_sent += n;
      return n;
    }
    if (data_left == 0) return size_t{0};
    if (!snap.read) {
      source_error = Status(ErrorCode::kInvalidArgument, "the snapshot has no data source");
      return source_error;
    }
    auto n = snap.read(buf, static_cast<size_t>(std::min<uint64_t>(capacity, data_left)));
    if (!n.ok()) {
      source_error = n.status();
      return source_error;
    }
    if (n.value() == 0) {
      source_error = Status(ErrorCode::kCorruption,
                            fmt::format("the snapshot data ended {} bytes early", data_left));
      return source_error;
    }
    data_left -= n.value();
    return n.value();
  };
  auto r = snapshot_client->Do(req, token);
  if (!source_error.ok()) return source_error;
  if (!r.ok()) return r.status();
  Status st = CheckPostAnswer(ctx, peer.id(), r.value());
  if (st.ok()) *bytes = *req.body_length;
  return st;
}

// raftexample's way: one POST /raft with the state inside snapshot.data.
Status Transport::Impl::PostInline(Peer& peer, OutgoingSnapshot& snap, const std::string& url,
                                   const std::shared_ptr<http::CancelToken>& token,
                                   uint64_t* bytes) {
  raftpb::Message m = snap.message;
  const uint64_t total = m.snapshot.data.size() + snap.data_size;
  if (total > opts.max_message_bytes) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("an inline snapshot of {} bytes is above the message limit of {}",
                              total, opts.max_message_bytes));
  }
  if (snap.data_size > 0) {
    std::string data(m.snapshot.data.view());
    const size_t base = data.size();
    data.resize(total);
    size_t got = 0;
    while (got < snap.data_size) {
      if (!snap.read) return Status(ErrorCode::kInvalidArgument, "the snapshot has no data source");
      auto n = snap.read(data.data() + base + got, snap.data_size - got);
      if (!n.ok()) return n.status();
      if (n.value() == 0) {
        return Status(ErrorCode::kCorruption, "the snapshot data ended early");
      }
      got += n.value();
    }
    m.snapshot.data = Bytes(std::move(data));
  }
  http::ClientRequest req;
  req.method = "POST";
  req.url = url + "/raft";
  req.headers = PeerRequestHeaders(ctx, std::nullopt);
  req.headers.Add("Content-Type", "application/protobuf");
  req.body = raftpb::Encode(m);
  req.replayable = true;  // Raft tolerates a duplicate message
  auto r = pipeline_client->Do(req, token);
  if (!r.ok()) return r.status();
  Status st = CheckPostAnswer(ctx, peer.id(), r.value());
  if (st.ok()) *bytes = req.body.size();
  return st;
}

// ---------------------------------------------------------------------------------------------
// Membership of the transport

void Transport::AddPeer(NodeId id, std::vector<std::string> urls) {
  if (id.value() == 0 || id == impl_->opts.id) return;
  std::shared_ptr<Peer> peer;
  std::shared_ptr<Remote> replaced;
  bool start;
  {
    std::unique_lock<std::shared_mutex> l(impl_->mu);
    if (impl_->stopped || impl_->peers.count(id) > 0) return;
    if (auto it = impl_->remotes.find(id); it != impl_->remotes.end()) {
      replaced = std::move(it->second);
      impl_->remotes.erase(it);
    }
    peer = std::make_shared<Peer>(impl_->ctx, id, urls);
    impl_->peers.emplace(id, peer);
    start = impl_->started;
  }
  if (replaced) replaced->Stop();
  if (start) peer->Start();
  impl_->Log().Infof("rafthttp: added peer {} at {}", FormatId(id.value()),
                     urls.empty() ? std::string("(no URL)") : urls.front());
}

void Transport::RemovePeer(NodeId id) {
  std::shared_ptr<Peer> peer;
  {
    std::unique_lock<std::shared_mutex> l(impl_->mu);
    auto it = impl_->peers.find(id);
    if (it == impl_->peers.end()) return;
    peer = std::move(it->second);
    impl_->peers.erase(it);
  }
  peer->Stop();
  impl_->Log().Infof("rafthttp: removed peer {}", FormatId(id.value()));
}

void Transport::RemoveAllPeers() {
  std::map<NodeId, std::shared_ptr<Peer>> peers;
  {
    std::unique_lock<std::shared_mutex> l(impl_->mu);
    peers.swap(impl_->peers);
  }
  for (auto& [id, p] : peers) {
    p->Stop();
    impl_->Log().Infof("rafthttp: removed peer {}", FormatId(id.value()));
  }
}

void Transport::UpdatePeer(NodeId id, std::vector<std::string> urls) {
  if (auto peer = impl_->FindPeer(id)) {
    impl_->Log().Infof("rafthttp: updated the URLs of peer {}", FormatId(id.value()));
    peer->UpdateUrls(std::move(urls));
  }
}

void Transport::AddRemote(NodeId id, std::vector<std::string> urls) {
  if (id.value() == 0 || id == impl_->opts.id || urls.empty()) return;
  std::unique_lock<std::shared_mutex> l(impl_->mu);
  if (impl_->stopped || impl_->peers.count(id) > 0 || impl_->remotes.count(id) > 0) return;
  impl_->Log().Infof("rafthttp: added remote {} at {}", FormatId(id.value()), urls.front());
  impl_->remotes.emplace(id, std::make_shared<Remote>(impl_->ctx, id, std::move(urls)));
}

std::optional<std::chrono::system_clock::time_point> Transport::ActiveSince(NodeId id) const {
  auto peer = impl_->FindPeer(id);
  if (peer == nullptr) return std::nullopt;
  return peer->status().active_since();
}

size_t Transport::ActivePeers() const {
  std::shared_lock<std::shared_mutex> l(impl_->mu);
  size_t n = 0;
  for (const auto& [id, p] : impl_->peers)
    n += p->status().active() ? 1 : 0;
  return n;
}

void Transport::CutPeer(NodeId id) {
  if (auto peer = impl_->FindPeer(id)) peer->Cut();
}
void Transport::MendPeer(NodeId id) {
  if (auto peer = impl_->FindPeer(id)) peer->Mend();
}
void Transport::Pause() {
  impl_->paused = true;
}
void Transport::Resume() {
  impl_->paused = false;
}

void Transport::OnCriticalError(CriticalErrorHandler handler) {
  std::lock_guard<std::mutex> g(impl_->critical_mu);
  impl_->critical_handler = std::move(handler);
}

bool Transport::StreamAttached(NodeId id, std::string_view type) const {
  auto peer = impl_->FindPeer(id);
  return peer != nullptr && peer->StreamAttached(ParseStreamName(type));
}

bool Transport::StreamReading(NodeId id, std::string_view type) const {
  auto peer = impl_->FindPeer(id);
  return peer != nullptr && peer->StreamReading(ParseStreamName(type));
}

std::string Transport::StatsJson() const {
  nlohmann::json j;
  j["id"] = FormatId(impl_->opts.id.value());
  j["cluster_id"] = FormatId(impl_->opts.cluster_id);
  j["paused"] = impl_->paused.load();
  std::vector<std::shared_ptr<Peer>> peers;
  std::vector<std::string> remotes;
  {
    std::shared_lock<std::shared_mutex> l(impl_->mu);
    for (const auto& [id, p] : impl_->peers)
      peers.push_back(p);
    for (const auto& [id, r] : impl_->remotes)
      remotes.push_back(FormatId(id.value()));
  }
  size_t active = 0;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& p : peers) {
    active += p->status().active() ? 1 : 0;
    list.push_back(nlohmann::json::parse(p->StatsJson()));
  }
  j["active_peers"] = active;
  j["peers"] = std::move(list);
  j["remotes"] = remotes;
  return j.dump();
}

}  // namespace raftkit::rafthttp
