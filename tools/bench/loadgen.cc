#include "loadgen.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <thread>

#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

namespace raftkit::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Endpoint {
  std::string host;  // for the Host header
  tcp::endpoint address;
};

Result<Endpoint> ResolveEndpoint(const std::string& url) {
  std::string rest = url;
  if (rest.rfind("http://", 0) == 0) {
    rest = rest.substr(7);
  } else if (rest.find("://") != std::string::npos) {
    return Status(ErrorCode::kInvalidArgument, "only http:// endpoints are supported: " + url);
  }
  if (const size_t slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) {
    return Status(ErrorCode::kInvalidArgument, "endpoint needs host:port: " + url);
  }
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  boost::system::error_code ec;
  auto results = resolver.resolve(rest.substr(0, colon), rest.substr(colon + 1), ec);
  if (ec || results.empty()) {
    return Status(ErrorCode::kInvalidArgument, "cannot resolve " + url + ": " + ec.message());
  }
  return Endpoint{rest, results.begin()->endpoint()};
}

// Zero-padded decimal, exactly `out.size()` digits.
void FormatKey(uint64_t key, std::span<char> out) {
  for (size_t i = out.size(); i-- > 0;) {
    out[i] = static_cast<char>('0' + key % 10);
    key /= 10;
  }
}

size_t DecimalDigits(uint64_t v) {
  size_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

size_t Base64Size(size_t n) {
  return (n + 2) / 3 * 4;
}

// Writes the base64 of `in` to `out` (which holds exactly Base64Size(in.size()) bytes).
void Base64Into(std::string_view in, char* out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (uint32_t{static_cast<uint8_t>(in[i])} << 16) |
                       (uint32_t{static_cast<uint8_t>(in[i + 1])} << 8) |
                       uint32_t{static_cast<uint8_t>(in[i + 2])};
    *out++ = kAlphabet[(v >> 18) & 63];
    *out++ = kAlphabet[(v >> 12) & 63];
    *out++ = kAlphabet[(v >> 6) & 63];
    *out++ = kAlphabet[v & 63];
  }
  const size_t left = in.size() - i;
  if (left == 0) return;
  uint32_t v = uint32_t{static_cast<uint8_t>(in[i])} << 16;
  if (left == 2) v |= uint32_t{static_cast<uint8_t>(in[i + 1])} << 8;
  *out++ = kAlphabet[(v >> 18) & 63];
  *out++ = kAlphabet[(v >> 12) & 63];
  *out++ = left == 2 ? kAlphabet[(v >> 6) & 63] : '=';
  *out++ = '=';
}

// A request serialized once; Send() only rewrites the key bytes at key_offset.
struct RequestTemplate {
  std::string bytes;
  size_t key_offset = 0;
};

RequestTemplate MakeRequest(Target target, bool read, const std::string& host, size_t key_size,
                            const std::string& value) {
  RequestTemplate t;
  const std::string placeholder(target == Target::kEtcd ? Base64Size(key_size) : key_size, '0');
  if (target == Target::kRaftkit) {
    const std::string head = read ? "GET /v1/kv/" : "PUT /v1/kv/";
    t.bytes = head + placeholder + " HTTP/1.1\r\nHost: " + host + "\r\n";
    if (!read) t.bytes += "Content-Length: " + std::to_string(value.size()) + "\r\n";
    t.bytes += "\r\n";
    if (!read) t.bytes += value;
    t.key_offset = head.size();
    return t;
  }
  std::string body = "{\"key\":\"" + placeholder + "\"";
  if (!read) {
    std::string b64(Base64Size(value.size()), '=');
    Base64Into(value, b64.data());
    body += ",\"value\":\"" + b64 + "\"";
  }
  body += "}";
  t.bytes = std::string(read ? "POST /v3/kv/range" : "POST /v3/kv/put") +
            " HTTP/1.1\r\nHost: " + host +
            "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
            "\r\n\r\n";
  t.key_offset = t.bytes.size() + 8;  // after {"key":"
  t.bytes += body;
  return t;
}

double CpuSeconds(const timeval& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

enum class Phase { kPreload, kLoad };

// A client whose dials keep failing waits this long between them, and gives up after so many in
// a row (10 s): the server is gone.
constexpr auto kRedialPause = 100ms;
constexpr int kMaxFailedDials = 100;

// What every thread reads (set before the threads start) plus the few shared counters.
struct Shared {
  const LoadOptions* options = nullptr;
  Clock::time_point measure_start;
  Clock::time_point measure_end;  // duration mode only
  std::atomic<uint64_t> tickets{0};
  std::atomic<uint64_t> preload_next{0};
  std::atomic<bool> stop{false};
};

// Per-thread results; merged after the threads joined.
struct ThreadStats {
  Histogram reads;
  Histogram writes;
  std::map<std::string, uint64_t> errors;
  uint64_t error_count = 0;
  uint64_t preload_errors = 0;
  // Requests sent inside the window and answered (or failed) after its end, and the longest of
  // them: a stalled connection shows up here rather than in the percentiles.
  uint64_t late = 0;
  int64_t late_max_us = 0;
  // Clients that completed nothing inside the window.
  uint64_t idle_clients = 0;
};

class Worker;

// One closed-loop user: one connection, one request in flight at a time. Every method runs on
// its worker's thread.
class Client {
 public:
  Client(Worker& worker, const Endpoint& endpoint, uint64_t seed);
  void Start(Phase phase);
  // Called by the watchdog: closes the connection when a request waited longer than `limit`.
  void ExpireIfOlder(Clock::time_point now, Clock::duration limit);
  // Closes the connection so that a pending request fails at once (cancellation).
  void Abort();
  [[nodiscard]] uint64_t window_completions() const { return window_completions_; }

 private:
  // Accounts a request sent inside the window that ended after it.
  void NoteLate(Clock::time_point now);
  void Connect();
  void Issue();
  void OnRead(boost::system::error_code ec);
  void Fail(const char* kind);
  void CountError(const std::string& kind, Clock::time_point now);
  bool InWindow(Clock::time_point now) const;
  // The run was stopped, or (duration mode) the window is over.
  bool PhaseOver() const;
  void Finish();

  Worker& worker_;
  Shared& shared_;
  const LoadOptions& options_;
  Endpoint endpoint_;
  tcp::socket socket_;
  asio::steady_timer retry_timer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
  std::mt19937_64 rng_;
  RequestTemplate write_;
  RequestTemplate read_;
  std::string key_scratch_;
  Phase phase_ = Phase::kLoad;
  bool reading_ = false;    // the request in flight is a read
  bool measured_ = false;   // ... was sent inside the measured window
  bool in_flight_ = false;  // ... has been sent and not answered
  bool timed_out_ = false;  // the watchdog closed the connection
  bool finished_ = true;
  int failed_dials_ = 0;  // consecutive
  uint64_t window_completions_ = 0;
  Clock::time_point sent_at_;
};

// One event loop: an io_context, its clients, their statistics, and a watchdog timer.
class Worker {
 public:
  Worker(Shared& shared, ThreadStats& stats) : shared_(shared), stats_(stats), watchdog_(ioc_) {}
  asio::io_context& ioc() { return ioc_; }
  Shared& shared() { return shared_; }
  ThreadStats& stats() { return stats_; }
  void AddClient(const Endpoint& endpoint, uint64_t seed) {
    clients_.push_back(std::make_unique<Client>(*this, endpoint, seed));
  }
  // Runs `phase` until every client finished it.
  void Run(Phase phase) {
    ioc_.restart();
    active_ = clients_.size();
    ArmWatchdog();
    for (auto& c : clients_)
      c->Start(phase);
    ioc_.run();
    if (phase == Phase::kLoad) {
      for (auto& c : clients_)
        stats_.idle_clients += c->window_completions() == 0 ? 1 : 0;
    }
  }
  void ClientFinished() {
    if (--active_ == 0) watchdog_.cancel();
  }
  // From any thread: fail pending requests now (the run was canceled).
  void AbortAll() {
    asio::post(ioc_, [this] {
      for (auto& c : clients_)
        c->Abort();
    });
  }
  ~Worker() {
    // Sockets before the io_context they are registered with.
    clients_.clear();
  }

 private:
  void ArmWatchdog() {
    watchdog_.expires_after(250ms);
    watchdog_.async_wait([this](boost::system::error_code ec) {
      if (ec || active_ == 0) return;
      const auto limit = std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(shared_.options->request_timeout_s));
      const auto now = Clock::now();
      for (auto& c : clients_)
        c->ExpireIfOlder(now, limit);
      ArmWatchdog();
    });
  }

  Shared& shared_;
  ThreadStats& stats_;
  asio::io_context ioc_{1};
  asio::steady_timer watchdog_;
  std::vector<std::unique_ptr<Client>> clients_;
  size_t active_ = 0;
};

Client::Client(Worker& worker, const Endpoint& endpoint, uint64_t seed)
    : worker_(worker),
      shared_(worker.shared()),
      options_(*worker.shared().options),
      endpoint_(endpoint),
      socket_(worker.ioc()),
      retry_timer_(worker.ioc()),
      rng_(seed) {
  std::string value(options_.value_size, 'x');
  for (char& ch : value)
    ch = static_cast<char>('a' + rng_() % 26);
  write_ = MakeRequest(options_.target, false, endpoint_.host, options_.key_size, value);
  read_ = MakeRequest(options_.target, true, endpoint_.host, options_.key_size, value);
  key_scratch_.assign(options_.key_size, '0');
}

void Client::Start(Phase phase) {
  phase_ = phase;
  finished_ = false;
  if (socket_.is_open()) {
    Issue();
  } else {
    Connect();
  }
}

void Client::Connect() {
  boost::system::error_code ignored;
  socket_.close(ignored);
  buffer_.clear();
  socket_.async_connect(endpoint_.address, [this](boost::system::error_code ec) {
    if (ec) {
      CountError("io_connect", Clock::now());
      socket_.close(ec);
      // Without this bound a preload or a --requests run against a dead server never ends.
      if (++failed_dials_ > kMaxFailedDials || PhaseOver()) return Finish();
      // A refused connection fails at once: pace the retries.
      retry_timer_.expires_after(kRedialPause);
      retry_timer_.async_wait([this](boost::system::error_code) {
        if (PhaseOver()) return Finish();
        Connect();
      });
      return;
    }
    failed_dials_ = 0;
    socket_.set_option(tcp::no_delay(true), ec);
    Issue();
  });
}

bool Client::PhaseOver() const {
  if (shared_.stop.load(std::memory_order_relaxed)) return true;
  return phase_ == Phase::kLoad && options_.requests == 0 && Clock::now() >= shared_.measure_end;
}

bool Client::InWindow(Clock::time_point now) const {
  if (phase_ != Phase::kLoad || now < shared_.measure_start) return false;
  return options_.requests > 0 || now < shared_.measure_end;
}

void Client::CountError(const std::string& kind, Clock::time_point now) {
  ThreadStats& s = worker_.stats();
  if (phase_ == Phase::kPreload) {
    ++s.preload_errors;
  } else if (in_flight_ ? measured_ : InWindow(now)) {
    // A failed request counts when it was sent inside the window (and, in duration mode, failed
    // before its end); a failed dial counts when it happened inside the window.
    if (options_.requests > 0 || now < shared_.measure_end) {
      ++s.errors[kind];
      ++s.error_count;
    }
  }
}

void Client::Issue() {
  const auto now = Clock::now();
  uint64_t key = 0;
  if (shared_.stop.load(std::memory_order_relaxed)) return Finish();
  if (phase_ == Phase::kPreload) {
    key = shared_.preload_next.fetch_add(1, std::memory_order_relaxed);
    if (key >= options_.keys) return Finish();
    reading_ = false;
    measured_ = false;
  } else {
    measured_ = now >= shared_.measure_start;
    if (options_.requests == 0 && now >= shared_.measure_end) return Finish();
    if (measured_ && options_.requests > 0 &&
        shared_.tickets.fetch_add(1, std::memory_order_relaxed) >= options_.requests) {
      return Finish();
    }
    key = rng_() % options_.keys;
    // 53 random bits as a double in [0, 1).
    reading_ = options_.read_ratio > 0 &&
               static_cast<double>(rng_() >> 11) * 0x1.0p-53 < options_.read_ratio;
  }
  RequestTemplate& req = reading_ ? read_ : write_;
  if (options_.target == Target::kEtcd) {
    FormatKey(key, key_scratch_);
    Base64Into(key_scratch_, req.bytes.data() + req.key_offset);
  } else {
    FormatKey(key, std::span<char>(req.bytes.data() + req.key_offset, options_.key_size));
  }
  sent_at_ = now;
  in_flight_ = true;
  timed_out_ = false;
  asio::async_write(socket_, asio::buffer(req.bytes), [this](boost::system::error_code ec, size_t) {
    if (ec) return Fail(timed_out_ ? "io_timeout" : "io_write");
    parser_.emplace();
    parser_->body_limit(uint64_t{64} << 20);
    bhttp::async_read(socket_, buffer_, *parser_,
                      [this](boost::system::error_code rec, size_t) { OnRead(rec); });
  });
}

void Client::OnRead(boost::system::error_code ec) {
  if (ec) {
    const bool closed = ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
                        ec == asio::error::connection_reset;
    return Fail(timed_out_ ? "io_timeout" : closed ? "io_closed" : "io_read");
  }
  const auto now = Clock::now();
  const auto& res = parser_->get();
  const unsigned status = res.result_int();
  const bool ok = (status >= 200 && status < 300) ||
                  (reading_ && status == 404 && options_.target == Target::kRaftkit);
  const bool counted =
      phase_ == Phase::kLoad && measured_ && (options_.requests > 0 || now < shared_.measure_end);
  if (counted) ++window_completions_;
  if (phase_ == Phase::kLoad && measured_ && !counted) NoteLate(now);
  if (!ok) {
    CountError(fmt::format("http_{}", status), now);
  } else if (counted) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - sent_at_).count();
    (reading_ ? worker_.stats().reads : worker_.stats().writes).Record(us);
  }
  in_flight_ = false;
  if (!res.keep_alive()) return Connect();
  Issue();
}

void Client::NoteLate(Clock::time_point now) {
  ThreadStats& s = worker_.stats();
  ++s.late;
  s.late_max_us = std::max<int64_t>(
      s.late_max_us, std::chrono::duration_cast<std::chrono::microseconds>(now - sent_at_).count());
}

void Client::Fail(const char* kind) {
  const auto now = Clock::now();
  if (in_flight_ && phase_ == Phase::kLoad && measured_) {
    if (options_.requests > 0 || now < shared_.measure_end) {
      ++window_completions_;
    } else {
      NoteLate(now);
    }
  }
  CountError(kind, now);
  in_flight_ = false;
  if (PhaseOver()) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    return Finish();
  }
  Connect();
}

void Client::ExpireIfOlder(Clock::time_point now, Clock::duration limit) {
  if (in_flight_ && now - sent_at_ > limit) {
    timed_out_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
  }
}

void Client::Abort() {
  boost::system::error_code ignored;
  retry_timer_.cancel();
  socket_.close(ignored);
}

void Client::Finish() {
  if (finished_) return;
  finished_ = true;
  worker_.ClientFinished();
}

LatencySummary Summarize(const Histogram& h) {
  auto ms = [](int64_t us) { return static_cast<double>(us) / 1000.0; };
  LatencySummary s;
  s.ops = h.count();
  s.p50_ms = ms(h.ValueAtPercentile(50));
  s.p90_ms = ms(h.ValueAtPercentile(90));
  s.p99_ms = ms(h.ValueAtPercentile(99));
  s.p999_ms = ms(h.ValueAtPercentile(99.9));
  s.max_ms = ms(h.max());
  s.mean_ms = h.mean() / 1000.0;
  return s;
}

nlohmann::json SummaryJson(const LatencySummary& s) {
  return {{"ops", s.ops},         {"p50_ms", s.p50_ms}, {"p90_ms", s.p90_ms},  {"p99_ms", s.p99_ms},
          {"p999_ms", s.p999_ms}, {"max_ms", s.max_ms}, {"mean_ms", s.mean_ms}};
}

Status Validate(const LoadOptions& o) {
  auto bad = [](std::string m) { return Status(ErrorCode::kInvalidArgument, std::move(m)); };
  if (o.endpoints.empty()) return bad("no endpoints");
  if (o.clients < 1 || o.clients > 1024) return bad("clients must be in 1..1024");
  if (o.threads < 1 || o.threads > 64) return bad("threads must be in 1..64");
  if (o.keys == 0) return bad("keys must be > 0");
  if (o.key_size == 0 || DecimalDigits(o.keys - 1) > o.key_size) {
    return bad(fmt::format("key-size {} cannot hold {} keys", o.key_size, o.keys));
  }
  if (o.read_ratio < 0 || o.read_ratio > 1) return bad("read-ratio must be in 0..1");
  if (o.requests == 0 && !(o.duration_s > 0)) return bad("need a duration or a request count");
  if (o.warmup_s < 0) return bad("warmup must be >= 0");
  if (!(o.request_timeout_s > 0)) return bad("request timeout must be > 0");
  return Status::Ok();
}

// 1024 connections plus the process's own files exceed the usual soft limit of 1024.
void RaiseFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
}

bool Canceled(const LoadOptions& o) {
  return o.cancel != nullptr && o.cancel->load();
}

}  // namespace

const char* TargetName(Target t) {
  return t == Target::kEtcd ? "etcd" : "raftkit";
}

Result<Target> ParseTarget(const std::string& s) {
  if (s == "raftkit") return Target::kRaftkit;
  if (s == "etcd") return Target::kEtcd;
  return Status(ErrorCode::kInvalidArgument, "unknown target " + s + " (raftkit or etcd)");
}

std::string Base64(std::string_view in) {
  std::string out(Base64Size(in.size()), '=');
  Base64Into(in, out.data());
  return out;
}

LatencySummary LoadResult::ReadSummary() const {
  return Summarize(reads);
}
LatencySummary LoadResult::WriteSummary() const {
  return Summarize(writes);
}

double LoadResult::CpuMicrosPerRequest() const {
  const uint64_t n = ops + error_count;
  return n == 0 ? 0.0 : (cpu_user_s + cpu_system_s) * 1e6 / static_cast<double>(n);
}

nlohmann::json LoadResult::ToJson() const {
  nlohmann::json j;
  j["target"] = TargetName(target);
  j["endpoints"] = options.endpoints;
  j["clients"] = clients;
  j["threads"] = threads;
  j["duration_s"] = duration_s;
  j["ops"] = ops;
  j["ops_per_sec"] = ops_per_sec;
  j["errors"] = errors;
  j["error_count"] = error_count;
  j["reads"] = SummaryJson(ReadSummary());
  j["writes"] = SummaryJson(WriteSummary());
  j["generator_cpu_s"] = cpu_user_s + cpu_system_s;
  j["generator_cpu_user_s"] = cpu_user_s;
  j["generator_cpu_system_s"] = cpu_system_s;
  j["generator_cpu_us_per_request"] = CpuMicrosPerRequest();
  j["workload"] = {{"key_size", options.key_size}, {"value_size", options.value_size},
                   {"keys", options.keys},         {"read_ratio", options.read_ratio},
                   {"seed", options.seed},         {"warmup_s", options.warmup_s},
                   {"requests", options.requests}, {"preload", options.preload}};
  j["late"] = late;
  j["late_max_ms"] = late_max_ms;
  j["idle_clients"] = idle_clients;
  j["preload_s"] = preload_s;
  j["preload_errors"] = preload_errors;
  j["canceled"] = canceled;
  return j;
}

std::string LoadResult::SummaryLine() const {
  std::string line = fmt::format("{} clients={} {:.1f}s: {} ops, {:.0f} ops/s", TargetName(target),
                                 clients, duration_s, ops, ops_per_sec);
  auto part = [&](const char* name, const LatencySummary& s) {
    if (s.ops == 0) return;
    line += fmt::format(" | {} p50 {:.2f} p90 {:.2f} p99 {:.2f} p99.9 {:.2f} max {:.2f} ms", name,
                        s.p50_ms, s.p90_ms, s.p99_ms, s.p999_ms, s.max_ms);
  };
  part("write", WriteSummary());
  part("read", ReadSummary());
  line += fmt::format(" | errors {}", error_count);
  for (const auto& [kind, n] : errors)
    line += fmt::format(" {}={}", kind, n);
  if (idle_clients > 0) line += fmt::format(" | {} idle clients", idle_clients);
  if (late_max_ms > 1000) line += fmt::format(" | a late answer took {:.0f} ms", late_max_ms);
  line += fmt::format(" | generator cpu {:.2f}s ({:.1f} us/req)", cpu_user_s + cpu_system_s,
                      CpuMicrosPerRequest());
  if (canceled) line += " | CANCELED";
  return line;
}

Result<LoadResult> RunLoad(const LoadOptions& options) {
  RAFTKIT_RETURN_IF_ERROR(Validate(options));
  std::vector<Endpoint> endpoints;
  for (const auto& url : options.endpoints) {
    auto ep = ResolveEndpoint(url);
    if (!ep.ok()) return ep.status();
    endpoints.push_back(std::move(ep).value());
  }
  RaiseFileLimit();

  Shared shared;
  shared.options = &options;
  const int nthreads = std::min(options.threads, options.clients);
  std::vector<ThreadStats> stats(static_cast<size_t>(nthreads));
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < nthreads; ++t)
    workers.push_back(std::make_unique<Worker>(shared, stats[static_cast<size_t>(t)]));
  // Client i: endpoint i % E, thread i % T, its own PRNG stream (SplitMix-style seed spacing).
  for (int i = 0; i < options.clients; ++i) {
    const auto u = static_cast<uint64_t>(i);
    workers[u % workers.size()]->AddClient(endpoints[u % endpoints.size()],
                                           options.seed * 0x9E3779B97F4A7C15ULL + u + 1);
  }

  // Runs `phase` on every worker; returns when all finished. `tick` runs on this thread every
  // 50 ms meanwhile and may cancel the run.
  std::atomic<int> running{0};
  LoadResult result;
  auto run_phase = [&](Phase phase, auto&& tick) {
    running = nthreads;
    std::vector<std::thread> threads;
    for (auto& w : workers) {
      threads.emplace_back([&running, &w, phase] {
        w->Run(phase);
        --running;
      });
    }
    bool aborted = false;
    while (running.load() > 0) {
      std::this_thread::sleep_for(10ms);
      tick();
      if (!aborted && Canceled(options)) {
        aborted = true;
        result.canceled = true;
        shared.stop = true;
        for (auto& w : workers)
          w->AbortAll();
      }
    }
    for (auto& t : threads)
      t.join();
  };

  if (options.preload) {
    const auto start = Clock::now();
    run_phase(Phase::kPreload, [] {});
    result.preload_s = std::chrono::duration<double>(Clock::now() - start).count();
  }

  rusage r0{}, r1{};
  bool have_r0 = false, have_r1 = false;
  Clock::time_point end_time;
  const auto now = Clock::now();
  shared.measure_start = now + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(options.warmup_s));
  shared.measure_end =
      shared.measure_start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(options.duration_s));
  if (options.warmup_s == 0) {
    getrusage(RUSAGE_SELF, &r0);
    have_r0 = true;
  }
  if (!result.canceled) {
    run_phase(Phase::kLoad, [&] {
      const auto t = Clock::now();
      if (!have_r0 && t >= shared.measure_start) {
        getrusage(RUSAGE_SELF, &r0);
        have_r0 = true;
      }
      if (have_r0 && !have_r1 && options.requests == 0 && t >= shared.measure_end) {
        getrusage(RUSAGE_SELF, &r1);
        have_r1 = true;
        end_time = t;
      }
    });
  }
  if (!have_r0) getrusage(RUSAGE_SELF, &r0);
  if (!have_r1) {
    getrusage(RUSAGE_SELF, &r1);
    end_time = Clock::now();
  }

  result.options = options;
  result.target = options.target;
  result.clients = options.clients;
  result.threads = nthreads;
  result.duration_s =
      options.requests == 0 && !result.canceled
          ? options.duration_s
          : std::max(0.0, std::chrono::duration<double>(end_time - shared.measure_start).count());
  for (auto& s : stats) {
    result.reads.Merge(s.reads);
    result.writes.Merge(s.writes);
    for (const auto& [k, n] : s.errors)
      result.errors[k] += n;
    result.error_count += s.error_count;
    result.preload_errors += s.preload_errors;
    result.late += s.late;
    result.late_max_ms = std::max(result.late_max_ms, static_cast<double>(s.late_max_us) / 1000.0);
    result.idle_clients += s.idle_clients;
  }
  result.ops = result.reads.count() + result.writes.count();
  result.ops_per_sec =
      result.duration_s > 0 ? static_cast<double>(result.ops) / result.duration_s : 0.0;
  result.cpu_user_s = CpuSeconds(r1.ru_utime) - CpuSeconds(r0.ru_utime);
  result.cpu_system_s = CpuSeconds(r1.ru_stime) - CpuSeconds(r0.ru_stime);
  return result;
}

}  // namespace raftkit::bench
