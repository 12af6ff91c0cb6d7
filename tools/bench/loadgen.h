// raftkit_loadgen: a closed-loop HTTP load generator for key-value services (raftkit-kv's
// /v1/kv API and etcd 3.4's v3 JSON gateway), used by raftkit-bench and bench/kv_compare.
//
// Model: `clients` simulated users, each with its own keep-alive HTTP/1.1 connection to one of the
// endpoints (round-robin by client number), each sending its next request as soon as the previous
// one was answered. All I/O is asynchronous (Boost.Asio/Beast): `threads` event loops, each running
// its own io_context with a fixed share of the clients, so that per-thread statistics need no
// locks (they are merged at the end). Requests are pre-serialized once per client; sending one
// only overwrites the key bytes in place.
//
// Phases: optional preload (every key written once, not measured), warm-up (requests sent and
// discarded), then the measured window: `duration` seconds, or until `requests` requests have
// completed. A request counts in the window when it was sent inside it and answered before its end
// (duration mode). Generator CPU time (getrusage, whole process) is taken over the same window.
//
// Errors never stop a run: a non-success status is counted under "http_<code>", an I/O error under
// "io_<what>" and the connection is re-dialed (the dropped request is not retried).
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "histogram.h"
#include "raftkit/util/status.h"

namespace raftkit::bench {

enum class Target {
  kRaftkit,  ///< PUT /v1/kv/{key} (204), GET /v1/kv/{key} (200, or 404 for a missing key)
  kEtcd,     ///< POST /v3/kv/put, POST /v3/kv/range with base64 JSON bodies (200)
};

/// "raftkit" or "etcd".
const char* TargetName(Target t);
/// Parses "raftkit" / "etcd"; kInvalidArgument otherwise.
Result<Target> ParseTarget(const std::string& s);

struct LoadOptions {
  Target target = Target::kRaftkit;
  /// Base URLs, "http://host:port" (no TLS). Client i talks to endpoints[i % size].
  std::vector<std::string> endpoints;
  /// Concurrent closed-loop clients, 1..1024.
  int clients = 1;
  /// Event-loop threads, 1..64 (never more than clients).
  int threads = 1;
  /// Measured window in seconds; used when requests == 0.
  double duration_s = 10;
  /// When > 0: the window ends after this many measured requests instead.
  uint64_t requests = 0;
  /// Seconds of unmeasured load before the window.
  double warmup_s = 0;
  /// Key length in bytes; keys are the decimal key number, zero-padded. Must hold `keys - 1`.
  size_t key_size = 16;
  size_t value_size = 100;
  /// Key space: keys are drawn uniformly from [0, keys).
  uint64_t keys = 100000;
  uint64_t seed = 1;
  /// Fraction of reads (GET / range), 0..1; the rest are writes.
  double read_ratio = 0;
  /// Write every key once (with all clients) before the warm-up.
  bool preload = false;
  /// A request unanswered for this long closes its connection (counted as "io_timeout").
  double request_timeout_s = 10;
  /// When set and it becomes true, the run ends early (checked every 50 ms).
  const std::atomic<bool>* cancel = nullptr;
};

struct LatencySummary {
  uint64_t ops = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0, mean_ms = 0;
};

struct LoadResult {
  /// The options of the run (for reports).
  LoadOptions options;
  Target target = Target::kRaftkit;
  int clients = 0;
  int threads = 0;
  /// Length of the measured window in seconds.
  double duration_s = 0;
  /// Successful measured requests, and per second.
  uint64_t ops = 0;
  double ops_per_sec = 0;
  /// Failed measured requests by kind ("http_503", "io_read", "io_timeout", ...).
  std::map<std::string, uint64_t> errors;
  uint64_t error_count = 0;
  /// Latency of successful requests, microseconds.
  Histogram reads;
  Histogram writes;
  /// Generator process CPU (user + system) over the window.
  double cpu_user_s = 0;
  double cpu_system_s = 0;
  /// Preload: seconds taken and failed writes (0 when no preload).
  double preload_s = 0;
  uint64_t preload_errors = 0;
  /// Requests sent inside the window but answered (or failed) after its end; the longest of
  /// them in ms. In duration mode a connection that stalls past the window shows up only here.
  uint64_t late = 0;
  double late_max_ms = 0;
  /// Clients that completed no request inside the window.
  uint64_t idle_clients = 0;
  bool canceled = false;

  [[nodiscard]] LatencySummary ReadSummary() const;
  [[nodiscard]] LatencySummary WriteSummary() const;
  /// CPU microseconds the generator spent per completed request (successes and errors).
  [[nodiscard]] double CpuMicrosPerRequest() const;
  /// The JSON document of raftkit-bench --json.
  [[nodiscard]] nlohmann::json ToJson() const;
  /// One human-readable line.
  [[nodiscard]] std::string SummaryLine() const;
};

/// Runs the load. kInvalidArgument for bad options (unparsable endpoint, key_size too small,
/// clients out of range, ...); otherwise the result, also when requests failed.
Result<LoadResult> RunLoad(const LoadOptions& options);

/// Standard base64 (with padding) of `in`; exposed for tests.
std::string Base64(std::string_view in);

}  // namespace raftkit::bench
