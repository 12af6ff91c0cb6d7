// GCC 12 reports Asio's std::atomic_thread_fence as unsupported under ThreadSanitizer (-Wtsan, an
// error with RAFTKIT_WERROR). Asio's ordering also goes through mutexes TSan does see, so the
// warning is silenced here, before any header brings in <atomic>.
#if defined(__SANITIZE_THREAD__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#include "transport/http/tls_context.h"

#include <fmt/format.h>

namespace raftkit::http::internal {
namespace ssl = boost::asio::ssl;

namespace {

Status TlsError(std::string_view what, const boost::system::error_code& ec) {
  return Status(ErrorCode::kInvalidArgument, fmt::format("tls: {}: {}", what, ec.message()));
}

std::shared_ptr<ssl::context> NewContext(ssl::context::method method) {
  auto ctx = std::make_shared<ssl::context>(method);
  // TLS 1.2 is the oldest version Go's crypto/tls still accepts by default; nothing older.
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  return ctx;
}

}  // namespace

Result<std::shared_ptr<ssl::context>> MakeServerContext(const TlsServerConfig& cfg) {
  if (cfg.cert_file.empty() || cfg.key_file.empty()) {
    return Status(ErrorCode::kInvalidArgument, "tls: the server needs cert_file and key_file");
  }
  if (cfg.require_client_cert && cfg.ca_file.empty()) {
    return Status(ErrorCode::kInvalidArgument, "tls: require_client_cert needs ca_file");
  }
  auto ctx = NewContext(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cfg.cert_file, ec);
  if (ec) return TlsError("loading " + cfg.cert_file, ec);
  ctx->use_private_key_file(cfg.key_file, ssl::context::pem, ec);
  if (ec) return TlsError("loading " + cfg.key_file, ec);
  if (!cfg.ca_file.empty()) {
    ctx->load_verify_file(cfg.ca_file, ec);
    if (ec) return TlsError("loading " + cfg.ca_file, ec);
    ssl::verify_mode mode = ssl::verify_peer;
    if (cfg.require_client_cert) mode |= ssl::verify_fail_if_no_peer_cert;
    ctx->set_verify_mode(mode, ec);
    if (ec) return TlsError("verify mode", ec);
  }
  return ctx;
}

Result<std::shared_ptr<ssl::context>> MakeClientContext(const TlsClientConfig& cfg) {
  if (cfg.cert_file.empty() != cfg.key_file.empty()) {
    return Status(ErrorCode::kInvalidArgument, "tls: cert_file and key_file go together");
  }
  auto ctx = NewContext(ssl::context::tls_client);
  boost::system::error_code ec;
  if (cfg.ca_file.empty()) {
    ctx->set_default_verify_paths(ec);
    if (ec) return TlsError("default trust store", ec);
  } else {
    ctx->load_verify_file(cfg.ca_file, ec);
    if (ec) return TlsError("loading " + cfg.ca_file, ec);
  }
  if (!cfg.cert_file.empty()) {
    ctx->use_certificate_chain_file(cfg.cert_file, ec);
    if (ec) return TlsError("loading " + cfg.cert_file, ec);
    ctx->use_private_key_file(cfg.key_file, ssl::context::pem, ec);
    if (ec) return TlsError("loading " + cfg.key_file, ec);
  }
  ctx->set_verify_mode(cfg.verify_peer ? ssl::verify_peer : ssl::verify_none, ec);
  if (ec) return TlsError("verify mode", ec);
  return ctx;
}

}  // namespace raftkit::http::internal
