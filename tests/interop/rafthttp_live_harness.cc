#include "interop/rafthttp_live_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>

#include "raftkit/raftpb/codec.h"

extern char** environ;

namespace raftkit::rafthttp::interop {

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// Shared encodings
// ---------------------------------------------------------------------------------------------

namespace {
constexpr std::string_view kB64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}  // namespace

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    const size_t n = std::min<size_t>(3, in.size() - i);
    uint32_t v = 0;
    for (size_t k = 0; k < 3; ++k) {
      v = (v << 8) | (k < n ? static_cast<uint8_t>(in[i + k]) : 0);
    }
    // n input bytes make n+1 significant characters; the rest of the quad is padding.
    for (size_t k = 0; k < 4; ++k) {
      out.push_back(k <= n ? kB64[(v >> (18 - 6 * k)) & 0x3f] : '=');
    }
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    uint32_t v = 0;
    int pad = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char c = in[i + k];
      uint32_t d = 0;
      if (c == '=') {
        ++pad;
      } else {
        const size_t pos = kB64.find(c);
        if (pos == std::string_view::npos || pad > 0) return std::nullopt;
        d = static_cast<uint32_t>(pos);
      }
      v = (v << 6) | d;
    }
    // Padding only in the last quad, at most two characters.
    if (pad > 2 || (pad > 0 && i + 4 != in.size())) return std::nullopt;
    out.push_back(static_cast<char>((v >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((v >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xff));
  }
  return out;
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
  EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
}

void Sha256::Update(std::string_view data) {
  EVP_DigestUpdate(ctx_.get(), data.data(), data.size());
}

std::string Sha256::HexDigest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_.get(), md, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xf]);
  }
  return out;
}

char PatternByte(uint64_t i, uint64_t seed) {
  return static_cast<char>((i * 31 + seed) & 0xff);
}

std::string Pattern(uint64_t size, uint64_t seed) {
  std::string s(size, '\0');
  for (uint64_t i = 0; i < size; ++i)
    s[i] = PatternByte(i, seed);
  return s;
}

std::string PatternSha256(uint64_t size, uint64_t seed) {
  Sha256 h;
  h.Update(Pattern(size, seed));
  return h.HexDigest();
}

bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                     "/raftkit-rafthttp-live-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    return;
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

raftpb::Message EventMessage(const json& ev) {
  auto raw = Base64Decode(ev.value("msg", ""));
  if (!raw) {
    ADD_FAILURE() << "bad base64 in event " << ev.dump();
    return {};
  }
  auto m = raftpb::DecodeMessage(*raw);
  if (!m.ok()) {
    ADD_FAILURE() << "undecodable message in event " << ev.dump() << ": " << m.status().ToString();
    return {};
  }
  return std::move(m).value();
}

std::string EventBytes(const json& ev) {
  return Base64Decode(ev.value("msg", "")).value_or("<bad base64>");
}

// ---------------------------------------------------------------------------------------------
// GoPeer
// ---------------------------------------------------------------------------------------------

std::unique_ptr<GoPeer> GoPeer::Start(const std::string& binary, uint64_t id,
                                      const std::string& snap_dir, const std::string& listen) {
  // Warnings only on stderr: etcd logs every stream connect at info level.
  const std::vector<std::string> args = {binary,
                                         "--listen",
                                         listen,
                                         "--id",
                                         std::to_string(id),
                                         "--snap-dir",
                                         snap_dir,
                                         "--cluster-id",
                                         std::to_string(kClusterId),
                                         "--log-level",
                                         "warn"};
  auto peer = std::unique_ptr<GoPeer>(new GoPeer());
  if (!peer->Spawn(args)) return nullptr;
  auto ready = peer->WaitEvent("ready");
  if (!ready) {
    ADD_FAILURE() << "rafthttp-peer did not become ready";
    return nullptr;
  }
  peer->url_ = ready->value("url", "");
  return peer;
}

GoPeer::~GoPeer() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    Reap();
  }
  // The child is gone, so the reader sees the end of its stdout.
  if (in_fd_ >= 0) close(in_fd_);
  if (reader_.joinable()) reader_.join();
  if (out_fd_ >= 0) close(out_fd_);
}

void GoPeer::Command(const json& c) {
  const std::string line = c.dump() + "\n";
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = write(in_fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ADD_FAILURE() << "writing to rafthttp-peer: " << std::strerror(errno);
      return;
    }
    done += static_cast<size_t>(n);
  }
}

void GoPeer::Send(const std::vector<raftpb::Message>& msgs) {
  json list = json::array();
  for (const auto& m : msgs)
    list.push_back(Base64Encode(raftpb::Encode(m)));
  Command({{"op", "send"}, {"msgs", list}});
}

std::optional<json> GoPeer::Wait(const std::function<bool(const json&)>& pred,
                                 std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto it = std::find_if(events_.begin(), events_.end(), pred);
    if (it != events_.end()) {
      json ev = std::move(*it);
      events_.erase(it);
      return ev;
    }
    if (eof_ || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    cv_.wait_until(l, deadline);
  }
}

std::optional<json> GoPeer::WaitEvent(const std::string& name, std::chrono::milliseconds timeout) {
  return Wait([&](const json& ev) { return ev.value("ev", "") == name; }, timeout);
}

std::optional<json> GoPeer::WaitReceived(raftpb::MessageType type,
                                         std::chrono::milliseconds timeout) {
  return Wait(
      [&](const json& ev) {
        const std::string name = ev.value("ev", "");
        if (name != "recv" && name != "snap") return false;
        auto raw = Base64Decode(ev.value("msg", ""));
        if (!raw) return false;
        auto m = raftpb::DecodeMessage(*raw);
        return m.ok() && m.value().type == type;
      },
      timeout);
}

bool GoPeer::Active(uint64_t id) {
  Command({{"op", "status"}});
  auto st = WaitEvent("status");
  if (!st || !st->contains("active")) return false;
  const auto& active = st->at("active");
  const std::string key = std::to_string(id);
  return active.contains(key) && active.at(key).is_boolean() && active.at(key).get<bool>();
}

void GoPeer::Stop() {
  Command({{"op", "stop"}});
  EXPECT_TRUE(WaitEvent("stopped").has_value()) << "rafthttp-peer did not report stopped";
  // Bounded: after "stopped" the program only calls os.Exit(0); the destructor would SIGKILL it.
  const int status = Reap();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
}

bool GoPeer::Spawn(const std::vector<std::string>& args) {
  int in[2];
  int out[2];
  // O_CLOEXEC: children spawned concurrently by other tests must not hold our pipe ends (the
  // reader would never see the end of stdout). posix_spawn's dup2 clears it on fds 0 and 1.
  if (pipe2(in, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return false;
  }
  if (pipe2(out, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    close(in[0]);
    close(in[1]);
    return false;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  std::vector<char*> argv;
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  in_fd_ = in[1];
  out_fd_ = out[0];
  if (rc != 0) {
    pid_ = -1;
    ADD_FAILURE() << "posix_spawn " << args[0] << ": " << std::strerror(rc);
    return false;
  }
  reader_ = std::thread([this] { ReadEvents(); });
  return true;
}

void GoPeer::ReadEvents() {
  std::string buf;
  std::vector<char> chunk(64 * 1024);
  for (;;) {
    const ssize_t n = read(out_fd_, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buf.append(chunk.data(), static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl = buf.find('\n'); nl != std::string::npos; nl = buf.find('\n', start)) {
      json ev = json::parse(buf.substr(start, nl - start), nullptr, /*allow_exceptions=*/false);
      start = nl + 1;
      std::lock_guard<std::mutex> g(mu_);
      // A line that is not an object breaks the protocol; keep a trace instead of dropping it.
      events_.push_back(ev.is_object() ? std::move(ev) : json{{"ev", "malformed"}});
      cv_.notify_all();
    }
    buf.erase(0, start);
  }
  std::lock_guard<std::mutex> g(mu_);
  eof_ = true;
  cv_.notify_all();
}

int GoPeer::Reap() {
  if (pid_ <= 0) return -1;
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return status;
}

// ---------------------------------------------------------------------------------------------
// RecordingNode
// ---------------------------------------------------------------------------------------------

Status RecordingNode::Process(raftpb::Message m) {
  std::lock_guard<std::mutex> g(mu_);
  messages_.push_back(std::move(m));
  cv_.notify_all();
  return Status::Ok();
}

Status RecordingNode::ProcessSnapshot(raftpb::Message m, SnapshotData& data) {
  ReceivedSnapshot s;
  s.message = std::move(m);
  Sha256 h;
  std::vector<char> buf(256 * 1024);
  for (;;) {
    auto n = data.Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (n.value() == 0) break;
    h.Update(std::string_view(buf.data(), n.value()));
    s.size += n.value();
  }
  s.sha256 = h.HexDigest();
  std::lock_guard<std::mutex> g(mu_);
  snapshots_.push_back(std::move(s));
  cv_.notify_all();
  return Status::Ok();
}

bool RecordingNode::IsIdRemoved(NodeId id) {
  std::lock_guard<std::mutex> g(mu_);
  return removed_.count(id.value()) > 0;
}

void RecordingNode::ReportUnreachable(NodeId id) {
  std::lock_guard<std::mutex> g(mu_);
  unreachable_.push_back(id.value());
  cv_.notify_all();
}

void RecordingNode::ReportSnapshot(NodeId id, SnapshotStatus status) {
  std::lock_guard<std::mutex> g(mu_);
  snapshot_reports_.emplace_back(id.value(), status);
  cv_.notify_all();
}

void RecordingNode::MarkRemoved(uint64_t id) {
  std::lock_guard<std::mutex> g(mu_);
  removed_.insert(id);
}

std::optional<raftpb::Message> RecordingNode::TakeMessage(
    const std::function<bool(const raftpb::Message&)>& pred, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  std::optional<raftpb::Message> found;
  cv_.wait_for(l, timeout, [&] {
    auto it = std::find_if(messages_.begin(), messages_.end(), pred);
    if (it == messages_.end()) return false;
    found = std::move(*it);
    messages_.erase(it);
    return true;
  });
  return found;
}

std::optional<raftpb::Message> RecordingNode::TakeMessage(raftpb::MessageType type,
                                                          std::chrono::milliseconds timeout) {
  return TakeMessage([type](const raftpb::Message& m) { return m.type == type; }, timeout);
}

std::vector<raftpb::Message> RecordingNode::TakeMessages(raftpb::MessageType type, size_t count) {
  std::unique_lock<std::mutex> l(mu_);
  auto matching = [&] {
    return static_cast<size_t>(std::count_if(messages_.begin(), messages_.end(),
                                             [&](const auto& m) { return m.type == type; }));
  };
  cv_.wait_for(l, kWait, [&] { return matching() >= count; });
  std::vector<raftpb::Message> out;
  for (auto it = messages_.begin(); it != messages_.end();) {
    if (it->type == type && out.size() < count) {
      out.push_back(std::move(*it));
      it = messages_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::optional<ReceivedSnapshot> RecordingNode::TakeSnapshot() {
  std::unique_lock<std::mutex> l(mu_);
  if (!cv_.wait_for(l, kWait, [&] { return !snapshots_.empty(); })) return std::nullopt;
  ReceivedSnapshot s = std::move(snapshots_.front());
  snapshots_.pop_front();
  return s;
}

std::optional<SnapshotStatus> RecordingNode::WaitSnapshotReport(uint64_t id) {
  std::unique_lock<std::mutex> l(mu_);
  std::optional<SnapshotStatus> found;
  cv_.wait_for(l, kWait, [&] {
    for (const auto& [who, status] : snapshot_reports_) {
      if (who == id) {
        found = status;
        return true;
      }
    }
    return false;
  });
  return found;
}

// ---------------------------------------------------------------------------------------------
// RaftkitSide
// ---------------------------------------------------------------------------------------------

std::unique_ptr<RaftkitSide> RaftkitSide::Start(uint64_t id, SnapshotMode mode) {
  auto side = std::unique_ptr<RaftkitSide>(new RaftkitSide());
  TransportOptions opts;
  opts.id = NodeId(id);
  opts.cluster_id = kClusterId;
  opts.raft = &side->node;
  opts.snapshot_mode = mode;
  opts.dial_timeout = 1000ms;
  auto tr = Transport::Create(std::move(opts));
  if (!tr.ok()) {
    ADD_FAILURE() << "Transport::Create: " << tr.status().ToString();
    return nullptr;
  }
  side->transport = std::move(tr).value();
  side->transport->OnCriticalError([s = side.get()](const Status& st) {
    std::lock_guard<std::mutex> g(s->mu_);
    s->critical_.push_back(st);
    s->cv_.notify_all();
  });
  auto server = http::Server::Start(http::ServerOptions{}, side->transport->Routes());
  if (!server.ok()) {
    ADD_FAILURE() << "http::Server::Start: " << server.status().ToString();
    return nullptr;
  }
  side->server = std::move(server).value();
  const Status st = side->transport->Start();
  if (!st.ok()) {
    ADD_FAILURE() << "Transport::Start: " << st.ToString();
    return nullptr;
  }
  return side;
}

RaftkitSide::~RaftkitSide() {
  // The transport first: its served streams end, so the server's handlers return promptly.
  if (transport) transport->Stop();
  if (server) server->Stop();
}

json RaftkitSide::PeerStats(uint64_t id) const {
  const json all = json::parse(transport->StatsJson(), nullptr, /*allow_exceptions=*/false);
  if (!all.is_object() || !all.contains("peers")) return json();
  // etcd's id format: lower-case hex without leading zeros.
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%llx", static_cast<unsigned long long>(id));
  for (const auto& p : all.at("peers")) {
    if (p.is_object() && p.value("id", "") == hex) return p;
  }
  return json();
}

bool RaftkitSide::StreamsUp(uint64_t id) const {
  const json p = PeerStats(id);
  if (!p.is_object() || !p.contains("streams")) return false;
  for (const char* type : {"msgapp", "message"}) {
    const json s = p.at("streams").value(type, json::object());
    if (!s.value("sending", false) || !s.value("receiving", false)) return false;
  }
  return true;
}

std::optional<Status> RaftkitSide::WaitCritical() {
  std::unique_lock<std::mutex> l(mu_);
  if (!cv_.wait_for(l, kWait, [&] { return !critical_.empty(); })) return std::nullopt;
  return critical_.front();
}

}  // namespace raftkit::rafthttp::interop
