// CRC32C (Castagnoli, polynomial 0x1EDC6F41 reflected), the checksum of raftkit's disk formats.
//
// Uses the SSE4.2 `crc32` instruction when the CPU has it (checked once at run time) and a
// table-driven software implementation otherwise; both give identical results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace raftkit::crc32c {

/// The CRC32C of `data[0, n)` continued from `crc` (the CRC of the bytes before them; 0 to start).
/// Extend(Extend(0, a), b) == Value(a + b).
uint32_t Extend(uint32_t crc, const void* data, size_t n) noexcept;

/// The CRC32C of `data[0, n)`.
inline uint32_t Value(const void* data, size_t n) noexcept {
  return Extend(0, data, n);
}
inline uint32_t Value(std::string_view s) noexcept {
  return Extend(0, s.data(), s.size());
}

/// Whether Extend uses the hardware instruction on this machine.
bool HardwareAccelerated() noexcept;

/// The software implementation, exposed so tests can check that both paths agree.
uint32_t ExtendSoftware(uint32_t crc, const void* data, size_t n) noexcept;

/// A stored CRC is masked so that the CRC of a string that itself contains CRCs is not degenerate
/// (leveldb's rationale): rotate right by 15 bits and add a constant.
constexpr uint32_t Mask(uint32_t crc) noexcept {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}
constexpr uint32_t Unmask(uint32_t masked) noexcept {
  const uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

}  // namespace raftkit::crc32c
