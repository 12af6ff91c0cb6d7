// CRC32C against published check values (RFC 3720 B.4), hardware vs software, and Mask.
#include "raftkit/util/crc32c.h"

#include <gtest/gtest.h>

#include <string>

#include "raftkit/util/rand.h"

namespace raftkit::crc32c {
namespace {

TEST(Crc32c, MatchesTheStandardCheckValue) {
  EXPECT_EQ(Value(std::string_view("123456789")), 0xe3069283u);
}

TEST(Crc32c, MatchesRfc3720Vectors) {
  std::string zeros(32, '\0');
  EXPECT_EQ(Value(zeros), 0x8a9136aau);
  std::string ones(32, '\xff');
  EXPECT_EQ(Value(ones), 0x62a8ab43u);
  std::string inc(32, '\0');
  for (int i = 0; i < 32; ++i)
    inc[i] = static_cast<char>(i);
  EXPECT_EQ(Value(inc), 0x46dd794eu);
}

TEST(Crc32c, ExtendEqualsValueOfTheConcatenation) {
  const std::string a = "hello, ";
  const std::string b = "raftkit write-ahead log";
  EXPECT_EQ(Extend(Value(a), b.data(), b.size()), Value(a + b));
}

TEST(Crc32c, HardwareAndSoftwareAgreeOnEveryLengthAndAlignment) {
  Rand r(7);
  std::string buf(300, '\0');
  for (auto& c : buf)
    c = static_cast<char>(r.Uniform(256));
  for (size_t off = 0; off < 9; ++off) {
    for (size_t n = 0; n + off <= buf.size(); n += 7) {
      EXPECT_EQ(Extend(0x1234u, buf.data() + off, n), ExtendSoftware(0x1234u, buf.data() + off, n))
          << "off " << off << " n " << n;
    }
  }
}

TEST(Crc32c, MaskRoundTripsAndChangesTheValue) {
  for (uint32_t v : {0u, 1u, 0xe3069283u, 0xffffffffu}) {
    EXPECT_NE(Mask(v), v);
    EXPECT_EQ(Unmask(Mask(v)), v);
  }
}

}  // namespace
}  // namespace raftkit::crc32c
