// One HTTP request for the multi-process suites, with transport errors folded into the answer
// (status 0, the error as body) so that tests can retry or assert on one value.
#pragma once

#include <string>
#include <utility>

#include "raftkit/transport/http/client.h"

namespace raftkit::testing {

inline http::Response HttpCall(http::Client& client, const std::string& method,
                               const std::string& url, const std::string& body = "") {
  http::ClientRequest req;
  req.method = method;
  req.url = url;
  req.body = body;
  auto r = client.Do(req);
  if (!r.ok()) return http::Response{0, {}, r.status().ToString()};
  return std::move(r).value();
}

}  // namespace raftkit::testing
