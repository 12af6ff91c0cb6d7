// raftkit-chaos: a Jepsen-style run against raftkit-kv as real processes (docs/chaos.md).
//
// A cluster of raftkit-kv members on 127.0.0.1, each peer link through its own FaultProxy, with a
// spare slot for membership changes. Clients read, write unique values and compare-and-set through
// every member, with timeouts, on a small set of contended keys and a large one; the nemesis
// (nemesis.h) injects every kind of fault in seeded rounds; at the end the links heal, every
// member is brought back, recent keys are read once more, and the history is checked for
// linearizability (tools/lincheck). Prints
//   chaos: <ops> ops, <faults> faults, <anomalies> anomalies, <unavailable_s> s without a leader
// and exits 1 on an anomaly (a lost acknowledged write is one), an unknown verdict, a cluster that
// does not recover, a stretch without any successful operation longer than --max-outage, or (with
// --require-all-kinds) a fault kind that never ran.
//
//   raftkit-chaos --seconds 90 [--seed N] [--nodes 3|5] [--clients 16] [--out DIR]
//   raftkit-chaos --minutes 60                      # a soak
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "chaos/chaos_cluster.h"
#include "chaos/nemesis.h"
#include "lincheck/checker.h"
#include "lincheck/history_json.h"
#include "raftkit/transport/http/client.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace lc = raftkit::lincheck;
namespace chaos = raftkit::chaos;

struct Config {
  double seconds = 60;
  double minutes = 0;
  uint64_t seed = 0;
  int nodes = 3;
  int clients = 16;
  int keys = 5;
  int big_keys = 1000;
  uint64_t snapshot_count = 2000;
  bool require_all_kinds = false;
  bool keep_data = false;
  double max_outage_seconds = 15;
  size_t min_ops = 0;
  std::string out;
  std::string kv_binary = RAFTKIT_KV_BINARY;
};

int64_t Now(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
}

// The outcome of a request as the history records it.
lc::Outcome OutcomeOf(const raftkit::Result<raftkit::http::Response>& r, bool read) {
  if (!r.ok()) {
    // Refused connections never reached a member: certainly not applied. Anything else (a
    // timeout, a reset) may have been.
    if (r.status().message().find("refused") != std::string::npos) return lc::Outcome::kFail;
    return read ? lc::Outcome::kFail : lc::Outcome::kInfo;
  }
  const int s = r.value().status;
  if (s == 200 || s == 204 || (read && s == 404)) return lc::Outcome::kOk;
  if (s == 412 || s == 429 || s == 400) return lc::Outcome::kFail;  // refused before the log
  return read ? lc::Outcome::kFail : lc::Outcome::kInfo;            // 503: may have happened
}

// Beside each client operation, for the availability figures: where it went and whether the
// service answered it (a value, an acknowledgement, or a definite "your CAS expected something
// else"), as opposed to an error, a refusal to serve or silence.
struct Delivery {
  int64_t invoke_time = 0;
  int slot = 0;
  bool served = false;
};

class Recorder {
 public:
  void Add(lc::Operation op, Delivery d = {}) {
    std::lock_guard<std::mutex> g(mu_);
    if (op.client >= 0) deliveries_.push_back(d);
    history_.ops.push_back(std::move(op));
  }
  lc::History Take() {
    std::lock_guard<std::mutex> g(mu_);
    return history_;
  }
  std::vector<Delivery> Deliveries() {
    std::lock_guard<std::mutex> g(mu_);
    return deliveries_;
  }

 private:
  std::mutex mu_;
  lc::History history_;
  std::vector<Delivery> deliveries_;
};

// One read, write or CAS through the member in `slot`, recorded.
lc::Operation Perform(raftkit::http::Client& client, const std::string& api, lc::Operation op,
                      Clock::time_point t0, bool* served = nullptr) {
  raftkit::http::ClientRequest req;
  req.url = api + "/v1/kv/" + op.key;
  if (op.kind == lc::OpKind::kWrite) {
    req.method = "PUT";
    req.body = *op.value;
  } else if (op.kind == lc::OpKind::kCas) {
    req.method = "PUT";
    req.url += "?expect=" + *op.value;
    req.body = *op.new_value;
  }
  op.invoke_time = Now(t0);
  auto r = client.Do(req);
  op.complete_time = Now(t0);
  op.outcome = OutcomeOf(r, op.kind == lc::OpKind::kRead);
  if (served != nullptr) {
    const int status = r.ok() ? r.value().status : 0;
    *served = status == 200 || status == 204 || status == 404 || status == 412;
  }
  if (op.kind == lc::OpKind::kRead && op.outcome == lc::Outcome::kOk) {
    op.value = r.value().status == 404 ? lc::Value() : lc::Value(r.value().body);
  }
  if (op.outcome == lc::Outcome::kInfo) op.complete_time = lc::kOpenEnded;
  return op;
}

std::string Percentile(std::vector<int64_t> v, double p) {
  if (v.empty()) return "-";
  std::sort(v.begin(), v.end());
  const auto i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return std::to_string(v[std::min(i, v.size() - 1)] / 1000) + " ms";
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  CLI::App app{"raftkit-chaos: faults against a raftkit-kv cluster, checked for linearizability"};
  app.add_option("--seconds", cfg.seconds, "length of the faulty phase")->capture_default_str();
  app.add_option("--minutes", cfg.minutes, "the same in minutes (a soak); overrides --seconds");
  app.add_option("--seed", cfg.seed, "schedule seed (0: a fresh one, printed)");
  app.add_option("--nodes", cfg.nodes, "voting members (3 or 5); one more slot for joins")
      ->capture_default_str()
      ->check(CLI::Range(3, 7));
  app.add_option("--clients", cfg.clients, "concurrent clients")->capture_default_str();
  app.add_option("--keys", cfg.keys,
                 "contended keys at a time (a new set each second); a third of the operations")
      ->capture_default_str();
  app.add_option("--big-keys", cfg.big_keys,
                 "keys of the large set (a new set each minute); the rest of the operations")
      ->capture_default_str();
  app.add_option("--snapshot-count", cfg.snapshot_count,
                 "the members' --snapshot-count (small: snapshots and compaction all the time)")
      ->capture_default_str();
  app.add_flag("--require-all-kinds", cfg.require_all_kinds,
               "fail unless every kind of fault ran at least once (the CI run)");
  app.add_option("--out", cfg.out,
                 "folder for the history, the faults and the summary, and the members' data and "
                 "logs (kept after a failure); default $TMPDIR/raftkit-chaos-<seed>");
  app.add_option("--max-outage", cfg.max_outage_seconds,
                 "fail when no operation succeeds for longer than this many seconds (a liveness "
                 "bug: every fault leaves a majority that can serve)")
      ->capture_default_str();
  app.add_option("--min-ops", cfg.min_ops,
                 "fail when fewer operations were recorded (the CI run asks for 20,000)");
  app.add_flag("--keep-data", cfg.keep_data,
               "keep the members' data directories and logs (in --out) after a passing run too");
  app.add_option("--kv-binary", cfg.kv_binary, "raftkit-kv executable")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (cfg.minutes > 0) cfg.seconds = cfg.minutes * 60;
  if (cfg.seed == 0) cfg.seed = std::random_device{}() | 1;
  std::printf(
      "chaos: seed %llu, %d members (+1 slot), %d clients, %d contended keys, %d big keys, "
      "%.0f s\n",
      static_cast<unsigned long long>(cfg.seed), cfg.nodes, cfg.clients, cfg.keys, cfg.big_keys,
      cfg.seconds);
  std::fflush(stdout);

  // Every run leaves its history and summary behind (by default in $TMPDIR/raftkit-chaos-<seed>).
  const std::filesystem::path dir =
      !cfg.out.empty()
          ? std::filesystem::path(cfg.out)
          : std::filesystem::temp_directory_path() / ("raftkit-chaos-" + std::to_string(cfg.seed));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto base = static_cast<uint16_t>(20000 + (getpid() % 300) * 40);
  chaos::ChaosCluster cluster(
      cfg.nodes, cfg.nodes + 1, dir / "cluster", base, cfg.kv_binary,
      {"--request-timeout", "2000", "--snapshot-count", std::to_string(cfg.snapshot_count)});
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
        const std::vector<int> targets = cluster.Targets();
        const int slot = targets[rng() % targets.size()];
        lc::Operation op;
        op.client = c;
        // Keys move on (as Jepsen's independent keys do): the checker's search grows with the
        // operations left open (unknown outcomes) on one key, so each key gets a bounded share of
        // the run. Contended keys change every second, the large set every minute.
        const int64_t now = Now(t0);
        if (rng() % 3 == 0) {
          op.key = "k" + std::to_string(rng() % static_cast<uint64_t>(cfg.keys)) + "-" +
                   std::to_string(now / 1'000'000);
        } else {
          op.key = "b" + std::to_string(rng() % static_cast<uint64_t>(cfg.big_keys)) + "-" +
                   std::to_string(now / 60'000'000);
        }
        const uint64_t dice = rng() % 10;
        if (dice < 4) {
          op.kind = lc::OpKind::kRead;
        } else if (dice < 8) {
          op.kind = lc::OpKind::kWrite;
          op.value = std::to_string(++unique);
        } else {
          op.kind = lc::OpKind::kCas;
          op.value = std::to_string(unique.load() - rng() % 3);  // a recent value, often stale
          op.new_value = std::to_string(++unique);
        }
        Delivery d;
        d.slot = slot;
        lc::Operation done = Perform(*client, cluster.Api(slot), std::move(op), t0, &d.served);
        d.invoke_time = done.invoke_time;
        const bool failed = done.outcome != lc::Outcome::kOk;
        rec.Add(std::move(done), d);
        if (failed) std::this_thread::sleep_for(20ms);
      }
    });
  }

  // Availability: time without a leader that is running and not paused.
  std::atomic<int64_t> leaderless_us{0};
  std::thread watcher([&] {
    auto last = Clock::now();
    while (!stop) {
      std::this_thread::sleep_for(200ms);
      const bool none = cluster.LeaderSlot() == 0;
      const auto now = Clock::now();
      if (none) {
        leaderless_us += std::chrono::duration_cast<std::chrono::microseconds>(now - last).count();
      }
      last = now;
    }
  });

  // The nemesis: a while, a fault (held, healed), again until the end.
  chaos::Nemesis nemesis(cluster, cfg.nodes, cfg.seed, t0);
  std::mt19937_64 rng(cfg.seed ^ 0x9e3779b97f4a7c15ULL);
  std::vector<chaos::FaultRecord> faults;
  std::ofstream faults_file(dir / "faults.txt");
  {
    // The members' logs carry UTC times: this line relates them to the times here.
    const auto wall = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    tm utc{};
    gmtime_r(&wall, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
    faults_file << "# seed " << cfg.seed << "; times in seconds since " << stamp
                << " (the members' logs are in UTC)\n";
  }
  const auto end = t0 + std::chrono::milliseconds(static_cast<int64_t>(cfg.seconds * 1000));
  while (Clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1000 + rng() % 2000));
    if (Clock::now() >= end) break;
    chaos::FaultRecord f = nemesis.Run(nemesis.Next());
    char line[512];
    std::snprintf(line, sizeof line, "[%8.3f, %8.3f] %-17s %s", f.start_us / 1e6, f.end_us / 1e6,
                  chaos::FaultKindName(f.kind), f.detail.c_str());
    std::printf("chaos: %s\n", line);
    std::fflush(stdout);
    faults_file << line << "\n";
    faults_file.flush();
    faults.push_back(std::move(f));
  }

  // Heal, bring everyone back, let the clients see a healthy cluster, then final reads.
  cluster.HealAll();
  for (int slot : cluster.Occupied()) {
    if (!cluster.running(slot)) cluster.Start(slot);
    if (cluster.paused(slot)) cluster.Resume(slot);
  }
  const bool healthy = cluster.WaitHealthy(60s);
  std::this_thread::sleep_for(2s);
  stop = true;
  for (auto& t : clients)
    t.join();
  watcher.join();
  {
    // A final read of every key touched lately (contended keys of the last two seconds, the large
    // set of the last two minutes): acknowledged writes must still be there.
    const lc::History so_far = rec.Take();
    const int64_t now = Now(t0);
    std::set<std::string> last_keys;
    for (const auto& op : so_far.ops) {
      const bool contended = op.key[0] == 'k';
      if (op.invoke_time >= now - (contended ? 2'000'000 : 120'000'000)) last_keys.insert(op.key);
    }
    auto client = raftkit::http::Client::Create({}).value();
    const std::vector<int> slots = cluster.Occupied();
    size_t i = 0;
    for (const std::string& key : last_keys) {
      lc::Operation op;
      op.client = -1;
      op.key = key;
      op.kind = lc::OpKind::kRead;
      rec.Add(Perform(*client, cluster.Api(slots[i++ % slots.size()]), std::move(op), t0));
    }
  }

  lc::History history = rec.Take();
  lc::CheckOptions co;
  co.timeout = std::chrono::seconds(static_cast<int64_t>(std::max(120.0, cfg.seconds / 4)));
  const auto check_start = Clock::now();
  auto result = lc::Check(history, co);
  const double check_s = std::chrono::duration<double>(Clock::now() - check_start).count();
  int anomalies = 0;
  std::string verdict = "unchecked";
  if (result.ok()) {
    verdict = lc::VerdictName(result.value().verdict);
    anomalies = result.value().verdict == lc::Verdict::kNotLinearizable ? 1 : 0;
  } else {
    verdict = result.status().ToString();
  }

  // The figures.
  size_t ok = 0, failed = 0, info = 0;
  for (const auto& op : history.ops) {
    (op.outcome == lc::Outcome::kOk ? ok : op.outcome == lc::Outcome::kFail ? failed : info)++;
  }
  std::map<std::string, int> kinds;
  std::vector<int64_t> new_leader;
  int leader_kills = 0, no_new_leader = 0;
  for (const auto& f : faults) {
    ++kinds[chaos::FaultKindName(f.kind)];
    if (f.leader_killed) {
      ++leader_kills;
      if (f.new_leader_us >= 0) {
        new_leader.push_back(f.new_leader_us);
      } else {
        ++no_new_leader;
      }
    }
  }
  // During partitions that left a majority: requests through any member, and through the
  // majority's members (the minority's cannot serve writes or linearizable reads).
  size_t part_ops = 0, part_served = 0, major_ops = 0, major_served = 0;
  for (const Delivery& d : rec.Deliveries()) {
    for (const auto& f : faults) {
      if (!f.majority_partition || d.invoke_time < f.start_us || d.invoke_time > f.end_us) {
        continue;
      }
      ++part_ops;
      part_served += d.served ? 1 : 0;
      if (f.minority.count(d.slot) == 0) {
        ++major_ops;
        major_served += d.served ? 1 : 0;
      }
      break;
    }
  }
  // Liveness: the longest stretch without any client operation completing successfully.
  int64_t outage_us = 0, outage_end_us = 0;
  {
    std::vector<int64_t> done;
    for (const auto& op : history.ops) {
      if (op.client >= 0 && op.outcome == lc::Outcome::kOk) done.push_back(op.complete_time);
    }
    std::sort(done.begin(), done.end());
    int64_t prev = 0;
    for (int64_t t : done) {
      if (t - prev > outage_us) {
        outage_us = t - prev;
        outage_end_us = t;
      }
      prev = t;
    }
  }
  const bool outage_too_long = static_cast<double>(outage_us) / 1e6 > cfg.max_outage_seconds;
  // Torn WAL tails: each restart after one must have cut it (the member logs it).
  int torn = 0;
  for (const auto& f : faults) {
    if (f.kind == chaos::FaultKind::kTornWal && f.detail.find("WAL got") != std::string::npos) {
      ++torn;
    }
  }
  int torn_cut = 0;
  for (int slot = 1; slot <= cluster.slots(); ++slot) {
    const std::string log = cluster.LogTail(slot, 1 << 30);
    for (size_t at = log.find("cut a torn WAL tail"); at != std::string::npos;
         at = log.find("cut a torn WAL tail", at + 1)) {
      ++torn_cut;
    }
  }
  std::vector<std::string> missing;
  for (auto k : chaos::AllFaultKinds()) {
    if (kinds.count(chaos::FaultKindName(k)) == 0) missing.push_back(chaos::FaultKindName(k));
  }

  std::ostringstream summary;
  std::string kinds_text;
  for (const auto& [k, n] : kinds)
    kinds_text += (kinds_text.empty() ? "" : ", ") + k + " " + std::to_string(n);
  summary << "chaos: seed " << cfg.seed << ", " << cfg.nodes << " members, "
          << static_cast<int>(cfg.seconds) << " s\n";
  summary << "chaos: faults by kind: " << kinds_text << "\n";
  if (!missing.empty()) {
    std::string m;
    for (const auto& k : missing)
      m += (m.empty() ? "" : ", ") + k;
    summary << "chaos: kinds that did not run: " << m << "\n";
  }
  summary << "chaos: " << ok << " ok, " << failed << " failed, " << info
          << " unknown; verdict: " << verdict << " (checked in " << static_cast<int>(check_s * 1000)
          << " ms); healthy at the end: " << (healthy ? "yes" : "no") << "\n";
  summary << "chaos: new leader after a leader kill: p50 " << Percentile(new_leader, 0.5)
          << ", max " << Percentile(new_leader, 1.0) << " (" << leader_kills << " leader kills"
          << (no_new_leader > 0 ? ", " + std::to_string(no_new_leader) + " without one in 15 s"
                                : std::string())
          << ")\n";
  auto percent = [](size_t part, size_t whole) {
    char buf[32];
    std::snprintf(
        buf, sizeof buf, "%.1f%%",
        whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole));
    return std::string(buf);
  };
  summary << "chaos: during partitions that left a majority: " << part_served << " of " << part_ops
          << " requests served (" << percent(part_served, part_ops) << "); through the majority's "
          << "members " << major_served << " of " << major_ops << " ("
          << percent(major_served, major_ops) << ")\n";
  char outage[160];
  std::snprintf(outage, sizeof outage,
                "chaos: longest time without a successful operation: %.1f s (until %.1f s)%s\n",
                static_cast<double>(outage_us) / 1e6, static_cast<double>(outage_end_us) / 1e6,
                outage_too_long ? " - longer than --max-outage" : "");
  summary << outage;
  summary << "chaos: torn WAL tails left: " << torn << ", cut on restart: " << torn_cut << "\n";
  char last[256];
  std::snprintf(last, sizeof last,
                "chaos: %zu ops, %zu faults, %d anomalies, %.1f s without a leader\n",
                history.ops.size(), faults.size(), anomalies,
                static_cast<double>(leaderless_us.load()) / 1e6);
  summary << last;
  if (history.ops.size() < cfg.min_ops) {
    summary << "chaos: fewer operations than --min-ops " << cfg.min_ops << "\n";
  }
  std::printf("%s", summary.str().c_str());
  {
    std::ofstream out(dir / "summary.txt");
    out << summary.str();
  }

  const bool bad = anomalies > 0 || !result.ok() ||
                   result.value().verdict != lc::Verdict::kLinearizable || !healthy ||
                   torn_cut < torn || outage_too_long || history.ops.size() < cfg.min_ops ||
                   (cfg.require_all_kinds && !missing.empty());
  if (result.ok() && !result.value().explanation.empty()) {
    std::printf("%s\n", result.value().explanation.c_str());
    std::ofstream out(dir / "anomaly.txt");
    out << result.value().explanation;
  }
  // The history, for raftkit-lincheck (docs/chaos.md).
  const raftkit::Status st = lc::WriteHistoryJsonl(history, (dir / "history.jsonl").string());
  if (!st.ok()) std::fprintf(stderr, "chaos: %s\n", st.ToString().c_str());
  if (bad) {
    std::printf("chaos: seed %llu failed; history, faults and members' logs kept in %s\n",
                static_cast<unsigned long long>(cfg.seed), dir.c_str());
    return 1;
  }
  // Passed: the members' data goes (unless --keep-data); the history and the summary stay.
  if (!cfg.keep_data) std::filesystem::remove_all(dir / "cluster");
  std::printf("chaos: history, faults and summary in %s\n", dir.c_str());
  return 0;
}
