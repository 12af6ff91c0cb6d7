// URL picker: which of a peer's URLs to use next (etcd's urlPicker). Sticks with one URL while it
// works and rotates away from it when a request through it fails.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace raftkit::rafthttp {

/// Thread-safe. Invariant: urls_ is non-empty unless constructed empty (then Pick returns "").
class UrlPicker {
 public:
  explicit UrlPicker(std::vector<std::string> urls);

  /// The URL to use now.
  [[nodiscard]] std::string Pick() const;
  /// Reports that a request through `url` failed: if it is the current one, the next URL becomes
  /// current (a failure of an already-abandoned URL changes nothing, so concurrent failures of
  /// one URL rotate once).
  void Unreachable(const std::string& url);
  /// Replaces the URL list (a peer's URLs changed); the first becomes current.
  void Update(std::vector<std::string> urls);
  [[nodiscard]] std::vector<std::string> urls() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> urls_;
  size_t current_ = 0;
};

}  // namespace raftkit::rafthttp
