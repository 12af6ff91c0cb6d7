// raftkit-kv's client API over HTTP (README.md has curl examples):
//   PUT    /v1/kv/{key}[?expect=V]       body = value; 204 once applied; 412 when expect differs
//   DELETE /v1/kv/{key}                  204
//   GET    /v1/kv/{key}[?serializable=true]   200 value | 404; linearizable unless serializable
//   GET    /v1/kv?prefix=P&limit=N       200 JSON [{"key","value"}...]
//   GET    /v1/cluster                   200 JSON: members, leader, term, commit, applied
//   POST   /v1/cluster/members           JSON {"id","peer_urls","learner"} -> 201 once applied
//   DELETE /v1/cluster/members/{id}      204 once applied (the removed member then stops)
//   POST   /v1/cluster/members/{id}/promote   learner -> voter, 204
//   POST   /v1/cluster/leader            JSON {"to": id} -> 204 once it leads
//   GET    /health                       200 when a leader is known and a linearizable read
//                                        succeeds here (applied caught up), else 503
//   GET    /metrics                      Prometheus text
// Errors are JSON {"error": reason[, "leader": id, "leader_url": url]}: 400 bad key or request,
// 413 value too large, 429 overloaded, 503 no leader / no quorum within the timeout.
#pragma once

#include <cstddef>
#include <memory>
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
};

std::vector<http::Route> MakeRoutes(server::Server& server, KvStore& store, ApiOptions options);

/// Percent-decodes `s` ("%2F" -> "/"); nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view s);

}  // namespace raftkit::kv
