// Deterministic pseudo-randomness. Nothing in raftkit's core draws from a hidden global source:
// every random choice (the randomized election timeout) comes from a Rand seeded by the caller, so
// the same seed replays the same run.
#pragma once

#include <cstdint>

namespace raftkit {

/// SplitMix64: small, fast, and good enough for timeouts and simulations (not for cryptography).
class Rand {
 public:
  explicit constexpr Rand(uint64_t seed) noexcept : state_(seed) {}

  /// The next 64 random bits.
  constexpr uint64_t Next() noexcept {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  /// A uniform value in [0, n). Requires n > 0. Uses rejection to avoid modulo bias.
  constexpr uint64_t Uniform(uint64_t n) noexcept {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v = Next();
    while (v >= limit)
      v = Next();
    return v % n;
  }

 private:
  uint64_t state_;
};

}  // namespace raftkit
