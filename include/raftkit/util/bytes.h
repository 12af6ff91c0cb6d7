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
  /// The content of `s`. The result is non-null, even if `s` is empty. A short string is copied
  /// into one allocation holding both the count and the bytes; a long one is taken over without a
  /// copy.
  explicit Bytes(std::string s);
  /// Copies `s` (one allocation). The result is non-null, even if `s` is empty.
  explicit Bytes(std::string_view s);
  explicit Bytes(const char* s) : Bytes(std::string_view(s)) {}

  /// A non-null, empty Bytes (a present protobuf field of length 0).
  static Bytes Empty();
  /// A Bytes of `part`, which must lie in memory that `owner` keeps alive: no copy, no allocation.
  /// Decoders use it to let every field of one decoded buffer share that buffer (as Go slices of
  /// one array do); the whole buffer lives as long as any of them.
  static Bytes Share(const std::shared_ptr<const char>& owner, std::string_view part) {
    Bytes b;
    b.buf_ = std::shared_ptr<const char>(owner, part.data() != nullptr ? part.data() : "");
    b.size_ = part.size();
    return b;
  }

  [[nodiscard]] bool is_null() const noexcept { return buf_ == nullptr; }
  [[nodiscard]] size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] const char* data() const noexcept { return buf_ ? buf_.get() : ""; }
  [[nodiscard]] std::string_view view() const noexcept {
    return buf_ ? std::string_view(buf_.get(), size_) : std::string_view();
  }
  /// A copy of the content as a std::string ("" when null).
  [[nodiscard]] std::string str() const { return std::string(view()); }

  /// Structural equality: same nullness and same content. Use view() to compare content only.
  friend bool operator==(const Bytes& a, const Bytes& b) noexcept {
    return a.is_null() == b.is_null() && a.view() == b.view();
  }

 private:
  // Points into a shared block that owns the bytes (an array, or a std::string taken over).
  std::shared_ptr<const char> buf_;
  size_t size_ = 0;
};

}  // namespace raftkit
