#include "transport/rafthttp/handlers.h"

#include <algorithm>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "raftkit/raftpb/codec.h"
#include "raftkit/util/panic.h"
#include "transport/rafthttp/msg_codec.h"

namespace raftkit::rafthttp {
namespace {

constexpr std::string_view kHeaderClusterId = "X-Etcd-Cluster-Id";
// One read of a request body; etcd reads pipeline bodies in slices of this size too.
constexpr size_t kReadSlice = 64 * 1024;
// Bodies of requests that should have none (stream GETs, probes) are read and ignored up to this.
constexpr uint64_t kSmallBody = 64 * 1024;

Logger& Log(const HandlerContext& ctx) {
  return ctx.logger != nullptr ? *ctx.logger : NullLogger();
}

// Go's http.Error: plain text, no sniffing, the message and a newline. `headers` holds what the
// handler set before (cluster id, server version, Allow).
http::Response ErrorResponse(int status, std::string_view text, http::Headers headers) {
  headers.Set("Content-Type", "text/plain; charset=utf-8");
  headers.Set("X-Content-Type-Options", "nosniff");
  return http::Response{status, std::move(headers), fmt::format("{}\n", text)};
}

void Answer(http::ResponseWriter& writer, int status, std::string_view text,
            http::Headers headers) {
  // A failed write means the client is gone; there is nobody left to tell.
  (void)writer.Respond(ErrorResponse(status, text, std::move(headers)));
}

// Step 1 of every data endpoint. True when the method is wrong and was answered.
bool RejectMethod(const http::ServerRequest& req, http::ResponseWriter& writer,
                  std::string_view allowed) {
  if (req.method == allowed) return false;
  Answer(writer, 405, kTextMethodNotAllowed, {{"Allow", std::string(allowed)}});
  return true;
}

// Step 3 (spec §3.3). True when the request was answered or its connection dropped.
bool RejectIncompatible(const HandlerContext& ctx, const http::ServerRequest& req,
                        http::ResponseWriter& writer, const http::Headers& headers) {
  const Compat c = CheckCompatibility(req.headers.Get("X-Server-Version"),
                                      req.headers.Get("X-Min-Cluster-Version"),
                                      req.headers.Get("X-Etcd-Cluster-ID"), ctx.cluster_id);
  if (c == Compat::kOk) return false;
  const std::string from(req.headers.GetOr("X-Server-From"));
  if (c == Compat::kMalformedVersion) {
    // etcd panics while parsing the version; its server drops the connection unanswered.
    Log(ctx).Warnf("rafthttp: malformed version header from {} ({}): dropping the connection", from,
                   req.remote_address);
    writer.Abort();
    return true;
  }
  Log(ctx).Warnf("rafthttp: rejected {} {} from {} ({}): {}", req.method, req.path, from,
                 req.remote_address, CompatErrorText(c));
  Answer(writer, 412, CompatErrorText(c), headers);
  return true;
}

// Step 4 of the pipeline and snapshot endpoints ("add remote"). etcd's Transport panics on bad
// URLs, but only after finding that the sender is neither a peer nor a remote; the same
// condition is checked here, and a bad list is answered 400 instead. True when answered.
bool RejectAddRemote(const HandlerContext& ctx, NodeId from, const http::ServerRequest& req,
                     http::ResponseWriter& writer, const http::Headers& headers) {
  const std::string_view urls = req.headers.GetOr("X-PeerURLs");
  if (urls.empty() || ctx.is_peer(from) || ctx.is_remote(from)) return false;
  auto parsed = ParsePeerUrls(urls);
  if (!parsed.ok()) {
    Log(ctx).Warnf("rafthttp: bad X-PeerURLs from {}: {}", FormatId(from.value()),
                   parsed.status().message());
    Answer(writer, 400, kTextInvalidPeerUrls, headers);
    return true;
  }
  ctx.add_remote(from, std::move(parsed).value());
  return false;
}

bool RejectAddRemoteFromHeader(const HandlerContext& ctx, const http::ServerRequest& req,
                               http::ResponseWriter& writer, const http::Headers& headers) {
  const auto from = ParseId(req.headers.GetOr("X-Server-From"));
  if (!from) return false;  // etcd adds no remote without a parsable sender
  return RejectAddRemote(ctx, NodeId(*from), req, writer, headers);
}

// The sender named in X-Server-From, for failure metrics before a message was decoded (etcd
// labels those by remote address; raftkit's labels are member ids, 0 when unknown).
uint64_t HeaderSender(const http::ServerRequest& req) {
  return ParseId(req.headers.GetOr("X-Server-From")).value_or(0);
}

// ---- POST /raft ----

void ServePipeline(const HandlerContext& ctx, http::ServerRequest& req,
                   http::ResponseWriter& writer) {
  if (RejectMethod(req, writer, "POST")) return;
  const http::Headers headers{{std::string(kHeaderClusterId), FormatId(ctx.cluster_id)}};
  if (RejectIncompatible(ctx, req, writer, headers)) return;
  if (RejectAddRemoteFromHeader(ctx, req, writer, headers)) return;

  std::string body;
  for (;;) {
    const size_t old = body.size();
    body.resize(old + kReadSlice);
    auto n = req.body_reader->Read(body.data() + old, kReadSlice);
    if (!n.ok()) {
      body.clear();
      Log(ctx).Warnf("rafthttp: failed to read raft message from {}: {}", req.remote_address,
                     n.status().message());
      if (ctx.metrics != nullptr) ctx.metrics->ReceivedFailure(HeaderSender(req));
      // A chunked body beyond the cap is the same 413 a declared length beyond it gets.
      const bool too_big =
          n.status().message().find("exceeds the route's limit") != std::string::npos;
      Answer(writer, too_big ? 413 : 400, too_big ? "Request Entity Too Large" : kTextErrorReading,
             headers);
      return;
    }
    body.resize(old + *n);
    if (*n == 0) break;
  }

  auto m = raftpb::DecodeMessage(body);
  if (!m.ok()) {
    Log(ctx).Warnf("rafthttp: failed to unmarshal raft message from {}: {}", req.remote_address,
                   m.status().message());
    if (ctx.metrics != nullptr) ctx.metrics->ReceivedFailure(HeaderSender(req));
    Answer(writer, 400, kTextErrorUnmarshalling, headers);
    return;
  }
  if (ctx.metrics != nullptr) ctx.metrics->ReceivedBytes(m->from.value(), body.size());

  const Status st = ctx.raft->Process(std::move(m).value());
  if (!st.ok()) {
    Log(ctx).Warnf("rafthttp: failed to process raft message: {}", st.ToString());
    Answer(writer, 500, kTextErrorProcessing, headers);
    // etcd flushes the 500 and then panics to cut the connection; so do we (the answer is sent).
    writer.Abort();
    return;
  }
  // 204 only now, after Raft took the message: a sender of a MsgSnap reports success on it.
  (void)writer.Respond(http::Response{204, headers, {}});
}

// ---- GET /raft/stream/{message,msgapp}/<id> ----

// Go's path.Dir and path.Base for the clean paths the stream endpoint sees.
std::string_view PathDir(std::string_view p) {
  const size_t slash = p.rfind('/');
  std::string_view dir = p.substr(0, slash == std::string_view::npos ? 0 : slash);
  while (dir.size() > 1 && dir.back() == '/')
    dir.remove_suffix(1);
  return dir;
}
std::string_view PathBase(std::string_view p) {
  while (p.size() > 1 && p.back() == '/')
    p.remove_suffix(1);
  const size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

std::optional<StreamType> StreamTypeOfDir(std::string_view dir) {
  for (StreamType t : {StreamType::kMsgAppV2, StreamType::kMessage}) {
    if (dir == fmt::format("/raft/stream/{}", StreamPathName(t))) return t;
  }
  return std::nullopt;
}

void ServeStream(const HandlerContext& ctx, http::ServerRequest& req,
                 http::ResponseWriter& writer) {
  if (RejectMethod(req, writer, "GET")) return;
  const http::Headers headers{{"X-Server-Version", std::string(kServerVersion)},
                              {std::string(kHeaderClusterId), FormatId(ctx.cluster_id)}};
  if (RejectIncompatible(ctx, req, writer, headers)) return;

  const auto type = StreamTypeOfDir(PathDir(req.path));
  if (!type) {
    Log(ctx).Debugf("rafthttp: ignored stream request for unexpected path {}", req.path);
    return Answer(writer, 404, kTextInvalidPath, headers);
  }
  const auto id = ParseId(PathBase(req.path));
  if (!id) {
    Log(ctx).Warnf("rafthttp: stream request with an unparsable sender in {}", req.path);
    return Answer(writer, 404, kTextInvalidFrom, headers);
  }
  const NodeId from(*id);
  const std::string from_text = FormatId(*id);
  if (ctx.raft->IsIdRemoved(from)) {
    Log(ctx).Warnf("rafthttp: rejected the stream from {}: it was removed", from_text);
    return Answer(writer, 410, kTextRemovedMember, headers);
  }
  if (!ctx.is_peer(from)) {
    // A member that joined after our configuration, or one of another cluster with our id.
    if (RejectAddRemote(ctx, from, req, writer, headers)) return;
    Log(ctx).Warnf("rafthttp: stream request from {}, which is not a peer of cluster {}", from_text,
                   FormatId(ctx.cluster_id));
    return Answer(writer, 404, kTextSenderNotFound, headers);
  }
  const std::string want_to = FormatId(ctx.local.value());
  if (const std::string_view to = req.headers.GetOr("X-Raft-To"); to != want_to) {
    Log(ctx).Warnf("rafthttp: stream request from {} for {} (we are {})", from_text, to, want_to);
    return Answer(writer, 412, kTextToFieldMismatch, headers);
  }

  if (const Status st = writer.StartStream(200, headers); !st.ok()) {
    Log(ctx).Debugf("rafthttp: stream to {} ended before it started: {}", from_text, st.message());
    return;
  }
  ctx.serve_stream(from, *type, writer);
}

// ---- POST /raft/snapshot ----

// Hands the rest of the request body to ProcessSnapshot, counting the bytes.
class BodySnapshotData final : public SnapshotData {
 public:
  explicit BodySnapshotData(http::BodyReader& body) : body_(body) {}
  Result<size_t> Read(char* buf, size_t capacity) override {
    auto n = body_.Read(buf, capacity);
    if (n.ok()) {
      bytes_ += *n;
      if (*n == 0 && capacity > 0) ended_ = true;
    }
    return n;
  }
  [[nodiscard]] uint64_t bytes() const noexcept { return bytes_; }
  [[nodiscard]] bool ended() const noexcept { return ended_; }

 private:
  http::BodyReader& body_;
  uint64_t bytes_ = 0;
  bool ended_ = false;
};

// Fills `out` with exactly out->size() body bytes. Go's io.ReadFull errors: "EOF" when nothing
// came, "unexpected EOF" when part of it did.
Status ReadFull(http::BodyReader& body, std::string* out) {
  size_t got = 0;
  while (got < out->size()) {
    auto n = body.Read(out->data() + got, std::min(out->size() - got, kReadSlice));
    if (!n.ok()) return n.status();
    if (*n == 0) return Status(ErrorCode::kCorruption, got == 0 ? "EOF" : "unexpected EOF");
    got += *n;
  }
  return Status::Ok();
}

// The framed MsgSnap in front of the data: BE64 length, then the message.
Result<raftpb::Message> ReadFramedMessage(http::BodyReader& body, uint64_t limit, uint64_t* size) {
  std::string prefix(8, '\0');
  RAFTKIT_RETURN_IF_ERROR(ReadFull(body, &prefix));
  *size = ReadBE64(prefix);
  if (*size > limit) return Status(ErrorCode::kCorruption, std::string(kErrLimitExceeded));
  std::string bytes;
  bytes.resize(*size);  // bounded by `limit`
  RAFTKIT_RETURN_IF_ERROR(ReadFull(body, &bytes));
  return raftpb::DecodeMessage(bytes);
}

void ServeSnapshot(const HandlerContext& ctx, http::ServerRequest& req,
                   http::ResponseWriter& writer) {
  const auto start = std::chrono::steady_clock::now();
  if (RejectMethod(req, writer, "POST")) return;
  const http::Headers headers{{std::string(kHeaderClusterId), FormatId(ctx.cluster_id)}};
  if (RejectIncompatible(ctx, req, writer, headers)) return;
  if (RejectAddRemoteFromHeader(ctx, req, writer, headers)) return;

  uint64_t size = 0;
  auto m = ReadFramedMessage(*req.body_reader, ctx.max_message_bytes, &size);
  if (!m.ok()) {
    const std::string text =
        fmt::format("failed to decode raft message ({})", m.status().message());
    Log(ctx).Warnf("rafthttp: snapshot from {}: {}", req.remote_address, text);
    if (ctx.metrics != nullptr) {
      ctx.metrics->ReceivedFailure(HeaderSender(req));
      ctx.metrics->SnapshotReceiveStarted(HeaderSender(req));
      ctx.metrics->SnapshotReceiveFinished(HeaderSender(req), false, 0);
    }
    return Answer(writer, 400, text, headers);
  }
  const uint64_t from = m->from.value();
  if (ctx.metrics != nullptr) {
    ctx.metrics->ReceivedBytes(from, size);
    ctx.metrics->SnapshotReceiveStarted(from);
  }
  auto finish = [&](bool ok) {
    if (ctx.metrics == nullptr) return;
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    ctx.metrics->SnapshotReceiveFinished(from, ok, took.count());
  };
  if (m->type != raftpb::MessageType::MsgSnap) {
    Log(ctx).Warnf("rafthttp: unexpected {} on the snapshot path from {}", raftpb::Name(m->type),
                   FormatId(from));
    finish(false);
    return Answer(writer, 400, kTextWrongType, headers);
  }
  Log(ctx).Infof("rafthttp: receiving snapshot at index {} from {}",
                 m->snapshot.metadata.index.value(), FormatId(from));

  BodySnapshotData data(*req.body_reader);
  Status st = ctx.raft->ProcessSnapshot(std::move(m).value(), data);
  if (ctx.metrics != nullptr) ctx.metrics->ReceivedBytes(from, data.bytes());
  if (st.ok() && !data.ended()) {
    // The contract says the data is consumed; data left over means the receiver stopped early.
    char probe = 0;
    auto n = data.Read(&probe, 1);
    if (!n.ok() || *n != 0) st = Status(ErrorCode::kInternal, "snapshot data not fully consumed");
  }
  if (!st.ok()) {
    Log(ctx).Warnf("rafthttp: failed to process snapshot from {}: {}", FormatId(from),
                   st.ToString());
    finish(false);
    return Answer(writer, 500, fmt::format("failed to process raft message ({})", st.message()),
                  headers);
  }
  Log(ctx).Infof("rafthttp: received snapshot from {} ({} data bytes)", FormatId(from),
                 data.bytes());
  (void)writer.Respond(http::Response{204, headers, {}});
  finish(true);
}

// ---- /raft/probing ----

void ServeProbing(const HandlerContext& ctx, http::ServerRequest&, http::ResponseWriter& writer) {
  const auto now = ctx.now ? ctx.now() : std::chrono::system_clock::now();
  (void)writer.Respond(
      http::Response{200, {{"Content-Type", "text/plain; charset=utf-8"}}, ProbingBody(now)});
}

bool ValidPeerUrl(std::string_view u) {
  const size_t sep = u.find("://");
  if (sep == std::string_view::npos) return false;
  const std::string_view scheme = u.substr(0, sep);
  if (scheme != "http" && scheme != "https" && scheme != "unix" && scheme != "unixs") return false;
  const std::string_view hostport = u.substr(sep + 3);
  // No path (a lone "/" is one too, as in Go), query, fragment or user info.
  if (hostport.find_first_of("/?#@") != std::string_view::npos) return false;
  // net.SplitHostPort: "host:port" or "[v6]:port"; the port may not contain another colon.
  size_t colon = 0;
  if (!hostport.empty() && hostport.front() == '[') {
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos || close + 1 >= hostport.size() ||
        hostport[close + 1] != ':') {
      return false;
    }
    colon = close + 1;
  } else {
    colon = hostport.find(':');
    if (colon == std::string_view::npos || hostport.find(':', colon + 1) != std::string_view::npos)
      return false;
  }
  const std::string_view port = hostport.substr(colon + 1);
  // Go accepts an empty port; a peer URL without one is useless, so raftkit refuses it.
  return !port.empty() &&
         std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

Result<std::vector<std::string>> ParsePeerUrls(std::string_view value) {
  std::vector<std::string> urls;
  if (value.empty()) return Status(ErrorCode::kInvalidArgument, "no valid URLs given");
  for (;;) {
    const size_t comma = value.find(',');
    const std::string_view u = Trim(value.substr(0, comma));
    if (!ValidPeerUrl(u)) {
      return Status(
          ErrorCode::kInvalidArgument,
          fmt::format("URL must be scheme://host:port (http, https, unix, unixs): {}", u));
    }
    urls.emplace_back(u);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  std::sort(urls.begin(), urls.end());
  return urls;
}

std::string ProbingBody(std::chrono::system_clock::time_point t) {
  using std::chrono::duration_cast;
  using std::chrono::nanoseconds;
  using std::chrono::seconds;
  const auto since = t.time_since_epoch();
  auto secs = std::chrono::floor<seconds>(since);
  const auto nanos = duration_cast<nanoseconds>(since - secs).count();
  const std::time_t tt = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::string fraction;
  if (nanos != 0) {
    fraction = fmt::format(".{:09d}", nanos);
    while (fraction.back() == '0')
      fraction.pop_back();  // Go's RFC3339Nano trims these
  }
  return fmt::format(R"({{"OK":true,"Now":"{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}{}Z"}})"
                     "\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     fraction);
}

std::vector<http::Route> MakeRoutes(HandlerContext ctx) {
  RAFTKIT_CHECK(ctx.raft != nullptr, "rafthttp handlers need a RaftNode");
  RAFTKIT_CHECK(ctx.is_peer && ctx.is_remote && ctx.add_remote && ctx.serve_stream,
                "rafthttp handlers need every callback of HandlerContext");
  auto shared = std::make_shared<const HandlerContext>(std::move(ctx));
  auto bind =
      [shared](void (*serve)(const HandlerContext&, http::ServerRequest&, http::ResponseWriter&)) {
        return [shared, serve](http::ServerRequest& req, http::ResponseWriter& writer) {
          serve(*shared, req, writer);
        };
      };
  std::vector<http::Route> routes(4);
  // The pipeline body is read by the handler (after the header checks, as etcd does), so that a
  // broken body is answered "error reading raft message" rather than by the HTTP layer.
  routes[0] = {"/raft", true, http::BodyMode::kStreamed, shared->max_message_bytes,
               bind(&ServePipeline)};
  routes[1] = {"/raft/stream/", false, http::BodyMode::kBuffered, kSmallBody, bind(&ServeStream)};
  routes[2] = {"/raft/snapshot", true, http::BodyMode::kStreamed, kNoLimit, bind(&ServeSnapshot)};
  routes[3] = {"/raft/probing", true, http::BodyMode::kBuffered, kSmallBody, bind(&ServeProbing)};
  return routes;
}

}  // namespace raftkit::rafthttp
