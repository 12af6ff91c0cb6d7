// The JSON Lines history format (tools/lincheck/history_json.h): the exact lines written, lossless
// round trips of random histories (every kind and outcome, absent values, open-ended info
// operations, bytes that are not UTF-8), the same verdict before and after a round trip, a line
// number on every parse error, and raftkit-lincheck telling the format apart on its own.
#include "lincheck/history_json.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

#include "lincheck/checker.h"

namespace raftkit::lincheck {
namespace {

// A fresh directory under $TMPDIR (or /tmp), removed when the test ends, pass or fail.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                       "/raftkit-history-json-XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] bool ok() const { return !path_.empty(); }
  [[nodiscard]] std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string Hex(const std::string& s) {
  std::string out;
  for (unsigned char c : s)
    out += "0123456789abcdef"[c >> 4], out += "0123456789abcdef"[c & 15];
  return out;
}

std::string HexValue(const Value& v) {
  return v ? "0x" + Hex(*v) : std::string("absent");
}

// Every field, bytes in hex, so that a mismatch shows exactly what differs.
std::string Fields(const Operation& op) {
  std::ostringstream out;
  out << "key=0x" << Hex(op.key) << " client=" << op.client << " kind=" << static_cast<int>(op.kind)
      << " value=" << HexValue(op.value) << " new=" << HexValue(op.new_value)
      << " invoke=" << op.invoke_time << " complete=" << op.complete_time
      << " outcome=" << static_cast<int>(op.outcome);
  return out.str();
}

void ExpectSameHistory(const History& want, const History& got) {
  ASSERT_EQ(want.ops.size(), got.ops.size());
  for (size_t i = 0; i < want.ops.size(); ++i)
    EXPECT_EQ(Fields(want.ops[i]), Fields(got.ops[i])) << "operation " << i;
}

std::string ToJsonl(const History& h) {
  std::string text;
  for (const Operation& op : h.ops)
    text += OperationToJson(op) + "\n";
  return text;
}

// Byte strings of every sort: ASCII, multi-byte UTF-8, empty, a NUL, and sequences that are not
// UTF-8 (stray continuation bytes, overlong forms, surrogates, beyond U+10FFFF, cut short).
std::string RandomBytes(std::mt19937_64& rng) {
  static const std::vector<std::string> kFixed = {"",
                                                  std::string("a\0b", 3),
                                                  "\xc3\xa9",
                                                  "\xe6\x97\xa5\xe6\x9c\xac",
                                                  "\xf0\x9f\x98\x80",
                                                  "\"\\\n\t/",
                                                  "\x80",
                                                  "\xc0\x80",
                                                  "\xc1\xbf",
                                                  "\xe0\x80\x80",
                                                  "\xed\xa0\x80",
                                                  "\xf4\x90\x80\x80",
                                                  "\xf8\x88\x80\x80\x80",
                                                  "\xe2\x82",
                                                  "ab\xff",
                                                  "\xfe\xff"};
  switch (rng() % 4) {
    case 0:
      return std::to_string(rng() % 10);
    case 1:
      return kFixed[rng() % kFixed.size()];
    default: {
      std::string s(rng() % 9, '\0');
      for (char& c : s)
        c = static_cast<char>(rng() % 256);
      return s;
    }
  }
}

Value RandomValue(std::mt19937_64& rng) {
  return rng() % 4 == 0 ? Value() : Value(RandomBytes(rng));
}

int64_t RandomTime(std::mt19937_64& rng) {
  switch (rng() % 8) {
    case 0:
      return std::numeric_limits<int64_t>::min();
    case 1:
      return std::numeric_limits<int64_t>::max();
    case 2:
      return -static_cast<int64_t>(rng() % 1000);
    default:
      return static_cast<int64_t>(rng() % 1'000'000'000'000);
  }
}

// Any well-formed operation; new_value is set only for cas, as the format keeps it only there.
Operation RandomOperation(std::mt19937_64& rng) {
  Operation op;
  op.key = RandomBytes(rng);
  op.client = rng() % 5 == 0 ? -static_cast<int64_t>(rng() % 100) : static_cast<int64_t>(rng());
  op.kind = static_cast<OpKind>(rng() % 3);
  op.value = RandomValue(rng);
  if (op.kind == OpKind::kCas) op.new_value = RandomValue(rng);
  op.outcome = static_cast<Outcome>(rng() % 3);
  op.invoke_time = RandomTime(rng);
  const int64_t later = RandomTime(rng);
  op.complete_time = later >= op.invoke_time ? later : op.invoke_time;
  if (op.outcome == Outcome::kInfo) {
    // Open-ended, or a completion the checker ignores (even one before the invoke).
    const auto c = rng() % 3;
    op.complete_time = c == 0 ? kOpenEnded : c == 1 ? op.complete_time : RandomTime(rng);
  }
  return op;
}

TEST(HistoryJson, WritesTheDocumentedFieldsInOrder) {
  Operation cas;
  cas.key = "k1";
  cas.client = 3;
  cas.kind = OpKind::kCas;
  cas.value = "1";
  cas.new_value = std::nullopt;
  cas.invoke_time = 1500;
  cas.complete_time = 2750;
  EXPECT_EQ(OperationToJson(cas),
            R"({"process":3,"key":"k1","f":"cas","value":"1","new":null,"type":"ok",)"
            R"("invoke":1500,"complete":2750})");

  Operation read;
  read.key = "k1";
  read.client = 0;
  read.kind = OpKind::kRead;
  read.invoke_time = 10;
  read.complete_time = 12;
  read.outcome = Outcome::kFail;
  EXPECT_EQ(OperationToJson(read),
            R"({"process":0,"key":"k1","f":"read","value":null,"type":"fail","invoke":10,)"
            R"("complete":12})");

  Operation write;
  write.key = "k2";
  write.client = 7;
  write.kind = OpKind::kWrite;
  write.value = "4";
  write.invoke_time = 20;
  write.complete_time = kOpenEnded;
  write.outcome = Outcome::kInfo;
  EXPECT_EQ(OperationToJson(write),
            R"({"process":7,"key":"k2","f":"write","value":"4","type":"info","invoke":20})");
  write.complete_time = 25;  // an info operation with a known end keeps it
  EXPECT_EQ(OperationToJson(write), R"({"process":7,"key":"k2","f":"write","value":"4",)"
                                    R"("type":"info","invoke":20,"complete":25})");
}

TEST(HistoryJson, BytesThatAreNotUtf8AreWrittenAsBase64Objects) {
  Operation op;
  op.kind = OpKind::kWrite;
  op.key = "\xff";
  op.value = std::string("\xc3\xa9", 2);  // é: valid UTF-8 stays a string
  const std::string line = OperationToJson(op);
  EXPECT_NE(line.find(R"("key":{"base64":"/w=="})"), std::string::npos) << line;
  EXPECT_NE(line.find("\"value\":\"\xc3\xa9\""), std::string::npos) << line;

  // Every single byte and a few longer sequences come back unchanged.
  History h;
  for (int b = 0; b < 256; ++b) {
    Operation o;
    o.kind = OpKind::kCas;
    o.key = std::string(1, static_cast<char>(b));
    o.value = std::string(2, static_cast<char>(b));
    o.new_value = std::string(3, static_cast<char>(b));
    h.ops.push_back(o);
  }
  auto parsed = ParseHistoryJsonl(ToJsonl(h));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ExpectSameHistory(h, *parsed);
}

TEST(HistoryJson, RandomHistoriesRoundTripExactly) {
  std::mt19937_64 rng(7);
  size_t base64_lines = 0;
  for (int round = 0; round < 300; ++round) {
    History h;
    const size_t n = rng() % 40;
    for (size_t i = 0; i < n; ++i)
      h.ops.push_back(RandomOperation(rng));
    const std::string text = ToJsonl(h);
    for (const Operation& op : h.ops) {
      const std::string line = OperationToJson(op);
      ASSERT_EQ(line.find_first_of("\r\n"), std::string::npos) << line;
      base64_lines += line.find("\"base64\"") != std::string::npos ? 1 : 0;
    }
    auto parsed = ParseHistoryJsonl(text);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << text;
    ExpectSameHistory(h, *parsed);
    ASSERT_EQ(ToJsonl(*parsed), text);
  }
  // The generator must actually exercise the escape.
  EXPECT_GT(base64_lines, 100u);
}

TEST(HistoryJson, WriteThenReadAFileRoundTrips) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::mt19937_64 rng(11);
  History h;
  for (int i = 0; i < 500; ++i)
    h.ops.push_back(RandomOperation(rng));
  const std::string path = dir.File("history.jsonl");
  ASSERT_TRUE(WriteHistoryJsonl(h, path).ok());
  auto read = ReadHistoryJsonl(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ExpectSameHistory(h, *read);

  EXPECT_EQ(ReadHistoryJsonl(dir.File("missing.jsonl")).code(), ErrorCode::kIoError);
  EXPECT_EQ(WriteHistoryJsonl(h, dir.File("no-such-dir/h.jsonl")).code(), ErrorCode::kIoError);
}

TEST(HistoryJson, EmptyHistoryIsAnEmptyFile) {
  EXPECT_EQ(ToJsonl(History{}), "");
  auto parsed = ParseHistoryJsonl("");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->ops.empty());
}

// A few clients on a few registers (some keys not UTF-8), operations overlapping in time; the
// register is simulated so that many histories are linearizable, and a read is then perturbed
// half the time so that many are not.
History RegisterHistory(std::mt19937_64& rng) {
  static const std::vector<std::string> kKeys = {"a", "\xff\xfe", "\xc3\xa9"};
  static const std::vector<Value> kValues = {Value(), Value("1"), Value("\x80"), Value("")};
  History h;
  std::map<std::string, Value> reg;
  int64_t now = 0;
  const size_t n = 2 + rng() % 10;
  for (size_t i = 0; i < n; ++i) {
    Operation op;
    op.key = kKeys[rng() % kKeys.size()];
    op.client = static_cast<int64_t>(rng() % 4);
    op.kind = static_cast<OpKind>(rng() % 3);
    op.invoke_time = now;
    now += static_cast<int64_t>(rng() % 3);
    op.complete_time = now + static_cast<int64_t>(rng() % 4);
    Value& v = reg[op.key];
    switch (op.kind) {
      case OpKind::kRead:
        op.value = v;
        break;
      case OpKind::kWrite:
        op.value = kValues[rng() % kValues.size()];
        v = op.value;
        break;
      case OpKind::kCas:
        op.value = kValues[rng() % kValues.size()];
        op.new_value = kValues[rng() % kValues.size()];
        if (v == op.value) {
          v = op.new_value;
        } else {
          op.outcome = Outcome::kFail;
        }
        break;
    }
    if (op.outcome == Outcome::kOk && rng() % 6 == 0) {
      op.outcome = Outcome::kInfo;
      if (rng() % 2 == 0) op.complete_time = kOpenEnded;
    }
    h.ops.push_back(op);
  }
  if (rng() % 2 == 0) {
    Operation& op = h.ops[rng() % h.ops.size()];
    if (op.kind == OpKind::kRead) op.value = kValues[rng() % kValues.size()];
  }
  return h;
}

TEST(HistoryJson, ParsedHistoryGetsTheSameVerdictAndExplanation) {
  std::mt19937_64 rng(3);
  int linearizable = 0;
  int not_linearizable = 0;
  for (int i = 0; i < 2000; ++i) {
    const History h = RegisterHistory(rng);
    auto parsed = ParseHistoryJsonl(ToJsonl(h));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    auto want = Check(h);
    auto got = Check(*parsed);
    ASSERT_TRUE(want.ok() && got.ok());
    ASSERT_EQ(want->verdict, got->verdict) << ToJsonl(h);
    EXPECT_EQ(want->key, got->key);
    EXPECT_EQ(want->explanation, got->explanation);
    (want->verdict == Verdict::kLinearizable ? linearizable : not_linearizable)++;
  }
  // Both verdicts must be well represented for the comparison to mean anything.
  EXPECT_GT(linearizable, 200);
  EXPECT_GT(not_linearizable, 200);
}

TEST(HistoryJson, BlankLinesCommentsAndCrlfAreAccepted) {
  const std::string text =
      "# raftkit-chaos seed 42\n"
      "\n"
      "   \t\r\n"
      "  # an indented comment\r\n"
      R"({"process":1,"key":"x","f":"write","value":"1","type":"ok","invoke":1,"complete":2})"
      "\r\n"
      R"(  {"complete":4, "invoke":3, "type":"ok", "value":"1", "f":"read", "key":"x", "process":2})";
  auto parsed = ParseHistoryJsonl(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->ops.size(), 2u);
  EXPECT_EQ(parsed->ops[1].kind, OpKind::kRead);
  EXPECT_EQ(parsed->ops[1].value, Value("1"));
  EXPECT_EQ(parsed->ops[1].complete_time, 4);
  auto verdict = Check(*parsed);
  ASSERT_TRUE(verdict.ok());
  EXPECT_EQ(verdict->verdict, Verdict::kLinearizable);
}

struct BadLine {
  std::string line;
  std::string why;  // a part of the expected message
};

TEST(HistoryJson, EveryParseErrorNamesTheLine) {
  // Each bad line goes third, after a comment and a good line.
  const std::string prefix =
      "# header\n"
      R"({"process":1,"key":"x","f":"read","value":null,"type":"ok","invoke":1,"complete":2})"
      "\n";
  const std::vector<BadLine> cases = {
      {R"({"process":1,"key":"x","f":"read")", "not valid JSON: parse error at column 34"},
      {"not json", "not valid JSON"},
      {"{} trailing", "not valid JSON"},
      // Invalid UTF-8 in the JSON text itself (a writer must use the base64 form).
      {"{\"process\":1,\"key\":\"\xff\",\"f\":\"read\",\"value\":null,\"type\":\"ok\","
       "\"invoke\":1,\"complete\":2}",
       "not valid JSON"},
      {R"([1,2])", "expected a JSON object, not array"},
      {R"({"key":"x","f":"read","value":null,"type":"ok","invoke":1,"complete":2})",
       "missing field \"process\""},
      {R"({"process":1,"f":"read","value":null,"type":"ok","invoke":1,"complete":2})",
       "missing field \"key\""},
      {R"({"process":1,"key":"x","value":null,"type":"ok","invoke":1,"complete":2})",
       "missing field \"f\""},
      {R"({"process":1,"key":"x","f":"read","type":"ok","invoke":1,"complete":2})",
       "missing field \"value\""},
      {R"({"process":1,"key":"x","f":"read","value":null,"invoke":1,"complete":2})",
       "missing field \"type\""},
      {R"({"process":1,"key":"x","f":"read","value":null,"type":"ok","complete":2})",
       "missing field \"invoke\""},
      {R"({"process":1,"key":"x","f":"read","value":null,"type":"ok","invoke":1})",
       "missing field \"complete\""},
      {R"({"process":1,"key":"x","f":"read","value":null,"type":"fail","invoke":1})",
       "missing field \"complete\""},
      {R"({"process":1,"key":"x","f":"cas","value":null,"type":"ok","invoke":1,"complete":2})",
       "missing field \"new\""},
      {R"({"process":1,"key":"x","f":"write","value":"1","new":"2","type":"ok","invoke":1,)"
       R"("complete":2})",
       "\"new\" is only for cas, not write"},
      {R"({"process":1,"key":"x","f":"read","value":null,"type":"ok","invoke":1,"complete":2,)"
       R"("node":3})",
       "unknown field \"node\""},
      {R"({"process":1,"key":"x","key":"y","f":"read","value":null,"type":"ok","invoke":1,)"
       R"("complete":2})",
       "field \"key\" given twice"},
      {R"({"process":1,"key":{"base64":"eA==","base64":"eQ=="},"f":"read","value":null,)"
       R"("type":"ok","invoke":1,"complete":2})",
       "field \"base64\" given twice"},
      {R"({"process":1,"key":"x","f":"delete","value":null,"type":"ok","invoke":1,"complete":2})",
       "\"f\" must be"},
      {R"({"process":1,"key":"x","f":"read","value":null,"type":"invoke","invoke":1,"complete":2})",
       "\"type\" must be"},
      {R"({"process":1.5,"key":"x","f":"read","value":null,"type":"ok","invoke":1,"complete":2})",
       "\"process\" must be an integer"},
      {R"({"process":"1","key":"x","f":"read","value":null,"type":"ok","invoke":1,"complete":2})",
       "\"process\" must be an integer"},
      {R"({"process":1,"key":"x","f":"read","value":null,"type":"ok",)"
       R"("invoke":9223372036854775808,"complete":2})",
       "\"invoke\" must be an integer in int64 range"},
      {R"({"process":1,"key":"x","f":"read","value":null,"type":"ok","invoke":1,"complete":1e3})",
       "\"complete\" must be an integer"},
      {R"({"process":1,"key":"x","f":"read","value":null,"type":"ok","invoke":5,"complete":4})",
       "\"complete\" (4) is before \"invoke\" (5)"},
      {R"({"process":1,"key":null,"f":"read","value":null,"type":"ok","invoke":1,"complete":2})",
       "\"key\" must be a string"},
      {R"({"process":1,"key":"x","f":"write","value":7,"type":"ok","invoke":1,"complete":2})",
       "\"value\" must be a string"},
      {R"({"process":1,"key":"x","f":"cas","value":"1","new":[],"type":"ok","invoke":1,)"
       R"("complete":2})",
       "\"new\" must be a string"},
      {R"({"process":1,"key":{"base64":"eA=="},"f":"write","value":{"hex":"78"},"type":"ok",)"
       R"("invoke":1,"complete":2})",
       "\"value\" must be a string"},
      {R"({"process":1,"key":{"base64":"eA==","x":1},"f":"read","value":null,"type":"ok",)"
       R"("invoke":1,"complete":2})",
       "\"key\" must be a string"},
      {R"({"process":1,"key":{"base64":"eA"},"f":"read","value":null,"type":"ok","invoke":1,)"
       R"("complete":2})",
       "\"key\" holds invalid base64"},
      {R"({"process":1,"key":{"base64":"e*=="},"f":"read","value":null,"type":"ok","invoke":1,)"
       R"("complete":2})",
       "\"key\" holds invalid base64"},
      {R"({"process":1,"key":{"base64":"eB=="},"f":"read","value":null,"type":"ok","invoke":1,)"
       R"("complete":2})",
       "\"key\" holds invalid base64"},  // not canonical: bits set after the last byte
      {R"({"process":1,"key":{"base64":"eA==eA=="},"f":"read","value":null,"type":"ok",)"
       R"("invoke":1,"complete":2})",
       "\"key\" holds invalid base64"},  // padding in the middle
  };
  for (const BadLine& c : cases) {
    auto parsed = ParseHistoryJsonl(prefix + c.line + "\n" + prefix);
    ASSERT_FALSE(parsed.ok()) << c.line;
    EXPECT_EQ(parsed.code(), ErrorCode::kInvalidArgument) << c.line;
    const std::string message = parsed.status().message();
    EXPECT_EQ(message.rfind("line 3: ", 0), 0u) << message;
    EXPECT_NE(message.find(c.why), std::string::npos) << "want \"" << c.why << "\" in " << message;
  }
}

TEST(HistoryJson, ReadingAFileNamesThePathAndTheLine) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.File("bad.jsonl");
  std::ofstream(path) << "\n\n{\"process\":1}\n";
  auto read = ReadHistoryJsonl(path);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(read.status().message().rfind(path + ": line 3: ", 0), 0u) << read.status().message();
}

TEST(HistoryJson, LooksLikeJsonlByExtensionOrFirstLine) {
  const std::string jepsen = "INFO  jepsen.util - 3\t:invoke\t:read\tnil\n";
  const std::string jsonl =
      R"({"process":1,"key":"x","f":"read","value":null,"type":"ok","invoke":1,"complete":2})";
  EXPECT_TRUE(LooksLikeJsonl("runs/history.jsonl", jepsen));  // the extension decides
  EXPECT_TRUE(LooksLikeJsonl("history.txt", jsonl));
  EXPECT_TRUE(LooksLikeJsonl("history", "# seed 1\n\n  \t\n  " + jsonl));
  EXPECT_TRUE(LooksLikeJsonl("history", "\r\n{"));
  EXPECT_FALSE(LooksLikeJsonl("etcd_001.log", jepsen));
  EXPECT_FALSE(LooksLikeJsonl("etcd_001.log", "# comment\n" + jepsen + jsonl));
  EXPECT_FALSE(LooksLikeJsonl("history.json", "# only comments\n\n"));
  EXPECT_FALSE(LooksLikeJsonl("history.jsonl.bak", ""));
}

// raftkit-lincheck itself, run as a process.
struct ToolRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

ToolRun RunLincheck(const TempDir& dir, const std::string& args) {
  const std::string out = dir.File("stdout");
  const std::string err = dir.File("stderr");
  const std::string cmd =
      std::string("'") + RAFTKIT_LINCHECK_BINARY + "' " + args + " >'" + out + "' 2>'" + err + "'";
  const int status = std::system(cmd.c_str());
  ToolRun run;
  if (status != -1 && WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  run.out = Slurp(out);
  run.err = Slurp(err);
  return run;
}

TEST(HistoryJson, LincheckDetectsJsonlAndChecksIt) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  // Not named .jsonl: the first non-comment line decides. Key "k2" is not linearizable: the
  // read after the write completed sees the old value.
  const std::string bad = dir.File("history.txt");
  std::ofstream(bad)
      << "# written by a test\n"
      << R"({"process":1,"key":"k1","f":"write","value":"1","type":"ok","invoke":0,"complete":5})"
      << "\n"
      << R"({"process":1,"key":"k2","f":"write","value":"1","type":"ok","invoke":10,"complete":20})"
      << "\n"
      << R"({"process":2,"key":"k2","f":"read","value":null,"type":"ok","invoke":30,"complete":40})"
      << "\n"
      << R"({"process":3,"key":"k1","f":"read","value":"1","type":"info","invoke":50})"
      << "\n";
  ToolRun r = RunLincheck(dir, "'" + bad + "'");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("not linearizable (2 keys"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("key \"k2\" is not linearizable"), std::string::npos) << r.out;

  // Named .jsonl and linearizable.
  const std::string good = dir.File("good.jsonl");
  History h;
  Operation w;
  w.key = "\xff";
  w.kind = OpKind::kWrite;
  w.value = "\x80";
  w.invoke_time = 1;
  w.complete_time = 2;
  Operation rd = w;
  rd.kind = OpKind::kRead;
  rd.invoke_time = 3;
  rd.complete_time = 4;
  h.ops = {w, rd};
  ASSERT_TRUE(WriteHistoryJsonl(h, good).ok());
  r = RunLincheck(dir, "'" + good + "'");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(": linearizable (1 keys, 2 operations"), std::string::npos) << r.out;

  // A bad line is bad input (3), reported with its line number.
  const std::string broken = dir.File("broken.jsonl");
  std::ofstream(broken) << "# header\n{\"process\":1}\n";
  r = RunLincheck(dir, "'" + broken + "'");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("line 2: missing field"), std::string::npos) << r.err;

  // --format jsonl forces the format whatever the name and content look like.
  r = RunLincheck(dir, "--format jsonl '" + broken + "'");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  const std::string odd = dir.File("odd.log");
  std::ofstream(odd) << "\n  "
                     << R"({"process":1,"key":"k","f":"read","value":"1","type":"ok","invoke":1,)"
                     << R"("complete":2})"
                     << "\n";
  r = RunLincheck(dir, "--format jsonl '" + odd + "'");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // reads "1" from a register that is absent
}

TEST(HistoryJson, LincheckStillReadsJepsenLogs) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string log = dir.File("etcd.log");
  std::ofstream(log) << "INFO  jepsen.util - 0\t:invoke\t:write\t1\n"
                     << "INFO  jepsen.util - 0\t:ok\t:write\t1\n"
                     << "INFO  jepsen.util - 1\t:invoke\t:read\tnil\n"
                     << "INFO  jepsen.util - 1\t:ok\t:read\t2\n";
  ToolRun r = RunLincheck(dir, "'" + log + "'");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("key \"etcd.log\" is not linearizable"), std::string::npos) << r.out;
  // Forced as JSON Lines, the same file is bad input.
  r = RunLincheck(dir, "--format jsonl '" + log + "'");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("line 1: not valid JSON"), std::string::npos) << r.err;
  // Forced as a Jepsen log, a JSON Lines file has no Jepsen lines: an empty history.
  const std::string jsonl = dir.File("h.jsonl");
  std::ofstream(jsonl)
      << R"({"process":1,"key":"k","f":"read","value":"1","type":"ok","invoke":1,"complete":2})"
      << "\n";
  r = RunLincheck(dir, "--format jepsen '" + jsonl + "'");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("0 operations"), std::string::npos) << r.out;
  // An unknown format is an argument error: CLI11's exit code, none of the verdicts' 0 to 3.
  r = RunLincheck(dir, "--format yaml '" + jsonl + "'");
  EXPECT_GT(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("yaml"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace raftkit::lincheck
