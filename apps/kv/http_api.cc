#include "http_api.h"

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <nlohmann/json.hpp>

#include "raftkit/transport/http/client.h"

namespace raftkit::kv {
namespace {

using nlohmann::json;

constexpr std::string_view kKeyPrefix = "/v1/kv/";

std::map<std::string, std::string> ParseQuery(std::string_view target) {
  std::map<std::string, std::string> out;
  const auto q = target.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    auto k = PercentDecode(pair.substr(0, eq));
    auto v = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (k && v) out[*k] = *v;
    rest.remove_prefix(amp == std::string_view::npos ? rest.size() : amp + 1);
  }
  return out;
}

http::Response Json(int status, const json& body) {
  return http::Response{status,
                        {{"Content-Type", "application/json"}},
                        body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"};
}

http::Response Error(int status, std::string_view reason, server::Server* s = nullptr) {
  json j{{"error", reason}};
  if (s != nullptr) {
    const auto st = s->GetStatus();
    if (st.leader != kNoNode) {
      j["leader"] = st.leader.value();
      for (const auto& m : st.members) {
        if (m.id != st.leader) continue;
        if (!m.peer_urls.empty()) j["leader_peer_url"] = m.peer_urls.front();
        if (!m.client_urls.empty()) j["leader_url"] = m.client_urls.front();
      }
    }
  }
  return Json(status, j);
}

// The answer to a failed request, by its error code.
http::Response FromStatus(const Status& st, server::Server& s) {
  switch (st.code()) {
    case ErrorCode::kInvalidArgument:
      return Error(400, st.message());
    case ErrorCode::kOverloaded:
      return Error(429, st.message());
    case ErrorCode::kNotLeader:
    case ErrorCode::kTimeout:
    case ErrorCode::kProposalDropped:
      return Error(503, st.message(), &s);
    case ErrorCode::kStopped:
      return Error(503, st.message());
    default:
      return Error(500, st.ToString());
  }
}

// The answer to a committed put or delete, from the command's result.
http::Response CommandAnswer(const Result<std::string>& r, server::Server& s) {
  if (!r.ok()) return FromStatus(r.status(), s);
  auto outcome = KvStore::ParseResult(r.value());
  if (!outcome.ok()) return Error(500, outcome.status().message());
  if (!outcome.value().ok) {
    json j{{"error", "compare failed"}};
    j["current"] = outcome.value().value ? json(*outcome.value().value) : json();
    return Json(412, j);
  }
  return http::Response{204, {}, ""};
}

http::Response ValueAnswer(const std::optional<std::string>& v) {
  if (!v) return Error(404, "key not found");
  return http::Response{200, {{"Content-Type", "application/octet-stream"}}, *v};
}

// /v1/kv/{key}, asynchronously (on the connection's I/O thread): the answer is sent from the
// server's completion of the proposal or read, with no thread blocked meanwhile.
void HandleKey(server::Server& s, KvStore& store, http::ServerRequest& req,
               const http::Responder& respond) {
  const std::string_view path = req.path;
  auto key = PercentDecode(path.substr(kKeyPrefix.size()));
  if (!key || key->empty()) return respond(Error(400, "bad key"));
  const auto query = ParseQuery(req.target);
  if (req.method == "GET") {
    const auto ser = query.find("serializable");
    if (ser != query.end() && ser->second == "true") return respond(ValueAnswer(store.Get(*key)));
    s.LinearizableRead([&s, &store, key = std::move(*key), respond](const Status& st) {
      respond(st.ok() ? ValueAnswer(store.Get(key)) : FromStatus(st, s));
    });
    return;
  }
  Result<std::string> cmd = Status(ErrorCode::kInvalidArgument, "");
  if (req.method == "PUT") {
    std::optional<std::string> expect;
    if (auto e = query.find("expect"); e != query.end()) expect = e->second;
    cmd = store.PutCommand(*key, req.body, expect);
  } else if (req.method == "DELETE") {
    cmd = store.DeleteCommand(*key);
  } else {
    return respond(Error(405, "method not allowed"));
  }
  if (!cmd.ok()) return respond(Error(400, cmd.status().message()));
  s.Propose(std::move(cmd).value(),
            [&s, respond](Result<std::string> r) { respond(CommandAnswer(r, s)); });
}

// Hands a request to the leader's API when this member is a follower that knows the leader, and
// answers with the leader's answer. False (nothing answered) on the leader, when no leader is
// known, and for a request another member forwarded already (so that two members that each believe
// the other leads do not pass it back and forth). When the leader's client URL is not known yet (it
// publishes it shortly after it starts), `required` answers 503; otherwise the caller goes on.
bool ForwardToLeader(server::Server& s, http::Client& client, http::ServerRequest& req,
                     http::ResponseWriter& w, bool required) {
  constexpr std::string_view kForwarded = "X-Raftkit-Forwarded-By";
  const auto st = s.GetStatus();
  if (st.leader == kNoNode || st.leader == st.id || req.headers.Get(kForwarded)) return false;
  std::string leader_url;
  for (const auto& m : st.members) {
    if (m.id == st.leader && !m.client_urls.empty()) leader_url = m.client_urls.front();
  }
  if (leader_url.empty()) {
    if (!required) return false;
    (void)w.Respond(Error(503, "the leader's client URL is not known yet", &s));
    return true;
  }
  http::ClientRequest fwd;
  fwd.method = req.method;
  fwd.url = leader_url + req.target;
  fwd.body = req.body;
  fwd.headers.Add(std::string(kForwarded), std::to_string(st.id.value()));
  if (auto ct = req.headers.Get("Content-Type")) fwd.headers.Add("Content-Type", std::string(*ct));
  auto r = client.Do(fwd);
  if (!r.ok()) {
    (void)w.Respond(Error(503, "forwarding to the leader: " + r.status().message(), &s));
    return true;
  }
  http::Response out{r.value().status, {}, r.value().body};
  if (auto ct = r.value().headers.Get("Content-Type")) {
    out.headers.Add("Content-Type", std::string(*ct));
  }
  // The leader answered once the change was applied there; like a request served here, the answer
  // waits until this member has applied it too (a linearizable read covers it), so that what the
  // caller reads from this member next shows the change. Should the read fail, the change stands
  // and the leader's answer is still the truth.
  if (out.status / 100 == 2) (void)s.LinearizableRead();
  (void)w.Respond(out);
  return true;
}

// POST /v1/cluster/members, DELETE /v1/cluster/members/{id}, POST /v1/cluster/members/{id}/promote,
// POST /v1/cluster/leader, POST /v1/cluster/snapshot (this member's own snapshot and compaction),
// GET /v1/cluster/transport (this member's view of its peer links).
void HandleCluster(server::Server& s, http::Client& forward, http::ServerRequest& req,
                   http::ResponseWriter& w) {
  constexpr std::string_view kMembers = "/v1/cluster/members";
  const std::string_view path = req.path;
  auto done = [&](const Status& st, int ok_status) {
    (void)w.Respond(st.ok() ? http::Response{ok_status, {}, ""} : FromStatus(st, s));
  };
  if (path == "/v1/cluster/leader" && req.method == "POST") {
    const json j = json::parse(req.body, nullptr, false);
    if (!j.is_object() || !j.contains("to") || !j["to"].is_number_unsigned()) {
      (void)w.Respond(Error(400, "expected {\"to\": <member id>}"));
      return;
    }
    const NodeId to(j["to"].get<uint64_t>());
    // Only the leader (or the transferee) can ask Raft to move leadership.
    if (to != s.GetStatus().id && ForwardToLeader(s, forward, req, w, /*required=*/true)) return;
    done(s.TransferLeadership(to, std::chrono::seconds(10)), 204);
    return;
  }
  if (path == "/v1/cluster/snapshot" && req.method == "POST") {
    done(s.Snapshot(), 204);
    return;
  }
  if (path == "/v1/cluster/transport" && req.method == "GET") {
    http::Response r{200, {{"Content-Type", "application/json"}}, s.TransportStats()};
    (void)w.Respond(r);
    return;
  }
  // Membership changes are made on the leader, which takes them one at a time; a follower's own
  // proposal would be dropped while the leader is still applying an earlier change. The request
  // is checked here first.
  auto on_leader = [&] { return ForwardToLeader(s, forward, req, w, /*required=*/false); };
  if (path == kMembers && req.method == "POST") {
    const json j = json::parse(req.body, nullptr, false);
    if (!j.is_object() || !j.contains("id") || !j["id"].is_number_unsigned() ||
        !j.contains("peer_urls") || !j["peer_urls"].is_array() || j["peer_urls"].empty()) {
      (void)w.Respond(Error(400, "expected {\"id\": N, \"peer_urls\": [...], \"learner\": bool}"));
      return;
    }
    server::Member m;
    m.id = NodeId(j["id"].get<uint64_t>());
    for (const auto& u : j["peer_urls"]) {
      if (!u.is_string()) {
        (void)w.Respond(Error(400, "peer_urls must be strings"));
        return;
      }
      m.peer_urls.push_back(u.get<std::string>());
    }
    m.learner = j.value("learner", false);
    if (on_leader()) return;
    done(s.AddMember(m), 201);
    return;
  }
  if (path.substr(0, kMembers.size() + 1) == std::string(kMembers) + "/") {
    std::string_view rest = path.substr(kMembers.size() + 1);
    const bool promote = rest.size() > 8 && rest.substr(rest.size() - 8) == "/promote";
    if (promote) rest.remove_suffix(8);
    uint64_t id = 0;
    for (char c : rest) {
      if (c < '0' || c > '9') {
        (void)w.Respond(Error(400, "bad member id"));
        return;
      }
      id = id * 10 + static_cast<uint64_t>(c - '0');
    }
    if (rest.empty() || id == 0) {
      (void)w.Respond(Error(400, "bad member id"));
      return;
    }
    if (promote && req.method == "POST") {
      if (on_leader()) return;
      done(s.PromoteMember(NodeId(id)), 204);
      return;
    }
    if (!promote && req.method == "DELETE") {
      if (on_leader()) return;
      done(s.RemoveMember(NodeId(id)), 204);
      return;
    }
  }
  (void)w.Respond(Error(404, "no such cluster operation"));
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::optional<uint64_t> ParseGoUint(std::string_view s) {
  // Base 0: a prefix picks the base; underscores may separate digits only when one does.
  unsigned base = 10;
  bool prefixed = false;
  if (s.size() >= 2 && s[0] == '0') {
    const char p = static_cast<char>(s[1] | 0x20);
    if (p == 'x') base = 16;
    if (p == 'o') base = 8;
    if (p == 'b') base = 2;
    if (base != 10) {
      s.remove_prefix(2);
      prefixed = true;
    } else {
      base = 8;
      s.remove_prefix(1);
      prefixed = true;
    }
  }
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  bool underscore_ok = prefixed;  // right after a prefix or a digit, when prefixed
  bool last_underscore = false;
  for (char c : s) {
    if (c == '_') {
      if (!underscore_ok) return std::nullopt;
      underscore_ok = false;
      last_underscore = true;
      continue;
    }
    unsigned d;
    if (c >= '0' && c <= '9') {
      d = static_cast<unsigned>(c - '0');
    } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
      d = static_cast<unsigned>((c | 0x20) - 'a' + 10);
    } else {
      return std::nullopt;
    }
    if (d >= base) return std::nullopt;
    if (v > (UINT64_MAX - d) / base) return std::nullopt;
    v = v * base + d;
    underscore_ok = prefixed;
    last_underscore = false;
  }
  if (last_underscore) return std::nullopt;
  return v;
}

std::vector<http::Route> MakeRaftexampleRoutes(server::Server& s, KvStore& store,
                                               ApiOptions options) {
  auto text = [](int status, std::string_view msg) {
    return http::Response{
        status,
        {{"Content-Type", "text/plain; charset=utf-8"}, {"X-Content-Type-Options", "nosniff"}},
        std::string(msg) + "\n"};
  };
  auto handler = [&s, &store, text](http::ServerRequest& req, http::ResponseWriter& w) {
    const std::string key = req.target;
    if (req.method == "GET") {
      auto v = store.Get(key);
      (void)w.Respond(v ? http::Response{200, {}, *v} : text(404, "Failed to GET"));
      return;
    }
    if (req.method == "PUT") {
      auto cmd = store.PutCommand(key, req.body, std::nullopt);
      auto r = cmd.ok() ? s.ProposeAndWait(std::move(cmd).value()) : cmd.status();
      (void)w.Respond(r.ok() ? http::Response{204, {}, ""}
                             : text(r.status().code() == ErrorCode::kOverloaded ? 429 : 503,
                                    "Failed on PUT: " + r.status().message()));
      return;
    }
    if (req.method == "POST" || req.method == "DELETE") {
      const auto id = ParseGoUint(std::string_view(key).substr(1));
      if (!id || *id == 0) {
        (void)w.Respond(text(400, "Failed on " + req.method));
        return;
      }
      Status st;
      if (req.method == "POST") {
        server::Member m;
        m.id = NodeId(*id);
        m.peer_urls = {req.body};
        st = s.AddMember(m);
      } else {
        st = s.RemoveMember(NodeId(*id));
      }
      (void)w.Respond(st.ok() ? http::Response{204, {}, ""}
                              : text(503, "Failed on " + req.method + ": " + st.message()));
      return;
    }
    http::Response r = text(405, "Method not allowed");
    for (const char* m : {"PUT", "GET", "POST", "DELETE"})
      r.headers.Add("Allow", m);
    (void)w.Respond(r);
  };
  return {{"/", false, http::BodyMode::kBuffered, options.max_value_bytes, handler}};
}

std::vector<http::Route> MakeRoutes(server::Server& s, KvStore& store, ApiOptions options) {
  std::vector<http::Route> routes;
  // Requests handed to the leader go out on their own pool; with client TLS, its CA and
  // certificate (should those not load, https leaders answer 503 with the reason).
  http::ClientOptions fo;
  fo.tls = options.forward_tls;
  auto created = http::Client::Create(fo);
  if (!created.ok()) created = http::Client::Create({});
  std::shared_ptr<http::Client> forward = std::move(created).value();
  http::Route key_route{std::string(kKeyPrefix), false,   http::BodyMode::kBuffered,
                        options.max_value_bytes, nullptr, nullptr};
  key_route.async_handler = [&s, &store](http::ServerRequest& req, http::Responder respond) {
    HandleKey(s, store, req, respond);
  };
  routes.push_back(std::move(key_route));
  routes.push_back({"/v1/kv", true, http::BodyMode::kBuffered, 4096,
                    [&s, &store](http::ServerRequest& req, http::ResponseWriter& w) {
                      const auto q = ParseQuery(req.target);
                      size_t limit = 1000;
                      if (auto l = q.find("limit"); l != q.end()) {
                        limit = static_cast<size_t>(std::strtoull(l->second.c_str(), nullptr, 10));
                      }
                      const std::string prefix = q.count("prefix") ? q.at("prefix") : "";
                      if (!q.count("serializable") || q.at("serializable") != "true") {
                        const Status st = s.LinearizableRead();
                        if (!st.ok()) {
                          (void)w.Respond(FromStatus(st, s));
                          return;
                        }
                      }
                      json j = json::array();
                      for (auto& [k, v] : store.List(prefix, limit)) {
                        j.push_back({{"key", k}, {"value", v}});
                      }
                      (void)w.Respond(Json(200, j));
                    }});
  routes.push_back({"/v1/cluster", true, http::BodyMode::kBuffered, 4096,
                    [&s](http::ServerRequest&, http::ResponseWriter& w) {
                      const auto st = s.GetStatus();
                      json members = json::array();
                      for (const auto& m : st.members) {
                        members.push_back({{"id", m.id.value()},
                                           {"peer_urls", m.peer_urls},
                                           {"client_urls", m.client_urls},
                                           {"learner", m.learner}});
                      }
                      (void)w.Respond(Json(200, {{"id", st.id.value()},
                                                 {"leader", st.leader.value()},
                                                 {"term", st.term.value()},
                                                 {"commit", st.commit_index.value()},
                                                 {"applied", st.applied_index.value()},
                                                 {"members", members}}));
                    }});
  routes.push_back({"/v1/cluster/", false, http::BodyMode::kBuffered, 64 * 1024,
                    [&s, forward](http::ServerRequest& req, http::ResponseWriter& w) {
                      HandleCluster(s, *forward, req, w);
                    }});
  routes.push_back({"/health", true, http::BodyMode::kBuffered, 4096,
                    [&s](http::ServerRequest&, http::ResponseWriter& w) {
                      // Healthy: a leader is known and a linearizable read succeeds, i.e. the
                      // leader confirmed its commit index with a quorum and this member has applied
                      // up to it.
                      const bool has_leader = s.GetStatus().leader != kNoNode;
                      const Status read = has_leader ? s.LinearizableRead() : Status::Ok();
                      const bool healthy = has_leader && read.ok();
                      const auto st = s.GetStatus();
                      json body{{"health", healthy},
                                {"leader", st.leader.value()},
                                {"applied", st.applied_index.value()},
                                {"commit", st.commit_index.value()}};
                      if (!read.ok()) body["error"] = read.message();
                      (void)w.Respond(Json(healthy ? 200 : 503, body));
                    }});
  if (options.metrics) {
    auto registry = options.metrics;
    // Requests by route and method, counted as they arrive.
    auto& requests = prometheus::BuildCounter()
                         .Name("raftkit_kv_requests_total")
                         .Help("Key-value API requests received, by route and method.")
                         .Register(*registry);
    for (auto& r : routes) {
      const std::string route = r.pattern;
      if (r.async_handler) {
        r.async_handler = [inner = r.async_handler, route, registry, &requests](
                              http::ServerRequest& req, http::Responder respond) {
          requests.Add({{"route", route}, {"method", req.method}}).Increment();
          inner(req, std::move(respond));
        };
        continue;
      }
      r.handler = [inner = r.handler, route, registry, &requests](http::ServerRequest& req,
                                                                  http::ResponseWriter& w) {
        requests.Add({{"route", route}, {"method", req.method}}).Increment();
        inner(req, w);
      };
    }
    // The member's Raft state, read when scraped (names after etcd's etcd_server_*).
    auto gauge = [&](const char* name, const char* help) -> prometheus::Gauge& {
      return prometheus::BuildGauge().Name(name).Help(help).Register(*registry).Add({});
    };
    auto* has_leader = &gauge("raftkit_server_has_leader", "1 if a leader is known, else 0.");
    auto* is_leader = &gauge("raftkit_server_is_leader", "1 if this member leads, else 0.");
    auto* term = &gauge("raftkit_server_term", "The member's current term.");
    auto* commit = &gauge("raftkit_server_commit_index", "The member's commit index.");
    auto* applied = &gauge("raftkit_server_applied_index", "The member's applied index.");
    auto* members = &gauge("raftkit_server_members", "Members in the configuration.");
    routes.push_back({"/metrics", true, http::BodyMode::kBuffered, 4096,
                      [registry, &s, has_leader, is_leader, term, commit, applied, members](
                          http::ServerRequest&, http::ResponseWriter& w) {
                        const auto st = s.GetStatus();
                        has_leader->Set(st.leader != kNoNode ? 1 : 0);
                        is_leader->Set(st.leader == st.id ? 1 : 0);
                        term->Set(static_cast<double>(st.term.value()));
                        commit->Set(static_cast<double>(st.commit_index.value()));
                        applied->Set(static_cast<double>(st.applied_index.value()));
                        members->Set(static_cast<double>(st.members.size()));
                        prometheus::TextSerializer ser;
                        (void)w.Respond(
                            http::Response{200,
                                           {{"Content-Type", "text/plain; version=0.0.4"}},
                                           ser.Serialize(registry->Collect())});
                      }});
  }
  return routes;
}

}  // namespace raftkit::kv
