// Strong integer types for the three quantities Raft juggles: terms, log indexes and node ids.
//
// They are all unsigned 64-bit on the wire (raftpb), but mixing them up is a classic source of
// bugs, so each is a distinct type. Index and Term support the arithmetic Raft needs (an offset
// from an index, the distance between two indexes); NodeId supports only comparison.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <limits>

#include <fmt/format.h>

namespace raftkit {

/// A 64-bit value tagged with a type so that Term, Index and NodeId cannot be confused.
template <class Tag, bool kArithmetic>
class Strong {
 public:
  constexpr Strong() noexcept = default;
  constexpr explicit Strong(uint64_t v) noexcept : v_(v) {}

  /// The raw value, for the wire, for printing, and for array offsets.
  [[nodiscard]] constexpr uint64_t value() const noexcept { return v_; }

  friend constexpr bool operator==(Strong, Strong) noexcept = default;
  friend constexpr auto operator<=>(Strong, Strong) noexcept = default;

  constexpr Strong& operator++() noexcept requires kArithmetic {
    ++v_;
    return *this;
  }
  constexpr Strong& operator+=(uint64_t n) noexcept requires kArithmetic {
    v_ += n;
    return *this;
  }
  /// `i + n` is the index (or term) n positions after i.
  friend constexpr Strong operator+(Strong a, uint64_t n) noexcept requires kArithmetic {
    return Strong(a.v_ + n);
  }
  /// `i - n` is the index (or term) n positions before i. The caller guarantees no underflow.
  friend constexpr Strong operator-(Strong a, uint64_t n) noexcept requires kArithmetic {
    return Strong(a.v_ - n);
  }
  /// `a - b` is the distance between two indexes (or terms). The caller guarantees a >= b.
  friend constexpr uint64_t operator-(Strong a, Strong b) noexcept requires kArithmetic {
    return a.v_ - b.v_;
  }

 private:
  uint64_t v_ = 0;
};

struct TermTag {};
struct IndexTag {};
struct NodeIdTag {};

/// A Raft term. Term 0 means "no term" (never used by an election).
using Term = Strong<TermTag, true>;
/// A position in the Raft log. Index 0 is the empty log's sentinel; the first entry is 1.
using Index = Strong<IndexTag, true>;
/// A member id. 0 (kNoNode) means "nobody", as etcd's `raft.None`.
using NodeId = Strong<NodeIdTag, false>;

inline constexpr NodeId kNoNode{0};
/// "No limit" for byte-size limits, as etcd's `noLimit` (math.MaxUint64).
inline constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();

inline constexpr Index Min(Index a, Index b) noexcept {
  return a < b ? a : b;
}
inline constexpr Index Max(Index a, Index b) noexcept {
  return a < b ? b : a;
}

}  // namespace raftkit

template <class Tag, bool kArithmetic>
struct std::hash<raftkit::Strong<Tag, kArithmetic>> {
  size_t operator()(raftkit::Strong<Tag, kArithmetic> v) const noexcept {
    return std::hash<uint64_t>{}(v.value());
  }
};

/// Strong values print as their number: fmt::format("{}", term) == "5". Format specs apply to
/// the number, e.g. "{:x}" prints a node id in hex as etcd does in its logs.
template <class Tag, bool kArithmetic>
struct fmt::formatter<raftkit::Strong<Tag, kArithmetic>> : fmt::formatter<uint64_t> {
  template <class Ctx>
  auto format(raftkit::Strong<Tag, kArithmetic> v, Ctx& ctx) const {
    return fmt::formatter<uint64_t>::format(v.value(), ctx);
  }
};
