// The 102 Jepsen etcd register histories with published verdicts (README.md in the data folder),
// plus etcd_095.log, which has none and must only terminate.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "lincheck/checker.h"
#include "lincheck/jepsen_log.h"

namespace raftkit::lincheck {
namespace {

const std::string kDir = RAFTKIT_JEPSEN_ETCD_DIR;

// Generous: each history is at most a few hundred operations and checks in milliseconds.
constexpr std::chrono::milliseconds kPerHistoryBudget{20000};

struct Timed {
  CheckResult result;
  double seconds = 0;
};

Timed CheckFile(const std::string& name) {
  auto history = ReadJepsenLog(kDir + "/" + name, "etcd");
  EXPECT_TRUE(history.ok()) << name << ": " << history.status().ToString();
  if (!history.ok()) return {};
  CheckOptions options;
  options.timeout = kPerHistoryBudget;
  const auto start = std::chrono::steady_clock::now();
  auto result = Check(*history, options);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(result.ok()) << name << ": " << result.status().ToString();
  if (!result.ok()) return {};
  return {*result, took.count()};
}

TEST(JepsenEtcdHistories, EveryPublishedVerdictAgrees) {
  std::ifstream verdicts(kDir + "/verdicts.txt");
  ASSERT_TRUE(verdicts) << "cannot open " << kDir << "/verdicts.txt";
  std::string line;
  int total = 0;
  int agree = 0;
  int linearizable = 0;
  int not_linearizable = 0;
  double slowest = 0;
  std::string slowest_name;
  std::string example;
  while (std::getline(verdicts, line)) {
    std::istringstream fields(line);
    std::string name;
    std::string expected;
    if (!(fields >> name >> expected)) continue;
    ASSERT_TRUE(expected == "linearizable" || expected == "not-linearizable") << line;
    const bool want = expected == "linearizable";
    ++total;
    (want ? linearizable : not_linearizable)++;
    const Timed t = CheckFile(name);
    EXPECT_NE(t.result.verdict, Verdict::kUnknown) << name << ": " << t.result.explanation;
    const bool got = t.result.verdict == Verdict::kLinearizable;
    if (t.result.verdict != Verdict::kUnknown && got == want) {
      ++agree;
    } else {
      ADD_FAILURE() << name << ": published " << expected << ", checker says "
                    << VerdictName(t.result.verdict) << "\n"
                    << t.result.explanation;
    }
    if (!got && example.empty()) example = name + ":\n" + t.result.explanation;
    if (t.seconds > slowest) {
      slowest = t.seconds;
      slowest_name = name;
    }
  }
  EXPECT_EQ(total, 102);
  EXPECT_EQ(linearizable, 23);
  EXPECT_EQ(not_linearizable, 79);
  std::printf("lincheck: %d/%d verdicts agree (%d linearizable, %d not), slowest %.3f s (%s)\n",
              agree, total, linearizable, not_linearizable, slowest, slowest_name.c_str());
  std::printf("an explanation, for %s", example.c_str());
  EXPECT_EQ(agree, total);
}

TEST(JepsenEtcdHistories, HistoryWithoutVerdictTerminates) {
  const Timed t = CheckFile("etcd_095.log");
  EXPECT_NE(t.result.verdict, Verdict::kUnknown);
  std::printf("etcd_095.log: %s in %.3f s\n", VerdictName(t.result.verdict), t.seconds);
}

TEST(JepsenLog, ParsesInvokesCompletionsAndCasPairs) {
  auto h = ParseJepsenLog(
      "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
      "INFO  jepsen.util - 1   :invoke :cas    [1 4]\n"
      "INFO  jepsen.util - 2\t:invoke\t:write\t3\n"
      "INFO  jepsen.util - 0\t:ok\t:read\t2\n"
      "INFO  jepsen.util - 1\t:fail\t:cas\t[1 4]\n"
      "INFO  jepsen.util - 2\t:info\t:write\t:timed-out\n"
      "INFO  jepsen.util - 7\t:invoke\t:write\t5\n",
      "k");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ASSERT_EQ(h->ops.size(), 4u);
  EXPECT_EQ(h->ops[0].kind, OpKind::kRead);
  EXPECT_EQ(h->ops[0].value, Value("2"));
  EXPECT_EQ(h->ops[0].outcome, Outcome::kOk);
  EXPECT_EQ(h->ops[0].invoke_time, 1);
  EXPECT_EQ(h->ops[0].complete_time, 4);
  EXPECT_EQ(h->ops[1].kind, OpKind::kCas);
  EXPECT_EQ(h->ops[1].value, Value("1"));
  EXPECT_EQ(h->ops[1].new_value, Value("4"));
  EXPECT_EQ(h->ops[1].outcome, Outcome::kFail);
  EXPECT_EQ(h->ops[2].value, Value("3"));
  EXPECT_EQ(h->ops[2].outcome, Outcome::kInfo);
  EXPECT_EQ(h->ops[3].outcome, Outcome::kInfo);  // still open at the end
  EXPECT_EQ(h->ops[3].key, "k");
}

TEST(JepsenLog, RejectsCompletionWithoutInvoke) {
  auto h = ParseJepsenLog("INFO  jepsen.util - 0\t:ok\t:read\tnil\n");
  EXPECT_EQ(h.code(), ErrorCode::kCorruption);
}

}  // namespace
}  // namespace raftkit::lincheck
