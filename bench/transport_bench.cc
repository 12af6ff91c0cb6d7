// transport_bench: MsgApp throughput between two raftkit Transports over loopback, beside the same
// measurement of two etcd 3.4 rafthttp Transports (bench/transport_go/bench.go) in the same run.
//
// Both sides use one method: in one process, member 1 sends MsgApp messages of `batch` entries of
// `entry-bytes` each to member 2 for `seconds`, keeping at most `window` messages unacknowledged
// (the receiving RaftNode counts arrivals; nothing goes back on the wire), after a warm-up that
// waits until the msgapp stream carries messages. Reported: messages/s, entries/s, payload MB/s and
// process CPU (user + system) per message. bench/README.md has the details and recorded figures.
#include <sys/resource.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "raftkit/transport/http/server.h"
#include "raftkit/transport/rafthttp/transport.h"

namespace {

using namespace std::chrono_literals;
using raftkit::Bytes;
using raftkit::Index;
using raftkit::NodeId;
using raftkit::Result;
using raftkit::Status;
using raftkit::Term;
using raftkit::raftpb::Message;
using raftkit::raftpb::MessageType;
namespace rafthttp = raftkit::rafthttp;
namespace http = raftkit::http;

struct Config {
  size_t entry_bytes = 100;
  size_t batch = 64;
  double seconds = 5;
  size_t window = 1000;
};

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

// Counts arrivals and checks that appends arrive complete and in order.
class CountingRaft final : public rafthttp::RaftNode {
 public:
  Status Process(Message m) override {
    if (m.type == MessageType::MsgApp) {
      const uint64_t seq = m.index.value();
      if (seq != expected_ || m.entries.size() != batch_) bad_ = true;
      expected_ = seq + 1;
      const uint64_t n = received_.fetch_add(1, std::memory_order_release) + 1;
      if (n % 32 == 0) {
        std::lock_guard<std::mutex> g(mu_);
        cv_.notify_all();
      }
    }
    return Status::Ok();
  }
  Status ProcessSnapshot(Message, rafthttp::SnapshotData&) override { return Status::Ok(); }
  bool IsIdRemoved(NodeId) override { return false; }
  void ReportUnreachable(NodeId) override { unreachable_.fetch_add(1); }
  void ReportSnapshot(NodeId, rafthttp::SnapshotStatus) override {}

  // Blocks until fewer than `limit` messages are outstanding after `sent`.
  void WaitWindow(uint64_t sent, uint64_t limit) {
    if (sent - received_.load(std::memory_order_acquire) <= limit) return;
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, 5ms, [&] { return sent - received_.load() <= limit; });
  }

  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> unreachable_{0};
  uint64_t expected_ = 0;
  size_t batch_ = 0;
  bool bad_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
};

struct Member {
  explicit Member(uint64_t id, rafthttp::RaftNode* raft) {
    rafthttp::TransportOptions o;
    o.id = NodeId(id);
    o.cluster_id = 0x1000;
    o.raft = raft;
    transport = rafthttp::Transport::Create(std::move(o)).value();
    server = http::Server::Start({}, transport->Routes()).value();
    (void)transport->Start();
  }
  ~Member() {
    transport->Stop();
    server->Stop();
  }
  std::unique_ptr<rafthttp::Transport> transport;
  std::unique_ptr<http::Server> server;
};

nlohmann::json RunRaftkit(const Config& c) {
  CountingRaft sink;
  sink.batch_ = c.batch;
  CountingRaft source;
  Member a(1, &source);
  Member b(2, &sink);
  a.transport->AddPeer(NodeId(2), {b.server->url()});
  b.transport->AddPeer(NodeId(1), {a.server->url()});
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (!a.transport->StreamAttached(NodeId(2), "msgapp")) {
    if (std::chrono::steady_clock::now() > give_up) {
      throw std::runtime_error("the msgapp stream did not come up");
    }
    std::this_thread::sleep_for(10ms);
  }
  const Bytes payload(std::string(c.entry_bytes, 'x'));
  uint64_t seq = 0;
  auto make = [&] {
    Message m;
    m.type = MessageType::MsgApp;
    m.from = NodeId(1);
    m.to = NodeId(2);
    m.term = Term(1);
    m.log_term = Term(1);
    m.index = Index(seq);
    m.commit = Index(seq);
    m.entries.resize(c.batch);
    for (size_t i = 0; i < c.batch; ++i) {
      m.entries[i].term = Term(1);
      m.entries[i].index = Index(seq * c.batch + i + 1);
      m.entries[i].data = payload;
    }
    ++seq;
    return m;
  };
  // One message per Send, moved in (as a server hands over a Ready's messages; an initializer
  // list would copy it).
  auto send_one = [&] {
    std::vector<Message> v;
    v.push_back(make());
    a.transport->Send(std::move(v));
  };
  // Warm-up: one second of traffic.
  const auto warm_end = std::chrono::steady_clock::now() + 1s;
  while (std::chrono::steady_clock::now() < warm_end) {
    sink.WaitWindow(seq, c.window);
    send_one();
  }
  while (sink.received_.load() < seq)
    std::this_thread::sleep_for(1ms);

  const uint64_t start_seq = seq;
  const double cpu0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  const auto end = t0 + std::chrono::duration<double>(c.seconds);
  while (std::chrono::steady_clock::now() < end) {
    sink.WaitWindow(seq, c.window);
    send_one();
  }
  while (sink.received_.load() < seq && std::chrono::steady_clock::now() < end + 10s &&
         source.unreachable_.load() == 0) {
    std::this_thread::sleep_for(100us);
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;
  const uint64_t msgs = sink.received_.load() - start_seq;
  if (sink.bad_ || source.unreachable_.load() != 0 || sink.received_.load() != seq) {
    throw std::runtime_error(
        fmt::format("lost or reordered appends ({} sent, {} received, {} "
                    "unreachable)",
                    seq, sink.received_.load(), source.unreachable_.load()));
  }
  const double mps = static_cast<double>(msgs) / elapsed;
  return {{"impl", "raftkit"},
          {"entry_bytes", c.entry_bytes},
          {"batch", c.batch},
          {"seconds", elapsed},
          {"msgs", msgs},
          {"msgs_per_s", mps},
          {"entries_per_s", mps * static_cast<double>(c.batch)},
          {"mb_per_s", mps * static_cast<double>(c.batch * c.entry_bytes) / 1e6},
          {"cpu_s", cpu},
          {"cpu_us_per_msg", msgs > 0 ? cpu * 1e6 / static_cast<double>(msgs) : 0.0}};
}

// Runs the Go pair (a separate process, so its CPU is its own) and parses its JSON line.
nlohmann::json RunGo(const std::string& binary, const Config& c) {
  const std::string cmd = fmt::format("'{}' --entry-bytes {} --batch {} --seconds {} --window {}",
                                      binary, c.entry_bytes, c.batch, c.seconds, c.window);
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("cannot run " + binary);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
    out.append(buf, n);
  const int rc = pclose(p);
  if (rc != 0) throw std::runtime_error(fmt::format("{} exited with {}", binary, rc));
  const auto last = out.find_last_of('{');
  if (last == std::string::npos) throw std::runtime_error("no JSON from " + binary);
  return nlohmann::json::parse(out.substr(last));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"MsgApp throughput: two raftkit Transports vs two etcd rafthttp Transports"};
  Config base;
  std::vector<size_t> batches{1, 64};
  std::string go_binary = RAFTKIT_GO_TRANSPORT_BENCH;
  bool json_only = false;
  app.add_option("--entry-bytes", base.entry_bytes, "bytes of data per entry")
      ->capture_default_str();
  app.add_option("--batch", batches, "entries per MsgApp (repeatable)")->capture_default_str();
  app.add_option("--seconds", base.seconds, "measured time per run")->capture_default_str();
  app.add_option("--window", base.window, "most unacknowledged messages")->capture_default_str();
  app.add_option("--go", go_binary, "the Go pair's binary; empty skips it")->capture_default_str();
  app.add_flag("--json", json_only, "print only the JSON lines");
  CLI11_PARSE(app, argc, argv);

  std::vector<std::pair<nlohmann::json, nlohmann::json>> rows;
  try {
    for (size_t batch : batches) {
      Config c = base;
      c.batch = batch;
      nlohmann::json ours = RunRaftkit(c);
      std::printf("%s\n", ours.dump().c_str());
      nlohmann::json theirs;
      if (!go_binary.empty()) {
        theirs = RunGo(go_binary, c);
        std::printf("%s\n", theirs.dump().c_str());
      }
      std::fflush(stdout);
      rows.emplace_back(std::move(ours), std::move(theirs));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "transport_bench: %s\n", e.what());
    return 1;
  }
  if (json_only) return 0;
  std::printf("\n%-6s %-8s %14s %10s %14s %14s %10s %12s\n", "batch", "impl", "msgs/s", "MB/s",
              "cpu us/msg", "", "msgs ratio", "cpu ratio");
  for (const auto& [ours, theirs] : rows) {
    std::printf("%-6zu %-8s %14.0f %10.1f %14.2f\n", ours["batch"].get<size_t>(), "raftkit",
                ours["msgs_per_s"].get<double>(), ours["mb_per_s"].get<double>(),
                ours["cpu_us_per_msg"].get<double>());
    if (theirs.is_null()) continue;
    std::printf("%-6zu %-8s %14.0f %10.1f %14.2f %14s %10.2fx %11.2fx\n",
                theirs["batch"].get<size_t>(), "go", theirs["msgs_per_s"].get<double>(),
                theirs["mb_per_s"].get<double>(), theirs["cpu_us_per_msg"].get<double>(), "",
                ours["msgs_per_s"].get<double>() / theirs["msgs_per_s"].get<double>(),
                ours["cpu_us_per_msg"].get<double>() / theirs["cpu_us_per_msg"].get<double>());
  }
  return 0;
}
