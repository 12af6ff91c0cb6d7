// The identity and version rules of rafthttp requests (spec §3.3, §3.4, §4.2, §10).
#include "transport/rafthttp/compat.h"

#include <gtest/gtest.h>

#include "transport/rafthttp/url_picker.h"

namespace raftkit::rafthttp {
namespace {

TEST(IdFormatTest, IdsAreLowerCaseHexWithoutLeadingZeros) {
  EXPECT_EQ(FormatId(0), "0");
  EXPECT_EQ(FormatId(1), "1");
  EXPECT_EQ(FormatId(0x1000), "1000");
  EXPECT_EQ(FormatId(0x8e9e05c52164694dULL), "8e9e05c52164694d");
}

TEST(IdFormatTest, ParsingAcceptsUpperCaseAndLeadingZerosButNotAPrefix) {
  EXPECT_EQ(ParseId("8E9E05C52164694D"), 0x8e9e05c52164694dULL);
  EXPECT_EQ(ParseId("0001000"), 0x1000u);
  EXPECT_EQ(ParseId("ffffffffffffffff"), UINT64_MAX);
  EXPECT_FALSE(ParseId("0x10"));
  EXPECT_FALSE(ParseId(""));
  EXPECT_FALSE(ParseId("10000000000000000"));  // 17 digits
  EXPECT_FALSE(ParseId("12 "));
  EXPECT_FALSE(ParseId("-1"));
}

TEST(SemverTest, StrictThreePartVersionsOnly) {
  EXPECT_EQ(ParseSemver("3.4.23"), (Semver{3, 4, 23}));
  EXPECT_EQ(ParseSemver("3.0.0-rc.1+build.5"), (Semver{3, 0, 0}));
  EXPECT_EQ(ParseSemver("9.9.9"), (Semver{9, 9, 9}));
  for (const char* bad : {"3.4", "v3.4.0", "03.4.0", "3.04.0", "3.4.0-", "3.4.0+", "3.4.0-01",
                          "3..4", "3.4.x", "", "3.4.0.1", "3.4.0-a..b"}) {
    EXPECT_FALSE(ParseSemver(bad)) << bad;
  }
}

TEST(CompatibilityTest, EtcdAndRaftexampleHeadersPass) {
  EXPECT_EQ(CheckCompatibility("3.4.23", "3.0.0", "1000", 0x1000), Compat::kOk);
  EXPECT_EQ(CheckCompatibility("9.9.9", "3.4.0", "1000", 0x1000), Compat::kOk);
}

TEST(CompatibilityTest, VersionsAreCheckedBeforeTheClusterId) {
  // An absent X-Server-Version counts as 2.0.0: too old.
  EXPECT_EQ(CheckCompatibility(std::nullopt, "3.0.0", "bad", 0x1000), Compat::kIncompatibleVersion);
  EXPECT_EQ(CheckCompatibility("2.3.0", "2.0.0", "1000", 0x1000), Compat::kIncompatibleVersion);
  // A minimum cluster version above 3.4 cannot be satisfied.
  EXPECT_EQ(CheckCompatibility("3.5.0", "3.5.0", "1000", 0x1000), Compat::kIncompatibleVersion);
  // Only MAJOR.MINOR are compared.
  EXPECT_EQ(CheckCompatibility("3.0.0", "3.4.99", "1000", 0x1000), Compat::kOk);
  EXPECT_EQ(CheckCompatibility("3.4", "3.0.0", "1000", 0x1000), Compat::kMalformedVersion);
  EXPECT_EQ(CheckCompatibility("3.4.0", "3", "1000", 0x1000), Compat::kMalformedVersion);
}

TEST(CompatibilityTest, ClusterIdIsComparedAsTheCanonicalString) {
  EXPECT_EQ(CheckCompatibility("3.4.23", "3.0.0", "01000", 0x1000), Compat::kClusterIdMismatch);
  EXPECT_EQ(CheckCompatibility("3.4.23", "3.0.0", std::nullopt, 0x1000),
            Compat::kClusterIdMismatch);
  EXPECT_EQ(CheckCompatibility("3.4.23", "3.0.0", "ABC", 0xabc), Compat::kClusterIdMismatch);
  EXPECT_EQ(CompatErrorText(Compat::kClusterIdMismatch), "cluster ID mismatch");
  EXPECT_EQ(CompatErrorText(Compat::kIncompatibleVersion), "incompatible version");
}

TEST(StreamSupportTest, GoReadersSupportTable) {
  EXPECT_FALSE(StreamSupported(std::nullopt, StreamType::kMessage)) << "absent means 2.0.0";
  EXPECT_FALSE(StreamSupported("2.0.5", StreamType::kMsgAppV2));
  EXPECT_TRUE(StreamSupported("2.1.0", StreamType::kMessage));
  EXPECT_TRUE(StreamSupported("3.3.7", StreamType::kMsgAppV2));
  EXPECT_TRUE(StreamSupported("3.4.23", StreamType::kMsgAppV2));
  EXPECT_TRUE(StreamSupported("3.5.0", StreamType::kMessage));
  EXPECT_FALSE(StreamSupported("2.4.0", StreamType::kMessage));
  EXPECT_FALSE(StreamSupported("1.9.0", StreamType::kMessage));
  EXPECT_FALSE(StreamSupported("3.4", StreamType::kMessage));
  EXPECT_EQ(StreamPathName(StreamType::kMsgAppV2), "msgapp");
  EXPECT_EQ(StreamPathName(StreamType::kMessage), "message");
}

TEST(UrlPickerTest, StaysOnAWorkingUrlAndRotatesAwayFromAFailingOne) {
  UrlPicker p({"http://a:1", "http://b:2", "http://c:3"});
  EXPECT_EQ(p.Pick(), "http://a:1");
  p.Unreachable("http://a:1");
  EXPECT_EQ(p.Pick(), "http://b:2");
  p.Unreachable("http://a:1");  // a stale report about an abandoned URL changes nothing
  EXPECT_EQ(p.Pick(), "http://b:2");
  p.Unreachable("http://b:2");
  p.Unreachable("http://c:3");
  EXPECT_EQ(p.Pick(), "http://a:1") << "wraps around";
  p.Update({"http://d:4"});
  EXPECT_EQ(p.Pick(), "http://d:4");
  EXPECT_EQ(UrlPicker({}).Pick(), "");
}

}  // namespace
}  // namespace raftkit::rafthttp
