// KvStore, raftkit-kv's state machine, in both formats: commands and their results, snapshots,
// malformed input; and raftexample's id syntax (Go's strconv.ParseUint with base 0).
#include "kv_store.h"

#include <gtest/gtest.h>

#include "http_api.h"
#include "raftexample_codec.h"

namespace raftkit::kv {
namespace {

CommandResult Apply(KvStore& s, const Result<std::string>& cmd) {
  EXPECT_TRUE(cmd.ok()) << cmd.status().ToString();
  auto r = s.Apply(Index(1), cmd.value());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  auto parsed = KvStore::ParseResult(r.value());
  EXPECT_TRUE(parsed.ok());
  return parsed.value();
}

TEST(KvStoreTest, PutCompareAndSetAndDeleteReportWhatTheyFound) {
  KvStore s;
  auto r = Apply(s, s.PutCommand("k", "v1", std::nullopt));
  EXPECT_TRUE(r.ok);
  EXPECT_FALSE(r.value.has_value());
  r = Apply(s, s.PutCommand("k", "v2", std::nullopt));
  EXPECT_EQ(r.value, "v1");
  r = Apply(s, s.PutCommand("k", "v3", std::string("wrong")));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.value, "v2");  // the current value
  EXPECT_EQ(s.Get("k"), "v2");
  r = Apply(s, s.PutCommand("k", "v3", std::string("v2")));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(s.Get("k"), "v3");
  r = Apply(s, s.PutCommand("absent", "x", std::string("")));
  EXPECT_FALSE(r.ok);  // compare-and-set on a missing key fails, whatever is expected
  EXPECT_FALSE(r.value.has_value());
  r = Apply(s, s.DeleteCommand("k"));
  EXPECT_EQ(r.value, "v3");
  EXPECT_FALSE(s.Get("k").has_value());
}

TEST(KvStoreTest, KeysAndValuesAreArbitraryBytes) {
  KvStore s;
  const std::string key("a\0b\xff", 4), value("\0\n\r", 3);
  Apply(s, s.PutCommand(key, value, std::nullopt));
  EXPECT_EQ(s.Get(key), value);
  KvStore t;
  ASSERT_TRUE(t.Restore(s.Snapshot().value()).ok());
  EXPECT_EQ(t.Get(key), value);
}

TEST(KvStoreTest, ListReturnsKeysWithAPrefixInOrderUpToALimit) {
  KvStore s;
  for (const char* k : {"b2", "a1", "b1", "c", "b3"})
    Apply(s, s.PutCommand(k, k, std::nullopt));
  auto l = s.List("b", 2);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].first, "b1");
  EXPECT_EQ(l[1].first, "b2");
  EXPECT_EQ(s.List("", 100).size(), 5u);
  EXPECT_TRUE(s.List("z", 10).empty());
}

TEST(KvStoreTest, SnapshotRestoreReplacesTheWholeState) {
  KvStore a, b;
  Apply(a, a.PutCommand("x", "1", std::nullopt));
  Apply(a, a.PutCommand("y", "2", std::nullopt));
  Apply(b, b.PutCommand("stale", "s", std::nullopt));
  ASSERT_TRUE(b.Restore(a.Snapshot().value()).ok());
  EXPECT_EQ(b.size(), 2u);
  EXPECT_FALSE(b.Get("stale").has_value());
  EXPECT_EQ(b.Get("y"), "2");
  const std::string snap = a.Snapshot().value();
  EXPECT_EQ(b.Restore(snap.substr(0, snap.size() - 1)).code(), ErrorCode::kCorruption);
  EXPECT_EQ(b.size(), 2u);  // a failed restore changes nothing
}

TEST(KvStoreTest, MalformedCommandsFailTheSameWayEverywhereAndChangeNothing) {
  KvStore s;
  for (const std::string& bad : {std::string(), std::string("X"), std::string("P\0\0\0\x09k", 6),
                                 std::string("D\0\0\0\x01kk", 7)}) {
    auto r = s.Apply(Index(1), bad);
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(s.size(), 0u);
  EXPECT_FALSE(KvStore::ParseResult("Z0").ok());
  EXPECT_FALSE(KvStore::ParseResult("Y").ok());
}

TEST(KvStoreTest, RaftexampleFormatAppliesGobPutsAndSnapshotsAsJson) {
  KvStore s(KvStore::Format::kRaftexample);
  auto cmd = s.PutCommand("/foo", "bar", std::nullopt);
  ASSERT_TRUE(cmd.ok());
  EXPECT_EQ(cmd.value(), EncodeRaftexampleKv("/foo", "bar"));
  Apply(s, cmd);
  EXPECT_EQ(s.Get("/foo"), "bar");
  EXPECT_EQ(s.Snapshot().value(), R"({"/foo":"bar"})");
  KvStore t(KvStore::Format::kRaftexample);
  ASSERT_TRUE(t.Restore(R"({"/a":"1","/b":"2"})").ok());
  EXPECT_EQ(t.Get("/b"), "2");
  EXPECT_EQ(t.size(), 2u);
  // What raftexample cannot express is refused before it reaches the log.
  EXPECT_EQ(s.PutCommand("/foo", "x", std::string("bar")).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.DeleteCommand("/foo").status().code(), ErrorCode::kInvalidArgument);
  // A native command in a raftexample log is refused by every member alike.
  KvStore native;
  EXPECT_EQ(s.Apply(Index(2), native.PutCommand("k", "v", std::nullopt).value()).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(t.Restore("not json").code(), ErrorCode::kCorruption);
}

TEST(ParseGoUintTest, AcceptsWhatGoAcceptsWithBaseZero) {
  EXPECT_EQ(ParseGoUint("4"), 4u);
  EXPECT_EQ(ParseGoUint("0"), 0u);
  EXPECT_EQ(ParseGoUint("0x1F"), 31u);
  EXPECT_EQ(ParseGoUint("0X1f"), 31u);
  EXPECT_EQ(ParseGoUint("017"), 15u);
  EXPECT_EQ(ParseGoUint("0o17"), 15u);
  EXPECT_EQ(ParseGoUint("0b101"), 5u);
  EXPECT_EQ(ParseGoUint("0x_1_0"), 16u);
  EXPECT_EQ(ParseGoUint("18446744073709551615"), UINT64_MAX);
  for (const char* bad : {"", "-1", "+1", "1_0", "0x", "0b2", "09", "0x1__0", "0x10_", "12a",
                          "18446744073709551616", " 1"}) {
    EXPECT_FALSE(ParseGoUint(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace raftkit::kv
