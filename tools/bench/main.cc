// raftkit-bench: a closed-loop load generator for raftkit-kv and etcd 3.4.
//
// Usage:
//   raftkit-bench --target raftkit --endpoints http://127.0.0.1:12380,http://127.0.0.1:22380
//                 --clients 64 --duration 10 --warmup 2     (one command line)
//   raftkit-bench --target etcd --endpoints http://127.0.0.1:2379 --clients 64 --requests 100000
//   raftkit-bench --target raftkit --endpoints ... --keys 10000 --preload --read-ratio 1 --json -
//
// Each of --clients users keeps one HTTP/1.1 keep-alive connection (clients are spread
// round-robin over --endpoints) and sends its next request as soon as the previous one answered.
// raftkit: PUT/GET /v1/kv/{key}; etcd: POST /v3/kv/put and /v3/kv/range (the v3 JSON gateway on
// the client URL). Keys are --key-size digits drawn uniformly from --keys (seeded by --seed);
// --read-ratio is the fraction of reads. Only 2xx (and 404 for a raftkit GET) counts as success;
// other statuses and I/O errors are counted by kind, and a dropped connection is re-dialed.
// Prints one summary line; --json FILE (or -) writes the full result, including latency
// percentiles (ms) for reads and writes and the generator's own CPU time over the window.
// A request sent inside the window and answered after its end is not in the percentiles; the
// summary flags idle clients and late answers over 1 s (JSON: late, late_max_ms, idle_clients).
// Exit status: 0 when the run completed, 1 when it could not run, 130 when interrupted.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "loadgen.h"

namespace {

std::atomic<bool> g_interrupted{false};

void OnSignal(int) {
  g_interrupted.store(true);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"raftkit-bench: closed-loop key-value load for raftkit-kv and etcd 3.4"};
  raftkit::bench::LoadOptions o;
  std::string target = "raftkit";
  std::string json_path;
  app.add_option("--target", target, "raftkit or etcd")->capture_default_str();
  app.add_option("--endpoints", o.endpoints, "comma-separated base URLs (http://host:port)")
      ->delimiter(',')
      ->required();
  app.add_option("--clients", o.clients, "concurrent clients, 1..1024")->capture_default_str();
  app.add_option("--threads", o.threads, "event-loop threads of the generator")
      ->capture_default_str();
  app.add_option("--duration", o.duration_s, "measured seconds (when --requests is 0)")
      ->capture_default_str();
  app.add_option("--requests", o.requests, "measured requests in total (overrides --duration)")
      ->capture_default_str();
  app.add_option("--warmup", o.warmup_s, "unmeasured seconds before the window")
      ->capture_default_str();
  app.add_option("--key-size", o.key_size, "key bytes")->capture_default_str();
  app.add_option("--value-size", o.value_size, "value bytes")->capture_default_str();
  app.add_option("--keys", o.keys, "key space")->capture_default_str();
  app.add_option("--seed", o.seed, "PRNG seed")->capture_default_str();
  app.add_option("--read-ratio", o.read_ratio, "fraction of reads, 0..1")->capture_default_str();
  app.add_flag("--preload", o.preload, "write every key once before the warm-up");
  app.add_option("--timeout", o.request_timeout_s, "seconds before a request counts as lost")
      ->capture_default_str();
  app.add_option("--json", json_path, "write the result as JSON to FILE ('-' for stdout)");
  CLI11_PARSE(app, argc, argv);

  auto t = raftkit::bench::ParseTarget(target);
  if (!t.ok()) {
    std::fprintf(stderr, "raftkit-bench: %s\n", t.status().message().c_str());
    return 1;
  }
  o.target = t.value();

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  o.cancel = &g_interrupted;

  auto r = raftkit::bench::RunLoad(o);
  if (!r.ok()) {
    std::fprintf(stderr, "raftkit-bench: %s\n", r.status().ToString().c_str());
    return 1;
  }
  const std::string line = r.value().SummaryLine();
  // With --json -, stdout carries the JSON alone and the summary goes to stderr.
  std::fprintf(json_path == "-" ? stderr : stdout, "%s\n", line.c_str());
  if (!json_path.empty()) {
    const std::string doc = r.value().ToJson().dump(2);
    if (json_path == "-") {
      std::cout << doc << "\n";
    } else {
      std::ofstream out(json_path);
      out << doc << "\n";
      if (!out) {
        std::fprintf(stderr, "raftkit-bench: cannot write %s\n", json_path.c_str());
        return 1;
      }
    }
  }
  return r.value().canceled ? 130 : 0;
}
