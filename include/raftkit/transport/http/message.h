// Plain value types shared by the HTTP server and client: header lists, URLs, requests and
// responses. Nothing here does I/O; see server.h and client.h for that.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "raftkit/util/status.h"

namespace raftkit::http {

/// An ordered list of header fields. Names compare case-insensitively (HTTP/1.1), values are
/// kept and compared exactly as given. A name may occur more than once.
class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  Headers() = default;
  Headers(std::initializer_list<Field> fields) : fields_(fields) {}

  /// Appends a field, keeping any existing ones with the same name.
  void Add(std::string name, std::string value);
  /// Replaces every field named `name` by one field with `value`.
  void Set(std::string_view name, std::string value);
  /// Removes every field named `name`.
  void Erase(std::string_view name);
  /// The value of the first field named `name`, or nullopt. The view lives as long as this
  /// object is not modified.
  [[nodiscard]] std::optional<std::string_view> Get(std::string_view name) const;
  /// The value of the first field named `name`, or "" when absent.
  [[nodiscard]] std::string_view GetOr(std::string_view name, std::string_view fallback = {}) const;
  [[nodiscard]] bool Has(std::string_view name) const { return Get(name).has_value(); }

  [[nodiscard]] size_t size() const noexcept { return fields_.size(); }
  [[nodiscard]] bool empty() const noexcept { return fields_.empty(); }
  [[nodiscard]] auto begin() const noexcept { return fields_.begin(); }
  [[nodiscard]] auto end() const noexcept { return fields_.end(); }

 private:
  std::vector<Field> fields_;
};

/// Case-insensitive ASCII comparison, as HTTP header names need.
[[nodiscard]] bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept;

/// An absolute http or https URL split into its parts.
struct Url {
  std::string scheme;  ///< "http" or "https" (lower-case).
  std::string host;    ///< A name or an IPv4 address; an IPv6 literal without its brackets.
  uint16_t port = 0;   ///< The explicit port, or 80 / 443 by scheme.
  std::string target;  ///< Path and query, "/" when the URL has none.

  [[nodiscard]] bool tls() const noexcept { return scheme == "https"; }
  /// "host:port" (IPv6 in brackets), as sent in the Host header.
  [[nodiscard]] std::string HostPort() const;
};

/// Parses "scheme://host[:port][/path][?query]" with scheme http or https. Returns
/// kInvalidArgument for anything else (other schemes, user info, a bad port, an empty host).
Result<Url> ParseUrl(std::string_view url);

/// Produces the next piece of a request body: copies at most `capacity` bytes into `buf` and
/// returns how many it copied. Returning 0 means the body is complete; an error aborts the request
/// (the connection is closed, the receiver sees a truncated body). Called on the thread that issued
/// the request, never concurrently with itself.
using BodySource = std::function<Result<size_t>(char* buf, size_t capacity)>;

/// A request the client sends.
struct ClientRequest {
  std::string method = "GET";
  std::string url;  ///< Absolute: "http://127.0.0.1:2380/raft/probing".
  Headers headers;  ///< Host, Content-Length and Transfer-Encoding are set by the client.
  /// A body known in advance (sent with Content-Length). Ignored when `body_source` is set.
  std::string body;
  /// A body produced piece by piece. With `body_length` it is sent with Content-Length and the
  /// source must produce exactly that many bytes; without, it is sent chunked.
  BodySource body_source;
  std::optional<uint64_t> body_length;
  /// When a pooled connection fails before any answer, the client may send the request again on a
  /// fresh connection — but the server may already have acted on the first copy. It does so for
  /// GET, HEAD, OPTIONS and TRACE, and for other methods only when this is set (the sender knows
  /// that a duplicate is harmless, as a Raft message is). Never with a `body_source`.
  bool replayable = false;
};

/// A complete response: what a server handler answers and what Client::Do returns.
struct Response {
  int status = 200;
  Headers headers;  ///< Content-Length is set by the sender.
  std::string body;
};

/// The standard reason phrase of `status` ("Not Found"), or "" when unknown.
[[nodiscard]] std::string_view StatusText(int status) noexcept;

}  // namespace raftkit::http
