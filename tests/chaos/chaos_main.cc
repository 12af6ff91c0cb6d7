// raftkit-chaos: a Jepsen-style run against raftkit-kv as real processes (issue 8, first version).
//
// A cluster of raftkit-kv members on 127.0.0.1, each peer link through its own FaultProxy; clients
// read, write unique values and compare-and-set on a few keys through every member, with
// timeouts; a nemesis picks faults from a seeded schedule (kill -9 and restart, the leader
// especially; SIGSTOP/SIGCONT; partitions: leader isolated, majority/minority, one-way; connection
// resets); at the end the links heal, every member is brought back, every key is read, and the
// history is checked for linearizability (tools/lincheck). Prints
//   chaos: <ops> ops, <faults> faults, <anomalies> anomalies, <unavailable_s> s without a leader
// and exits 1 on an anomaly (the history is kept in --out for a failed run).
//
//   raftkit-chaos --seconds 60 [--seed N] [--nodes 3|5] [--clients 12] [--out DIR]
//   raftkit-chaos --minutes 60                      # a soak
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "chaos/chaos_cluster.h"
#include "lincheck/checker.h"
#include "raftkit/transport/http/client.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace lc = raftkit::lincheck;

struct Config {
  double seconds = 60;
  double minutes = 0;
  uint64_t seed = 0;
  int nodes = 3;
  int clients = 12;
  int keys = 5;
  std::string out;
  std::string kv_binary = RAFTKIT_KV_BINARY;
};

int64_t Now(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
}

// The outcome of a request as the history records it.
lc::Outcome OutcomeOf(const raftkit::Result<raftkit::http::Response>& r, bool read) {
  if (!r.ok()) return read ? lc::Outcome::kFail : lc::Outcome::kInfo;  // timeout, reset: unknown
  const int s = r.value().status;
  if (s == 200 || s == 204 || (read && s == 404)) return lc::Outcome::kOk;
  if (s == 412 || s == 429 || s == 400) return lc::Outcome::kFail;  // refused before the log
  return read ? lc::Outcome::kFail : lc::Outcome::kInfo;            // 503: may have happened
}

class Recorder {
 public:
  void Add(lc::Operation op) {
    std::lock_guard<std::mutex> g(mu_);
    history_.ops.push_back(std::move(op));
  }
  lc::History Take() {
    std::lock_guard<std::mutex> g(mu_);
    return history_;
  }

 private:
  std::mutex mu_;
  lc::History history_;
};

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  CLI::App app{"raftkit-chaos: faults against a raftkit-kv cluster, checked for linearizability"};
  app.add_option("--seconds", cfg.seconds, "length of the faulty phase")->capture_default_str();
  app.add_option("--minutes", cfg.minutes, "the same in minutes (a soak); overrides --seconds");
  app.add_option("--seed", cfg.seed, "schedule seed (0: a fresh one, printed)");
  app.add_option("--nodes", cfg.nodes, "members (3 or 5)")->capture_default_str();
  app.add_option("--clients", cfg.clients, "concurrent clients")->capture_default_str();
  app.add_option("--keys", cfg.keys,
                 "keys the clients contend on at a time (a new set each second)")
      ->capture_default_str();
  app.add_option("--out", cfg.out, "folder for the history and the members' logs");
  app.add_option("--kv-binary", cfg.kv_binary, "raftkit-kv executable")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (cfg.minutes > 0) cfg.seconds = cfg.minutes * 60;
  if (cfg.seed == 0) cfg.seed = std::random_device{}() | 1;
  std::printf("chaos: seed %llu, %d members, %d clients, %d keys, %.0f s\n",
              static_cast<unsigned long long>(cfg.seed), cfg.nodes, cfg.clients, cfg.keys,
              cfg.seconds);
  std::fflush(stdout);

  const std::filesystem::path dir =
      cfg.out.empty()
          ? std::filesystem::temp_directory_path() / ("raftkit-chaos-" + std::to_string(getpid()))
          : std::filesystem::path(cfg.out);
  std::filesystem::remove_all(dir);
  const auto base = static_cast<uint16_t>(20000 + (getpid() % 600) * 20);
  raftkit::chaos::ChaosCluster cluster(cfg.nodes, dir / "cluster", base, cfg.kv_binary,
                                       {"--request-timeout", "2000"});
  if (!cluster.WaitHealthy(30s)) {
    std::fprintf(stderr, "chaos: the cluster did not become healthy\n");
    return 2;
  }

  const auto t0 = Clock::now();
  Recorder rec;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> unique{0};

  // Clients: each its own connection pool; a member chosen per request.
  std::vector<std::thread> clients;
  for (int c = 0; c < cfg.clients; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937_64 rng(cfg.seed * 1000 + static_cast<uint64_t>(c));
      raftkit::http::ClientOptions co;
      co.connect_timeout = 1s;
      co.response_header_timeout = 3s;
      co.idle_timeout = 3s;
      auto client = raftkit::http::Client::Create(co).value();
      while (!stop) {
        const int member = static_cast<int>(rng() % static_cast<uint64_t>(cfg.nodes)) + 1;
        lc::Operation op;
        op.client = c;
        // Keys move on every second (as Jepsen's independent keys do): the checker's search grows
        // with the operations left open (unknown outcomes) on one key, so each key gets a
        // bounded share of the run.
        op.key = "k" + std::to_string(rng() % static_cast<uint64_t>(cfg.keys)) + "-" +
                 std::to_string(Now(t0) / 1'000'000);
        raftkit::http::ClientRequest req;
        req.url = cluster.Api(member) + "/v1/kv/" + op.key;
        const uint64_t dice = rng() % 10;
        if (dice < 4) {
          op.kind = lc::OpKind::kRead;
        } else if (dice < 8) {
          op.kind = lc::OpKind::kWrite;
          op.value = std::to_string(++unique);
          req.method = "PUT";
          req.body = *op.value;
        } else {
          op.kind = lc::OpKind::kCas;
          op.value = std::to_string(unique.load() - rng() % 3);  // a recent value, often stale
          op.new_value = std::to_string(++unique);
          req.method = "PUT";
          req.url += "?expect=" + *op.value;
          req.body = *op.new_value;
        }
        op.invoke_time = Now(t0);
        auto r = client->Do(req);
        op.complete_time = Now(t0);
        op.outcome = OutcomeOf(r, op.kind == lc::OpKind::kRead);
        if (op.kind == lc::OpKind::kRead && op.outcome == lc::Outcome::kOk) {
          op.value = r.value().status == 404 ? lc::Value() : lc::Value(r.value().body);
        }
        if (op.outcome == lc::Outcome::kInfo) op.complete_time = lc::kOpenEnded;
        rec.Add(std::move(op));
        if (!r.ok()) std::this_thread::sleep_for(50ms);
      }
    });
  }

  // Availability: time without a leader most members agree on.
  std::atomic<int64_t> leaderless_us{0};
  std::thread watcher([&] {
    auto last = Clock::now();
    while (!stop) {
      std::this_thread::sleep_for(200ms);
      // A leader that is dead or stopped does not count, even while others still name it.
      const auto l = static_cast<int>(cluster.Leader());
      const bool none = l == 0 || !cluster.running(l) || cluster.paused(l);
      const auto now = Clock::now();
      if (none) {
        leaderless_us += std::chrono::duration_cast<std::chrono::microseconds>(now - last).count();
      }
      last = now;
    }
  });

  // The nemesis: a fault, a while, heal, a while.
  std::mt19937_64 rng(cfg.seed);
  int faults = 0;
  std::map<std::string, int> kinds;
  // Every kind once per round of six, in a seeded order: a short run still sees all of them.
  std::vector<int> round;
  const auto end = t0 + std::chrono::milliseconds(static_cast<int64_t>(cfg.seconds * 1000));
  while (Clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1000 + rng() % 2000));
    if (Clock::now() >= end) break;
    const uint64_t leader = cluster.Leader();
    const int victim = leader != 0 && rng() % 2 == 0
                           ? static_cast<int>(leader)
                           : static_cast<int>(rng() % static_cast<uint64_t>(cfg.nodes)) + 1;
    std::string kind;
    if (round.empty()) {
      round = {0, 1, 2, 3, 4, 5};
      std::shuffle(round.begin(), round.end(), rng);
    }
    const int pick = round.back();
    round.pop_back();
    switch (pick) {
      case 0:
        kind = "kill";
        cluster.Kill(victim);
        std::this_thread::sleep_for(std::chrono::milliseconds(500 + rng() % 2500));
        cluster.Start(victim);
        break;
      case 1:
        kind = "pause";
        cluster.Pause(victim);
        std::this_thread::sleep_for(std::chrono::milliseconds(500 + rng() % 2500));
        cluster.Resume(victim);
        break;
      case 2: {
        kind = "isolate";
        std::set<int> rest;
        for (int i = 1; i <= cfg.nodes; ++i) {
          if (i != victim) rest.insert(i);
        }
        cluster.Partition({{victim}, rest});
        std::this_thread::sleep_for(std::chrono::milliseconds(1000 + rng() % 3000));
        cluster.HealAll();
        break;
      }
      case 3: {
        kind = "majority-minority";
        std::vector<int> ids;
        for (int i = 1; i <= cfg.nodes; ++i)
          ids.push_back(i);
        std::shuffle(ids.begin(), ids.end(), rng);
        std::set<int> minority(ids.begin(), ids.begin() + (cfg.nodes - 1) / 2);
        std::set<int> majority(ids.begin() + (cfg.nodes - 1) / 2, ids.end());
        cluster.Partition({minority, majority});
        std::this_thread::sleep_for(std::chrono::milliseconds(1000 + rng() % 3000));
        cluster.HealAll();
        break;
      }
      case 4: {
        kind = "one-way";
        int other = static_cast<int>(rng() % static_cast<uint64_t>(cfg.nodes)) + 1;
        if (other == victim) other = other % cfg.nodes + 1;
        cluster.Cut(victim, other);
        std::this_thread::sleep_for(std::chrono::milliseconds(1000 + rng() % 3000));
        cluster.HealAll();
        break;
      }
      default:
        kind = "reset";
        cluster.ResetLinks(victim);
        break;
    }
    ++faults;
    ++kinds[kind];
  }

  // Heal, bring everyone back, let the clients see a healthy cluster, then final reads.
  cluster.HealAll();
  for (int i = 1; i <= cfg.nodes; ++i) {
    if (!cluster.running(i)) cluster.Start(i);
    if (cluster.paused(i)) cluster.Resume(i);
  }
  const bool healthy = cluster.WaitHealthy(60s);
  std::this_thread::sleep_for(2s);
  stop = true;
  for (auto& t : clients)
    t.join();
  watcher.join();
  {
    // A final read of every key written in the last second of the run, on a healthy cluster.
    std::set<std::string> last_keys;
    const lc::History so_far = rec.Take();
    const int64_t last_second = so_far.ops.empty() ? 0 : Now(t0) / 1'000'000;
    for (const auto& op : so_far.ops) {
      if (op.invoke_time / 1'000'000 >= last_second - 1) last_keys.insert(op.key);
    }
    auto client = raftkit::http::Client::Create({}).value();
    for (const std::string& key : last_keys) {
      lc::Operation op;
      op.client = -1;
      op.key = key;
      raftkit::http::ClientRequest req;
      req.url = cluster.Api(1) + "/v1/kv/" + op.key;
      op.invoke_time = Now(t0);
      auto r = client->Do(req);
      op.complete_time = Now(t0);
      op.outcome = OutcomeOf(r, true);
      if (op.outcome == lc::Outcome::kOk) {
        op.value = r.value().status == 404 ? lc::Value() : lc::Value(r.value().body);
      }
      rec.Add(std::move(op));
    }
  }

  lc::History history = rec.Take();
  lc::CheckOptions co;
  co.timeout = 120s;
  auto result = lc::Check(history, co);
  int anomalies = 0;
  std::string verdict = "unchecked";
  if (result.ok()) {
    verdict = lc::VerdictName(result.value().verdict);
    anomalies = result.value().verdict == lc::Verdict::kNotLinearizable ? 1 : 0;
  } else {
    verdict = result.status().ToString();
  }
  size_t ok = 0, failed = 0, info = 0;
  for (const auto& op : history.ops) {
    (op.outcome == lc::Outcome::kOk ? ok : op.outcome == lc::Outcome::kFail ? failed : info)++;
  }
  std::string kinds_text;
  for (const auto& [k, n] : kinds)
    kinds_text += (kinds_text.empty() ? "" : ", ") + k + " " + std::to_string(n);
  std::printf("chaos: faults by kind: %s\n", kinds_text.c_str());
  std::printf("chaos: %zu ok, %zu failed, %zu unknown; verdict: %s; healthy at the end: %s\n", ok,
              failed, info, verdict.c_str(), healthy ? "yes" : "no");
  std::printf("chaos: %zu ops, %d faults, %d anomalies, %.1f s without a leader\n",
              history.ops.size(), faults, anomalies,
              static_cast<double>(leaderless_us.load()) / 1e6);
  const bool bad = anomalies > 0 || !result.ok() ||
                   result.value().verdict != lc::Verdict::kLinearizable || !healthy;
  if (bad) {
    if (result.ok()) std::printf("%s\n", result.value().explanation.c_str());
    std::ofstream out(dir / "history.jsonl");
    for (const auto& op : history.ops)
      out << lc::DescribeOperation(op) << " key=" << op.key << "\n";
    std::printf("chaos: seed %llu failed; history and logs kept in %s\n",
                static_cast<unsigned long long>(cfg.seed), dir.c_str());
    return 1;
  }
  std::filesystem::remove_all(dir);
  return 0;
}
