// The HTTP client: URL parsing, timeouts, cancellation, and header-before-body access.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "raftkit/transport/http/client.h"
#include "raftkit/transport/http/server.h"
#include "transport/http/test_util.h"

namespace raftkit::http {
namespace {

using namespace std::chrono_literals;
using testing::Latch;

TEST(HttpUrl, ParsesSchemeHostPortAndTarget) {
  auto u = ParseUrl("HTTP://127.0.0.1:2380/raft/stream/msgapp/1?x=y");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 2380);
  EXPECT_EQ(u->target, "/raft/stream/msgapp/1?x=y");
  EXPECT_EQ(u->HostPort(), "127.0.0.1:2380");

  u = ParseUrl("https://example.com");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->tls());
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/");

  u = ParseUrl("http://[::1]:80?q");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->target, "/?q");
  EXPECT_EQ(u->HostPort(), "[::1]:80");
}

TEST(HttpUrl, RejectsOtherSchemesBadPortsAndEmptyHosts) {
  for (const char* bad :
       {"ftp://h:1/", "unix://x", "127.0.0.1:80", "http://:80/", "http://h:0/", "http://h:65536/",
        "http://h:8x/", "http://h:/", "http://u@h:1/", "http://[::1/"}) {
    EXPECT_EQ(ParseUrl(bad).code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(HttpHeaders, NamesAreCaseInsensitiveValuesAreNot) {
  Headers h;
  h.Add("X-Etcd-Cluster-ID", "1000");
  h.Add("x-a", "1");
  h.Add("X-A", "2");
  EXPECT_EQ(h.GetOr("x-etcd-cluster-id"), "1000");
  EXPECT_EQ(h.GetOr("X-A"), "1");
  h.Set("x-a", "3");
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.GetOr("X-A"), "3");
  EXPECT_FALSE(h.Has("missing"));
  EXPECT_FALSE(EqualsIgnoreCase("abc", "abd"));
}

std::unique_ptr<Client> MustClient(ClientOptions options = {}) {
  auto c = Client::Create(std::move(options));
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(c.value());
}

TEST(HttpClient, ConnectionRefusedIsAnIoError) {
  uint16_t port = 0;
  {
    auto s = Server::Start({}, {});
    ASSERT_TRUE(s.ok());
    port = (*s)->port();
  }  // stopped: nothing listens on `port` any more
  auto client = MustClient();
  ClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  EXPECT_EQ(client->Do(req).code(), ErrorCode::kIoError);
}

// A server that answers each connection's first request (keep-alive) and then, on the second
// request of that connection, reads it and closes without answering — a server that acted on a
// request and died before its answer. Counts the requests it read.
class HalfAnsweringServer {
 public:
  /// `close_idle`: close each connection right after its first answer instead (a server timing
  /// out an idle keep-alive connection).
  explicit HalfAnsweringServer(bool close_idle = false) : close_idle_(close_idle) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    EXPECT_EQ(listen(fd_, 8), 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~HalfAnsweringServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] int requests() const { return requests_.load(); }

 private:
  // Reads one request (headers and a Content-Length body); false at the end of the stream.
  bool ReadRequest(int c) {
    std::string in;
    char buf[4096];
    for (;;) {
      const auto end = in.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t body = 0;
        const auto cl = in.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) body = std::stoul(in.substr(cl + 16));
        if (in.size() >= end + 4 + body) return true;
      }
      const ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) return false;
      in.append(buf, static_cast<size_t>(n));
    }
  }
  void Serve() {
    while (!stop_) {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      if (ReadRequest(c)) {
        ++requests_;
        const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        (void)!write(c, answer.data(), answer.size());
        if (!close_idle_ && ReadRequest(c)) ++requests_;  // acted on, never answered
      }
      close(c);
    }
  }
  bool close_idle_ = false;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

// A request that failed on a pooled connection is sent again only when a duplicate is harmless:
// a PUT the server may have acted on is reported as failed, not silently repeated.
TEST(HttpClient, OnlySafeOrReplayableRequestsAreRepeatedAfterAPooledConnectionFails) {
  HalfAnsweringServer server;
  auto client = MustClient();
  ClientRequest put;
  put.method = "PUT";
  put.url = server.url() + "/k";
  put.body = "v";
  ASSERT_TRUE(client->Do(put).ok());                       // connection 1, answered, pooled
  EXPECT_EQ(client->Do(put).code(), ErrorCode::kIoError);  // read on connection 1, not answered
  EXPECT_EQ(server.requests(), 2) << "the PUT was not sent again";

  ClientRequest get;
  get.url = server.url() + "/k";
  ASSERT_TRUE(client->Do(get).ok());  // connection 2, pooled
  auto again = client->Do(get);       // unanswered on 2, repeated on connection 3
  EXPECT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(server.requests(), 5);

  put.replayable = true;
  auto replayed = client->Do(put);  // connection 3 was pooled: unanswered there, repeated on 4
  EXPECT_TRUE(replayed.ok()) << replayed.status().ToString();
  EXPECT_EQ(server.requests(), 7);
}

// A pooled connection the server closed while it sat idle is not used: a request that may not be
// repeated still goes through, on a fresh connection.
TEST(HttpClient, AnIdleConnectionTheServerClosedIsNotReused) {
  HalfAnsweringServer server(/*close_idle=*/true);
  auto client = MustClient();
  ClientRequest put;
  put.method = "PUT";
  put.url = server.url() + "/k";
  put.body = "v";
  ASSERT_TRUE(client->Do(put).ok());
  std::this_thread::sleep_for(100ms);  // the server's close arrives
  auto again = client->Do(put);
  EXPECT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(server.requests(), 2);
}

TEST(HttpClient, HttpsUrlWithoutTlsOptionsIsRejected) {
  auto client = MustClient();
  ClientRequest req;
  req.url = "https://127.0.0.1:1/";
  EXPECT_EQ(client->Do(req).code(), ErrorCode::kInvalidArgument);
  req.url = "not a url";
  EXPECT_EQ(client->Do(req).code(), ErrorCode::kInvalidArgument);
}

TEST(HttpClient, SlowResponseHeaderTimesOut) {
  Latch release;
  Route slow;
  slow.pattern = "/slow";
  slow.handler = [&](ServerRequest&, ResponseWriter& w) {
    release.Wait(10s);
    (void)w.Respond(Response{});
  };
  auto server = Server::Start({}, {slow});
  ASSERT_TRUE(server.ok());
  ClientOptions opts;
  opts.response_header_timeout = 200ms;
  auto client = MustClient(opts);
  ClientRequest req;
  req.url = (*server)->url() + "/slow";
  const auto start = std::chrono::steady_clock::now();
  auto res = client->Do(req);
  EXPECT_EQ(res.code(), ErrorCode::kIoError) << res.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  release.Set();
}

TEST(HttpClient, SilentStreamFailsAfterTheIdleReadTimeout) {
  Latch release;
  Route stream;
  stream.pattern = "/stream";
  stream.handler = [&](ServerRequest&, ResponseWriter& w) {
    (void)w.StartStream(200, {});
    (void)w.Write("first");
    release.Wait(10s);  // then silence
  };
  auto server = Server::Start({}, {stream});
  ASSERT_TRUE(server.ok());
  ClientOptions opts;
  opts.idle_timeout = 300ms;
  auto client = MustClient(opts);
  ClientRequest req;
  req.url = (*server)->url() + "/stream";
  auto s = client->Open(req);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  char buf[16];
  auto n = (*s)->Read(buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "first");
  const auto start = std::chrono::steady_clock::now();
  n = (*s)->Read(buf, sizeof buf);
  EXPECT_EQ(n.code(), ErrorCode::kIoError);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
  release.Set();
}

TEST(HttpClient, CancelTokenAbortsAWaitForTheResponseHeader) {
  Latch release;
  Route slow;
  slow.pattern = "/slow";
  slow.handler = [&](ServerRequest&, ResponseWriter& w) {
    release.Wait(10s);
    (void)w.Respond(Response{});
  };
  auto server = Server::Start({}, {slow});
  ASSERT_TRUE(server.ok());
  auto client = MustClient();
  ClientRequest req;
  req.url = (*server)->url() + "/slow";
  auto token = std::make_shared<CancelToken>();
  std::thread canceler([&] {
    std::this_thread::sleep_for(100ms);
    token->Cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  auto res = client->Open(req, token);
  canceler.join();
  EXPECT_EQ(res.code(), ErrorCode::kIoError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_TRUE(token->canceled());
  // A canceled token stays canceled: a new call with it fails at once.
  EXPECT_EQ(client->Do(req, token).code(), ErrorCode::kIoError);
  release.Set();
}

TEST(HttpClient, StatusAndHeadersArriveBeforeTheBody) {
  Latch header_seen;
  Route stream;
  stream.pattern = "/s";
  stream.handler = [&](ServerRequest&, ResponseWriter& w) {
    (void)w.StartStream(412, {{"X-Why", "cluster ID mismatch"}});
    header_seen.Wait(10s);  // no body byte before the client has looked at the header
    (void)w.Write("body");
  };
  auto server = Server::Start({}, {stream});
  ASSERT_TRUE(server.ok());
  auto client = MustClient();
  ClientRequest req;
  req.url = (*server)->url() + "/s";
  auto s = client->Open(req);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->status(), 412);
  EXPECT_EQ((*s)->headers().GetOr("X-Why"), "cluster ID mismatch");
  header_seen.Set();
  auto body = (*s)->ReadAll(100);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(body.value(), "body");
}

TEST(HttpClient, ResponseBodyOverTheLimitIsRejected) {
  Route big;
  big.pattern = "/big";
  big.handler = [](ServerRequest&, ResponseWriter& w) {
    (void)w.Respond(Response{200, {}, std::string(5000, 'b')});
  };
  auto server = Server::Start({}, {big});
  ASSERT_TRUE(server.ok());
  ClientOptions opts;
  opts.max_response_body = 4096;
  auto client = MustClient(opts);
  ClientRequest req;
  req.url = (*server)->url() + "/big";
  EXPECT_EQ(client->Do(req).code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace raftkit::http
