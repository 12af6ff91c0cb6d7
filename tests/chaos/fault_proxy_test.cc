// The chaos harness's fault-injecting TCP proxy, between an HTTP client and server on 127.0.0.1:
// clear forwarding, partitions and one-way cuts that hold the bytes until healed, delay, slow
// links, and connection resets.
#include "chaos/fault_proxy.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "raftkit/transport/http/client.h"
#include "raftkit/transport/http/server.h"

namespace raftkit::chaos {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Fixture {
  Fixture() {
    http::Route echo;
    echo.pattern = "/echo";
    echo.handler = [this](http::ServerRequest& req, http::ResponseWriter& w) {
      ++requests;
      (void)w.Respond(http::Response{200, {}, req.body});
    };
    server = http::Server::Start({}, {echo}).value();
    proxy = FaultProxy::Start(server->port()).value();
  }
  Result<http::Response> Call(const std::string& body, std::chrono::milliseconds timeout) {
    http::ClientOptions o;
    o.response_header_timeout = timeout;
    o.idle_timeout = timeout;
    o.max_idle_per_host = 0;  // a new connection each time: faults apply from the start
    auto client = http::Client::Create(o).value();
    http::ClientRequest req;
    req.method = "PUT";
    req.url = "http://127.0.0.1:" + std::to_string(proxy->port()) + "/echo";
    req.body = body;
    return client->Do(req);
  }
  std::atomic<int> requests{0};
  std::unique_ptr<http::Server> server;
  std::unique_ptr<FaultProxy> proxy;
};

TEST(FaultProxyTest, ForwardsBothWaysWhenClear) {
  Fixture f;
  auto r = f.Call("hello", 2s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r.value().body, "hello");
  EXPECT_EQ(f.proxy->accepted(), 1u);
  EXPECT_GT(f.proxy->forwarded_bytes(), 5u);
  EXPECT_GT(f.proxy->backward_bytes(), 5u);
}

TEST(FaultProxyTest, APartitionHoldsTheBytesUntilItHeals) {
  Fixture f;
  f.proxy->Partition();
  EXPECT_FALSE(f.Call("lost", 300ms).ok());
  EXPECT_EQ(f.requests.load(), 0) << "nothing crossed the partition";
  f.proxy->Heal();
  auto r = f.Call("after", 2s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r.value().body, "after");
}

TEST(FaultProxyTest, AOneWayCutDeliversRequestsButNotAnswers) {
  Fixture f;
  LinkFaults cut;
  cut.blocked = true;
  f.proxy->SetBackward(cut);
  EXPECT_FALSE(f.Call("one-way", 300ms).ok());
  EXPECT_EQ(f.requests.load(), 1) << "the request crossed, the answer did not";
}

TEST(FaultProxyTest, DelayAndSlowLinksTakeTheirTime) {
  Fixture f;
  LinkFaults slow;
  slow.delay = 150ms;
  f.proxy->SetForward(slow);
  auto start = Clock::now();
  ASSERT_TRUE(f.Call("d", 5s).ok());
  EXPECT_GE(Clock::now() - start, 150ms);
  f.proxy->Heal();
  LinkFaults narrow;
  narrow.bytes_per_second = 20'000;
  f.proxy->SetBackward(narrow);
  start = Clock::now();
  auto r = f.Call(std::string(8000, 'x'), 5s);  // 8 KB back at 20 KB/s: about 0.4 s
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().body.size(), 8000u);
  EXPECT_GE(Clock::now() - start, 300ms);
}

TEST(FaultProxyTest, ResetEndsOpenConnectionsAndNewOnesWork) {
  Fixture f;
  LinkFaults cut;
  cut.blocked = true;
  f.proxy->SetBackward(cut);  // the answer waits in the proxy, so the connection stays open
  std::atomic<bool> failed{false};
  std::thread t([&] { failed = !f.Call("held", 5s).ok(); });
  while (f.requests.load() == 0)
    std::this_thread::sleep_for(5ms);
  const auto start = Clock::now();
  f.proxy->ResetConnections();
  t.join();
  EXPECT_TRUE(failed.load());
  EXPECT_LT(Clock::now() - start, 3s) << "the reset ended the call, not its timeout";
  f.proxy->Heal();
  EXPECT_TRUE(f.Call("fresh", 2s).ok());
}

}  // namespace
}  // namespace raftkit::chaos
