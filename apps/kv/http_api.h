// raftkit-kv's client API over HTTP (README.md has curl examples):
//   PUT    /v1/kv/{key}[?expect=V]       body = value; 204 once applied; 412 when expect differs
//   DELETE /v1/kv/{key}                  204
//   GET    /v1/kv/{key}[?serializable=true]   200 value | 404; linearizable unless serializable
//   GET    /v1/kv?prefix=P&limit=N       200 JSON [{"key","value"}...]
//   GET    /v1/cluster                   200 JSON: members (id, peer_urls, client_urls, learner),
//                                        leader, term, commit, applied
//   POST   /v1/cluster/members           JSON {"id","peer_urls","learner"} -> 201 once applied
//   DELETE /v1/cluster/members/{id}      204 once applied (the removed member then stops)
//   POST   /v1/cluster/members/{id}/promote   learner -> voter, 204
//   POST   /v1/cluster/leader            JSON {"to": id} -> 204 once it leads (a follower hands
//                                        the request to the leader's API)
//   GET    /health                       200 when a leader is known and a linearizable read
//                                        succeeds here (applied caught up), else 503
//   GET    /metrics                      Prometheus text
// Errors are JSON {"error": reason[, "leader": id, "leader_url": its client URL,
// "leader_peer_url": url]}: 400 bad key or request,
// 413 value too large, 429 overloaded, 503 no leader / no quorum within the timeout.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kv_store.h"
#include "raftkit/server/server.h"
#include "raftkit/transport/http/server.h"

namespace prometheus {
class Registry;
}

namespace raftkit::kv {

struct ApiOptions {
  size_t max_value_bytes = 1 << 20;
  std::shared_ptr<prometheus::Registry> metrics;  ///< served on /metrics when set
  /// For the requests a follower hands to the leader's API (membership changes, leadership
  /// transfers): what https client URLs need (the CA to trust, the certificate to present).
  std::optional<http::TlsClientConfig> forward_tls;
};

std::vector<http::Route> MakeRoutes(server::Server& server, KvStore& store, ApiOptions options);

/// etcd raftexample's API (`--compat raftexample`), one handler for every path; the key is the
/// request target as sent, leading '/' included, as raftexample takes it:
///   PUT    /{key}     body = value; 204 (here once applied, where raftexample answers at once)
///   GET    /{key}     200 value | 404; a local read, as raftexample's
///   POST   /{id}      body = the new member's peer URL; adds it as a voter; 204
///   DELETE /{id}      removes the member; 204
/// Ids parse as Go's strconv.ParseUint(s, 0, 64) does (decimal, 0x hex, 0o or 0 octal, 0b).
/// Failures answer text as Go's http.Error does (400 bad id, 405 other methods, 503 when the
/// cluster does not commit in time).
std::vector<http::Route> MakeRaftexampleRoutes(server::Server& server, KvStore& store,
                                               ApiOptions options);

/// Go's strconv.ParseUint(s, 0, 64); nullopt where Go fails.
std::optional<uint64_t> ParseGoUint(std::string_view s);

/// Percent-decodes `s` ("%2F" -> "/"); nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view s);

}  // namespace raftkit::kv
