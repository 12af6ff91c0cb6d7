#include "transport/rafthttp/peer.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "raftkit/raftpb/codec.h"
#include "transport/rafthttp/msg_codec.h"
#include "transport/rafthttp/msgappv2_codec.h"

namespace raftkit::rafthttp {
namespace {

using Clock = std::chrono::steady_clock;
using raftpb::MessageType;

Logger& Log(const PeerContext& ctx) {
  return ctx.logger != nullptr ? *ctx.logger : NullLogger();
}

std::string TypeName(StreamType t) {
  return std::string(StreamPathName(t));
}

// A stream writer takes at most this many queued messages into one chunk (etcd flushes after
// half of its queue, 2048 messages, when the queue does not run empty before).
constexpr size_t kMaxBatch = 2048;
// How often a writer with nothing to send looks at whether its client went away.
constexpr auto kGonePoll = std::chrono::milliseconds(100);
// One read of a stream body.
constexpr size_t kStreamReadSlice = 64 * 1024;
// A 412 body is read up to this much (etcd's texts are short).
constexpr uint64_t kSmallAnswer = 4096;
// Probe warnings repeat at most this often per peer and kind.
constexpr auto kProbeWarnEvery = std::chrono::seconds(30);
constexpr auto kProbeFailWarnEvery = std::chrono::seconds(5);
constexpr double kClockDriftWarnMs = 1000;

std::string_view TrimNewline(std::string_view s) {
  if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  return s;
}

// Reads a 412 answer's reason as etcd's sender classifies it.
std::string PreconditionReason(const PeerContext& ctx, std::string_view body,
                               const http::Headers& headers) {
  body = TrimNewline(body);
  if (body == CompatErrorText(Compat::kIncompatibleVersion)) {
    return "incompatible version (our version " + std::string(kServerVersion) + ")";
  }
  if (body == CompatErrorText(Compat::kClusterIdMismatch)) {
    return fmt::format("cluster ID mismatch (local {}, remote {})", FormatId(ctx.cluster_id),
                       headers.GetOr("X-Etcd-Cluster-Id", "?"));
  }
  return fmt::format("unhandled error {:?} when precondition failed", std::string(body));
}

Status MemberRemoved() {
  return Status(ErrorCode::kNotFound, "the member has been permanently removed from the cluster");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Shared helpers

void MarkActive(const PeerContext& ctx, PeerStatus& status, NodeId peer) {
  if (status.Activate() && ctx.metrics != nullptr) ctx.metrics->PeerActive(peer.value(), true);
}

void MarkInactive(const PeerContext& ctx, PeerStatus& status, NodeId peer,
                  const FailureType& failure, const std::string& reason) {
  if (status.Deactivate(failure, reason) && ctx.metrics != nullptr) {
    ctx.metrics->PeerActive(peer.value(), false);
  }
}

http::Headers PeerRequestHeaders(const PeerContext& ctx, std::optional<NodeId> to) {
  http::Headers h;
  h.Add("X-Server-From", FormatId(ctx.local.value()));
  h.Add("X-Server-Version", std::string(kServerVersion));
  h.Add("X-Min-Cluster-Version", std::string(kMinClusterVersion));
  h.Add("X-Etcd-Cluster-ID", FormatId(ctx.cluster_id));
  if (to.has_value()) h.Add("X-Raft-To", FormatId(to->value()));
  if (!ctx.local_urls.empty()) {
    std::string joined;
    for (const auto& u : ctx.local_urls) {
      if (!joined.empty()) joined += ',';
      joined += u;
    }
    h.Add("X-PeerURLs", std::move(joined));
  }
  return h;
}

Status CheckPostAnswer(const PeerContext& ctx, NodeId to, const http::Response& response) {
  switch (response.status) {
    case 204:
      return Status::Ok();
    case 403:
      // The peer says we were removed: a critical error for the whole member (etcd: ErrorC).
      Log(ctx).Errorf("rafthttp: peer {} says member {} was removed from the cluster",
                      FormatId(to.value()), FormatId(ctx.local.value()));
      if (ctx.critical) ctx.critical(MemberRemoved());
      return MemberRemoved();
    case 412:
      return Status(ErrorCode::kIoError, PreconditionReason(ctx, response.body, response.headers));
    default:
      // etcd's sender counts every other status as a failure, 200 included (spec §4.1).
      return Status(ErrorCode::kIoError,
                    fmt::format("unexpected http status {} {}", response.status,
                                http::StatusText(response.status)));
  }
}

std::string StreamPath(StreamType type, NodeId dialer) {
  return fmt::format("/raft/stream/{}/{}", StreamPathName(type), FormatId(dialer.value()));
}

std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm)
  auto digits = [&](size_t pos, size_t n) -> std::optional<int> {
    if (pos + n > s.size()) return std::nullopt;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  const auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2), hour = digits(11, 2),
             minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || *month < 1 || *month > 12 ||
      *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 9) {
        nanos = nanos * 10 + (s[pos] - '0');
        ++n;
      }
      ++pos;
    }
    if (n == 0) return std::nullopt;
    for (; n < 9; ++n)
      nanos *= 10;
  }
  int offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '+' ? 1 : -1;
    const auto oh = digits(pos + 1, 2), om = digits(pos + 4, 2);
    if (!oh || !om || pos + 3 >= s.size() || s[pos + 3] != ':') return std::nullopt;
    offset_s = sign * (*oh * 3600 + *om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(*year),
                                        std::chrono::month(static_cast<unsigned>(*month)),
                                        std::chrono::day(static_cast<unsigned>(*day))};
  if (!ymd.ok()) return std::nullopt;
  const auto days = std::chrono::sys_days(ymd);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          days.time_since_epoch() + std::chrono::hours(*hour) + std::chrono::minutes(*minute) +
          std::chrono::seconds(*second - offset_s) + std::chrono::nanoseconds(nanos)));
}

// ---------------------------------------------------------------------------------------------
// Pipeline

Pipeline::Pipeline(const PeerContext& ctx, NodeId to, UrlPicker* picker, PeerStatus* status,
                   PeerCounters* counters)
    : ctx_(ctx), to_(to), picker_(picker), status_(status), counters_(counters) {
  for (int i = 0; i < kWorkers; ++i)
    tokens_.push_back(std::make_shared<http::CancelToken>());
  for (int i = 0; i < kWorkers; ++i)
    workers_.emplace_back([this, i] { Work(i); });
}

Pipeline::~Pipeline() {
  Stop();
}

bool Pipeline::TrySend(raftpb::Message m) {
  return queue_.TryPush(std::move(m));
}

void Pipeline::Stop() {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopping_) return;
    stopping_ = true;
    // A POST in flight ends at once; its message is neither delivered for sure nor reported.
    for (auto& t : tokens_)
      t->Cancel();
  }
  queue_.Close();
  for (auto& w : workers_)
    w.join();
  workers_.clear();
}

void Pipeline::Work(int worker) {
  const std::shared_ptr<http::CancelToken> token = tokens_[static_cast<size_t>(worker)];
  while (auto m = queue_.Pop()) {
    {
      std::lock_guard<std::mutex> g(mu_);
      if (stopping_) return;
    }
    Post(*m, token);
  }
}

void Pipeline::Post(const raftpb::Message& m, const std::shared_ptr<http::CancelToken>& token) {
  const bool is_snap = m.type == MessageType::MsgSnap;
  const std::string url = picker_->Pick();
  http::ClientRequest req;
  req.method = "POST";
  req.url = url + "/raft";
  req.headers = PeerRequestHeaders(ctx_, std::nullopt);
  req.headers.Add("Content-Type", "application/protobuf");
  req.body = raftpb::Encode(m);
  req.replayable = true;  // Raft tolerates a duplicate message
  const uint64_t size = req.body.size();

  Status st;
  auto r = ctx_.pipeline_client->Do(req, token);
  if (!r.ok()) {
    st = r.status();
  } else {
    st = CheckPostAnswer(ctx_, to_, r.value());
  }
  if (st.ok()) {
    MarkActive(ctx_, *status_, to_);
    if (ctx_.metrics != nullptr) ctx_.metrics->SentBytes(to_.value(), size);
    if (counters_ != nullptr) counters_->sent.fetch_add(1, std::memory_order_relaxed);
    if (is_snap) ctx_.raft->ReportSnapshot(to_, SnapshotStatus::kFinish);
    return;
  }
  if (token->canceled()) return;  // stopping: nobody to tell
  picker_->Unreachable(url);
  MarkInactive(ctx_, *status_, to_, {"pipeline", "write"}, st.message());
  if (ctx_.metrics != nullptr) ctx_.metrics->SentFailure(to_.value());
  if (counters_ != nullptr) counters_->failed.fetch_add(1, std::memory_order_relaxed);
  ctx_.raft->ReportUnreachable(m.to);
  if (is_snap) ctx_.raft->ReportSnapshot(m.to, SnapshotStatus::kFailure);
}

// ---------------------------------------------------------------------------------------------
// Stream writer: the sending side of one stream type, attached to the connection of the latest
// GET the peer made for it (spec §5.1). The loop runs on that GET's handler thread.

class Peer::StreamWriter {
 public:
  enum class Push { kQueued, kNotAttached, kFull };

  StreamWriter(const PeerContext& ctx, Peer* peer, StreamType type)
      : ctx_(ctx), peer_(peer), type_(type) {}

  // Moves `m` into the queue when attached and not full; leaves it alone otherwise.
  Push TrySend(raftpb::Message& m) {
    std::lock_guard<std::mutex> g(mu_);
    if (!attached_ || stopping_) return Push::kNotAttached;
    if (q_.size() >= kQueueSize) return Push::kFull;
    q_.push_back(std::move(m));
    if (q_.size() == 1) cv_.notify_all();
    return Push::kQueued;
  }

  bool attached() const {
    std::lock_guard<std::mutex> g(mu_);
    return attached_ && !stopping_;
  }
  size_t queued() const {
    std::lock_guard<std::mutex> g(mu_);
    return q_.size();
  }

  // Ends every served connection and waits until their loops returned.
  void Stop() {
    std::unique_lock<std::mutex> l(mu_);
    stopping_ = true;
    cv_.notify_all();
    cv_.wait(l, [&] { return serving_ == 0; });
  }

  void Serve(http::ResponseWriter& writer) {
    std::unique_lock<std::mutex> l(mu_);
    if (stopping_) return;
    const uint64_t me = ++generation_;
    ++serving_;
    // A newer connection replaces an older one: the old loop sees the generation change and
    // returns (its response ends); what it had not sent is discarded (spec §5.1).
    const bool discarded = !q_.empty();
    q_.clear();
    attached_ = true;
    cv_.notify_all();
    l.unlock();
    if (discarded) ctx_.raft->ReportUnreachable(peer_->id());
    Log(ctx_).Infof("rafthttp: stream {} to {} attached", TypeName(type_),
                    FormatId(peer_->id().value()));
    MarkActive(ctx_, peer_->status(), peer_->id());
    Loop(writer, me);
    l.lock();
    --serving_;
    cv_.notify_all();
  }

 private:
  static constexpr size_t kQueueSize = 4096;

  // Detaches generation `me` if it is still current. Returns whether queued messages were
  // discarded (the caller reports them, outside the lock).
  bool DetachLocked(uint64_t me) {
    if (generation_ != me) return false;
    attached_ = false;
    const bool discarded = !q_.empty();
    q_.clear();
    return discarded;
  }

  void Loop(http::ResponseWriter& writer, uint64_t me) {
    MessageEncoder message_encoder;
    MsgAppV2Encoder msgapp_encoder;  // fresh state on every connection
    std::vector<raftpb::Message> batch;
    std::string buf;
    const auto heartbeat = ctx_.heartbeat_interval;
    auto next_heartbeat = Clock::now() + heartbeat;
    const NodeId peer = peer_->id();
    const std::string source = "stream " + TypeName(type_);
    for (;;) {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_until(l, std::min(next_heartbeat, Clock::now() + kGonePoll),
                     [&] { return stopping_ || generation_ != me || !q_.empty(); });
      if (generation_ != me) {
        Log(ctx_).Infof("rafthttp: stream {} to {} replaced by a newer connection", TypeName(type_),
                        FormatId(peer.value()));
        return;
      }
      if (stopping_) {
        attached_ = false;
        q_.clear();
        return;
      }
      if (writer.ClientGone()) {
        const bool discarded = DetachLocked(me);
        l.unlock();
        Log(ctx_).Infof("rafthttp: stream {} to {} closed by the peer", TypeName(type_),
                        FormatId(peer.value()));
        MarkInactive(ctx_, peer_->status(), peer, {source, "write"}, "connection closed");
        if (discarded) ctx_.raft->ReportUnreachable(peer);
        return;
      }
      const size_t n = std::min(q_.size(), kMaxBatch);
      batch.clear();
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(q_.front()));
        q_.pop_front();
      }
      l.unlock();

      buf.clear();
      for (const auto& m : batch) {
        if (type_ == StreamType::kMsgAppV2) {
          msgapp_encoder.Encode(m, &buf);
        } else {
          message_encoder.Encode(m, &buf);
        }
      }
      const auto now = Clock::now();
      if (now >= next_heartbeat) {
        // Sent whatever the traffic (as etcd's ticker does), so readers never time out.
        if (type_ == StreamType::kMsgAppV2) {
          msgapp_encoder.EncodeLinkHeartbeat(&buf);
        } else {
          message_encoder.EncodeLinkHeartbeat(&buf);
        }
        next_heartbeat = now + heartbeat;
      }
      if (buf.empty()) continue;
      const Status st = writer.Write(buf);
      if (!st.ok()) {
        l.lock();
        const bool discarded = DetachLocked(me);
        l.unlock();
        Log(ctx_).Warnf("rafthttp: lost the stream {} to {}: {}", TypeName(type_),
                        FormatId(peer.value()), st.message());
        MarkInactive(ctx_, peer_->status(), peer, {source, "write"}, st.message());
        if (!batch.empty()) {
          if (ctx_.metrics != nullptr) ctx_.metrics->SentFailure(peer.value());
          peer_->counters_.failed.fetch_add(batch.size(), std::memory_order_relaxed);
        }
        if (!batch.empty() || discarded) ctx_.raft->ReportUnreachable(peer);
        return;
      }
      if (ctx_.metrics != nullptr) ctx_.metrics->SentBytes(peer.value(), buf.size());
      peer_->counters_.sent.fetch_add(batch.size(), std::memory_order_relaxed);
    }
  }

  const PeerContext& ctx_;
  Peer* peer_;
  const StreamType type_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<raftpb::Message> q_;
  uint64_t generation_ = 0;
  int serving_ = 0;
  bool attached_ = false;
  bool stopping_ = false;
};

// ---------------------------------------------------------------------------------------------
// Stream reader: dials the peer's stream endpoint of one type and hands what arrives to Raft
// (spec §4.2, "Go stream-reader behaviour"), re-dialing at most 10 times a second.

class Peer::StreamReader {
 public:
  StreamReader(const PeerContext& ctx, Peer* peer, StreamType type)
      : ctx_(ctx), peer_(peer), type_(type), limiter_(10, 1) {}

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> g(mu_);
      stopping_ = true;
      if (token_) token_->Cancel();
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }

  bool reading() const { return reading_.load(); }

 private:
  bool Stopping() {
    std::lock_guard<std::mutex> g(mu_);
    return stopping_;
  }

  void Run() {
    const std::string source = "stream " + TypeName(type_);
    for (;;) {
      {
        std::unique_lock<std::mutex> l(mu_);
        while (!stopping_ && !limiter_.Allow()) {
          cv_.wait_for(l, std::max(limiter_.Wait(), std::chrono::nanoseconds(1000000)));
        }
        if (stopping_) return;
      }
      DialAndRead(source);
    }
  }

  void DialAndRead(const std::string& source) {
    const NodeId peer = peer_->id();
    const std::string url = peer_->picker().Pick();
    if (url.empty()) return;
    http::ClientRequest req;
    req.method = "GET";
    req.url = url + StreamPath(type_, ctx_.local);
    req.headers = PeerRequestHeaders(ctx_, peer);
    auto token = std::make_shared<http::CancelToken>();
    {
      std::lock_guard<std::mutex> g(mu_);
      if (stopping_) return;
      token_ = token;
    }
    auto opened = ctx_.stream_client->Open(req, token);
    if (!opened.ok()) {
      if (token->canceled()) return;
      peer_->picker().Unreachable(url);
      MarkInactive(ctx_, peer_->status(), peer, {source, "dial"}, opened.status().message());
      return;
    }
    std::unique_ptr<http::ResponseStream> stream = std::move(opened).value();
    // The version is looked at before the status, as etcd's reader does: a peer whose version
    // does not support this stream type is not used for it (and is not marked inactive). etcd
    // drains the body first; closing the connection tells the peer the same.
    const auto version = stream->headers().Get("X-Server-Version");
    if (!StreamSupported(version, type_)) {
      Log(ctx_).Debugf("rafthttp: peer {} (version {}) does not support stream {}",
                       FormatId(peer.value()), version.value_or("2.0.0"), TypeName(type_));
      stream->Cancel();
      return;
    }
    if (stream->status() != 200) {
      std::string reason;
      switch (stream->status()) {
        case 410:
          reason = "the peer says this member was removed";
          Log(ctx_).Errorf("rafthttp: peer {} rejected the stream {}: {}", FormatId(peer.value()),
                           TypeName(type_), reason);
          if (ctx_.critical) ctx_.critical(MemberRemoved());
          break;
        case 404:
          reason = "peer failed to find local node";
          break;
        case 412: {
          auto body = stream->ReadAll(kSmallAnswer);
          reason =
              PreconditionReason(ctx_, body.ok() ? body.value() : std::string(), stream->headers());
          break;
        }
        default:
          reason = fmt::format("unhandled http status {}", stream->status());
      }
      stream->Cancel();
      peer_->picker().Unreachable(url);
      MarkInactive(ctx_, peer_->status(), peer, {source, "dial"}, reason);
      return;
    }
    MarkActive(ctx_, peer_->status(), peer);
    Log(ctx_).Infof("rafthttp: reading stream {} from {}", TypeName(type_), FormatId(peer.value()));
    reading_ = true;
    const Status st = ReadLoop(*stream);
    reading_ = false;
    if (st.ok() || token->canceled()) {
      Log(ctx_).Infof("rafthttp: stream {} from {} ended", TypeName(type_), FormatId(peer.value()));
      return;
    }
    Log(ctx_).Warnf("rafthttp: lost the stream {} from {}: {}", TypeName(type_),
                    FormatId(peer.value()), st.message());
    if (ctx_.metrics != nullptr) ctx_.metrics->ReceivedFailure(peer.value());
    MarkInactive(ctx_, peer_->status(), peer, {source, "read"}, st.message());
  }

  // Until the body ends (OK) or fails (the error).
  Status ReadLoop(http::ResponseStream& stream) {
    const NodeId peer = peer_->id();
    MessageDecoder message_decoder(MessageDecoder::Options{ctx_.max_message_bytes});
    MsgAppV2Decoder::Limits limits;
    limits.max_message_size = ctx_.max_message_bytes;
    limits.max_entry_size = ctx_.max_message_bytes;
    MsgAppV2Decoder msgapp_decoder(ctx_.local, peer, limits);
    std::string buf(kStreamReadSlice, '\0');
    for (;;) {
      auto n = stream.Read(buf.data(), buf.size());
      if (!n.ok()) return n.status();
      if (n.value() == 0) {
        const bool mid = type_ == StreamType::kMsgAppV2 ? msgapp_decoder.mid_frame()
                                                        : message_decoder.mid_frame();
        return mid ? Status(ErrorCode::kCorruption, "stream ended inside a frame") : Status::Ok();
      }
      if (ctx_.metrics != nullptr) ctx_.metrics->ReceivedBytes(peer.value(), n.value());
      const std::string_view bytes(buf.data(), n.value());
      Status st;
      if (type_ == StreamType::kMsgAppV2) {
        st = msgapp_decoder.Feed(bytes);
        while (auto item = msgapp_decoder.Next())
          Take(std::move(*item));
      } else {
        st = message_decoder.Feed(bytes);
        while (auto item = message_decoder.Next())
          Take(std::move(*item));
      }
      // Everything one read completed goes to Raft's queues in one step.
      if (!arrived_.empty()) peer_->Received(&arrived_);
      if (!st.ok()) return st;
    }
  }

  void Take(StreamItem item) {
    if (auto* m = std::get_if<raftpb::Message>(&item)) arrived_.push_back(std::move(*m));
  }

  const PeerContext& ctx_;
  Peer* peer_;
  const StreamType type_;
  RateLimiter limiter_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::shared_ptr<http::CancelToken> token_;
  std::atomic<bool> reading_{false};
  std::vector<raftpb::Message> arrived_;  // decoded by the current read, not yet handed on
  std::thread thread_;
};

// ---------------------------------------------------------------------------------------------
// Peer

Peer::Peer(const PeerContext& ctx, NodeId id, std::vector<std::string> urls)
    : ctx_(ctx),
      id_(id),
      picker_(std::move(urls)),
      status_(ctx.local, id, ctx.logger),
      msgapp_writer_(std::make_unique<StreamWriter>(ctx, this, StreamType::kMsgAppV2)),
      message_writer_(std::make_unique<StreamWriter>(ctx, this, StreamType::kMessage)),
      msgapp_reader_(std::make_unique<StreamReader>(ctx, this, StreamType::kMsgAppV2)),
      message_reader_(std::make_unique<StreamReader>(ctx, this, StreamType::kMessage)) {}

Peer::~Peer() {
  Stop();
}

void Peer::Start() {
  std::lock_guard<std::mutex> g(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  pipeline_ = std::make_unique<Pipeline>(ctx_, id_, &picker_, &status_, &counters_);
  running_ = true;
  msgapp_reader_->Start();
  message_reader_->Start();
  threads_.emplace_back([this] { Dispatch(&props_); });
  if (ctx_.probe_interval.count() > 0) threads_.emplace_back([this] { Prober(); });
}

void Peer::Stop() {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopping_) return;
    stopping_ = true;
    cv_.notify_all();
  }
  // Send() stops routing here; a Send that read running_ before keeps using the pipeline, which
  // lives until this object does.
  running_ = false;
  msgapp_writer_->Stop();
  message_writer_->Stop();
  msgapp_reader_->Stop();
  message_reader_->Stop();
  if (pipeline_) pipeline_->Stop();
  probe_cancel_->Cancel();
  props_.Close();
  for (auto& t : threads_)
    t.join();
  threads_.clear();
}

bool Peer::Paused() const {
  return cut_.load(std::memory_order_relaxed) ||
         (ctx_.paused != nullptr && ctx_.paused->load(std::memory_order_relaxed));
}

void Peer::Send(raftpb::Message m) {
  if (Paused()) {
    // etcd's paused peer drops silently: a cut link looks like a lossy network to Raft.
    counters_.dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!running_.load(std::memory_order_acquire)) return;
  // spec §6, peer.pick: MsgSnap always by pipeline; MsgApp on the msgapp stream when attached;
  // anything on the message stream when attached; the pipeline otherwise.
  if (m.type != MessageType::MsgSnap) {
    if (m.type == MessageType::MsgApp) {
      switch (msgapp_writer_->TrySend(m)) {
        case StreamWriter::Push::kQueued:
          return;
        case StreamWriter::Push::kFull:
          return Drop(m, "stream msgapp");
        case StreamWriter::Push::kNotAttached:
          break;
      }
    }
    switch (message_writer_->TrySend(m)) {
      case StreamWriter::Push::kQueued:
        return;
      case StreamWriter::Push::kFull:
        return Drop(m, "stream message");
      case StreamWriter::Push::kNotAttached:
        break;
    }
  }
  raftpb::Message copy_for_report;
  copy_for_report.type = m.type;
  copy_for_report.to = m.to;
  if (!pipeline_->TrySend(std::move(m))) Drop(copy_for_report, "pipeline");
}

void Peer::Drop(const raftpb::Message& m, std::string_view why) {
  counters_.dropped.fetch_add(1, std::memory_order_relaxed);
  if (ctx_.metrics != nullptr) ctx_.metrics->SentFailure(id_.value());
  Log(ctx_).Debugf("rafthttp: dropped {} to {}: the {} queue is full", raftpb::Name(m.type),
                   FormatId(id_.value()), why);
  ctx_.raft->ReportUnreachable(m.to);
  if (m.type == MessageType::MsgSnap) ctx_.raft->ReportSnapshot(m.to, SnapshotStatus::kFailure);
}

void Peer::ServeStream(StreamType type, http::ResponseWriter& writer) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (stopping_) return;
  }
  (type == StreamType::kMsgAppV2 ? msgapp_writer_ : message_writer_)->Serve(writer);
}

void Peer::Received(std::vector<raftpb::Message>* msgs) {
  if (Paused()) {
    msgs->clear();
    return;
  }
  counters_.received.fetch_add(msgs->size(), std::memory_order_relaxed);
  // Proposals may wait for a leader in Process: they go to their own queue and thread so that
  // they never hold up the rest of the traffic (spec §5.4). Everything else is stepped from this
  // reader's thread: Process returns quickly by contract, and a slow one slows this stream down
  // (TCP pushes back to the sender) instead of dropping what arrived, as etcd's full receive
  // queue does.
  size_t dropped = 0;
  for (auto& m : *msgs) {
    if (m.type == MessageType::MsgProp) {
      if (!props_.TryPush(std::move(m))) ++dropped;
      continue;
    }
    const Status st = ctx_.raft->Process(std::move(m));
    if (!st.ok()) {
      Log(ctx_).Warnf("rafthttp: failed to process a message from {}: {}", FormatId(id_.value()),
                      st.ToString());
    }
  }
  msgs->clear();
  if (dropped > 0) {
    counters_.received_dropped.fetch_add(dropped, std::memory_order_relaxed);
    Log(ctx_).Debugf("rafthttp: dropped {} proposals from {}: the proposal queue is full", dropped,
                     FormatId(id_.value()));
  }
}

void Peer::Dispatch(BoundedQueue<raftpb::Message>* queue) {
  std::deque<raftpb::Message> batch;
  while (queue->PopAll(&batch)) {
    for (auto& m : batch) {
      const Status st = ctx_.raft->Process(std::move(m));
      if (!st.ok()) {
        Log(ctx_).Warnf("rafthttp: failed to process a message from {}: {}", FormatId(id_.value()),
                        st.ToString());
      }
    }
  }
}

void Peer::Prober() {
  auto last_rtt_warn = Clock::time_point{};
  auto last_drift_warn = Clock::time_point{};
  auto last_fail_warn = Clock::time_point{};
  for (;;) {
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, ctx_.probe_interval, [&] { return stopping_; });
      if (stopping_) return;
    }
    const std::string url = picker_.Pick();
    if (url.empty()) continue;
    http::ClientRequest req;
    req.url = url + "/raft/probing";
    const auto sent_wall = std::chrono::system_clock::now();
    const auto t0 = Clock::now();
    auto r = ctx_.pipeline_client->Do(req, probe_cancel_);
    if (probe_cancel_->canceled()) return;  // stopping
    const auto rtt = Clock::now() - t0;
    const double rtt_ms = std::chrono::duration<double, std::milli>(rtt).count();
    std::string failure;
    std::optional<std::chrono::system_clock::time_point> remote_now;
    if (!r.ok()) {
      failure = r.status().message();
    } else if (r.value().status != 200) {
      failure = fmt::format("status {}", r.value().status);
    } else {
      const auto j = nlohmann::json::parse(r.value().body, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object() || !j.contains("OK") || j["OK"] != true || !j.contains("Now") ||
          !j["Now"].is_string()) {
        failure = "malformed probing answer";
      } else {
        remote_now = ParseRfc3339(j["Now"].get<std::string>());
        if (!remote_now) failure = "malformed time in the probing answer";
      }
    }
    const auto now = Clock::now();
    std::unique_lock<std::mutex> l(mu_);
    ++probe_.probes;
    if (!failure.empty()) {
      ++probe_.failures;
      const bool was_healthy = probe_.healthy;
      probe_.healthy = false;
      l.unlock();
      if (was_healthy || now - last_fail_warn >= kProbeFailWarnEvery) {
        last_fail_warn = now;
        Log(ctx_).Warnf("rafthttp: probe of {} at {} failed: {}", FormatId(id_.value()), url,
                        failure);
      }
      continue;
    }
    // The peer read its clock about half a round trip after we sent.
    const auto expected =
        sent_wall + std::chrono::duration_cast<std::chrono::system_clock::duration>(rtt / 2);
    const double diff_ms =
        std::chrono::duration<double, std::milli>(*remote_now - expected).count();
    const uint64_t ok_probes = probe_.probes - probe_.failures;
    probe_.healthy = true;
    probe_.last_rtt_ms = rtt_ms;
    probe_.min_rtt_ms = ok_probes == 1 ? rtt_ms : std::min(probe_.min_rtt_ms, rtt_ms);
    probe_.max_rtt_ms = std::max(probe_.max_rtt_ms, rtt_ms);
    probe_.sum_rtt_ms += rtt_ms;
    probe_.sum_sq_rtt_ms += rtt_ms * rtt_ms;
    probe_.clock_diff_ms = diff_ms;
    l.unlock();
    if (ctx_.metrics != nullptr) {
      ctx_.metrics->RoundTrip(id_.value(), std::chrono::duration<double>(rtt).count());
    }
    if (rtt_ms > static_cast<double>(ctx_.probe_rtt_warning.count()) &&
        now - last_rtt_warn >= kProbeWarnEvery) {
      last_rtt_warn = now;
      Log(ctx_).Warnf("rafthttp: high round trip time to {}: {:.1f} ms (warning above {} ms)",
                      FormatId(id_.value()), rtt_ms, ctx_.probe_rtt_warning.count());
    }
    if (std::abs(diff_ms) > kClockDriftWarnMs && now - last_drift_warn >= kProbeWarnEvery) {
      last_drift_warn = now;
      Log(ctx_).Warnf("rafthttp: clock of {} differs from ours by {:.0f} ms (warning above 1 s)",
                      FormatId(id_.value()), diff_ms);
    }
  }
}

void Peer::UpdateUrls(std::vector<std::string> urls) {
  picker_.Update(std::move(urls));
}
void Peer::Cut() {
  cut_ = true;
}
void Peer::Mend() {
  cut_ = false;
}

bool Peer::StreamAttached(StreamType type) const {
  return (type == StreamType::kMsgAppV2 ? msgapp_writer_ : message_writer_)->attached();
}
bool Peer::StreamReading(StreamType type) const {
  return (type == StreamType::kMsgAppV2 ? msgapp_reader_ : message_reader_)->reading();
}

std::string Peer::StatsJson() const {
  nlohmann::json j;
  const auto since = status_.active_since();
  j["id"] = FormatId(id_.value());
  j["urls"] = picker_.urls();
  j["active"] = since.has_value();
  if (since) {
    const auto t = std::chrono::system_clock::to_time_t(*since);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    j["active_since"] = buf;
  }
  j["last_failure"] = status_.last_failure();
  j["counts"] = {{"success", counters_.sent.load()},
                 {"fail", counters_.failed.load()},
                 {"dropped", counters_.dropped.load()},
                 {"received", counters_.received.load()},
                 {"received_dropped", counters_.received_dropped.load()}};
  if (ctx_.metrics != nullptr) {
    j["bytes"] = {{"sent", static_cast<uint64_t>(ctx_.metrics->sent_bytes(id_.value()))},
                  {"received", static_cast<uint64_t>(ctx_.metrics->received_bytes(id_.value()))}};
  }
  j["streams"] = {{"msgapp",
                   {{"sending", StreamAttached(StreamType::kMsgAppV2)},
                    {"receiving", StreamReading(StreamType::kMsgAppV2)},
                    {"queued", msgapp_writer_->queued()}}},
                  {"message",
                   {{"sending", StreamAttached(StreamType::kMessage)},
                    {"receiving", StreamReading(StreamType::kMessage)},
                    {"queued", message_writer_->queued()}}}};
  std::lock_guard<std::mutex> g(mu_);
  j["pipeline_queued"] = pipeline_ ? pipeline_->queued() : 0;
  const uint64_t ok = probe_.probes - probe_.failures;
  const double avg = ok > 0 ? probe_.sum_rtt_ms / static_cast<double>(ok) : 0;
  const double var =
      ok > 0 ? std::max(0.0, probe_.sum_sq_rtt_ms / static_cast<double>(ok) - avg * avg) : 0;
  j["latency"] = {{"current", probe_.last_rtt_ms},        {"average", avg},
                  {"standardDeviation", std::sqrt(var)},  {"minimum", probe_.min_rtt_ms},
                  {"maximum", probe_.max_rtt_ms},         {"probes", probe_.probes},
                  {"probe_failures", probe_.failures},    {"healthy", probe_.healthy},
                  {"clock_diff_ms", probe_.clock_diff_ms}};
  return j.dump();
}

// ---------------------------------------------------------------------------------------------
// Remote

Remote::Remote(const PeerContext& ctx, NodeId id, std::vector<std::string> urls)
    : ctx_(ctx),
      id_(id),
      picker_(std::move(urls)),
      status_(ctx.local, id, ctx.logger),
      pipeline_(ctx, id, &picker_, &status_, nullptr) {}

void Remote::Send(raftpb::Message m) {
  const MessageType type = m.type;
  if (!pipeline_.TrySend(std::move(m))) {
    Log(ctx_).Debugf("rafthttp: dropped {} to remote {}: the pipeline queue is full",
                     raftpb::Name(type), FormatId(id_.value()));
  }
}

}  // namespace raftkit::rafthttp
