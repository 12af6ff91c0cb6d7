// The HTTP server: routing, keep-alive, limits, timeouts, streaming responses and uploads, and
// graceful Stop(), exercised with the HTTP client and with raw sockets.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "raftkit/transport/http/client.h"
#include "raftkit/transport/http/server.h"
#include "transport/http/test_util.h"

namespace raftkit::http {
namespace {

using namespace std::chrono_literals;
using testing::Latch;
using testing::RawConn;

std::unique_ptr<Server> MustStart(ServerOptions options, std::vector<Route> routes) {
  auto s = Server::Start(std::move(options), std::move(routes));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(s.value());
}

std::unique_ptr<Server> MustStart(std::vector<Route> routes) {
  return MustStart(ServerOptions{}, std::move(routes));
}

std::unique_ptr<Client> MustClient(ClientOptions options = {}) {
  auto c = Client::Create(std::move(options));
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(c.value());
}

Route Answer(std::string pattern, std::string body, bool exact = false) {
  Route r;
  r.pattern = std::move(pattern);
  r.exact = exact;
  r.handler = [body = std::move(body)](ServerRequest&, ResponseWriter& w) {
    (void)w.Respond(Response{200, {}, body});
  };
  return r;
}

ClientRequest Get(const Server& s, const std::string& target) {
  ClientRequest r;
  r.url = s.url() + target;
  return r;
}

TEST(HttpServer, RoundTripCarriesMethodTargetHeadersAndBodyBothWays) {
  Route echo;
  echo.pattern = "/echo";
  echo.handler = [](ServerRequest& req, ResponseWriter& w) {
    Response r;
    r.status = 201;
    r.headers.Add("X-Method", req.method);
    r.headers.Add("X-Target", req.target);
    r.headers.Add("X-Seen", std::string(req.headers.GetOr("x-custom-header")));
    r.body = "got:" + req.body;
    (void)w.Respond(std::move(r));
  };
  auto server = MustStart({echo});
  auto client = MustClient();
  ClientRequest req = Get(*server, "/echo/x?q=1");
  req.method = "POST";
  req.headers.Add("X-Custom-Header", "Value-With-Case");
  req.body = "hello";
  auto res = client->Do(req);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(res->headers.GetOr("x-method"), "POST");
  EXPECT_EQ(res->headers.GetOr("X-TARGET"), "/echo/x?q=1");
  EXPECT_EQ(res->headers.GetOr("X-Seen"), "Value-With-Case");
  EXPECT_EQ(res->headers.GetOr("Content-Length"), "9");
  EXPECT_EQ(res->body, "got:hello");
}

TEST(HttpServer, LongestPrefixWinsExactRoutesMatchOnlyThemselvesAndOthersGet404) {
  auto server = MustStart({Answer("/raft", "pipeline", /*exact=*/true),
                           Answer("/raft/stream/", "stream"), Answer("/raft/stream/msgapp/", "app"),
                           Answer("/", "root-prefix-is-not-registered-here", /*exact=*/true)});
  auto client = MustClient();
  auto body_of = [&](const std::string& target) -> std::pair<int, std::string> {
    auto res = client->Do(Get(*server, target));
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? std::pair{res->status, res->body} : std::pair{0, std::string()};
  };
  EXPECT_EQ(body_of("/raft"), (std::pair<int, std::string>{200, "pipeline"}));
  EXPECT_EQ(body_of("/raft?x=1"), (std::pair<int, std::string>{200, "pipeline"}));
  EXPECT_EQ(body_of("/raft/stream/message/1"), (std::pair<int, std::string>{200, "stream"}));
  EXPECT_EQ(body_of("/raft/stream/msgapp/1"), (std::pair<int, std::string>{200, "app"}));
  EXPECT_EQ(body_of("/raft/").first, 404);
  EXPECT_EQ(body_of("/raft/snapshot").first, 404);
  EXPECT_EQ(body_of("/other").first, 404);
  EXPECT_EQ(body_of("/raft/stream/msgapp/1").second, "app");  // still served after the 404s
}

TEST(HttpServer, KeepAliveServesSequentialRequestsOnOneConnection) {
  Route who;
  who.pattern = "/who";
  who.handler = [](ServerRequest& req, ResponseWriter& w) {
    (void)w.Respond(Response{200, {}, std::to_string(req.connection_id)});
  };
  auto server = MustStart({who});
  auto client = MustClient();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto res = client->Do(Get(*server, "/who"));
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    ids.push_back(res->body);
  }
  for (const auto& id : ids)
    EXPECT_EQ(id, ids[0]);
  EXPECT_EQ(client->stats().dialed, 1u);
  EXPECT_EQ(client->stats().reused, 4u);
  EXPECT_EQ(server->stats().accepted, 1u);
}

TEST(HttpServer, ReplayableRequestIsRetriedWhenThePooledConnectionWasClosedByTheServer) {
  ServerOptions opts;
  opts.idle_timeout = 100ms;  // the server drops kept-alive connections quickly
  auto server = MustStart(opts, {Answer("/x", "ok")});
  auto client = MustClient();
  ASSERT_TRUE(client->Do(Get(*server, "/x")).ok());
  std::this_thread::sleep_for(400ms);
  auto res = client->Do(Get(*server, "/x"));
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->body, "ok");
  EXPECT_EQ(client->stats().dialed, 2u);
}

TEST(HttpServer, DeclaredBodyOverTheRouteLimitIsAnswered413WithoutCallingTheHandler) {
  std::atomic<int> calls{0};
  Route small;
  small.pattern = "/small";
  small.max_body_bytes = 1000;
  small.handler = [&](ServerRequest&, ResponseWriter&) { ++calls; };
  auto server = MustStart({small});
  auto client = MustClient();
  ClientRequest req = Get(*server, "/small");
  req.method = "POST";
  req.body = std::string(1001, 'x');
  auto res = client->Do(req);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 413);
  req.body = std::string(1000, 'x');
  res = client->Do(req);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(calls.load(), 1);
}

TEST(HttpServer, ChunkedBodyGrowingOverTheRouteLimitIsAnswered413) {
  std::atomic<int> calls{0};
  Route small;
  small.pattern = "/small";
  small.max_body_bytes = 100 * 1024;
  small.handler = [&](ServerRequest&, ResponseWriter&) { ++calls; };
  auto server = MustStart({small});
  auto client = MustClient();
  ClientRequest req = Get(*server, "/small");
  req.method = "POST";
  size_t produced = 0;
  req.body_source = [&](char* buf, size_t cap) -> Result<size_t> {
    if (produced >= 200 * 1024) return size_t{0};
    const size_t n = std::min<size_t>(cap, 10 * 1024);
    std::fill(buf, buf + n, 'y');
    produced += n;
    return n;
  };
  auto res = client->Do(req);
  // The server answers 413 and closes; depending on timing the client sees the 413 or a write
  // error because the server stopped reading. Either way the handler never ran.
  if (res.ok()) {
    EXPECT_EQ(res->status, 413);
  } else {
    EXPECT_EQ(res.code(), ErrorCode::kIoError) << res.status().ToString();
  }
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpServer, StreamingResponseDeliversEachFrameWhenFlushedNotAtTheEnd) {
  Latch frame1_read, handler_done;
  Route stream;
  stream.pattern = "/stream";
  stream.handler = [&](ServerRequest&, ResponseWriter& w) {
    ASSERT_TRUE(w.StartStream(200, {{"X-Server-Version", "3.4.23"}}).ok());
    ASSERT_TRUE(w.Write("frame-1;").ok());
    // The second frame is written only after the client has read the first one: had the first
    // one been held back until the response ended, the client would never see it.
    if (!frame1_read.Wait(10s)) ADD_FAILURE() << "the client did not receive frame 1 on its own";
    ASSERT_TRUE(w.Write("frame-2;").ok());
    handler_done.Set();
  };
  auto server = MustStart({stream});
  auto client = MustClient();
  auto s = client->Open(Get(*server, "/stream"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->status(), 200);
  EXPECT_EQ((*s)->headers().GetOr("x-server-version"), "3.4.23");
  EXPECT_EQ((*s)->headers().GetOr("Transfer-Encoding"), "chunked");
  std::string got;
  char buf[64];
  while (got.size() < 8) {
    auto n = (*s)->Read(buf, sizeof buf);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    ASSERT_GT(*n, 0u);
    got.append(buf, *n);
  }
  EXPECT_EQ(got, "frame-1;");
  frame1_read.Set();
  auto rest = (*s)->ReadAll(1024);
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_EQ(rest.value(), "frame-2;");
  EXPECT_TRUE(handler_done.Wait());
}

TEST(HttpServer, HandlerLearnsPromptlyWhenTheClientCancelsAStream) {
  Latch handler_saw_gone, callback_ran;
  Route stream;
  stream.pattern = "/stream";
  stream.handler = [&](ServerRequest&, ResponseWriter& w) {
    w.OnClientGone([&] { callback_ran.Set(); });
    ASSERT_TRUE(w.StartStream(200, {}).ok());
    ASSERT_TRUE(w.Write("hello").ok());
    // Nothing more is written: the handler learns of the hang-up without writing.
    if (w.WaitClientGone(10s)) handler_saw_gone.Set();
    EXPECT_FALSE(w.Write("after").ok());
  };
  auto server = MustStart({stream});
  auto client = MustClient();
  auto s = client->Open(Get(*server, "/stream"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  char buf[16];
  auto n = (*s)->Read(buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "hello");
  // Cancel from another thread while this one is blocked in Read.
  std::thread canceler([&] {
    std::this_thread::sleep_for(100ms);
    (*s)->Cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  auto blocked = (*s)->Read(buf, sizeof buf);
  canceler.join();
  EXPECT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.code(), ErrorCode::kIoError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_TRUE(handler_saw_gone.Wait(5s));
  EXPECT_TRUE(callback_ran.Wait(5s));
}

TEST(HttpServer, StopEndsLiveStreamsWaitsForHandlersAndClientsSeeTheEnd) {
  std::atomic<int> handlers_returned{0};
  Latch streaming;
  Route stream;
  stream.pattern = "/stream";
  stream.handler = [&](ServerRequest&, ResponseWriter& w) {
    if (w.StartStream(200, {}).ok() && w.Write("x").ok()) streaming.Set();
    while (!w.ClientGone()) {
      if (!w.Write("tick").ok()) break;
      w.WaitClientGone(20ms);
    }
    ++handlers_returned;
  };
  auto server = MustStart({stream});
  auto client = MustClient();
  auto s = client->Open(Get(*server, "/stream"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE(streaming.Wait());
  const auto start = std::chrono::steady_clock::now();
  server->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_EQ(handlers_returned.load(), 1);
  // The client drains what was sent and then sees the end (EOF or a connection error).
  char buf[4096];
  bool ended = false;
  for (int i = 0; i < 100000 && !ended; ++i) {
    auto n = (*s)->Read(buf, sizeof buf);
    ended = !n.ok() || *n == 0;
  }
  EXPECT_TRUE(ended);
  // Nobody is listening any more.
  auto again = client->Do(Get(*server, "/stream"));
  EXPECT_FALSE(again.ok());
}

TEST(HttpServer, SeveralMiBChunkedUploadIsStreamedThroughWithoutBeingBufferedWhole) {
  constexpr size_t kTotal = 8 << 20;
  constexpr size_t kHalfway = 1 << 20;
  std::atomic<size_t> server_received{0};
  Latch server_saw_first_mib;
  size_t largest_read = 0;
  uint64_t server_sum = 0;
  Route upload;
  upload.pattern = "/upload";
  upload.body_mode = BodyMode::kStreamed;
  upload.max_body_bytes = uint64_t{64} << 20;
  upload.handler = [&](ServerRequest& req, ResponseWriter& w) {
    ASSERT_NE(req.body_reader, nullptr);
    EXPECT_TRUE(req.body.empty());
    std::vector<char> buf(32 * 1024);
    for (;;) {
      auto n = req.body_reader->Read(buf.data(), buf.size());
      ASSERT_TRUE(n.ok()) << n.status().ToString();
      if (*n == 0) break;
      largest_read = std::max(largest_read, *n);
      for (size_t i = 0; i < *n; ++i)
        server_sum += static_cast<unsigned char>(buf[i]);
      if (server_received.fetch_add(*n) + *n >= kHalfway) server_saw_first_mib.Set();
    }
    (void)w.Respond(Response{200, {}, std::to_string(server_received.load())});
  };
  auto server = MustStart({upload});
  auto client = MustClient();
  ClientRequest req = Get(*server, "/upload");
  req.method = "POST";
  size_t produced = 0;
  uint64_t client_sum = 0;
  bool waited_for_server = false;
  req.body_source = [&](char* buf, size_t cap) -> Result<size_t> {
    if (produced == kTotal) return size_t{0};
    if (produced >= 2 * kHalfway && !waited_for_server) {
      // The source holds the rest back until the server has processed the first MiB: a client
      // or server that buffered the whole body first would deadlock here (and fail the wait).
      waited_for_server = true;
      if (!server_saw_first_mib.Wait(10s)) {
        return Status(ErrorCode::kInternal, "server did not see the first MiB");
      }
    }
    const size_t n = std::min(cap, kTotal - produced);
    for (size_t i = 0; i < n; ++i) {
      buf[i] = static_cast<char>((produced + i) * 7 % 251);
      client_sum += static_cast<unsigned char>(buf[i]);
    }
    produced += n;
    return n;
  };
  auto res = client->Do(req);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, std::to_string(kTotal));
  EXPECT_TRUE(waited_for_server);
  EXPECT_EQ(server_sum, client_sum);
  EXPECT_LE(largest_read, 32u * 1024);
}

TEST(HttpServer, StreamedBodyGrowingOverTheRouteLimitFailsTheReader) {
  Latch reader_failed;
  Route upload;
  upload.pattern = "/upload";
  upload.body_mode = BodyMode::kStreamed;
  upload.max_body_bytes = 64 * 1024;
  upload.handler = [&](ServerRequest& req, ResponseWriter& w) {
    char buf[4096];
    for (;;) {
      auto n = req.body_reader->Read(buf, sizeof buf);
      if (!n.ok()) {
        EXPECT_EQ(n.code(), ErrorCode::kInvalidArgument) << n.status().ToString();
        reader_failed.Set();
        (void)w.Respond(Response{413, {}, "too large\n"});
        return;
      }
      if (*n == 0) break;
    }
  };
  auto server = MustStart({upload});
  auto client = MustClient();
  ClientRequest req = Get(*server, "/upload");
  req.method = "POST";
  size_t produced = 0;
  req.body_source = [&](char* buf, size_t cap) -> Result<size_t> {
    if (produced >= 256 * 1024) return size_t{0};
    const size_t n = std::min<size_t>(cap, 8 * 1024);
    std::fill(buf, buf + n, 'q');
    produced += n;
    return n;
  };
  (void)client->Do(req);  // 413 or a write error, depending on timing
  EXPECT_TRUE(reader_failed.Wait(5s));
}

TEST(HttpServer, UploadWithKnownLengthIsStreamedWithContentLength) {
  Route upload;
  upload.pattern = "/upload";
  upload.body_mode = BodyMode::kStreamed;
  upload.handler = [&](ServerRequest& req, ResponseWriter& w) {
    std::string body;
    char buf[1000];
    for (;;) {
      auto n = req.body_reader->Read(buf, sizeof buf);
      if (!n.ok() || *n == 0) break;
      body.append(buf, *n);
    }
    (void)w.Respond(Response{
        200,
        {},
        std::string(req.headers.GetOr("Content-Length")) + ":" + std::to_string(body.size())});
  };
  auto server = MustStart({upload});
  auto client = MustClient();
  ClientRequest req = Get(*server, "/upload");
  req.method = "POST";
  req.body_length = 300000;
  size_t produced = 0;
  req.body_source = [&](char* buf, size_t cap) -> Result<size_t> {
    const size_t n = std::min<size_t>(cap, 300000 - produced);
    std::fill(buf, buf + n, 'z');
    produced += n;
    return n;
  };
  auto res = client->Do(req);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->body, "300000:300000");
}

TEST(HttpServer, SilentConnectionIsClosedAfterTheReadHeaderTimeout) {
  ServerOptions opts;
  opts.read_header_timeout = 200ms;
  auto server = MustStart(opts, {Answer("/", "x")});
  RawConn silent(server->port());
  ASSERT_TRUE(silent.connected());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.WaitClosed());
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 150ms);
  EXPECT_LT(took, 3s);
}

TEST(HttpServer, SlowHeaderIsCutOffByTheReadHeaderTimeout) {
  ServerOptions opts;
  opts.read_header_timeout = 300ms;
  auto server = MustStart(opts, {Answer("/", "x")});
  RawConn slow(server->port());
  ASSERT_TRUE(slow.Send("GET / HTTP/1.1\r\nHost: x\r\n"));  // never finishes the header
  EXPECT_TRUE(slow.WaitClosed());
}

TEST(HttpServer, ConnectionFloodBeyondTheMaximumIsRefusedAtOnce) {
  ServerOptions opts;
  opts.max_connections = 4;
  opts.read_header_timeout = 30s;  // the first four stay open, silent
  auto server = MustStart(opts, {Answer("/", "x")});
  std::vector<std::unique_ptr<RawConn>> held;
  for (int i = 0; i < 4; ++i)
    held.push_back(std::make_unique<RawConn>(server->port()));
  for (int i = 0; i < 200 && server->stats().active_connections < 4; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(server->stats().active_connections, 4u);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) {
    RawConn extra(server->port(), 3s);
    ASSERT_TRUE(extra.connected());
    EXPECT_TRUE(extra.WaitClosed()) << "connection " << i << " was not refused";
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  const ServerStats st = server->stats();
  EXPECT_EQ(st.rejected, 100u);
  EXPECT_EQ(st.active_connections, 4u);
  EXPECT_EQ(st.accepted, 4u);
  // Capacity comes back when a held connection goes.
  held.pop_back();
  auto client = MustClient();
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    auto res = client->Do(Get(*server, "/"));
    served = res.ok() && res->status == 200;
    if (!served) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(served);
}

TEST(HttpServer, MalformedRequestIsAnswered400AndTheServerKeepsServing) {
  auto server = MustStart({Answer("/", "fine")});
  for (const std::string& garbage :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/1.1\r\nNo colon here\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"),
        std::string("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        std::string("\x01\x02\x03\xff\r\n\r\n", 8)}) {
    RawConn conn(server->port());
    ASSERT_TRUE(conn.Send(garbage));
    const std::string answer = conn.ReceiveAll();
    EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 400") << "for " << garbage << " got " << answer;
  }
  auto client = MustClient();
  auto res = client->Do(Get(*server, "/"));
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->body, "fine");
}

TEST(HttpServer, OversizedHeaderIsAnswered431) {
  ServerOptions opts;
  opts.max_header_bytes = 1024;
  auto server = MustStart(opts, {Answer("/", "fine")});
  RawConn conn(server->port());
  ASSERT_TRUE(
      conn.Send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n"));
  EXPECT_EQ(conn.ReceiveAll().substr(0, 12), "HTTP/1.1 431");
}

TEST(HttpServer, HandlerThatThrowsIsAnswered500AndOneThatSaysNothing200) {
  Route thrower;
  thrower.pattern = "/throw";
  thrower.handler = [](ServerRequest&, ResponseWriter&) { throw std::runtime_error("boom"); };
  Route silent;
  silent.pattern = "/silent";
  silent.handler = [](ServerRequest&, ResponseWriter&) {};
  auto server = MustStart({thrower, silent});
  auto client = MustClient();
  auto res = client->Do(Get(*server, "/throw"));
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 500);
  res = client->Do(Get(*server, "/silent"));
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "");
}

TEST(HttpServer, NoContentResponseHasNoBodyAndKeepsTheConnection) {
  Route nc;
  nc.pattern = "/raft";
  nc.handler = [](ServerRequest&, ResponseWriter& w) {
    (void)w.Respond(Response{204, {{"X-Etcd-Cluster-Id", "1000"}}, "ignored"});
  };
  auto server = MustStart({nc});
  auto client = MustClient();
  for (int i = 0; i < 2; ++i) {
    ClientRequest req = Get(*server, "/raft");
    req.method = "POST";
    req.body = "msg";
    auto res = client->Do(req);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_EQ(res->status, 204);
    EXPECT_EQ(res->body, "");
    EXPECT_EQ(res->headers.GetOr("X-Etcd-Cluster-Id"), "1000");
  }
  EXPECT_EQ(client->stats().dialed, 1u);
  // Like Go, no Content-Length on a 204.
  RawConn raw(server->port());
  ASSERT_TRUE(raw.Send("POST /raft HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string got = raw.ReceiveAll();
  EXPECT_EQ(got.substr(0, 12), "HTTP/1.1 204");
  EXPECT_EQ(got.find("Content-Length"), std::string::npos) << got;
}

TEST(HttpServer, AbortClosesTheConnectionWithoutAnAnswer) {
  Route abort;
  abort.pattern = "/abort";
  abort.handler = [](ServerRequest&, ResponseWriter& w) {
    w.Abort();
    EXPECT_FALSE(w.Respond(Response{200, {}, "too late"}).ok());
  };
  auto server = MustStart({abort});
  RawConn raw(server->port());
  ASSERT_TRUE(raw.Send("GET /abort HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(raw.ReceiveAll(), "");
  EXPECT_TRUE(raw.WaitClosed());
}

TEST(HttpServer, ConcurrentClientsOnSeveralIoThreadsAreAllServed) {
  ServerOptions opts;
  opts.io_threads = 3;
  Route echo;
  echo.pattern = "/echo";
  echo.handler = [](ServerRequest& req, ResponseWriter& w) {
    (void)w.Respond(Response{200, {}, req.body});
  };
  auto server = MustStart(opts, {echo});
  auto client = MustClient();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        ClientRequest req = Get(*server, "/echo");
        req.method = "POST";
        req.body = std::to_string(t * 1000 + i);
        auto res = client->Do(req);
        if (res.ok() && res->body == req.body) ++ok;
      }
    });
  }
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(ok.load(), 100);
}

}  // namespace
}  // namespace raftkit::http

namespace raftkit::http {
namespace {

// AsyncHandler: answered later from another thread, on a kept-alive connection; no handler thread
// is started; a second answer is ignored; a Responder dropped unanswered gives 500.
TEST(HttpServerAsync, AnswersFromAnotherThreadAndTheConnectionStaysAlive) {
  std::vector<std::thread> workers;
  std::mutex mu;
  Route later;
  later.pattern = "/later/";
  later.async_handler = [&](ServerRequest& req, Responder respond) {
    std::string body = req.method + " " + req.path + " " + req.body;
    std::lock_guard<std::mutex> g(mu);
    workers.emplace_back([respond, body] {
      std::this_thread::sleep_for(20ms);
      respond(Response{201, {{"X-Async", "yes"}}, body});
      respond(Response{500, {}, "a second answer is ignored"});
    });
  };
  Route dropped;
  dropped.pattern = "/dropped";
  dropped.async_handler = [](ServerRequest&, Responder) {};  // never answers
  Route throws;
  throws.pattern = "/throws";
  throws.async_handler = [](ServerRequest&, Responder) { throw std::runtime_error("boom"); };
  auto server = MustStart({later, dropped, throws});
  auto client = MustClient();
  for (int i = 0; i < 3; ++i) {
    ClientRequest req = Get(*server, "/later/" + std::to_string(i));
    req.method = "PUT";
    req.body = "v" + std::to_string(i);
    auto res = client->Do(req);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_EQ(res->status, 201);
    EXPECT_EQ(res->body, "PUT /later/" + std::to_string(i) + " v" + std::to_string(i));
    EXPECT_EQ(res->headers.Get("X-Async"), "yes");
  }
  EXPECT_EQ(client->stats().dialed, 1u) << "kept alive across asynchronous answers";
  EXPECT_EQ(server->stats().handler_threads, 0u);
  auto res = client->Do(Get(*server, "/dropped"));
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 500);
  res = client->Do(Get(*server, "/throws"));
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 500);
  {
    std::lock_guard<std::mutex> g(mu);
    for (auto& t : workers)
      t.join();
  }
}

// An answer that comes after the client left, or after Stop(), goes nowhere and harms nothing.
TEST(HttpServerAsync, AnAnswerAfterStopIsDropped) {
  std::optional<Responder> kept;
  std::mutex mu;
  std::condition_variable cv;
  Route hold;
  hold.pattern = "/hold";
  hold.async_handler = [&](ServerRequest&, Responder respond) {
    std::lock_guard<std::mutex> g(mu);
    kept.emplace(std::move(respond));
    cv.notify_all();
  };
  auto server = MustStart({hold});
  std::thread client([&] {
    ClientOptions o;
    o.response_header_timeout = 2s;
    auto c = MustClient(o);
    auto res = c->Do(Get(*server, "/hold"));
    EXPECT_FALSE(res.ok() && res->status == 200);
  });
  {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, 5s, [&] { return kept.has_value(); }));
  }
  server->Stop();
  (*kept)(Response{200, {}, "too late"});
  client.join();
  server.reset();
  kept.reset();
}

}  // namespace
}  // namespace raftkit::http
