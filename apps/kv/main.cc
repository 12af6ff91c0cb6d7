// raftkit-kv: a replicated key-value service. Flags are raftexample's (so it can stand in for a
// raftexample node's command line) plus native ones; `raftkit-kv --help` lists them.
//
//   raftkit-kv --id 1 --port 12380
//              --cluster http://127.0.0.1:12379,http://127.0.0.1:22379,http://127.0.0.1:32379
//
// With `--compat raftexample` it is a member of an etcd contrib/raftexample cluster: raftexample's
// API on --port, its log and snapshot formats (docs/operations.md).
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/registry.h>
#include <CLI/CLI.hpp>

#include "http_api.h"
#include "kv_store.h"
#include "raftkit/server/server.h"
#include "raftkit/transport/http/message.h"
#include "raftkit/transport/http/server.h"
#include "raftkit/util/logger.h"

namespace {

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    const std::string part =
        s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

raftkit::LogLevel ParseLevel(const std::string& s) {
  if (s == "debug") return raftkit::LogLevel::kDebug;
  if (s == "warn") return raftkit::LogLevel::kWarn;
  if (s == "error") return raftkit::LogLevel::kError;
  return raftkit::LogLevel::kInfo;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"raftkit-kv: a replicated key-value service on raftkit"};
  uint64_t id = 1;
  std::string cluster = "http://127.0.0.1:9021";
  uint16_t port = 9121;
  bool join = false;
  std::string data_dir;
  std::string client_address = "127.0.0.1";
  // 0: the default of the mode (etcd's 100,000 natively, raftexample's 10,000 with --compat).
  uint64_t snapshot_count = 0;
  std::string log_level = "info";
  size_t max_value_bytes = 1 << 20;
  std::string compat;
  uint64_t heartbeat_ms = 100, election_ms = 1000, request_timeout_ms = 5000;
  size_t max_pending = 8192;
  uint16_t native_port = 0;
  std::string peer_cert, peer_key, peer_ca, client_cert, client_key, client_ca;
  bool peer_client_cert_auth = false;
  std::vector<std::string> peer_dial;
  app.add_option("--id", id,
                 "this member's id: its position (1-based) in --cluster, or the ID of an ID=URL "
                 "entry")
      ->capture_default_str();
  app.add_option("--cluster", cluster,
                 "comma-separated peer URLs of the initial members (a member joining later: of "
                 "the current ones); an entry may name its id as ID=URL, others take their "
                 "position")
      ->capture_default_str();
  app.add_option("--port", port, "port of the key-value HTTP API")->capture_default_str();
  app.add_flag("--join", join, "join an existing cluster (after it added this member)");
  app.add_option("--data-dir", data_dir, "data directory (default: raftkit-<id>)");
  app.add_option("--listen-client", client_address, "address of the key-value HTTP API")
      ->capture_default_str();
  app.add_option("--snapshot-count", snapshot_count,
                 "applied entries between snapshots (default 100000; 10000 with --compat "
                 "raftexample)");
  app.add_option("--max-value-bytes", max_value_bytes, "largest value accepted (413 above)")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "debug, info, warn or error")->capture_default_str();
  app.add_option("--heartbeat-interval", heartbeat_ms,
                 "milliseconds between heartbeats (one Raft tick)")
      ->capture_default_str();
  app.add_option("--election-timeout", election_ms,
                 "milliseconds without a leader before an election (about 10 heartbeats; keep it "
                 "well above the peers' round trip)")
      ->capture_default_str();
  app.add_option("--request-timeout", request_timeout_ms,
                 "milliseconds a write or linearizable read may wait before 503")
      ->capture_default_str();
  app.add_option("--max-pending", max_pending,
                 "writes accepted but not yet applied on this member; beyond it 429")
      ->capture_default_str();
  app.add_option("--peer-dial", peer_dial,
                 "ID=URL or ADVERTISED_URL=URL: dial member ID, or whichever member advertises "
                 "ADVERTISED_URL, at URL instead (repeatable; address translation, or the chaos "
                 "tests' fault proxies)");
  app.add_option("--compat", compat,
                 "'raftexample': be a member of an etcd raftexample cluster (its API on --port, "
                 "its log and snapshot formats)")
      ->check(CLI::IsMember({"", "raftexample"}));
  app.add_option("--native-port", native_port,
                 "with --compat: also serve the native API (/v1/..., /health, /metrics) here");
  app.add_option("--peer-cert-file", peer_cert,
                 "TLS certificate for peer traffic (https peer URLs)")
      ->check(CLI::ExistingFile);
  app.add_option("--peer-key-file", peer_key, "TLS key for peer traffic")->check(CLI::ExistingFile);
  app.add_option("--peer-trusted-ca-file", peer_ca, "CA that peer certificates must chain to")
      ->check(CLI::ExistingFile);
  app.add_flag("--peer-client-cert-auth", peer_client_cert_auth,
               "require peers to present a certificate signed by --peer-trusted-ca-file");
  app.add_option("--client-cert-file", client_cert, "TLS certificate for the key-value API")
      ->check(CLI::ExistingFile);
  app.add_option("--client-key-file", client_key, "TLS key for the key-value API")
      ->check(CLI::ExistingFile);
  app.add_option("--client-trusted-ca-file", client_ca,
                 "CA that API clients' certificates must chain to (then they must present one)")
      ->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);

  raftkit::StderrLogger logger(ParseLevel(log_level));
  // --cluster: "URL" entries take their position as id, "ID=URL" entries name it.
  std::map<uint64_t, std::string> urls;
  {
    const std::vector<std::string> entries = Split(cluster);
    for (size_t i = 0; i < entries.size(); ++i) {
      const std::string& e = entries[i];
      const auto eq = e.find('=');
      uint64_t member = i + 1;
      std::string url = e;
      if (eq != std::string::npos) {
        char* end = nullptr;
        member = std::strtoull(e.c_str(), &end, 10);
        url = e.substr(eq + 1);
        if (member == 0 || end != e.c_str() + eq || url.empty()) {
          std::fprintf(stderr, "raftkit-kv: bad --cluster entry %s (want URL or ID=URL)\n",
                       e.c_str());
          return 2;
        }
      }
      if (!urls.emplace(member, url).second) {
        std::fprintf(stderr, "raftkit-kv: member %llu appears twice in --cluster\n",
                     static_cast<unsigned long long>(member));
        return 2;
      }
    }
  }
  if (id == 0 || urls.count(id) == 0) {
    std::fprintf(stderr, "raftkit-kv: --id %llu is not a member of --cluster (%zu entries)\n",
                 static_cast<unsigned long long>(id), urls.size());
    return 2;
  }
  auto own = raftkit::http::ParseUrl(urls[id]);
  if (!own.ok()) {
    std::fprintf(stderr, "raftkit-kv: bad peer URL %s\n", urls[id].c_str());
    return 2;
  }

  const bool raftexample = compat == "raftexample";
  if ((peer_cert.empty()) != (peer_key.empty()) || (client_cert.empty()) != (client_key.empty())) {
    std::fprintf(stderr, "raftkit-kv: a certificate needs its key, and a key its certificate\n");
    return 2;
  }
  raftkit::kv::KvStore store(raftexample ? raftkit::kv::KvStore::Format::kRaftexample
                                         : raftkit::kv::KvStore::Format::kNative);
  auto registry = std::make_shared<prometheus::Registry>();
  raftkit::server::ServerOptions o;
  o.id = raftkit::NodeId(id);
  o.data_dir = data_dir.empty() ? "raftkit-" + std::to_string(id) : data_dir;
  o.peer_listen_address = own.value().host;
  o.peer_listen_port = own.value().port;
  o.advertise_peer_urls = {urls[id]};
  if (!raftexample) {
    // The address clients reach: the listen address, or the peer URL's host for a wildcard.
    const std::string host =
        client_address == "0.0.0.0" || client_address == "::" ? own.value().host : client_address;
    o.advertise_client_urls = {(client_cert.empty() ? "http://" : "https://") + host + ":" +
                               std::to_string(port)};
  }
  for (const auto& [member, url] : urls) {
    o.initial_members.push_back({raftkit::NodeId(member), {url}, false, {}});
  }
  o.join = join;
  for (const auto& d : peer_dial) {
    // ID=URL, or URL=URL: then the first "://" comes before the first '='.
    const size_t scheme = d.find("://");
    auto eq = d.find('=');
    if (scheme != std::string::npos && scheme < eq) eq = d.find('=', scheme);
    if (eq == std::string::npos || eq == 0 || eq + 1 >= d.size()) {
      std::fprintf(stderr, "raftkit-kv: --peer-dial wants ID=URL or URL=URL, got %s\n", d.c_str());
      return 2;
    }
    const std::string key = d.substr(0, eq);
    if (key.find("://") != std::string::npos) {
      o.peer_dial_by_url[key] = d.substr(eq + 1);
      continue;
    }
    char* end = nullptr;
    const uint64_t peer = std::strtoull(key.c_str(), &end, 10);
    if (peer == 0 || end != key.c_str() + key.size()) {
      std::fprintf(stderr, "raftkit-kv: --peer-dial wants ID=URL or URL=URL, got %s\n", d.c_str());
      return 2;
    }
    o.peer_dial_urls[raftkit::NodeId(peer)].push_back(d.substr(eq + 1));
  }
  if (snapshot_count == 0) snapshot_count = raftexample ? 10000 : 100000;
  o.snapshot_count = snapshot_count;
  // As etcd: 5,000 entries stay behind a snapshot for slow followers (fewer for tiny intervals).
  o.snapshot_catchup_entries = std::min<uint64_t>(5000, snapshot_count / 2);
  o.heartbeat_interval = std::chrono::milliseconds(heartbeat_ms);
  o.election_timeout = std::chrono::milliseconds(election_ms);
  o.request_timeout = std::chrono::milliseconds(request_timeout_ms);
  o.max_pending_proposals = max_pending;
  if (raftexample) {
    // As a raftexample member: its formats, inline snapshots, no PreVote or CheckQuorum, and its
    // compaction (keep as many entries as the snapshot interval).
    o.log_format = raftkit::server::LogFormat::kRaftexample;
    o.snapshot_mode = raftkit::rafthttp::SnapshotMode::kInline;
    o.pre_vote = false;
    o.check_quorum = false;
    o.snapshot_catchup_entries = snapshot_count;
  }
  if (!peer_cert.empty()) {
    raftkit::http::TlsServerConfig tls;
    tls.cert_file = peer_cert;
    tls.key_file = peer_key;
    tls.ca_file = peer_ca;
    tls.require_client_cert = peer_client_cert_auth;
    o.peer_tls = tls;
    raftkit::http::TlsClientConfig ctls;
    ctls.ca_file = peer_ca;
    ctls.cert_file = peer_cert;
    ctls.key_file = peer_key;
    o.peer_client_tls = ctls;
  }
  o.state_machine = &store;
  o.metrics = registry;
  o.logger = &logger;

  // Stop on SIGINT/SIGTERM: block them here and wait for one below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = raftkit::server::Server::Start(std::move(o));
  if (!server.ok()) {
    std::fprintf(stderr, "raftkit-kv: %s\n", server.status().ToString().c_str());
    return 1;
  }
  raftkit::kv::ApiOptions api;
  api.max_value_bytes = max_value_bytes;
  api.metrics = registry;
  if (!client_cert.empty()) {
    // A follower hands membership and leadership requests to the leader's https client URL:
    // trusting the client CA (or else the peer CA), presenting this member's client certificate.
    raftkit::http::TlsClientConfig ftls;
    ftls.ca_file = !client_ca.empty() ? client_ca : peer_ca;
    ftls.cert_file = client_cert;
    ftls.key_file = client_key;
    api.forward_tls = ftls;
  }
  std::vector<std::unique_ptr<raftkit::http::Server>> listeners;
  auto listen = [&](uint16_t p, std::vector<raftkit::http::Route> routes, const char* what) {
    raftkit::http::ServerOptions ho;
    ho.address = client_address;
    ho.port = p;
    ho.logger = &logger;
    if (!client_cert.empty()) {
      raftkit::http::TlsServerConfig tls;
      tls.cert_file = client_cert;
      tls.key_file = client_key;
      tls.ca_file = client_ca;
      tls.require_client_cert = !client_ca.empty();
      ho.tls = tls;
    }
    auto http = raftkit::http::Server::Start(ho, std::move(routes));
    if (!http.ok()) {
      std::fprintf(stderr, "raftkit-kv: %s\n", http.status().ToString().c_str());
      return false;
    }
    logger.Infof("raftkit-kv {}: serving {} on {}", id, what, http.value()->url());
    listeners.push_back(std::move(http).value());
    return true;
  };
  if (raftexample) {
    if (!listen(port, raftkit::kv::MakeRaftexampleRoutes(*server.value(), store, api),
                "raftexample's API")) {
      return 1;
    }
    if (native_port != 0 &&
        !listen(native_port, raftkit::kv::MakeRoutes(*server.value(), store, api),
                "the key-value API")) {
      return 1;
    }
  } else if (!listen(port, raftkit::kv::MakeRoutes(*server.value(), store, api),
                     "the key-value API")) {
    return 1;
  }

  int sig = 0;
  sigwait(&signals, &sig);
  logger.Infof("raftkit-kv {}: signal {}, stopping", id, sig);
  for (auto& l : listeners)
    l->Stop();
  server.value()->Stop();
  return 0;
}
