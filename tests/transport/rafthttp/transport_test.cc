// The Transport end to end between raftkit members on 127.0.0.1: channel choice (spec §6), both
// stream types, the pipeline, snapshots both ways, reports to Raft, re-dials, removed members,
// Cut/Pause, stats; and a transport facing bad peers (garbage, truncated and silent streams,
// wrong versions, 403 answers, floods of idle connections), which must never crash it.
#include "raftkit/transport/rafthttp/transport.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "raftkit/raftpb/codec.h"
#include "raftkit/transport/http/client.h"
#include "raftkit/transport/http/server.h"
#include "raftkit/transport/rafthttp/test_transporters.h"
#include "transport/http/test_util.h"
#include "transport/rafthttp/msg_codec.h"
#include "transport/rafthttp/peer.h"

namespace raftkit::rafthttp {
namespace {

using namespace std::chrono_literals;
using raftpb::MessageType;
using ::testing::HasSubstr;

constexpr uint64_t kCluster = 0x1000;
constexpr auto kWait = 10s;

// The byte at `i` of a test snapshot's data.
char PatternByte(uint64_t i, uint64_t seed) {
  return static_cast<char>((i * 31 + seed) & 0xff);
}

// Records what the transport hands to Raft; every wait gives up after kWait.
class RecordingRaft final : public RaftNode {
 public:
  Status Process(raftpb::Message m) override {
    std::lock_guard<std::mutex> g(mu_);
    messages_.push_back(std::move(m));
    cv_.notify_all();
    return Status::Ok();
  }
  Status ProcessSnapshot(raftpb::Message m, SnapshotData& data) override {
    std::vector<char> buf(256 * 1024);
    uint64_t size = 0;
    bool pattern_ok = true;
    const uint64_t seed = m.snapshot.metadata.index.value();
    for (;;) {
      auto n = data.Read(buf.data(), buf.size());
      if (!n.ok()) return n.status();
      if (n.value() == 0) break;
      for (size_t i = 0; i < n.value(); ++i) {
        pattern_ok = pattern_ok && buf[i] == PatternByte(size + i, seed);
      }
      size += n.value();
    }
    std::lock_guard<std::mutex> g(mu_);
    snapshots_.push_back({std::move(m), size, pattern_ok});
    cv_.notify_all();
    return Status::Ok();
  }
  bool IsIdRemoved(NodeId id) override {
    std::lock_guard<std::mutex> g(mu_);
    return removed_.count(id) > 0;
  }
  void ReportUnreachable(NodeId id) override {
    std::lock_guard<std::mutex> g(mu_);
    ++unreachable_[id];
    cv_.notify_all();
  }
  void ReportSnapshot(NodeId id, SnapshotStatus status) override {
    std::lock_guard<std::mutex> g(mu_);
    snapshot_reports_.emplace_back(id, status);
    cv_.notify_all();
  }

  struct ReceivedSnapshot {
    raftpb::Message message;
    uint64_t size = 0;
    bool pattern_ok = false;
  };

  void MarkRemoved(NodeId id) {
    std::lock_guard<std::mutex> g(mu_);
    removed_.insert(id);
  }
  // Waits until `pred` holds over the recorded state.
  bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = kWait) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, timeout, pred);
  }
  bool WaitMessages(size_t n) {
    return WaitFor([&] { return messages_.size() >= n; });
  }
  std::vector<raftpb::Message> messages() {
    std::lock_guard<std::mutex> g(mu_);
    return messages_;
  }
  void ClearMessages() {
    std::lock_guard<std::mutex> g(mu_);
    messages_.clear();
  }
  uint64_t unreachable(NodeId id) {
    std::lock_guard<std::mutex> g(mu_);
    return unreachable_[id];
  }
  std::vector<ReceivedSnapshot> snapshots() {
    std::lock_guard<std::mutex> g(mu_);
    return snapshots_;
  }
  std::vector<std::pair<NodeId, SnapshotStatus>> snapshot_reports() {
    std::lock_guard<std::mutex> g(mu_);
    return snapshot_reports_;
  }

  // Guarded by mu_ (WaitFor predicates run under it).
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<raftpb::Message> messages_;
  std::vector<ReceivedSnapshot> snapshots_;
  std::map<NodeId, uint64_t> unreachable_;
  std::vector<std::pair<NodeId, SnapshotStatus>> snapshot_reports_;
  std::set<NodeId> removed_;
};

// Polls `pred` until it holds or kWait passes.
bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = kWait) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// One member: a RecordingRaft, a Transport and the peer listener serving its routes.
struct Member {
  explicit Member(uint64_t id, uint16_t port = 0,
                  std::function<void(TransportOptions&)> tweak = nullptr,
                  std::optional<http::TlsServerConfig> tls = std::nullopt) {
    TransportOptions o;
    o.id = NodeId(id);
    o.cluster_id = kCluster;
    o.raft = &raft;
    o.probe_interval = 100ms;
    if (tweak) tweak(o);
    transport = Transport::Create(std::move(o)).value();
    http::ServerOptions so;
    so.port = port;
    so.tls = std::move(tls);
    server = http::Server::Start(so, transport->Routes()).value();
    transport->OnCriticalError([this](const Status& st) {
      std::lock_guard<std::mutex> g(raft.mu_);
      critical.push_back(st.message());
      raft.cv_.notify_all();
    });
    EXPECT_TRUE(transport->Start().ok());
  }
  ~Member() { Shutdown(); }
  void Shutdown() {
    if (transport) transport->Stop();
    if (server) server->Stop();
    server.reset();
    transport.reset();
  }
  [[nodiscard]] std::string url() const { return server->url(); }
  std::vector<std::string> criticals() {
    std::lock_guard<std::mutex> g(raft.mu_);
    return critical;
  }

  RecordingRaft raft;
  std::vector<std::string> critical;  // guarded by raft.mu_
  std::unique_ptr<Transport> transport;
  std::unique_ptr<http::Server> server;
};

raftpb::Message Msg(MessageType type, uint64_t from, uint64_t to, uint64_t index = 0) {
  raftpb::Message m;
  m.type = type;
  m.from = NodeId(from);
  m.to = NodeId(to);
  m.term = Term(3);
  m.index = Index(index);
  m.log_term = Term(3);
  m.commit = Index(index);
  return m;
}

raftpb::Message App(uint64_t from, uint64_t to, uint64_t index, size_t entries = 2) {
  raftpb::Message m = Msg(MessageType::MsgApp, from, to, index);
  for (size_t i = 0; i < entries; ++i) {
    raftpb::Entry e;
    e.term = Term(3);
    e.index = Index(index + 1 + i);
    e.data = Bytes(std::string(100, static_cast<char>('a' + i % 26)));
    m.entries.push_back(std::move(e));
  }
  return m;
}

// Adds each as the other's peer and waits until all four streams carry data.
void Pair(Member& a, uint64_t a_id, Member& b, uint64_t b_id) {
  a.transport->AddPeer(NodeId(b_id), {b.url()});
  b.transport->AddPeer(NodeId(a_id), {a.url()});
  ASSERT_TRUE(Eventually([&] {
    return a.transport->StreamAttached(NodeId(b_id), "msgapp") &&
           a.transport->StreamAttached(NodeId(b_id), "message") &&
           b.transport->StreamAttached(NodeId(a_id), "msgapp") &&
           b.transport->StreamAttached(NodeId(a_id), "message");
  })) << a.transport->StatsJson();
}

std::vector<MessageType> PeerMessageTypes() {
  return {MessageType::MsgProp,          MessageType::MsgApp,
          MessageType::MsgAppResp,       MessageType::MsgVote,
          MessageType::MsgVoteResp,      MessageType::MsgHeartbeat,
          MessageType::MsgHeartbeatResp, MessageType::MsgTransferLeader,
          MessageType::MsgTimeoutNow,    MessageType::MsgReadIndex,
          MessageType::MsgReadIndexResp, MessageType::MsgPreVote,
          MessageType::MsgPreVoteResp};
}

TEST(TransportTest, EveryMessageTypeArrivesUnchangedInBothDirectionsOverStreams) {
  Member a(1), b(2);
  Pair(a, 1, b, 2);
  std::vector<raftpb::Message> to_b, to_a;
  for (auto t : PeerMessageTypes()) {
    auto m = t == MessageType::MsgApp ? App(1, 2, 10) : Msg(t, 1, 2, 7);
    m.context = Bytes(std::string("ctx"));
    to_b.push_back(m);
    auto r = m;
    r.from = NodeId(2);
    r.to = NodeId(1);
    to_a.push_back(r);
  }
  a.transport->Send(to_b);
  b.transport->Send(to_a);
  ASSERT_TRUE(b.raft.WaitMessages(to_b.size()));
  ASSERT_TRUE(a.raft.WaitMessages(to_a.size()));
  // Proposals travel through their own receive queue, so compare as sets of encodings.
  auto encodings = [](const std::vector<raftpb::Message>& v) {
    std::multiset<std::string> s;
    for (const auto& m : v)
      s.insert(raftpb::Encode(m));
    return s;
  };
  EXPECT_EQ(encodings(b.raft.messages()), encodings(to_b));
  EXPECT_EQ(encodings(a.raft.messages()), encodings(to_a));
  // The sender counts a message once its write returned, which may be after it arrived.
  nlohmann::json stats;
  EXPECT_TRUE(Eventually([&] {
    stats = nlohmann::json::parse(a.transport->StatsJson());
    return stats["peers"][0]["counts"]["success"] == to_b.size();
  })) << stats.dump();
  EXPECT_EQ(stats["peers"][0]["counts"]["fail"], 0);
}

TEST(TransportTest, AppendsOnTheMsgAppStreamKeepTheirOrderUnderLoad) {
  Member a(1), b(2);
  Pair(a, 1, b, 2);
  constexpr uint64_t kCount = 5000;
  for (uint64_t i = 0; i < kCount; i += 50) {
    std::vector<raftpb::Message> batch;
    for (uint64_t j = i; j < i + 50; ++j)
      batch.push_back(App(1, 2, 100 + j * 2, 2));
    a.transport->Send(std::move(batch));
    std::this_thread::sleep_for(1ms);  // below the 4096 queue, as Raft's flow control keeps it
  }
  ASSERT_TRUE(b.raft.WaitMessages(kCount)) << b.raft.messages().size();
  auto got = b.raft.messages();
  for (uint64_t j = 0; j < kCount; ++j) {
    ASSERT_EQ(got[j].index, Index(100 + j * 2)) << "at " << j;
    ASSERT_EQ(got[j].entries.size(), 2u);
  }
  EXPECT_EQ(a.raft.unreachable(NodeId(2)), 0u);
}

TEST(TransportTest, ThePipelineCarriesEverythingWhileNoStreamIsAttached) {
  // b does not know a: its stream endpoints answer 404 to a, and b never dials a. So a can only
  // POST, and b's pipeline handler accepts messages from anyone in the cluster.
  Member a(1), b(2);
  a.transport->AddPeer(NodeId(2), {b.url()});
  std::vector<raftpb::Message> msgs;
  for (uint64_t i = 0; i < 40; ++i)
    msgs.push_back(App(1, 2, i));
  msgs.push_back(Msg(MessageType::MsgHeartbeat, 1, 2));
  a.transport->Send(msgs);
  ASSERT_TRUE(b.raft.WaitMessages(msgs.size()));
  EXPECT_FALSE(a.transport->StreamAttached(NodeId(2), "msgapp"));
  EXPECT_FALSE(a.transport->StreamAttached(NodeId(2), "message"));
  EXPECT_TRUE(a.transport->ActiveSince(NodeId(2)).has_value());
  EXPECT_EQ(a.transport->ActivePeers(), 1u);
}

// What member 2 sends to dial member 1's message stream (served at `url`).
http::ClientRequest MessageStreamRequest(const std::string& url) {
  http::ClientRequest req;
  req.url = url + "/raft/stream/message/2";
  req.headers = {{"X-Server-From", "2"},
                 {"X-Server-Version", "3.4.23"},
                 {"X-Min-Cluster-Version", "3.0.0"},
                 {"X-Etcd-Cluster-ID", "1000"},
                 {"X-Raft-To", "1"}};
  return req;
}

TEST(TransportTest, MsgAppFallsBackToTheMessageStreamWhenTheMsgAppStreamIsDown) {
  // A peer that dials only the message stream (as the spec allows) gets appends there.
  Member a(1);
  a.transport->AddPeer(NodeId(2), {"http://127.0.0.1:1"});
  auto client = http::Client::Create({}).value();
  auto stream = client->Open(MessageStreamRequest(a.url())).value();
  ASSERT_EQ(stream->status(), 200);
  ASSERT_TRUE(Eventually([&] { return a.transport->StreamAttached(NodeId(2), "message"); }));
  EXPECT_FALSE(a.transport->StreamAttached(NodeId(2), "msgapp"));
  a.transport->Send({App(1, 2, 5)});
  MessageDecoder dec;
  char buf[4096];
  std::optional<raftpb::Message> got;
  while (!got) {
    auto n = stream->Read(buf, sizeof(buf));
    ASSERT_TRUE(n.ok() && n.value() > 0);
    ASSERT_TRUE(dec.Feed(std::string_view(buf, n.value())).ok());
    while (auto item = dec.Next()) {
      if (auto* m = std::get_if<raftpb::Message>(&*item)) got = *m;
    }
  }
  EXPECT_EQ(raftpb::Encode(*got), raftpb::Encode(App(1, 2, 5)));
}

TEST(TransportTest, ServedStreamsSendLinkHeartbeatsWhenIdle) {
  Member a(1, 0, [](TransportOptions& o) { o.stream_read_timeout = 600ms; });
  a.transport->AddPeer(NodeId(2), {"http://127.0.0.1:1"});
  auto client = http::Client::Create({}).value();
  auto stream = client->Open(MessageStreamRequest(a.url())).value();
  ASSERT_EQ(stream->status(), 200);
  MessageDecoder dec;
  char buf[4096];
  const auto t0 = std::chrono::steady_clock::now();
  while (dec.link_heartbeats() < 3) {
    auto n = stream->Read(buf, sizeof(buf));
    ASSERT_TRUE(n.ok() && n.value() > 0);
    ASSERT_TRUE(dec.Feed(std::string_view(buf, n.value())).ok());
  }
  // Three heartbeats at a third of 600 ms each.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(TransportTest, SnapshotsTravelThroughTheSnapshotEndpointStreamedBothWays) {
  Member a(1), b(2);
  Pair(a, 1, b, 2);
  constexpr uint64_t kSize = uint64_t{24} << 20;
  for (auto [from, to, to_id] : {std::tuple{&a, &b, 2u}, std::tuple{&b, &a, 1u}}) {
    OutgoingSnapshot snap;
    snap.message = Msg(MessageType::MsgSnap, to_id == 2 ? 1 : 2, to_id);
    snap.message.snapshot.metadata.index = Index(77);
    snap.message.snapshot.metadata.term = Term(3);
    snap.message.snapshot.metadata.conf_state.voters = {NodeId(1), NodeId(2)};
    snap.data_size = kSize;
    auto sent = std::make_shared<uint64_t>(0);
    snap.read = [sent](char* buf, size_t cap) -> Result<size_t> {
      const size_t n = std::min<uint64_t>(cap, kSize - *sent);
      for (size_t i = 0; i < n; ++i)
        buf[i] = PatternByte(*sent + i, 77);
      *sent += n;
      return n;
    };
    auto done = std::make_shared<std::atomic<int>>(0);
    snap.done = [done](bool ok) { *done = ok ? 1 : -1; };
    from->transport->SendSnapshot(std::move(snap));
    ASSERT_TRUE(to->raft.WaitFor([&] { return !to->raft.snapshots_.empty(); }, 30s));
    auto got = to->raft.snapshots();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].size, kSize);
    EXPECT_TRUE(got[0].pattern_ok);
    EXPECT_EQ(got[0].message.snapshot.metadata.index, Index(77));
    ASSERT_TRUE(Eventually([&] { return done->load() != 0; }));
    EXPECT_EQ(done->load(), 1);
    auto reports = from->raft.snapshot_reports();
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].first, NodeId(to_id));
    EXPECT_EQ(reports[0].second, SnapshotStatus::kFinish);
  }
}

TEST(TransportTest, InlineSnapshotsGoThroughThePipelineWithTheStateInTheMessage) {
  Member a(1, 0, [](TransportOptions& o) { o.snapshot_mode = SnapshotMode::kInline; });
  Member b(2);
  Pair(a, 1, b, 2);
  OutgoingSnapshot snap;
  snap.message = Msg(MessageType::MsgSnap, 1, 2);
  snap.message.snapshot.metadata.index = Index(9);
  snap.message.snapshot.data = Bytes(std::string("{\"k\":"));
  const std::string rest = "\"v\"}";
  snap.data_size = rest.size();
  snap.read = [rest, off = size_t{0}](char* buf, size_t cap) mutable -> Result<size_t> {
    const size_t n = std::min(cap, rest.size() - off);
    std::copy_n(rest.data() + off, n, buf);
    off += n;
    return n;
  };
  a.transport->SendSnapshot(std::move(snap));
  ASSERT_TRUE(b.raft.WaitMessages(1));
  const auto got = b.raft.messages()[0];
  EXPECT_EQ(got.type, MessageType::MsgSnap);
  EXPECT_EQ(got.snapshot.data.view(), "{\"k\":\"v\"}");
  ASSERT_TRUE(a.raft.WaitFor([&] { return !a.raft.snapshot_reports_.empty(); }));
  EXPECT_EQ(a.raft.snapshot_reports()[0].second, SnapshotStatus::kFinish);
}

TEST(TransportTest, ASnapshotToADeadPeerIsReportedAsFailed) {
  Member a(1);
  a.transport->AddPeer(NodeId(2), {"http://127.0.0.1:1"});
  OutgoingSnapshot snap;
  snap.message = Msg(MessageType::MsgSnap, 1, 2);
  snap.data_size = 10;
  snap.read = [](char* buf, size_t cap) -> Result<size_t> {
    std::fill_n(buf, std::min<size_t>(cap, 10), 'x');
    return std::min<size_t>(cap, 10);
  };
  std::atomic<int> done{0};
  snap.done = [&](bool ok) { done = ok ? 1 : -1; };
  a.transport->SendSnapshot(std::move(snap));
  ASSERT_TRUE(a.raft.WaitFor([&] { return !a.raft.snapshot_reports_.empty(); }));
  EXPECT_EQ(a.raft.snapshot_reports()[0].second, SnapshotStatus::kFailure);
  EXPECT_GE(a.raft.unreachable(NodeId(2)), 1u);
  ASSERT_TRUE(Eventually([&] { return done.load() != 0; }));
  EXPECT_EQ(done.load(), -1);
}

TEST(TransportTest, AFullPipelineDropsAndReportsUnreachable) {
  // A peer that accepts connections and never answers: 4 POSTs hang, 64 wait, the rest drop.
  http::testing::TempDir dir;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  http::Route hang{"/raft", true, http::BodyMode::kBuffered, 1 << 20,
                   [&](http::ServerRequest&, http::ResponseWriter& w) {
                     std::unique_lock<std::mutex> l(mu);
                     cv.wait(l, [&] { return release; });
                     (void)w.Respond({204, {}, ""});
                   }};
  auto peer = http::Server::Start({}, {hang}).value();
  {
    Member a(1);
    a.transport->AddPeer(NodeId(2), {peer->url()});
    std::vector<raftpb::Message> msgs;
    for (int i = 0; i < 100; ++i)
      msgs.push_back(Msg(MessageType::MsgHeartbeat, 1, 2));
    msgs.push_back(Msg(MessageType::MsgSnap, 1, 2));
    a.transport->Send(msgs);
    // 100 + 1 messages: at most 4 in flight and 64 queued, so at least 33 were dropped.
    ASSERT_TRUE(Eventually([&] { return a.raft.unreachable(NodeId(2)) >= 33; }));
    auto reports = a.raft.snapshot_reports();
    ASSERT_EQ(reports.size(), 1u);  // the MsgSnap found the queue full
    EXPECT_EQ(reports[0].second, SnapshotStatus::kFailure);
    {
      std::lock_guard<std::mutex> g(mu);
      release = true;
      cv.notify_all();
    }
    a.Shutdown();
  }
  peer->Stop();
}

TEST(TransportTest, StreamsComeBackAfterThePeerRestartsOnTheSamePort) {
  Member a(1);
  auto b = std::make_unique<Member>(2);
  const uint16_t port = b->server->port();
  Pair(a, 1, *b, 2);
  b.reset();
  ASSERT_TRUE(Eventually([&] { return a.transport->ActivePeers() == 0; }));
  a.transport->Send({Msg(MessageType::MsgHeartbeat, 1, 2)});
  b = std::make_unique<Member>(2, port);
  Pair(a, 1, *b, 2);
  EXPECT_EQ(a.transport->ActivePeers(), 1u);
  a.transport->Send({App(1, 2, 1)});
  b->transport->Send({Msg(MessageType::MsgAppResp, 2, 1, 3)});
  ASSERT_TRUE(b->raft.WaitMessages(1));
  ASSERT_TRUE(a.raft.WaitMessages(1));
}

TEST(TransportTest, AStreamAnswered410RaisesTheCriticalErrorOnce) {
  Member a(1), b(2);
  b.raft.MarkRemoved(NodeId(1));
  b.transport->AddPeer(NodeId(1), {a.url()});
  a.transport->AddPeer(NodeId(2), {b.url()});
  ASSERT_TRUE(a.raft.WaitFor([&] { return !a.critical.empty(); }));
  std::this_thread::sleep_for(300ms);  // more 410s arrive; the error is reported once
  auto c = a.criticals();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_THAT(c[0], HasSubstr("removed"));
  EXPECT_FALSE(a.transport->StreamReading(NodeId(2), "message"));
}

TEST(TransportTest, APipelineAnswered403RaisesTheCriticalError) {
  http::Route forbid{"/raft", true, http::BodyMode::kBuffered, 1 << 20,
                     [](http::ServerRequest&, http::ResponseWriter& w) {
                       (void)w.Respond({403, {}, "removed member\n"});
                     }};
  auto peer = http::Server::Start({}, {forbid}).value();
  {
    Member a(1);
    a.transport->AddPeer(NodeId(2), {peer->url()});
    a.transport->Send({Msg(MessageType::MsgHeartbeat, 1, 2)});
    ASSERT_TRUE(a.raft.WaitFor([&] { return !a.critical.empty(); }));
    // The failure is also reported (just after the critical error).
    EXPECT_TRUE(Eventually([&] { return a.raft.unreachable(NodeId(2)) >= 1; }));
  }
  peer->Stop();
}

TEST(TransportTest, CutAndPauseDropTrafficUntilMendedAndResumed) {
  Member a(1), b(2);
  Pair(a, 1, b, 2);
  a.transport->CutPeer(NodeId(2));
  a.transport->Send({Msg(MessageType::MsgHeartbeat, 1, 2)});
  b.transport->Send({Msg(MessageType::MsgHeartbeatResp, 2, 1)});  // dropped on arrival at a
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(b.raft.messages().empty());
  EXPECT_TRUE(a.raft.messages().empty());
  a.transport->MendPeer(NodeId(2));
  a.transport->Send({Msg(MessageType::MsgHeartbeat, 1, 2, 1)});
  ASSERT_TRUE(b.raft.WaitMessages(1));
  EXPECT_EQ(b.raft.messages()[0].index, Index(1));

  a.transport->Pause();
  a.transport->Send({Msg(MessageType::MsgHeartbeat, 1, 2, 2)});
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(b.raft.messages().size(), 1u);
  a.transport->Resume();
  a.transport->Send({Msg(MessageType::MsgHeartbeat, 1, 2, 3)});
  ASSERT_TRUE(b.raft.WaitMessages(2));
  EXPECT_EQ(b.raft.messages()[1].index, Index(3));
}

TEST(TransportTest, UnknownRecipientsAndRecipientZeroAreSkipped) {
  Member a(1), b(2);
  Pair(a, 1, b, 2);
  a.transport->Send({Msg(MessageType::MsgHeartbeat, 1, 0), Msg(MessageType::MsgHeartbeat, 1, 9),
                     Msg(MessageType::MsgHeartbeat, 1, 2)});
  ASSERT_TRUE(b.raft.WaitMessages(1));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(b.raft.messages().size(), 1u);
  EXPECT_EQ(a.raft.unreachable(NodeId(9)), 0u);
}

TEST(TransportTest, APostFromAnUnknownMemberWithPeerUrlsAddsARemoteThatCanBeAnswered) {
  // c is not b's peer; c's POST carries X-PeerURLs, so b can answer c through a remote.
  Member b(2);
  Member c2(3);
  auto client = http::Client::Create({}).value();
  http::ClientRequest req;
  req.method = "POST";
  req.url = b.url() + "/raft";
  req.headers = {{"X-Server-From", "3"},
                 {"X-Server-Version", "3.4.23"},
                 {"X-Min-Cluster-Version", "3.0.0"},
                 {"X-Etcd-Cluster-ID", "1000"},
                 {"X-PeerURLs", c2.url()}};
  req.body = raftpb::Encode(Msg(MessageType::MsgVote, 3, 2));
  auto r = client->Do(req).value();
  EXPECT_EQ(r.status, 204);
  ASSERT_TRUE(b.raft.WaitMessages(1));
  b.transport->Send({Msg(MessageType::MsgVoteResp, 2, 3)});
  ASSERT_TRUE(c2.raft.WaitMessages(1));
  EXPECT_EQ(c2.raft.messages()[0].type, MessageType::MsgVoteResp);
  auto stats = nlohmann::json::parse(b.transport->StatsJson());
  EXPECT_EQ(stats["remotes"], nlohmann::json::array({"3"}));
}

TEST(TransportTest, TheProberMeasuresRoundTripsIntoTheStats) {
  Member a(1), b(2);
  Pair(a, 1, b, 2);
  ASSERT_TRUE(Eventually([&] {
    auto s = nlohmann::json::parse(a.transport->StatsJson());
    return s["peers"][0]["latency"]["probes"].get<uint64_t>() >= 3;
  }));
  auto s = nlohmann::json::parse(a.transport->StatsJson());
  const auto& lat = s["peers"][0]["latency"];
  EXPECT_TRUE(lat["healthy"].get<bool>()) << s.dump();
  EXPECT_GT(lat["average"].get<double>(), 0.0);
  EXPECT_LT(std::abs(lat["clock_diff_ms"].get<double>()), 1000.0);
  EXPECT_EQ(s["active_peers"], 1);
  EXPECT_EQ(s["peers"][0]["streams"]["msgapp"]["sending"], true);
}

TEST(TransportTest, RemovingAPeerEndsItsStreamsAndStopsRouting) {
  Member a(1), b(2);
  Pair(a, 1, b, 2);
  a.transport->RemovePeer(NodeId(2));
  EXPECT_FALSE(a.transport->ActiveSince(NodeId(2)).has_value());
  ASSERT_TRUE(Eventually([&] { return !b.transport->StreamAttached(NodeId(1), "msgapp"); }));
  a.transport->Send({Msg(MessageType::MsgHeartbeat, 1, 2)});
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(b.raft.messages().empty());
}

// A peer that accepts connections and never answers (a member stopped, or a partition that holds
// its bytes): removing it must not wait for the requests in flight to time out — the Ready loop
// calls RemovePeer, and a cluster without its leader's Ready loop has no leader.
TEST(TransportTest, RemovingAPeerThatNeverAnswersIsQuick) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ASSERT_EQ(listen(fd, 64), 0);  // the kernel completes connections; nobody ever reads them
  Member a(1, 0, [](TransportOptions& o) { o.probe_interval = 20ms; });
  a.transport->AddPeer(NodeId(2), {"http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port))});
  a.transport->Send({Msg(MessageType::MsgHeartbeat, 1, 2)});  // on the pipeline: in flight too
  std::this_thread::sleep_for(300ms);  // probes, stream dials and the post wait for answers
  const auto start = std::chrono::steady_clock::now();
  a.transport->RemovePeer(NodeId(2));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  close(fd);
}

TEST(TransportTest, MembersTalkOverMutualTls) {
  http::testing::TempDir dir;
  const http::testing::TlsFiles files = http::testing::GenerateTlsFiles(dir);
  const http::TlsServerConfig server_tls{files.server_cert, files.server_key, files.ca_cert,
                                         /*require_client_cert=*/true};
  auto client_tls = [&](TransportOptions& o) {
    o.client_tls = http::TlsClientConfig{files.ca_cert, files.client_cert, files.client_key, true};
  };
  Member a(1, 0, client_tls, server_tls), b(2, 0, client_tls, server_tls);
  ASSERT_EQ(a.url().rfind("https://", 0), 0u);
  Pair(a, 1, b, 2);
  a.transport->Send({App(1, 2, 1), Msg(MessageType::MsgHeartbeat, 1, 2)});
  b.transport->Send({Msg(MessageType::MsgAppResp, 2, 1, 3)});
  ASSERT_TRUE(b.raft.WaitMessages(2));
  ASSERT_TRUE(a.raft.WaitMessages(1));

  // A member without a client certificate is refused by the handshake: nothing arrives from it.
  Member c(
      3, 0,
      [&](TransportOptions& o) {
        o.client_tls = http::TlsClientConfig{files.ca_cert, "", "", true};
      },
      server_tls);
  c.transport->AddPeer(NodeId(2), {b.url()});
  c.transport->Send({Msg(MessageType::MsgHeartbeat, 3, 2)});
  ASSERT_TRUE(c.raft.WaitFor([&] { return c.raft.unreachable_[NodeId(2)] > 0; }));
  EXPECT_EQ(b.raft.messages().size(), 2u);
}

TEST(TransportTest, ADeadUrlIsLeftForThePeersNextUrl) {
  Member a(1), b(2);
  // Port 1 refuses connections: the first pipeline POST or stream dial through it fails and the
  // picker moves to b's real URL, where everything then goes.
  a.transport->AddPeer(NodeId(2), {"http://127.0.0.1:1", b.url()});
  b.transport->AddPeer(NodeId(1), {a.url()});
  a.transport->Send({Msg(MessageType::MsgHeartbeat, 1, 2, 1)});
  // a's readers dial b through the picker: they end up on the URL that works.
  ASSERT_TRUE(Eventually([&] { return a.transport->StreamReading(NodeId(2), "message"); }));
  auto stats = nlohmann::json::parse(a.transport->StatsJson());
  EXPECT_THAT(stats["peers"][0]["last_failure"].get<std::string>(), HasSubstr("127.0.0.1:1"))
      << stats.dump();
  a.transport->Send({Msg(MessageType::MsgHeartbeat, 1, 2, 2)});
  ASSERT_TRUE(Eventually([&] {
    for (const auto& m : b.raft.messages()) {
      if (m.index == Index(2)) return true;
    }
    return false;
  }));
}

TEST(TransportTest, UpdatePeerMovesTrafficToTheNewUrl) {
  Member a(1), b(2);
  a.transport->AddPeer(NodeId(2), {"http://127.0.0.1:1"});
  a.transport->UpdatePeer(NodeId(2), {b.url()});
  a.transport->Send({Msg(MessageType::MsgHeartbeat, 1, 2)});
  ASSERT_TRUE(b.raft.WaitMessages(1));
}

// ---------------------------------------------------------------------------------------------
// Bad peers: what a's stream readers meet when dialing them.

// A fake peer whose stream GETs are answered by `serve`.
struct FakePeer {
  explicit FakePeer(std::function<void(http::ServerRequest&, http::ResponseWriter&)> serve) {
    http::Route r{"/raft/stream/", false, http::BodyMode::kBuffered, 1 << 16, std::move(serve)};
    http::Route pipe{"/raft", true, http::BodyMode::kBuffered, 1 << 20,
                     [](http::ServerRequest&, http::ResponseWriter& w) {
                       (void)w.Respond({204, {}, ""});
                     }};
    server = http::Server::Start({}, {r, pipe}).value();
  }
  std::unique_ptr<http::Server> server;
};

http::Headers OkStreamHeaders() {
  return {{"X-Server-Version", "3.4.23"}, {"X-Etcd-Cluster-Id", "1000"}};
}

TEST(TransportBadPeerTest, GarbageOnAStreamDropsItAndRedialsWithoutCrashing) {
  std::atomic<int> dials{0};
  FakePeer peer([&](http::ServerRequest&, http::ResponseWriter& w) {
    ++dials;
    (void)w.StartStream(200, OkStreamHeaders());
    // A message-stream length prefix of 2^40 (above the limit), or msgapp frame type 0x07.
    (void)w.Write(std::string("\x00\x00\x01\x00\x00\x00\x00\x00\x07garbage", 16));
    w.WaitClientGone(2s);
  });
  {
    Member a(1);
    a.transport->AddPeer(NodeId(2), {peer.server->url()});
    ASSERT_TRUE(Eventually([&] { return dials.load() >= 6; }));
    EXPECT_TRUE(a.raft.messages().empty());
    auto s = nlohmann::json::parse(a.transport->StatsJson());
    EXPECT_THAT(s["peers"][0]["last_failure"].get<std::string>(), HasSubstr("read"));
  }
  peer.server->Stop();
}

TEST(TransportBadPeerTest, ATruncatedFrameIsAReadFailureButMessagesBeforeItArrive) {
  std::atomic<int> dials{0};
  FakePeer peer([&](http::ServerRequest& req, http::ResponseWriter& w) {
    if (req.path.find("/message/") == std::string::npos) {
      (void)w.Respond({404, {}, "no\n"});
      return;
    }
    if (dials++ > 0) {
      w.WaitClientGone(2s);
      return;
    }
    (void)w.StartStream(200, OkStreamHeaders());
    std::string body;
    MessageEncoder().Encode(Msg(MessageType::MsgHeartbeat, 2, 1, 4), &body);
    std::string frame;
    MessageEncoder().Encode(Msg(MessageType::MsgHeartbeat, 2, 1, 5), &frame);
    body += frame.substr(0, frame.size() - 3);
    (void)w.Write(body);
  });
  {
    Member a(1);
    a.transport->AddPeer(NodeId(2), {peer.server->url()});
    ASSERT_TRUE(a.raft.WaitMessages(1));
    EXPECT_EQ(a.raft.messages()[0].index, Index(4));
    ASSERT_TRUE(Eventually([&] {
      auto s = nlohmann::json::parse(a.transport->StatsJson());
      return s["peers"][0]["last_failure"].get<std::string>().find("inside a frame") !=
             std::string::npos;
    }));
    EXPECT_EQ(a.raft.messages().size(), 1u);
  }
  peer.server->Stop();
}

TEST(TransportBadPeerTest, ASilentStreamTimesOutAndIsRedialed) {
  std::atomic<int> dials{0};
  FakePeer peer([&](http::ServerRequest&, http::ResponseWriter& w) {
    ++dials;
    (void)w.StartStream(200, OkStreamHeaders());
    w.WaitClientGone(5s);
  });
  {
    Member a(1, 0, [](TransportOptions& o) { o.stream_read_timeout = 300ms; });
    a.transport->AddPeer(NodeId(2), {peer.server->url()});
    // Two stream types, each re-dialed after every 300 ms of silence.
    ASSERT_TRUE(Eventually([&] { return dials.load() >= 6; }));
  }
  peer.server->Stop();
}

TEST(TransportBadPeerTest, APeerWithoutAServerVersionIsNotUsedAsAStream) {
  std::atomic<int> dials{0};
  FakePeer peer([&](http::ServerRequest&, http::ResponseWriter& w) {
    ++dials;
    (void)w.StartStream(200, {{"X-Etcd-Cluster-Id", "1000"}});
    std::string hb;
    MessageEncoder().EncodeLinkHeartbeat(&hb);
    (void)w.Write(hb);
    w.WaitClientGone(2s);
  });
  {
    Member a(1);
    a.transport->AddPeer(NodeId(2), {peer.server->url()});
    ASSERT_TRUE(Eventually([&] { return dials.load() >= 4; }));
    EXPECT_FALSE(a.transport->StreamReading(NodeId(2), "message"));
    EXPECT_FALSE(a.transport->StreamReading(NodeId(2), "msgapp"));
  }
  peer.server->Stop();
}

TEST(TransportBadPeerTest, AClusterIdMismatchIsLoggedAsSuchAndRetried) {
  FakePeer peer([&](http::ServerRequest&, http::ResponseWriter& w) {
    (void)w.Respond({412,
                     {{"X-Etcd-Cluster-Id", "99"}, {"X-Server-Version", "3.4.23"}},
                     "cluster ID mismatch\n"});
  });
  {
    Member a(1);
    a.transport->AddPeer(NodeId(2), {peer.server->url()});
    ASSERT_TRUE(Eventually([&] {
      auto s = nlohmann::json::parse(a.transport->StatsJson());
      return s["peers"][0]["last_failure"].get<std::string>().find(
                 "cluster ID mismatch (local 1000, remote 99)") != std::string::npos;
    }));
    EXPECT_FALSE(a.transport->ActiveSince(NodeId(2)).has_value());
  }
  peer.server->Stop();
}

TEST(TransportBadPeerTest, AFloodOfIdleConnectionsDoesNotStopTheTraffic) {
  Member a(1), b(2);
  Pair(a, 1, b, 2);
  std::vector<std::unique_ptr<http::testing::RawConn>> idle;
  for (int i = 0; i < 200; ++i) {
    idle.push_back(std::make_unique<http::testing::RawConn>(b.server->port()));
  }
  a.transport->Send({Msg(MessageType::MsgHeartbeat, 1, 2, 1)});
  ASSERT_TRUE(b.raft.WaitMessages(1));
  // A pipeline POST still gets through too.
  auto client = http::Client::Create({}).value();
  http::ClientRequest req;
  req.method = "POST";
  req.url = b.url() + "/raft";
  req.headers = {{"X-Server-From", "1"},
                 {"X-Server-Version", "3.4.23"},
                 {"X-Min-Cluster-Version", "3.0.0"},
                 {"X-Etcd-Cluster-ID", "1000"}};
  req.body = raftpb::Encode(Msg(MessageType::MsgHeartbeat, 1, 2, 2));
  EXPECT_EQ(client->Do(req).value().status, 204);
}

TEST(TransportTest, TheTestTransportersRecordWhatTheyAreGiven) {
  NopTransporter nop;
  EXPECT_TRUE(nop.Start().ok());
  nop.Send({Msg(MessageType::MsgHeartbeat, 1, 2)});
  EXPECT_EQ(nop.ActivePeers(), 0u);
  EXPECT_TRUE(nop.Routes().empty());

  SnapTransporter snap;
  OutgoingSnapshot s;
  s.message = Msg(MessageType::MsgSnap, 1, 2);
  s.data_size = 5;
  s.read = [n = 0](char* buf, size_t cap) mutable -> Result<size_t> {
    if (n == 5) return size_t{0};
    const size_t k = std::min<size_t>(cap, static_cast<size_t>(5 - n));
    std::fill_n(buf, k, 'z');
    n += static_cast<int>(k);
    return k;
  };
  bool ok = false;
  s.done = [&](bool v) { ok = v; };
  snap.SendSnapshot(std::move(s));
  auto got = snap.Next(1s);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->data, "zzzzz");
  EXPECT_EQ(got->message.to, NodeId(2));
  EXPECT_TRUE(ok);
  EXPECT_FALSE(snap.Next(10ms).has_value());
}

TEST(Rfc3339Test, ParsesGoTimesWithAndWithoutFractionsAndOffsets) {
  using std::chrono::system_clock;
  auto t = ParseRfc3339("2026-11-22T08:33:17.33867339Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::nanoseconds>(t->time_since_epoch()).count() %
                1000000000,
            338673390);
  EXPECT_EQ(ParseRfc3339("2026-11-22T09:33:17+01:00"), ParseRfc3339("2026-11-22T08:33:17Z"));
  EXPECT_FALSE(ParseRfc3339("2026-11-22 08:33:17Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2026-13-22T08:33:17Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2026-11-22T08:33:17.Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2026-11-22T08:33:17").has_value());
}

}  // namespace
}  // namespace raftkit::rafthttp
