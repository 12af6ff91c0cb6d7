// The server side of etcd 3.4's peer protocol: the handlers of POST /raft (pipeline),
// GET /raft/stream/{message,msgapp}/<id> (streams), POST /raft/snapshot and /raft/probing, as
// http::Routes (spec §3.3-§3.5 and §4; our choices: docs/formats/rafthttp.md, "Handlers").
//
// Every data endpoint runs etcd's checks in etcd's order and answers with etcd's status codes and
// bodies. Error answers are written the way Go's http.Error writes them:
//
//   Content-Type: text/plain; charset=utf-8
//   X-Content-Type-Options: nosniff
//   body: <message>\n
//
// and every answer from the cluster-id step on carries X-Etcd-Cluster-Id (canonical hex); stream
// answers also carry X-Server-Version. A present but malformed version header closes the
// connection without an answer (etcd's handler panics there); a pipeline message that Process
// refuses is answered 500 and the connection is then closed (etcd panics after flushing the 500).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "raftkit/transport/http/server.h"
#include "raftkit/transport/rafthttp/transport.h"
#include "raftkit/util/ids.h"
#include "raftkit/util/logger.h"
#include "raftkit/util/status.h"
#include "transport/rafthttp/compat.h"
#include "transport/rafthttp/metrics.h"

namespace raftkit::rafthttp {

/// What the handlers need from the Transport. Every callback may be called from several handler
/// threads at once and must be thread-safe; the pointers must outlive the routes' server.
struct HandlerContext {
  NodeId local;                         ///< this member; X-Raft-To must be FormatId(local)
  uint64_t cluster_id = 0;              ///< X-Etcd-Cluster-ID must be FormatId(cluster_id)
  RaftNode* raft = nullptr;             ///< required
  TransportMetrics* metrics = nullptr;  ///< may be null (nothing counted)
  Logger* logger = nullptr;             ///< may be null (nothing logged)
  /// The largest pipeline body (a larger one is answered 413 by the HTTP layer before the handler
  /// runs) and the largest MsgSnap message in front of a snapshot's data (a larger length prefix
  /// is answered 400 as a decode failure). etcd has no such limits.
  uint64_t max_message_bytes = uint64_t{512} << 20;
  /// Whether `id` is a configured peer (streams are served only to peers). Required.
  std::function<bool(NodeId)> is_peer;
  /// Whether `id` is a pipeline-only remote already. Required.
  std::function<bool(NodeId)> is_remote;
  /// "Add remote" (spec §3.3, end): called with the sender's id and its X-PeerURLs, split at
  /// commas, trimmed and sorted (as etcd's types.NewURLs leaves them), each checked to be
  /// scheme://host:port with scheme http, https, unix or unixs and no path. Called only when the
  /// sender is neither a peer nor a remote. Required.
  std::function<void(NodeId, std::vector<std::string>)> add_remote;
  /// Serves a validated stream GET from peer `from` for stream type `t`. The handler has already
  /// called writer.StartStream(200, {X-Server-Version, X-Etcd-Cluster-Id}); serve_stream owns the
  /// stream until it returns and must return once writer.ClientGone() (or on shutdown). Required.
  std::function<void(NodeId from, StreamType t, http::ResponseWriter& writer)> serve_stream;
  /// The clock of the probing answer; null means std::chrono::system_clock::now.
  std::function<std::chrono::system_clock::time_point()> now;
};

/// The texts of the answers (without Go's trailing newline), for the tests and the sender side.
inline constexpr std::string_view kTextMethodNotAllowed = "Method Not Allowed";
inline constexpr std::string_view kTextErrorReading = "error reading raft message";
inline constexpr std::string_view kTextErrorUnmarshalling = "error unmarshalling raft message";
inline constexpr std::string_view kTextErrorProcessing = "error processing raft message";
inline constexpr std::string_view kTextInvalidPath = "invalid path";
inline constexpr std::string_view kTextInvalidFrom = "invalid from";
inline constexpr std::string_view kTextRemovedMember = "removed member";
inline constexpr std::string_view kTextSenderNotFound = "error sender not found";
inline constexpr std::string_view kTextToFieldMismatch = "to field mismatch";
inline constexpr std::string_view kTextWrongType = "wrong raft message type";
/// raftkit's answer (400) to an X-PeerURLs that etcd's transport would panic on.
inline constexpr std::string_view kTextInvalidPeerUrls = "invalid X-PeerURLs";

/// The routes of the peer listener, in spec §3.5's shape: "/raft" (exact, buffered body up to
/// max_message_bytes), "/raft/stream/" (prefix), "/raft/snapshot" (exact, streamed body, no
/// limit) and "/raft/probing" (exact). The HTTP layer answers every other path 404.
/// RAFTKIT_CHECKs that the required members of `ctx` are set.
std::vector<http::Route> MakeRoutes(HandlerContext ctx);

/// The probing answer's body for time `t`: {"OK":true,"Now":"<RFC 3339, UTC, nanoseconds with
/// trailing zeros trimmed (none at all for a whole second), as Go's time.RFC3339Nano>"} plus "\n".
std::string ProbingBody(std::chrono::system_clock::time_point t);

/// Splits and checks an X-PeerURLs value as etcd's types.NewURLs does (comma-separated, each
/// trimmed; scheme http/https/unix/unixs; "host:port" with a non-empty port; no path, query or
/// fragment), then sorts. kInvalidArgument names the first bad URL; an empty value is an error.
Result<std::vector<std::string>> ParsePeerUrls(std::string_view value);

}  // namespace raftkit::rafthttp
