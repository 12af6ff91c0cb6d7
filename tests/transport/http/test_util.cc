#include "test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace raftkit::http::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/raftkit-http-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    std::abort();
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

namespace {

void Run(const TempDir& dir, const std::string& command) {
  const std::string full = fmt::format("cd '{}' && {} > openssl.log 2>&1", dir.path(), command);
  if (std::system(full.c_str()) != 0) {
    std::ifstream log(dir.File("openssl.log"));
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    ADD_FAILURE() << "command failed: " << command << "\n" << text;
    std::abort();
  }
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// A key and a certificate named `name`, signed by the CA `ca`, with the given extensions.
void Issue(const TempDir& dir, const std::string& ca, const std::string& name,
           const std::string& cn, const std::string& extensions) {
  WriteFile(dir.File(name + ".ext"), extensions);
  Run(dir, fmt::format("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                       "-keyout {0}.key -out {0}.csr -subj /CN={1}",
                       name, cn));
  Run(dir, fmt::format("openssl x509 -req -in {0}.csr -CA {1}.crt -CAkey {1}.key -set_serial {2} "
                       "-days 1 -out {0}.crt -extfile {0}.ext",
                       name, ca, std::hash<std::string>{}(name) % 1000000 + 2));
}

}  // namespace

TlsFiles GenerateTlsFiles(const TempDir& dir) {
  for (const char* ca : {"ca", "other-ca"}) {
    Run(dir, fmt::format("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                         "-keyout {0}.key -out {0}.crt -days 1 -subj /CN=raftkit-test-{0}",
                         ca));
  }
  Issue(dir, "ca", "server", "127.0.0.1",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  Issue(dir, "ca", "client", "raftkit-test-client", "extendedKeyUsage=clientAuth\n");
  TlsFiles f;
  f.ca_cert = dir.File("ca.crt");
  f.server_cert = dir.File("server.crt");
  f.server_key = dir.File("server.key");
  f.client_cert = dir.File("client.crt");
  f.client_key = dir.File("client.key");
  f.other_ca_cert = dir.File("other-ca.crt");
  return f;
}

RawConn::RawConn(uint16_t port, std::chrono::milliseconds timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return;
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawConn::~RawConn() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConn::Send(const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string RawConn::ReceiveAll(size_t max) {
  std::string out;
  char buf[4096];
  while (out.size() < max) {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

bool RawConn::WaitClosed() {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

void Latch::Set() {
  {
    std::lock_guard lock(mu_);
    set_ = true;
  }
  cv_.notify_all();
}

bool Latch::Wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return set_; });
}

bool Latch::IsSet() {
  std::lock_guard lock(mu_);
  return set_;
}

}  // namespace raftkit::http::testing
