// The server-side rafthttp handlers answer exactly as etcd 3.4's do (spec §3.3-§3.5, §4): one test
// per row of the endpoint tables, on a real http::Server on 127.0.0.1 with a fake RaftNode.
#include "transport/rafthttp/handlers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "raftkit/raftpb/codec.h"
#include "raftkit/transport/http/client.h"
#include "raftkit/transport/http/server.h"
#include "transport/http/test_util.h"
#include "transport/rafthttp/msg_codec.h"

namespace raftkit::rafthttp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint64_t kLocal = 1;
constexpr uint64_t kCluster = 0x1000;

// Records what the handlers hand to Raft.
class FakeRaft final : public RaftNode {
 public:
  Status Process(raftpb::Message m) override {
    std::lock_guard lock(mu_);
    processed_.push_back(std::move(m));
    return process_status_;
  }
  Status ProcessSnapshot(raftpb::Message m, SnapshotData& data) override {
    std::vector<char> buf(256 * 1024);
    std::string all;
    std::vector<size_t> pieces;
    for (;;) {
      auto n = data.Read(buf.data(), buf.size());
      if (!n.ok()) return n.status();
      if (*n == 0) break;
      pieces.push_back(*n);
      all.append(buf.data(), *n);
    }
    std::lock_guard lock(mu_);
    snapshots_.push_back(std::move(m));
    snapshot_data_ = std::move(all);
    pieces_ = std::move(pieces);
    return snapshot_status_;
  }
  bool IsIdRemoved(NodeId id) override {
    std::lock_guard lock(mu_);
    return removed_.count(id.value()) > 0;
  }
  void ReportUnreachable(NodeId) override {}
  void ReportSnapshot(NodeId, SnapshotStatus) override {}

  std::vector<raftpb::Message> processed() {
    std::lock_guard lock(mu_);
    return processed_;
  }
  std::vector<raftpb::Message> snapshots() {
    std::lock_guard lock(mu_);
    return snapshots_;
  }
  std::string snapshot_data() {
    std::lock_guard lock(mu_);
    return snapshot_data_;
  }
  std::vector<size_t> pieces() {
    std::lock_guard lock(mu_);
    return pieces_;
  }
  void set_process_status(Status s) {
    std::lock_guard lock(mu_);
    process_status_ = std::move(s);
  }
  void set_snapshot_status(Status s) {
    std::lock_guard lock(mu_);
    snapshot_status_ = std::move(s);
  }
  void Remove(uint64_t id) {
    std::lock_guard lock(mu_);
    removed_.insert(id);
  }

 private:
  std::mutex mu_;
  std::vector<raftpb::Message> processed_;
  std::vector<raftpb::Message> snapshots_;
  std::string snapshot_data_;
  std::vector<size_t> pieces_;
  Status process_status_;
  Status snapshot_status_;
  std::set<uint64_t> removed_;
};

raftpb::Message Heartbeat() {
  raftpb::Message m;
  m.type = raftpb::MessageType::MsgHeartbeat;
  m.to = NodeId(kLocal);
  m.from = NodeId(2);
  m.term = Term(2);
  m.commit = Index(4);
  m.context = Bytes("ctx");
  return m;
}

raftpb::Message Snap(std::string data) {
  raftpb::Message m;
  m.type = raftpb::MessageType::MsgSnap;
  m.to = NodeId(kLocal);
  m.from = NodeId(2);
  m.term = Term(2);
  m.snapshot.data = Bytes(std::move(data));
  m.snapshot.metadata.index = Index(10);
  m.snapshot.metadata.term = Term(2);
  m.snapshot.metadata.conf_state.voters = {NodeId(1), NodeId(2), NodeId(3)};
  return m;
}

std::string Framed(const raftpb::Message& m) {
  std::string out;
  AppendBE64(raftpb::EncodedSize(m), &out);
  out += raftpb::Encode(m);
  return out;
}

class HandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    metrics_ = std::make_unique<TransportMetrics>(nullptr, kLocal);
    HandlerContext ctx;
    ctx.local = NodeId(kLocal);
    ctx.cluster_id = kCluster;
    ctx.raft = &raft_;
    ctx.metrics = metrics_.get();
    ctx.max_message_bytes = 8 << 20;
    ctx.is_peer = [](NodeId id) {
      return id.value() == 2 || id.value() == 3 || id.value() == 0xab;
    };
    ctx.is_remote = [this](NodeId id) {
      std::lock_guard lock(mu_);
      return remotes_.count(id.value()) > 0;
    };
    ctx.add_remote = [this](NodeId id, std::vector<std::string> urls) {
      std::lock_guard lock(mu_);
      remotes_[id.value()] = std::move(urls);
    };
    ctx.serve_stream = [this](NodeId from, StreamType t, http::ResponseWriter& w) {
      {
        std::lock_guard lock(mu_);
        streams_.emplace_back(from.value(), t);
      }
      (void)w.Write("hello");
    };
    ctx.now = [this] { return now_; };
    auto server = http::Server::Start(http::ServerOptions{}, MakeRoutes(std::move(ctx)));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    http::ClientOptions copts;
    copts.max_idle_per_host = 0;
    auto client = http::Client::Create(copts);
    ASSERT_TRUE(client.ok());
    client_ = std::move(client).value();
  }

  // The headers a Go peer (id 2) sends.
  static http::Headers PeerHeaders(std::string from = "2") {
    return {{"X-Server-From", std::move(from)},
            {"X-Server-Version", "3.4.23"},
            {"X-Min-Cluster-Version", "3.0.0"},
            {"X-Etcd-Cluster-ID", "1000"}};
  }
  static http::Headers StreamHeaders(std::string from = "2") {
    http::Headers h = PeerHeaders(std::move(from));
    h.Add("X-Raft-To", "1");
    return h;
  }

  http::Response Do(std::string method, const std::string& path, http::Headers headers,
                    std::string body = {}) {
    http::ClientRequest req;
    req.method = std::move(method);
    req.url = server_->url() + path;
    req.headers = std::move(headers);
    req.body = std::move(body);
    auto res = client_->Do(req);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? std::move(res).value() : http::Response{0, {}, {}};
  }

  // Sends `raw` on a fresh TCP connection and returns everything the server sends until it
  // closes (or 5 s pass).
  std::string Raw(const std::string& raw) {
    http::testing::RawConn conn(server_->port());
    EXPECT_TRUE(conn.connected());
    EXPECT_TRUE(conn.Send(raw));
    return conn.ReceiveAll();
  }

  static std::string RawRequest(const std::string& method, const std::string& path,
                                const http::Headers& headers, const std::string& body) {
    std::string out = method + " " + path + " HTTP/1.1\r\nHost: peer\r\nConnection: close\r\n";
    for (const auto& [k, v] : headers)
      out += k + ": " + v + "\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return out;
  }

  std::string Metrics() {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, metrics_->registry()->Collect());
    return out.str();
  }

  std::vector<std::pair<uint64_t, StreamType>> streams() {
    std::lock_guard lock(mu_);
    return streams_;
  }
  std::map<uint64_t, std::vector<std::string>> remotes() {
    std::lock_guard lock(mu_);
    return remotes_;
  }

  // Go's http.Error shape.
  static void ExpectGoError(const http::Response& res, int status, std::string_view text) {
    EXPECT_EQ(res.status, status);
    EXPECT_EQ(res.body, std::string(text) + "\n");
    EXPECT_EQ(res.headers.GetOr("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(res.headers.GetOr("X-Content-Type-Options"), "nosniff");
  }

  FakeRaft raft_;
  std::unique_ptr<TransportMetrics> metrics_;
  std::mutex mu_;
  std::vector<std::pair<uint64_t, StreamType>> streams_;
  std::map<uint64_t, std::vector<std::string>> remotes_;
  std::chrono::system_clock::time_point now_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Client> client_;
};

// ---- §4.1 POST /raft ----

TEST_F(HandlersTest, PipelineStep1WrongMethodIs405WithAllowAndNoClusterId) {
  const auto res = Do("GET", "/raft", PeerHeaders());
  ExpectGoError(res, 405, "Method Not Allowed");
  EXPECT_EQ(res.headers.GetOr("Allow"), "POST");
  EXPECT_FALSE(res.headers.Has("X-Etcd-Cluster-Id"));
}

TEST_F(HandlersTest, PipelineStep3IncompatibleVersionIs412) {
  http::Headers h = PeerHeaders();
  h.Set("X-Min-Cluster-Version", "3.5.0");
  const auto res = Do("POST", "/raft", h, raftpb::Encode(Heartbeat()));
  ExpectGoError(res, 412, "incompatible version");
  EXPECT_EQ(res.headers.GetOr("X-Etcd-Cluster-Id"), "1000");
  EXPECT_TRUE(raft_.processed().empty());
}

TEST_F(HandlersTest, PipelineStep3ClusterIdMismatchIs412) {
  http::Headers h = PeerHeaders();
  h.Set("X-Etcd-Cluster-ID", "01000");  // compared as a string: leading zeros do not match
  const auto res = Do("POST", "/raft", h, raftpb::Encode(Heartbeat()));
  ExpectGoError(res, 412, "cluster ID mismatch");
  EXPECT_EQ(res.headers.GetOr("X-Etcd-Cluster-Id"), "1000");
  EXPECT_TRUE(raft_.processed().empty());
}

TEST_F(HandlersTest, PipelineMalformedVersionClosesTheConnectionWithoutAnswer) {
  http::Headers h = PeerHeaders();
  h.Set("X-Server-Version", "3.4");
  const std::string got = Raw(RawRequest("POST", "/raft", h, raftpb::Encode(Heartbeat())));
  EXPECT_EQ(got, "");  // closed without a byte of answer, as Go's recovered panic
  EXPECT_TRUE(raft_.processed().empty());
}

TEST_F(HandlersTest, PipelineStep4AddsARemoteWithTheParsedUrls) {
  http::Headers h = PeerHeaders("4");
  h.Set("X-PeerURLs", "http://10.0.0.2:2380, https://10.0.0.1:2380");
  const auto res = Do("POST", "/raft", h, raftpb::Encode(Heartbeat()));
  EXPECT_EQ(res.status, 204);
  EXPECT_THAT(remotes()[4], ElementsAre("http://10.0.0.2:2380", "https://10.0.0.1:2380"));
  EXPECT_EQ(raft_.processed().size(), 1u);
}

TEST_F(HandlersTest, PipelineStep4AddsNoRemoteForAPeerOrWithoutUrls) {
  http::Headers peer = PeerHeaders("2");
  peer.Set("X-PeerURLs", "http://10.0.0.2:2380");
  EXPECT_EQ(Do("POST", "/raft", peer, raftpb::Encode(Heartbeat())).status, 204);
  EXPECT_EQ(Do("POST", "/raft", PeerHeaders("5"), raftpb::Encode(Heartbeat())).status, 204);
  EXPECT_TRUE(remotes().empty());
}

TEST_F(HandlersTest, PipelineBadPeerUrlsAre400InsteadOfEtcdsPanic) {
  for (const char* bad :
       {"http://10.0.0.2:2380/path", "ftp://10.0.0.2:2380", "http://10.0.0.2", "http://a:1,"}) {
    http::Headers h = PeerHeaders("4");
    h.Set("X-PeerURLs", bad);
    const auto res = Do("POST", "/raft", h, raftpb::Encode(Heartbeat()));
    ExpectGoError(res, 400, kTextInvalidPeerUrls);
    EXPECT_EQ(res.headers.GetOr("X-Etcd-Cluster-Id"), "1000");
  }
  EXPECT_TRUE(remotes().empty());
  EXPECT_TRUE(raft_.processed().empty());
}

TEST_F(HandlersTest, PipelineStep5BrokenBodyIs400ErrorReading) {
  std::string req = "POST /raft HTTP/1.1\r\nHost: peer\r\nTransfer-Encoding: chunked\r\n";
  for (const auto& [k, v] : PeerHeaders())
    req += k + ": " + v + "\r\n";
  req += "\r\nzz\r\nnot a chunk\r\n";
  const std::string got = Raw(req);
  EXPECT_THAT(got, HasSubstr("HTTP/1.1 400"));
  EXPECT_THAT(got, HasSubstr("\r\n\r\nerror reading raft message\n"));
  EXPECT_TRUE(raft_.processed().empty());
  EXPECT_THAT(Metrics(), HasSubstr("etcd_network_peer_received_failures_total{From=\"2\"} 1"));
}

TEST_F(HandlersTest, PipelineStep6UndecodableBodyIs400ErrorUnmarshalling) {
  // Field 1 (type) with wire type 2: a wrong wire type for a known field.
  const auto res = Do("POST", "/raft", PeerHeaders(), std::string("\x0a\x02\x08\x08", 4));
  ExpectGoError(res, 400, kTextErrorUnmarshalling);
  EXPECT_EQ(res.headers.GetOr("X-Etcd-Cluster-Id"), "1000");
  EXPECT_TRUE(raft_.processed().empty());
  EXPECT_THAT(Metrics(), HasSubstr("etcd_network_peer_received_failures_total{From=\"2\"} 1"));
}

TEST_F(HandlersTest, PipelineStep7ProcessErrorIs500ThenTheConnectionCloses) {
  raft_.set_process_status(Status(ErrorCode::kInternal, "stopped"));
  // No "Connection: close" from the client: the server must close by itself.
  std::string req = RawRequest("POST", "/raft", PeerHeaders(), raftpb::Encode(Heartbeat()));
  req.erase(req.find("Connection: close\r\n"), std::strlen("Connection: close\r\n"));
  http::testing::RawConn conn(server_->port());
  ASSERT_TRUE(conn.Send(req));
  const auto start = std::chrono::steady_clock::now();
  const std::string got = conn.ReceiveAll();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  EXPECT_THAT(got, HasSubstr("HTTP/1.1 500"));
  EXPECT_THAT(got, HasSubstr("X-Etcd-Cluster-Id: 1000"));
  EXPECT_THAT(got, HasSubstr("\r\n\r\nerror processing raft message\n"));
  EXPECT_EQ(raft_.processed().size(), 1u);
}

TEST_F(HandlersTest, PipelineStep8SuccessIs204WithoutBodyOrLength) {
  const std::string got =
      Raw(RawRequest("POST", "/raft", PeerHeaders(), raftpb::Encode(Heartbeat())));
  EXPECT_EQ(got.rfind("HTTP/1.1 204", 0), 0u) << got;
  EXPECT_THAT(got, HasSubstr("X-Etcd-Cluster-Id: 1000\r\n"));
  EXPECT_THAT(got, Not(HasSubstr("Content-Length")));
  EXPECT_THAT(got, Not(HasSubstr("Content-Type")));
  EXPECT_THAT(got, Not(HasSubstr("Transfer-Encoding")));
  EXPECT_EQ(got.substr(got.find("\r\n\r\n") + 4), "");
}

TEST_F(HandlersTest, PipelineHeartbeatReachesProcessWithExactFields) {
  const raftpb::Message hb = Heartbeat();
  const std::string body = raftpb::Encode(hb);
  EXPECT_EQ(Do("POST", "/raft", PeerHeaders(), body).status, 204);
  const auto got = raft_.processed();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], hb);
  EXPECT_EQ(raftpb::Encode(got[0]), body);
  EXPECT_EQ(metrics_->received_bytes(2), static_cast<double>(body.size()));
}

TEST_F(HandlersTest, PipelineInlineMsgSnapGoesToProcessAsRaftexampleSendsIt) {
  const raftpb::Message snap = Snap(R"({"/k":"v"})");
  EXPECT_EQ(Do("POST", "/raft", PeerHeaders(), raftpb::Encode(snap)).status, 204);
  const auto got = raft_.processed();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], snap);
  EXPECT_TRUE(raft_.snapshots().empty());
}

TEST_F(HandlersTest, PipelineBodyAboveTheCapIs413) {
  const auto res = Do("POST", "/raft", PeerHeaders(), std::string((8 << 20) + 1, 'x'));
  EXPECT_EQ(res.status, 413);
  EXPECT_TRUE(raft_.processed().empty());
}

// ---- §4.2 GET /raft/stream/... ----

TEST_F(HandlersTest, StreamStep1WrongMethodIs405WithAllowGet) {
  const auto res = Do("POST", "/raft/stream/message/2", StreamHeaders());
  ExpectGoError(res, 405, "Method Not Allowed");
  EXPECT_EQ(res.headers.GetOr("Allow"), "GET");
  EXPECT_FALSE(res.headers.Has("X-Etcd-Cluster-Id"));
}

TEST_F(HandlersTest, StreamStep3IncompatibleIs412WithServerVersion) {
  http::Headers h = StreamHeaders();
  h.Set("X-Server-Version", "2.3.0");
  const auto res = Do("GET", "/raft/stream/message/2", h);
  ExpectGoError(res, 412, "incompatible version");
  EXPECT_EQ(res.headers.GetOr("X-Server-Version"), "3.4.23");
  EXPECT_EQ(res.headers.GetOr("X-Etcd-Cluster-Id"), "1000");
  h = StreamHeaders();
  h.Erase("X-Etcd-Cluster-ID");
  ExpectGoError(Do("GET", "/raft/stream/message/2", h), 412, "cluster ID mismatch");
}

TEST_F(HandlersTest, StreamStep4UnknownStreamTypeIs404InvalidPath) {
  for (const char* path :
       {"/raft/stream/msgappv2/2", "/raft/stream/2", "/raft/stream/message/2/x"}) {
    const auto res = Do("GET", path, StreamHeaders());
    ExpectGoError(res, 404, "invalid path");
    EXPECT_EQ(res.headers.GetOr("X-Server-Version"), "3.4.23");
  }
  EXPECT_TRUE(streams().empty());
}

TEST_F(HandlersTest, StreamStep5UnparsableSenderIs404InvalidFrom) {
  for (const char* path :
       {"/raft/stream/message/xyz", "/raft/stream/msgapp/0x2", "/raft/stream/message/"}) {
    ExpectGoError(Do("GET", path, StreamHeaders()), 404, "invalid from");
  }
  EXPECT_TRUE(streams().empty());
}

TEST_F(HandlersTest, StreamStep6RemovedMemberIs410) {
  raft_.Remove(2);
  const auto res = Do("GET", "/raft/stream/message/2", StreamHeaders());
  ExpectGoError(res, 410, "removed member");
  EXPECT_EQ(res.headers.GetOr("X-Etcd-Cluster-Id"), "1000");
  EXPECT_TRUE(streams().empty());
}

TEST_F(HandlersTest, StreamStep7UnknownSenderIs404AfterAddingARemote) {
  ExpectGoError(Do("GET", "/raft/stream/message/4", StreamHeaders("4")), 404,
                "error sender not found");
  EXPECT_TRUE(remotes().empty());  // no X-PeerURLs, no remote
  http::Headers h = StreamHeaders("4");
  h.Set("X-PeerURLs", "http://127.0.0.1:2384");
  ExpectGoError(Do("GET", "/raft/stream/msgapp/4", h), 404, "error sender not found");
  EXPECT_THAT(remotes()[4], ElementsAre("http://127.0.0.1:2384"));
  EXPECT_TRUE(streams().empty());
}

TEST_F(HandlersTest, StreamStep8ToFieldMismatchIs412) {
  http::Headers h = StreamHeaders();
  h.Set("X-Raft-To", "01");  // compared as a string with the canonical "1"
  const auto res = Do("GET", "/raft/stream/message/2", h);
  ExpectGoError(res, 412, "to field mismatch");
  EXPECT_EQ(res.headers.GetOr("X-Server-Version"), "3.4.23");
  EXPECT_TRUE(streams().empty());
}

TEST_F(HandlersTest, StreamStep9SuccessIs200ChunkedAndHandedToServeStream) {
  const std::string got = Raw(RawRequest("GET", "/raft/stream/msgapp/2", StreamHeaders(), ""));
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
  EXPECT_THAT(got, HasSubstr("X-Server-Version: 3.4.23\r\n"));
  EXPECT_THAT(got, HasSubstr("X-Etcd-Cluster-Id: 1000\r\n"));
  EXPECT_THAT(got, HasSubstr("Transfer-Encoding: chunked\r\n"));
  EXPECT_THAT(got, Not(HasSubstr("Content-Type")));
  EXPECT_THAT(got, HasSubstr("\r\n5\r\nhello\r\n0\r\n\r\n"));

  const auto res = Do("GET", "/raft/stream/message/3", StreamHeaders("3"));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "hello");
  EXPECT_THAT(streams(), ElementsAre(std::pair<uint64_t, StreamType>{2, StreamType::kMsgAppV2},
                                     std::pair<uint64_t, StreamType>{3, StreamType::kMessage}));
}

TEST_F(HandlersTest, StreamAcceptsIdsInUpperCaseAndWithLeadingZeros) {
  EXPECT_EQ(Do("GET", "/raft/stream/message/00AB", StreamHeaders("ab")).status, 200);
  EXPECT_EQ(Do("GET", "/raft/stream/msgapp/0002", StreamHeaders()).status, 200);
  EXPECT_THAT(streams(), ElementsAre(std::pair<uint64_t, StreamType>{0xab, StreamType::kMessage},
                                     std::pair<uint64_t, StreamType>{2, StreamType::kMsgAppV2}));
}

// ---- §4.3 POST /raft/snapshot ----

TEST_F(HandlersTest, SnapshotStep1WrongMethodIs405WithAllowPost) {
  const auto res = Do("GET", "/raft/snapshot", PeerHeaders());
  ExpectGoError(res, 405, "Method Not Allowed");
  EXPECT_EQ(res.headers.GetOr("Allow"), "POST");
  EXPECT_FALSE(res.headers.Has("X-Etcd-Cluster-Id"));
}

TEST_F(HandlersTest, SnapshotStep3IncompatibleIs412) {
  http::Headers h = PeerHeaders();
  h.Set("X-Etcd-Cluster-ID", "2000");
  const auto res = Do("POST", "/raft/snapshot", h, Framed(Snap("{}")) + "data");
  ExpectGoError(res, 412, "cluster ID mismatch");
  EXPECT_EQ(res.headers.GetOr("X-Etcd-Cluster-Id"), "1000");
  EXPECT_TRUE(raft_.snapshots().empty());
}

TEST_F(HandlersTest, SnapshotStep4AddsARemote) {
  http::Headers h = PeerHeaders("7");
  h.Set("X-PeerURLs", "http://127.0.0.1:2387");
  EXPECT_EQ(Do("POST", "/raft/snapshot", h, Framed(Snap("{}")) + "db").status, 204);
  EXPECT_THAT(remotes()[7], ElementsAre("http://127.0.0.1:2387"));
}

TEST_F(HandlersTest, SnapshotStep5UndecodableMessageIs400) {
  ExpectGoError(Do("POST", "/raft/snapshot", PeerHeaders(), ""), 400,
                "failed to decode raft message (EOF)");
  ExpectGoError(Do("POST", "/raft/snapshot", PeerHeaders(), std::string(3, '\0')), 400,
                "failed to decode raft message (unexpected EOF)");
  std::string over;
  AppendBE64((8 << 20) + 1, &over);
  ExpectGoError(Do("POST", "/raft/snapshot", PeerHeaders(), over), 400,
                "failed to decode raft message (rafthttp: error limit exceeded)");
  std::string garbage;
  AppendBE64(4, &garbage);
  garbage += std::string("\x0a\x02\x08\x08", 4);
  const auto res = Do("POST", "/raft/snapshot", PeerHeaders(), garbage);
  EXPECT_EQ(res.status, 400);
  EXPECT_THAT(res.body, HasSubstr("failed to decode raft message ("));
  EXPECT_TRUE(raft_.snapshots().empty());
  EXPECT_THAT(Metrics(), HasSubstr("etcd_network_snapshot_receive_failures{From=\"2\"} 4"));
}

TEST_F(HandlersTest, SnapshotStep6WrongMessageTypeIs400) {
  ExpectGoError(Do("POST", "/raft/snapshot", PeerHeaders(), Framed(Heartbeat()) + "db"), 400,
                "wrong raft message type");
  EXPECT_TRUE(raft_.snapshots().empty());
}

TEST_F(HandlersTest, SnapshotStep7And8ProcessSnapshotErrorIs500) {
  raft_.set_snapshot_status(Status(ErrorCode::kIoError, "disk full"));
  const auto res = Do("POST", "/raft/snapshot", PeerHeaders(), Framed(Snap("{}")) + "db");
  ExpectGoError(res, 500, "failed to process raft message (disk full)");
  EXPECT_EQ(res.headers.GetOr("X-Etcd-Cluster-Id"), "1000");
  EXPECT_THAT(Metrics(), HasSubstr("etcd_network_snapshot_receive_failures{From=\"2\"} 1"));
}

TEST_F(HandlersTest, SnapshotStep9StreamsThreeMiBToProcessSnapshotInPieces) {
  const raftpb::Message snap = Snap(R"({"v2":"store"})");
  std::string data(3 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>(i * 7 + i / 4096);
  const std::string body = Framed(snap) + data;

  http::ClientRequest req;
  req.method = "POST";
  req.url = server_->url() + "/raft/snapshot";
  req.headers = PeerHeaders();
  req.headers.Set("Content-Type", "application/octet-stream");
  size_t sent = 0;
  req.body_source = [&](char* buf, size_t cap) -> Result<size_t> {  // chunked, as Go sends it
    const size_t n = std::min(cap, body.size() - sent);
    std::memcpy(buf, body.data() + sent, n);
    sent += n;
    return n;
  };
  auto res = client_->Do(req);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 204);
  EXPECT_EQ(res->body, "");
  EXPECT_EQ(res->headers.GetOr("X-Etcd-Cluster-Id"), "1000");

  const auto snaps = raft_.snapshots();
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(snaps[0], snap);
  EXPECT_TRUE(raft_.snapshot_data() == data);
  const auto pieces = raft_.pieces();
  EXPECT_GT(pieces.size(), 1u);
  EXPECT_LT(*std::max_element(pieces.begin(), pieces.end()), data.size());
  EXPECT_EQ(metrics_->received_bytes(2), static_cast<double>(body.size() - 8));
  EXPECT_THAT(Metrics(), HasSubstr("etcd_network_snapshot_receive_success{From=\"2\"} 1"));
  EXPECT_THAT(Metrics(), HasSubstr("etcd_network_snapshot_receive_inflights_total{From=\"2\"} 0"));
}

// ---- §4.4 /raft/probing ----

TEST_F(HandlersTest, ProbingAnswersAnyMethodWithoutHeaderChecks) {
  now_ = std::chrono::system_clock::time_point(std::chrono::seconds(1795336397)) +
         std::chrono::nanoseconds(338673390);
  for (const char* method : {"GET", "POST", "PUT"}) {
    const auto res = Do(method, "/raft/probing", {});
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.headers.GetOr("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(res.body, "{\"OK\":true,\"Now\":\"2026-11-22T08:33:17.33867339Z\"}\n");
    EXPECT_FALSE(res.headers.Has("X-Etcd-Cluster-Id"));
  }
}

TEST(ProbingBodyTest, FormatsRfc3339NanoInUtcAsGo) {
  using std::chrono::seconds;
  const std::chrono::system_clock::time_point base(seconds(1795336397));
  EXPECT_EQ(ProbingBody(base), "{\"OK\":true,\"Now\":\"2026-11-22T08:33:17Z\"}\n");
  EXPECT_EQ(ProbingBody(base + std::chrono::milliseconds(500)),
            "{\"OK\":true,\"Now\":\"2026-11-22T08:33:17.5Z\"}\n");
  EXPECT_EQ(ProbingBody(base + std::chrono::nanoseconds(1)),
            "{\"OK\":true,\"Now\":\"2026-11-22T08:33:17.000000001Z\"}\n");
}

TEST(ProbingBodyTest, NowParsesBackToTheServersClock) {
  const auto t = std::chrono::system_clock::now();
  const std::string body = ProbingBody(t);
  const std::string prefix = "{\"OK\":true,\"Now\":\"";
  ASSERT_EQ(body.rfind(prefix, 0), 0u);
  const std::string now = body.substr(prefix.size(), body.find('"', prefix.size()) - prefix.size());
  std::tm tm{};
  const char* rest = strptime(now.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  ASSERT_NE(rest, nullptr) << now;
  int64_t nanos = 0;
  if (*rest == '.') {
    std::string digits;
    for (++rest; *rest >= '0' && *rest <= '9'; ++rest)
      digits += *rest;
    ASSERT_LE(digits.size(), 9u);
    digits.resize(9, '0');
    nanos = std::stoll(digits);
  }
  ASSERT_STREQ(rest, "Z");
  const auto parsed = std::chrono::system_clock::time_point(std::chrono::seconds(timegm(&tm))) +
                      std::chrono::duration_cast<std::chrono::system_clock::duration>(
                          std::chrono::nanoseconds(nanos));
  EXPECT_EQ(parsed, t);
}

// ---- §3.5 routing and X-PeerURLs ----

TEST_F(HandlersTest, OnlyTheFourPathsAreServed) {
  EXPECT_EQ(Do("POST", "/raft/", PeerHeaders(), raftpb::Encode(Heartbeat())).status, 404);
  EXPECT_EQ(Do("GET", "/raft/probing/x", {}).status, 404);
  EXPECT_EQ(Do("POST", "/raft/snapshot/x", PeerHeaders()).status, 404);
  EXPECT_TRUE(raft_.processed().empty());
}

TEST(ParsePeerUrlsTest, AcceptsWhatEtcdAcceptsAndSorts) {
  auto urls = ParsePeerUrls("https://b:2380, http://a:2380,unix://sock:1,unixs://[::1]:2");
  ASSERT_TRUE(urls.ok()) << urls.status().ToString();
  EXPECT_THAT(*urls,
              ElementsAre("http://a:2380", "https://b:2380", "unix://sock:1", "unixs://[::1]:2"));
  for (const char* bad : {"", "http://a:1/", "http://a:1?x", "http://a", "a:1", "http://a:b",
                          "http://u@a:1", "http://a:1,,http://b:2"}) {
    EXPECT_FALSE(ParsePeerUrls(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace raftkit::rafthttp
