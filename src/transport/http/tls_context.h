// Builds boost::asio::ssl contexts from the TLS configs (private to the HTTP layer).
#pragma once

#include <memory>
#include <string_view>

#include <boost/asio/ssl/context.hpp>

#include "raftkit/transport/http/tls.h"
#include "raftkit/util/status.h"

namespace raftkit::http::internal {

/// A TLS 1.2+ server context with the certificate, key and (optionally) client verification.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerContext(const TlsServerConfig& cfg);

/// A TLS 1.2+ client context with the trust anchors and (optionally) a client certificate.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeClientContext(const TlsClientConfig& cfg);

}  // namespace raftkit::http::internal
