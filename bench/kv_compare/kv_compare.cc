// kv_compare: raftkit-kv vs etcd 3.4 as 3-node clusters on this machine, in one run, on the same
// disk, driven by the same closed-loop load generator (tools/bench, raftkit_loadgen).
//
// Usage:
//   kv_compare                      full run: 10 s rows after 2 s of warm-up (about 3 minutes)
//   kv_compare --quick              smoke: 1 s rows, 1 and 64 writing clients, then the reads
//   kv_compare --json out.json --seconds 20 --put-clients 1,64 --get-clients 128
//   kv_compare --only raftkit --kv-binary build/apps/kv/raftkit-kv
//
// What one run does, for raftkit-kv and then for etcd (/usr/bin/etcd, --etcd-binary):
//   1. starts three members (data dirs under one temp dir, removed at the end, also on failure or
//      Ctrl-C; children are stopped by PID: SIGTERM, SIGKILL after 5 s) on 127.0.0.1 ports below
//      32768 derived from this process's id, and waits until GET /health answers on all three
//      (raftkit: 200; etcd: {"health":"true"});
//   2. runs the rows: committed PUTs at 1, 16, 64 and 256 clients, then linearizable GETs at 64
//      clients after every key was written once. Clients are spread over all three members
//      (followers forward to the leader, as for real users). Keys: 16 bytes out of 10000, values:
//      100 bytes; both systems fsync their logs (their defaults);
//   3. samples every member's VmRSS after each row and stops the cluster.
// raftkit requests: PUT/GET /v1/kv/{key}. etcd requests: its v3 JSON gateway (POST /v3/kv/put,
// POST /v3/kv/range) on the client URL, so both are HTTP/1.1 + JSON-ish text with keep-alive; a
// gRPC client would spare etcd the gateway's extra hop.
// Prints one table (ops/s, p50, p99 for each system, raftkit/etcd ratios) and the RSS per member;
// --json FILE writes everything, including each row's full generator result.
// Exit status: 0 done, 1 a cluster failed to start or died, 130 interrupted.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "loadgen.h"
#include "raftkit/transport/http/client.h"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using raftkit::ErrorCode;
using raftkit::Result;
using raftkit::Status;
using raftkit::bench::LoadOptions;
using raftkit::bench::LoadResult;
using raftkit::bench::Target;
namespace fs = std::filesystem;

std::atomic<bool> g_interrupted{false};

void OnSignal(int) {
  g_interrupted.store(true);
}

struct Config {
  std::string kv_binary = RAFTKIT_KV_BINARY;
  std::string etcd_binary = "/usr/bin/etcd";
  double seconds = 10;
  double warmup = 2;
  bool quick = false;
  std::vector<int> put_clients = {1, 16, 64, 256};
  int get_clients = 64;
  uint64_t keys = 10000;
  size_t key_size = 16;
  size_t value_size = 100;
  int threads = 1;
  std::string only;  // "", "raftkit" or "etcd"
  std::string json_path;
};

struct Row {
  std::string name;
  int clients = 1;
  bool read = false;
};

// A directory under $TMPDIR (or /tmp), removed with everything in it when this goes away.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "kv_compare-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Three server processes. Stops (and reaps) them when destroyed.
class Cluster {
 public:
  Cluster() = default;
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;
  ~Cluster() { Stop(); }

  Status Spawn(const std::string& name, std::vector<std::string> args, const fs::path& log) {
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, args[0].c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      return Status(ErrorCode::kIoError,
                    fmt::format("cannot start {}: {}", args[0], std::strerror(rc)));
    }
    members_.push_back({name, pid, log, 0});
    return Status::Ok();
  }

  // kIoError naming the first member that exited (with the end of its log).
  Status CheckAlive() {
    for (auto& m : members_) {
      if (m.pid <= 0) continue;
      int status = 0;
      if (waitpid(m.pid, &status, WNOHANG) == m.pid) {
        m.pid = -1;
        return Status(ErrorCode::kIoError,
                      fmt::format("{} exited (status {:#x}); log {}:\n{}", m.name, status,
                                  m.log.string(), Tail(m.log)));
      }
    }
    return Status::Ok();
  }

  // Records every member's current VmRSS into its maximum.
  void SampleRss() {
    for (auto& m : members_) {
      if (m.pid <= 0) continue;
      std::ifstream in(fmt::format("/proc/{}/status", m.pid));
      std::string line;
      while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
          const uint64_t kb = std::strtoull(line.c_str() + 6, nullptr, 10);
          m.max_rss_kb = std::max(m.max_rss_kb, kb);
        }
      }
    }
  }

  // SIGTERM to all, then SIGKILL to those still running after 5 s; reaps them all.
  void Stop() {
    for (auto& m : members_)
      if (m.pid > 0) kill(m.pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    for (auto& m : members_) {
      while (m.pid > 0) {
        int status = 0;
        if (waitpid(m.pid, &status, WNOHANG) == m.pid) {
          m.pid = -1;
        } else if (std::chrono::steady_clock::now() >= deadline) {
          kill(m.pid, SIGKILL);
          waitpid(m.pid, &status, 0);
          m.pid = -1;
        } else {
          std::this_thread::sleep_for(20ms);
        }
      }
    }
  }

  [[nodiscard]] std::vector<std::pair<std::string, uint64_t>> MaxRss() const {
    std::vector<std::pair<std::string, uint64_t>> out;
    for (const auto& m : members_)
      out.emplace_back(m.name, m.max_rss_kb);
    return out;
  }

 private:
  static std::string Tail(const fs::path& log) {
    std::ifstream in(log);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) {
      lines.push_back(line);
      if (lines.size() > 10) lines.erase(lines.begin());
    }
    std::string out;
    for (const auto& l : lines)
      out += "  " + l + "\n";
    return out;
  }

  struct Member {
    std::string name;
    pid_t pid;
    fs::path log;
    uint64_t max_rss_kb;
  };
  std::vector<Member> members_;
};

bool PortFree(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

// 12 consecutive ports below Linux's ephemeral range (32768+), derived from the pid so that
// parallel runs (and the e2e tests, which use 20000 + (pid % 1200) * 10) rarely collide; a block
// with a busy port is skipped.
uint16_t PickBasePort() {
  const int slots = 900;
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int slot = (static_cast<int>(getpid()) + attempt * 37) % slots;
    const auto base = static_cast<uint16_t>(21000 + slot * 12);
    bool free = true;
    for (uint16_t p = base; p < base + 12 && free; ++p)
      free = PortFree(p);
    if (free) return base;
  }
  return static_cast<uint16_t>(21000 + (getpid() % slots) * 12);
}

std::string Url(uint16_t port) {
  return fmt::format("http://127.0.0.1:{}", port);
}

// Polls GET <url>/health on every endpoint until `healthy` accepts the answer.
Status WaitHealthy(Cluster& cluster, const std::vector<std::string>& endpoints,
                   bool (*healthy)(const raftkit::http::Response&)) {
  raftkit::http::ClientOptions co;
  co.connect_timeout = 1000ms;
  co.response_header_timeout = 2000ms;
  auto client = raftkit::http::Client::Create(co);
  if (!client.ok()) return client.status();
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  for (const auto& ep : endpoints) {
    while (true) {
      if (g_interrupted) return Status(ErrorCode::kStopped, "interrupted");
      RAFTKIT_RETURN_IF_ERROR(cluster.CheckAlive());
      raftkit::http::ClientRequest req;
      req.method = "GET";
      req.url = ep + "/health";
      auto r = client.value()->Do(req);
      if (r.ok() && healthy(r.value())) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        return Status(ErrorCode::kTimeout, ep + "/health did not turn healthy in 60 s");
      }
      std::this_thread::sleep_for(100ms);
    }
  }
  return Status::Ok();
}

bool RaftkitHealthy(const raftkit::http::Response& r) {
  return r.status == 200;
}

bool EtcdHealthy(const raftkit::http::Response& r) {
  if (r.status != 200) return false;
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  return j.is_object() && j.value("health", std::string()) == "true";
}

// Starts the three members of `target` under `dir`; returns their client endpoints.
Result<std::vector<std::string>> StartCluster(Target target, const Config& cfg, uint16_t base,
                                              const fs::path& dir, Cluster& cluster) {
  std::vector<std::string> endpoints;
  if (target == Target::kRaftkit) {
    std::string peers;
    for (int i = 0; i < 3; ++i)
      peers += (i ? "," : "") + Url(static_cast<uint16_t>(base + i));
    for (int i = 1; i <= 3; ++i) {
      const auto api = static_cast<uint16_t>(base + 2 + i);
      endpoints.push_back(Url(api));
      RAFTKIT_RETURN_IF_ERROR(
          cluster.Spawn(fmt::format("n{}", i),
                        {cfg.kv_binary, "--id", std::to_string(i), "--cluster", peers, "--port",
                         std::to_string(api), "--data-dir", (dir / fmt::format("n{}", i)).string(),
                         "--log-level", "warn"},
                        dir / fmt::format("n{}.log", i)));
    }
    RAFTKIT_RETURN_IF_ERROR(WaitHealthy(cluster, endpoints, RaftkitHealthy));
    return endpoints;
  }
  std::string initial;
  for (int i = 1; i <= 3; ++i)
    initial +=
        fmt::format("{}e{}={}", i > 1 ? "," : "", i, Url(static_cast<uint16_t>(base + 8 + i)));
  for (int i = 1; i <= 3; ++i) {
    const std::string client = Url(static_cast<uint16_t>(base + 5 + i));
    const std::string peer = Url(static_cast<uint16_t>(base + 8 + i));
    endpoints.push_back(client);
    RAFTKIT_RETURN_IF_ERROR(cluster.Spawn(fmt::format("e{}", i),
                                          {cfg.etcd_binary,
                                           "--name",
                                           fmt::format("e{}", i),
                                           "--data-dir",
                                           (dir / fmt::format("e{}", i)).string(),
                                           "--listen-client-urls",
                                           client,
                                           "--advertise-client-urls",
                                           client,
                                           "--listen-peer-urls",
                                           peer,
                                           "--initial-advertise-peer-urls",
                                           peer,
                                           "--initial-cluster",
                                           initial,
                                           "--initial-cluster-state",
                                           "new",
                                           "--initial-cluster-token",
                                           fmt::format("kv-compare-{}", getpid()),
                                           "--logger",
                                           "zap",
                                           "--log-level",
                                           "error"},
                                          dir / fmt::format("e{}.log", i)));
  }
  RAFTKIT_RETURN_IF_ERROR(WaitHealthy(cluster, endpoints, EtcdHealthy));
  return endpoints;
}

struct SystemRun {
  bool ran = false;
  std::vector<LoadResult> rows;
  std::vector<std::pair<std::string, uint64_t>> max_rss_kb;
};

// Fills `run` with the rows completed so far, also when it fails part-way (interrupted, a member
// died), so that the table can show them.
Status RunSystem(Target target, const Config& cfg, const std::vector<Row>& rows, uint16_t base,
                 const fs::path& dir, SystemRun& run) {
  run.ran = true;
  Cluster cluster;
  auto endpoints = StartCluster(target, cfg, base, dir, cluster);
  if (!endpoints.ok()) return endpoints.status();
  std::fprintf(stderr, "kv_compare: %s cluster up: %s\n", raftkit::bench::TargetName(target),
               fmt::format("{}", fmt::join(endpoints.value(), " ")).c_str());
  for (const Row& row : rows) {
    LoadOptions o;
    o.target = target;
    o.endpoints = endpoints.value();
    o.clients = row.clients;
    o.threads = cfg.threads;
    o.duration_s = cfg.seconds;
    o.warmup_s = cfg.warmup;
    o.key_size = cfg.key_size;
    o.value_size = cfg.value_size;
    o.keys = cfg.keys;
    o.read_ratio = row.read ? 1.0 : 0.0;
    o.preload = row.read;
    o.cancel = &g_interrupted;
    auto r = raftkit::bench::RunLoad(o);
    if (!r.ok()) return r.status();
    std::fprintf(stderr, "  %-14s %s\n", row.name.c_str(), r.value().SummaryLine().c_str());
    cluster.SampleRss();
    run.max_rss_kb = cluster.MaxRss();
    if (r.value().canceled) return Status(ErrorCode::kStopped, "interrupted");
    run.rows.push_back(std::move(r).value());
    RAFTKIT_RETURN_IF_ERROR(cluster.CheckAlive());
  }
  cluster.Stop();
  return Status::Ok();
}

double Ms(const LoadResult& r, bool read, int which) {
  const auto s = read ? r.ReadSummary() : r.WriteSummary();
  return which == 50 ? s.p50_ms : s.p99_ms;
}

std::string Ratio(double a, double b) {
  return b > 0 && a > 0 ? fmt::format("{:.2f}", a / b) : "-";
}

void PrintTable(const std::vector<Row>& rows, const SystemRun& rk, const SystemRun& et) {
  std::printf("%-16s | %11s %8s %8s | %11s %8s %8s | %9s %9s | %s\n", "row", "raftkit op/s",
              "p50 ms", "p99 ms", "etcd op/s", "p50 ms", "p99 ms", "ops r/e", "p99 r/e",
              "errors r/e");
  std::printf("%s\n", std::string(118, '-').c_str());
  bool any_stalled = false;
  for (size_t i = 0; i < rows.size(); ++i) {
    const LoadResult* a = i < rk.rows.size() ? &rk.rows[i] : nullptr;
    const LoadResult* b = i < et.rows.size() ? &et.rows[i] : nullptr;
    const bool read = rows[i].read;
    auto cols = [&](const LoadResult* r) {
      if (r == nullptr) return fmt::format("{:>11} {:>8} {:>8}", "-", "-", "-");
      return fmt::format("{:>11.0f} {:>8.2f} {:>8.2f}", r->ops_per_sec, Ms(*r, read, 50),
                         Ms(*r, read, 99));
    };
    const std::string ops_ratio = a && b ? Ratio(a->ops_per_sec, b->ops_per_sec) : "-";
    const std::string p99_ratio = a && b ? Ratio(Ms(*a, read, 99), Ms(*b, read, 99)) : "-";
    // A request stalled past the window (or a client that completed nothing) is invisible in
    // the percentiles: flag the row.
    bool stalled = false;
    auto errs = [&](const LoadResult* r) {
      if (r == nullptr) return std::string("-");
      const bool s = r->late_max_ms > 1000 || r->idle_clients > 0;
      stalled = stalled || s;
      return std::to_string(r->error_count) + (s ? "*" : "");
    };
    const std::string ea = errs(a), eb = errs(b);
    std::printf("%-16s | %s | %s | %9s %9s | %s/%s\n", rows[i].name.c_str(), cols(a).c_str(),
                cols(b).c_str(), ops_ratio.c_str(), p99_ratio.c_str(), ea.c_str(), eb.c_str());
    any_stalled = any_stalled || stalled;
  }
  if (any_stalled) {
    std::printf(
        "* a request sent inside the window was answered more than 1 s after its end, or a client "
        "completed nothing (JSON: late, late_max_ms, idle_clients)\n");
  }
  auto rss = [](const char* name, const SystemRun& s) {
    if (!s.ran) return;
    std::string line = fmt::format("max RSS {:<8}", name);
    for (const auto& [member, kb] : s.max_rss_kb)
      line += fmt::format("  {} {:.1f} MiB", member, static_cast<double>(kb) / 1024.0);
    std::printf("%s\n", line.c_str());
  };
  rss("raftkit", rk);
  rss("etcd", et);
}

nlohmann::json SystemJson(const SystemRun& s) {
  nlohmann::json j;
  j["ran"] = s.ran;
  j["rows"] = nlohmann::json::array();
  for (const auto& r : s.rows)
    j["rows"].push_back(r.ToJson());
  j["max_rss_kb"] = nlohmann::json::object();
  for (const auto& [member, kb] : s.max_rss_kb)
    j["max_rss_kb"][member] = kb;
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kv_compare: raftkit-kv vs etcd 3.4, 3-node clusters, same machine, same load"};
  Config cfg;
  app.add_option("--kv-binary", cfg.kv_binary, "raftkit-kv executable")->capture_default_str();
  app.add_option("--etcd-binary", cfg.etcd_binary, "etcd 3.4 executable")->capture_default_str();
  app.add_option("--seconds", cfg.seconds, "measured seconds per row")->capture_default_str();
  app.add_option("--warmup", cfg.warmup, "unmeasured seconds before each row")
      ->capture_default_str();
  app.add_flag("--quick", cfg.quick,
               "smoke run: 1 s rows (0.5 s warm-up), 1 and 64 writing clients");
  app.add_option("--put-clients", cfg.put_clients, "client counts of the PUT rows")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--get-clients", cfg.get_clients, "clients of the GET row (0: no GET row)")
      ->capture_default_str();
  app.add_option("--keys", cfg.keys, "key space (and preload size)")->capture_default_str();
  app.add_option("--key-size", cfg.key_size, "key bytes")->capture_default_str();
  app.add_option("--value-size", cfg.value_size, "value bytes")->capture_default_str();
  app.add_option("--threads", cfg.threads, "load generator threads")->capture_default_str();
  app.add_option("--only", cfg.only, "run one system: raftkit or etcd");
  app.add_option("--json", cfg.json_path, "write the results as JSON to FILE");
  CLI11_PARSE(app, argc, argv);
  if (cfg.quick) {
    cfg.seconds = 1;
    cfg.warmup = 0.5;
    cfg.put_clients = {1, 64};
  }
  if (!cfg.only.empty() && cfg.only != "raftkit" && cfg.only != "etcd") {
    std::fprintf(stderr, "kv_compare: --only takes raftkit or etcd\n");
    return 1;
  }

  std::vector<Row> rows;
  for (int c : cfg.put_clients)
    rows.push_back({fmt::format("put c={}", c), c, false});
  if (cfg.get_clients > 0) {
    rows.push_back({fmt::format("get c={} (lin)", cfg.get_clients), cfg.get_clients, true});
  }

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);

  TempDir tmp;
  if (tmp.path().empty()) {
    std::fprintf(stderr, "kv_compare: cannot create a temporary directory\n");
    return 1;
  }
  const uint16_t base = PickBasePort();
  std::fprintf(stderr, "kv_compare: data under %s, ports %u..%u\n", tmp.path().c_str(), base,
               base + 11);

  SystemRun results[2];
  int exit_code = 0;
  const Target targets[2] = {Target::kRaftkit, Target::kEtcd};
  for (int i = 0; i < 2 && exit_code == 0; ++i) {
    if (!cfg.only.empty() && cfg.only != raftkit::bench::TargetName(targets[i])) continue;
    const fs::path dir = tmp.path() / raftkit::bench::TargetName(targets[i]);
    fs::create_directories(dir);
    const Status st = RunSystem(targets[i], cfg, rows, base, dir, results[i]);
    if (!st.ok()) {
      std::fprintf(stderr, "kv_compare: %s: %s\n", raftkit::bench::TargetName(targets[i]),
                   st.ToString().c_str());
      exit_code = g_interrupted ? 130 : 1;
    }
  }

  PrintTable(rows, results[0], results[1]);
  if (!cfg.json_path.empty()) {
    nlohmann::json j;
    j["config"] = {{"seconds", cfg.seconds},
                   {"warmup_s", cfg.warmup},
                   {"put_clients", cfg.put_clients},
                   {"get_clients", cfg.get_clients},
                   {"keys", cfg.keys},
                   {"key_size", cfg.key_size},
                   {"value_size", cfg.value_size},
                   {"threads", cfg.threads},
                   {"kv_binary", cfg.kv_binary},
                   {"etcd_binary", cfg.etcd_binary}};
    j["rows"] = nlohmann::json::array();
    for (const auto& row : rows)
      j["rows"].push_back({{"name", row.name}, {"clients", row.clients}, {"read", row.read}});
    j["raftkit"] = SystemJson(results[0]);
    j["etcd"] = SystemJson(results[1]);
    std::ofstream out(cfg.json_path);
    out << j.dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "kv_compare: cannot write %s\n", cfg.json_path.c_str());
      if (exit_code == 0) exit_code = 1;
    }
  }
  return exit_code;
}
