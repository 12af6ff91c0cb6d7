// Bytes: an immutable, cheaply copyable byte string that knows whether it is "nil".
//
// Raft copies entries a lot (into the unstable log, into messages, into Ready, into storage), as
// etcd does with Go slices that share their backing array. Bytes gives C++ the same cost model:
// copying a Bytes shares one reference-counted buffer (thread-safe), the content never changes.
//
// raftpb's `bytes` fields are nullable on the wire (gogoproto): an absent field and a present field
// of length 0 encode differently, and echoes must be byte-exact (a heartbeat response copies the
// heartbeat's context as received). Bytes therefore distinguishes null (absent) from empty.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace raftkit {

class Bytes {
 public:
  /// A null Bytes (an absent protobuf field).
  Bytes() noexcept = default;
  /// Takes ownership of `s` (no copy). The result is non-null, even if `s` is empty.
  explicit Bytes(std::string s) : buf_(std::make_shared<const std::string>(std::move(s))) {}
  /// Copies `s`. The result is non-null, even if `s` is empty.
  explicit Bytes(std::string_view s) : Bytes(std::string(s)) {}
  explicit Bytes(const char* s) : Bytes(std::string(s)) {}

  /// A non-null, empty Bytes (a present protobuf field of length 0).
  static Bytes Empty();

  [[nodiscard]] bool is_null() const noexcept { return buf_ == nullptr; }
  [[nodiscard]] size_t size() const noexcept { return buf_ ? buf_->size() : 0; }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  [[nodiscard]] const char* data() const noexcept { return buf_ ? buf_->data() : ""; }
  [[nodiscard]] std::string_view view() const noexcept {
    return buf_ ? std::string_view(*buf_) : std::string_view();
  }
  /// A copy of the content as a std::string ("" when null).
  [[nodiscard]] std::string str() const { return std::string(view()); }

  /// Structural equality: same nullness and same content. Use view() to compare content only.
  friend bool operator==(const Bytes& a, const Bytes& b) noexcept {
    return a.is_null() == b.is_null() && a.view() == b.view();
  }

 private:
  std::shared_ptr<const std::string> buf_;
};

}  // namespace raftkit
