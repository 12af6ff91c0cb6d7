// raftexample's formats as raftkit-kv writes and reads them, compared with Go's encoding/gob and
// encoding/json (tests/kv/raftexample_go/gobcheck.go) on fixed and random keys and values.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "raftexample_codec.h"

namespace raftkit::kv {
namespace {

std::string Hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out.empty() ? "-" : out;  // a field, even when empty
}

std::string Unhex(const std::string& h) {
  std::string out;
  if (h == "-") return out;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

TEST(RaftexampleCodecTest, EncodesAsGoDoesForKnownValues) {
  // Bytes printed by Go 1.19's gob.NewEncoder(&buf).Encode(kv{"/a", "b"}).
  const std::string go = Unhex(
      "20ff81030101026b7601ff8200010201034b6579010c00010356616c010c0000000aff8201022f6101016200");
  EXPECT_EQ(EncodeRaftexampleKv("/a", "b"), go);
  auto kv = DecodeRaftexampleKv(go);
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv.value().first, "/a");
  EXPECT_EQ(kv.value().second, "b");
}

TEST(RaftexampleCodecTest, EmptyFieldsAreOmittedAndDecodeAsEmpty) {
  for (const auto& [k, v] :
       std::vector<std::pair<std::string, std::string>>{{"", ""}, {"/k", ""}, {"", "v"}}) {
    auto kv = DecodeRaftexampleKv(EncodeRaftexampleKv(k, v));
    ASSERT_TRUE(kv.ok());
    EXPECT_EQ(kv.value().first, k);
    EXPECT_EQ(kv.value().second, v);
  }
}

TEST(RaftexampleCodecTest, RejectsWhatIsNotOneKvValue) {
  const std::string good = EncodeRaftexampleKv("/key", "value");
  EXPECT_FALSE(DecodeRaftexampleKv("").ok());
  EXPECT_FALSE(DecodeRaftexampleKv("RK\x01").ok());
  // Every truncation fails; so does trailing garbage.
  for (size_t n = 0; n < good.size(); ++n)
    EXPECT_FALSE(DecodeRaftexampleKv(good.substr(0, n)).ok()) << n;
  EXPECT_FALSE(DecodeRaftexampleKv(good + "x").ok());
  // A value without its type's definition (a 1-byte length and 32 bytes).
  EXPECT_FALSE(DecodeRaftexampleKv(good.substr(33)).ok());
}

TEST(RaftexampleCodecTest, SnapshotIsAJsonObjectOfStrings) {
  std::map<std::string, std::string> m{{"/b", "2"}, {"/a", "<&>\"\n"}, {"/ü", "ß"}};
  auto back = DecodeRaftexampleSnapshot(EncodeRaftexampleSnapshot(m));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value(), m);
  EXPECT_EQ(EncodeRaftexampleSnapshot({}), "{}");
  ASSERT_TRUE(DecodeRaftexampleSnapshot("null").ok());  // Go's encoding of a nil map
  EXPECT_TRUE(DecodeRaftexampleSnapshot("null").value().empty());
  EXPECT_FALSE(DecodeRaftexampleSnapshot("[1]").ok());
  EXPECT_FALSE(DecodeRaftexampleSnapshot(R"({"a": 1})").ok());
  EXPECT_FALSE(DecodeRaftexampleSnapshot("{").ok());
}

// Random keys and values (any bytes for gob; valid UTF-8 for JSON, where Go and we both replace
// invalid sequences) through both sides.
TEST(RaftexampleCodecTest, AgreesWithGoOnRandomKeysAndValues) {
  std::mt19937_64 rng(20261122);
  auto random_bytes = [&](size_t max, bool utf8) {
    std::string s(rng() % (max + 1), '\0');
    for (auto& c : s) {
      c = utf8 ? static_cast<char>(0x20 + rng() % 0x5f) : static_cast<char>(rng());
    }
    if (utf8 && rng() % 4 == 0) s += "\xc3\xa9<&>\"\\\n\t";  // é, HTML and escapes
    return s;
  };
  const auto dir =
      std::filesystem::temp_directory_path() / ("raftkit-gobcheck-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  struct Case {
    std::string key, val;
  };
  std::vector<Case> cases;
  std::map<std::string, std::string> store;
  {
    std::ofstream in(dir / "in");
    for (int i = 0; i < 2000; ++i) {
      const bool utf8 = i % 2 == 0;
      // Sizes around gob's one-byte length limit (127) and beyond.
      Case c{random_bytes(i % 50 == 0 ? 300 : 20, utf8),
             random_bytes(i % 7 == 0 ? 5000 : 150, utf8)};
      in << "kv " << Hex(c.key) << " " << Hex(c.val) << " "
         << Hex(EncodeRaftexampleKv(c.key, c.val)) << "\n";
      if (utf8) {
        store[c.key] = c.val;
      }
      cases.push_back(std::move(c));
    }
  }
  // The snapshot part uses its own run with valid UTF-8 only.
  {
    std::ofstream in(dir / "snap");
    for (const auto& [k, v] : store)
      in << "kv " << Hex(k) << " " << Hex(v) << " " << Hex(EncodeRaftexampleKv(k, v)) << "\n";
    in << "snap " << Hex(EncodeRaftexampleSnapshot(store)) << "\n";
  }
  const std::string prog = RAFTKIT_GOBCHECK;
  for (const char* name : {"in", "snap"}) {
    const std::string cmd = prog + " < " + (dir / name).string() + " > " +
                            (dir / (std::string(name) + ".out")).string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  std::ifstream out(dir / "in.out");
  std::string line;
  size_t n = 0;
  while (std::getline(out, line)) {
    ASSERT_LT(n, cases.size());
    const Case& c = cases[n++];
    std::istringstream f(line);
    std::string go_gob, key, val;
    f >> go_gob >> key >> val;
    ASSERT_NE(go_gob, "ERR") << "Go could not decode case " << n - 1 << ": " << line;
    EXPECT_EQ(Unhex(go_gob), EncodeRaftexampleKv(c.key, c.val)) << n - 1;
    EXPECT_EQ(Unhex(key), c.key) << n - 1;
    EXPECT_EQ(Unhex(val), c.val) << n - 1;
    auto ours = DecodeRaftexampleKv(Unhex(go_gob));
    ASSERT_TRUE(ours.ok()) << n - 1;
    EXPECT_EQ(ours.value().first, c.key);
    EXPECT_EQ(ours.value().second, c.val);
  }
  EXPECT_EQ(n, cases.size());
  std::ifstream snap(dir / "snap.out");
  std::string last;
  while (std::getline(snap, line))
    last = line;
  std::istringstream f(last);
  std::string go_json;
  int same = 0;
  f >> go_json >> same;
  EXPECT_EQ(same, 1) << "Go decoded raftkit's snapshot to a different map";
  auto ours = DecodeRaftexampleSnapshot(Unhex(go_json));
  ASSERT_TRUE(ours.ok());
  EXPECT_EQ(ours.value(), store);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace raftkit::kv
