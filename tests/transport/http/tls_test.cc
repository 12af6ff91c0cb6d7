// TLS: round trips over https, mutual authentication, and server verification by the client.
#include <string>

#include <gtest/gtest.h>

#include "raftkit/transport/http/client.h"
#include "raftkit/transport/http/server.h"
#include "transport/http/test_util.h"

namespace raftkit::http {
namespace {

using testing::TempDir;
using testing::TlsFiles;

class HttpTls : public ::testing::Test {
 protected:
  void SetUp() override { files_ = testing::GenerateTlsFiles(dir_); }

  std::unique_ptr<Server> StartServer(bool require_client_cert) {
    ServerOptions opts;
    opts.tls =
        TlsServerConfig{files_.server_cert, files_.server_key, files_.ca_cert, require_client_cert};
    Route echo;
    echo.pattern = "/";
    echo.handler = [](ServerRequest& req, ResponseWriter& w) {
      (void)w.Respond(Response{200, {}, (req.tls ? "tls:" : "plain:") + req.body});
    };
    auto s = Server::Start(std::move(opts), {echo});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s.value());
  }

  std::unique_ptr<Client> MakeClient(TlsClientConfig tls) {
    ClientOptions opts;
    opts.tls = std::move(tls);
    auto c = Client::Create(std::move(opts));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c.value());
  }

  static ClientRequest Post(const Server& s, std::string body) {
    ClientRequest r;
    r.method = "POST";
    r.url = s.url() + "/x";
    r.body = std::move(body);
    return r;
  }

  TempDir dir_;
  TlsFiles files_;
};

TEST_F(HttpTls, RoundTripOverHttpsWithKeepAlive) {
  auto server = StartServer(/*require_client_cert=*/false);
  EXPECT_EQ(server->url().substr(0, 8), "https://");
  auto client = MakeClient(TlsClientConfig{files_.ca_cert, "", "", true});
  for (int i = 0; i < 3; ++i) {
    auto res = client->Do(Post(*server, "hello"));
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_EQ(res->body, "tls:hello");
  }
  EXPECT_EQ(client->stats().dialed, 1u);
}

TEST_F(HttpTls, StreamingResponseOverHttps) {
  ServerOptions opts;
  opts.tls = TlsServerConfig{files_.server_cert, files_.server_key, "", false};
  Route stream;
  stream.pattern = "/s";
  stream.handler = [](ServerRequest&, ResponseWriter& w) {
    ASSERT_TRUE(w.StartStream(200, {}).ok());
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(w.Write("f" + std::to_string(i)).ok());
  };
  auto server = Server::Start(std::move(opts), {stream});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto client = MakeClient(TlsClientConfig{files_.ca_cert, "", "", true});
  ClientRequest req;
  req.url = (*server)->url() + "/s";
  auto s = client->Open(req);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto body = (*s)->ReadAll(1000);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(body.value(), "f0f1f2");
}

TEST_F(HttpTls, MutualTlsAcceptsAClientWithACertificateFromTheCa) {
  auto server = StartServer(/*require_client_cert=*/true);
  auto client =
      MakeClient(TlsClientConfig{files_.ca_cert, files_.client_cert, files_.client_key, true});
  auto res = client->Do(Post(*server, "mutual"));
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->body, "tls:mutual");
}

TEST_F(HttpTls, MutualTlsRejectsAClientWithoutACertificate) {
  auto server = StartServer(/*require_client_cert=*/true);
  auto client = MakeClient(TlsClientConfig{files_.ca_cert, "", "", true});
  auto res = client->Do(Post(*server, "anonymous"));
  EXPECT_FALSE(res.ok());
  EXPECT_EQ(res.code(), ErrorCode::kIoError) << res.status().ToString();
}

TEST_F(HttpTls, ClientRejectsAServerCertificateFromAnUnknownCa) {
  auto server = StartServer(/*require_client_cert=*/false);
  auto client = MakeClient(TlsClientConfig{files_.other_ca_cert, "", "", true});
  auto res = client->Do(Post(*server, "x"));
  EXPECT_EQ(res.code(), ErrorCode::kIoError) << res.status().ToString();
}

TEST_F(HttpTls, PlainHttpToATlsServerFailsWithoutHurtingIt) {
  auto server = StartServer(/*require_client_cert=*/false);
  auto plain = Client::Create({});
  ASSERT_TRUE(plain.ok());
  ClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(server->port()) + "/";
  EXPECT_FALSE((*plain)->Do(req).ok());
  auto client = MakeClient(TlsClientConfig{files_.ca_cert, "", "", true});
  EXPECT_TRUE(client->Do(Post(*server, "still")).ok());
}

TEST_F(HttpTls, MissingCertificateFileIsAnInvalidArgument) {
  ServerOptions opts;
  opts.tls = TlsServerConfig{dir_.File("nope.crt"), files_.server_key, "", false};
  EXPECT_EQ(Server::Start(std::move(opts), {}).code(), ErrorCode::kInvalidArgument);
  ClientOptions copts;
  copts.tls = TlsClientConfig{files_.ca_cert, files_.client_cert, "", true};
  EXPECT_EQ(Client::Create(std::move(copts)).code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace raftkit::http
