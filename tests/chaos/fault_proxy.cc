#include "chaos/fault_proxy.h"

#include <array>
#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio.hpp>

namespace raftkit::chaos {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// While a direction is blocked, its pump looks again this often.
constexpr auto kBlockedPoll = 10ms;

}  // namespace

class FaultProxy::Impl {
 public:
  struct Conn;

  // One direction of one connection: read a chunk, hold it as the faults say, write it on.
  struct Pump : std::enable_shared_from_this<Pump> {
    Pump(std::shared_ptr<Conn> c, tcp::socket& f, tcp::socket& t, bool fwd)
        : conn(std::move(c)), from(f), to(t), forward(fwd), timer(conn->impl->ioc) {}

    void Read() {
      if (conn->closed) return;
      from.async_read_some(net::buffer(buf), [self = shared_from_this()](
                                                 const boost::system::error_code& ec, size_t n) {
        if (ec) return self->conn->Close(false);
        self->Hold(n);
      });
    }
    void Hold(size_t n) {
      if (conn->closed) return;
      const LinkFaults f = conn->impl->Faults(forward);
      auto wait = std::chrono::duration_cast<std::chrono::microseconds>(f.delay);
      if (f.blocked) wait = kBlockedPoll;
      if (f.bytes_per_second > 0 && !f.blocked) {
        wait += std::chrono::microseconds(n * 1'000'000 / f.bytes_per_second);
      }
      if (wait.count() == 0) return Write(n);
      timer.expires_after(wait);
      timer.async_wait(
          [self = shared_from_this(), n, blocked = f.blocked](const boost::system::error_code& ec) {
            if (ec) return;
            if (blocked) return self->Hold(n);  // look again; the bytes wait
            self->Write(n);
          });
    }
    void Write(size_t n) {
      // Counted when handed on, not when the write completes: the far end may see the bytes (and
      // a test read the counter) before this completion handler runs.
      (forward ? conn->impl->forward_bytes : conn->impl->backward_bytes) += n;
      net::async_write(to, net::buffer(buf.data(), n),
                       [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                         if (ec) return self->conn->Close(false);
                         self->Read();
                       });
    }

    std::shared_ptr<Conn> conn;
    tcp::socket& from;
    tcp::socket& to;
    const bool forward;
    net::steady_timer timer;
    std::array<char, 16 * 1024> buf{};
  };

  struct Conn : std::enable_shared_from_this<Conn> {
    Conn(Impl* i, tcp::socket s) : impl(i), client(std::move(s)), target(i->ioc) {}

    void Start() {
      target.async_connect(
          tcp::endpoint(net::ip::address_v4::loopback(), impl->target_port),
          [self = shared_from_this()](const boost::system::error_code& ec) {
            if (ec) return self->Close(false);
            boost::system::error_code ignored;
            self->client.set_option(tcp::no_delay(true), ignored);
            self->target.set_option(tcp::no_delay(true), ignored);
            std::make_shared<Pump>(self, self->client, self->target, true)->Read();
            std::make_shared<Pump>(self, self->target, self->client, false)->Read();
          });
    }
    // Closes both sides; with `reset`, as an RST (SO_LINGER 0) rather than a FIN.
    void Close(bool reset) {
      if (closed) return;
      closed = true;
      boost::system::error_code ignored;
      for (tcp::socket* s : {&client, &target}) {
        if (reset) s->set_option(net::socket_base::linger(true, 0), ignored);
        s->close(ignored);
      }
      impl->conns.erase(shared_from_this());
    }

    Impl* impl;
    tcp::socket client;
    tcp::socket target;
    bool closed = false;
  };

  explicit Impl(uint16_t target) : target_port(target), acceptor(ioc) {}

  LinkFaults Faults(bool forward) {
    std::lock_guard<std::mutex> g(mu);
    return forward ? fwd : back;
  }

  void Accept() {
    acceptor.async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
      if (ec) return;  // closed
      ++accepted;
      auto c = std::make_shared<Conn>(this, std::move(s));
      conns.insert(c);
      c->Start();
      Accept();
    });
  }

  net::io_context ioc;
  const uint16_t target_port;
  tcp::acceptor acceptor;
  std::thread thread;
  std::set<std::shared_ptr<Conn>> conns;  // io thread only
  std::mutex mu;
  LinkFaults fwd, back;  // guarded by mu
  std::atomic<uint64_t> accepted{0}, forward_bytes{0}, backward_bytes{0};
};

Result<std::unique_ptr<FaultProxy>> FaultProxy::Start(uint16_t target_port, uint16_t listen_port) {
  auto impl = std::make_unique<Impl>(target_port);
  boost::system::error_code ec;
  const tcp::endpoint ep(net::ip::address_v4::loopback(), listen_port);
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(ErrorCode::kIoError, "fault proxy: cannot listen on port " +
                                           std::to_string(listen_port) + ": " + ec.message());
  }
  impl->Accept();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->ioc.run(); });
  return std::unique_ptr<FaultProxy>(new FaultProxy(std::move(impl)));
}

FaultProxy::FaultProxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FaultProxy::~FaultProxy() {
  Impl* i = impl_.get();
  net::post(i->ioc, [i] {
    boost::system::error_code ignored;
    i->acceptor.close(ignored);
    auto conns = i->conns;
    for (auto& c : conns)
      c->Close(false);
    i->ioc.stop();
  });
  i->thread.join();
}

uint16_t FaultProxy::port() const {
  return impl_->acceptor.local_endpoint().port();
}

void FaultProxy::SetForward(const LinkFaults& faults) {
  std::lock_guard<std::mutex> g(impl_->mu);
  impl_->fwd = faults;
}

void FaultProxy::SetBackward(const LinkFaults& faults) {
  std::lock_guard<std::mutex> g(impl_->mu);
  impl_->back = faults;
}

void FaultProxy::Partition() {
  std::lock_guard<std::mutex> g(impl_->mu);
  impl_->fwd.blocked = true;
  impl_->back.blocked = true;
}

void FaultProxy::Heal() {
  std::lock_guard<std::mutex> g(impl_->mu);
  impl_->fwd = LinkFaults{};
  impl_->back = LinkFaults{};
}

void FaultProxy::ResetConnections() {
  Impl* i = impl_.get();
  std::promise<void> done;
  net::post(i->ioc, [i, &done] {
    auto conns = i->conns;
    for (auto& c : conns)
      c->Close(true);
    done.set_value();
  });
  done.get_future().wait();
}

uint64_t FaultProxy::accepted() const {
  return impl_->accepted.load();
}
uint64_t FaultProxy::forwarded_bytes() const {
  return impl_->forward_bytes.load();
}
uint64_t FaultProxy::backward_bytes() const {
  return impl_->backward_bytes.load();
}

}  // namespace raftkit::chaos
