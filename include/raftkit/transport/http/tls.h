// TLS settings of the HTTP server and client (OpenSSL through boost::asio::ssl). Files are PEM and
// are read once, when the server or client is created; later changes to the files are not seen.
#pragma once

#include <string>

namespace raftkit::http {

/// A server's TLS identity and, optionally, client-certificate verification (mutual TLS).
struct TlsServerConfig {
  std::string cert_file;  ///< The server's certificate chain (leaf first). Required.
  std::string key_file;   ///< The private key of the leaf. Required.
  /// CAs that client certificates must chain to. Required when `require_client_cert`; when set
  /// without it, a client certificate is verified if offered but not demanded.
  std::string ca_file;
  /// Mutual TLS: the handshake fails unless the client presents a certificate signed by `ca_file`.
  bool require_client_cert = false;
};

/// How a client verifies servers and, optionally, identifies itself.
struct TlsClientConfig {
  /// CAs that server certificates must chain to. Empty: the system's default trust store.
  std::string ca_file;
  /// The client's certificate chain and key, for servers that demand one. Both or neither.
  std::string cert_file;
  std::string key_file;
  /// Verify the server's chain and that its certificate names the host of the URL (a DNS SAN for
  /// names, an IP SAN for addresses). Turn off only in tests.
  bool verify_peer = true;
};

}  // namespace raftkit::http
