// The datadriven reader and the runner's textual translations, on their own.
#include "conformance/scenarios/datadriven.h"

#include <gtest/gtest.h>

#include "conformance/scenarios/handlers.h"
#include "conformance/scenarios/runner.h"

namespace raftkit::conformance {
namespace {

std::vector<CmdArg> Args(std::string_view line, std::string* cmd = nullptr) {
  std::string c;
  std::vector<CmdArg> args;
  Status st = ParseDirective(line, &c, &args);
  EXPECT_TRUE(st.ok()) << st.ToString();
  if (cmd != nullptr) *cmd = c;
  return args;
}

TEST(ParseDirectiveTest, CommandAlone) {
  std::string cmd;
  EXPECT_TRUE(Args("  stabilize  ", &cmd).empty());
  EXPECT_EQ(cmd, "stabilize");
}

TEST(ParseDirectiveTest, EmptyLineHasNoCommand) {
  std::string cmd = "x";
  EXPECT_TRUE(Args("   ", &cmd).empty());
  EXPECT_EQ(cmd, "");
}

TEST(ParseDirectiveTest, BareKeysSingleValuesAndLists) {
  std::string cmd;
  auto args = Args("add-nodes 3 voters=(1,2, 3) learners=(4) index=2 autoleave=true", &cmd);
  EXPECT_EQ(cmd, "add-nodes");
  ASSERT_EQ(args.size(), 5U);
  EXPECT_EQ(args[0], (CmdArg{"3", {}}));
  EXPECT_EQ(args[1], (CmdArg{"voters", {"1", "2", "3"}}));
  EXPECT_EQ(args[2], (CmdArg{"learners", {"4"}}));
  EXPECT_EQ(args[3], (CmdArg{"index", {"2"}}));
  EXPECT_EQ(args[4], (CmdArg{"autoleave", {"true"}}));
}

TEST(ParseDirectiveTest, SpacesAfterCommasAreSkippedButNotBefore) {
  auto args = Args("committed cfg=(1,   2) idx=(_ ,5)");
  ASSERT_EQ(args.size(), 2U);
  EXPECT_EQ(args[0].vals, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(args[1].vals, (std::vector<std::string>{"_ ", "5"}));
}

TEST(ParseDirectiveTest, NestedParenthesesStayInOneValue) {
  auto args = Args("cmd exprs=(a + (b, c), d)");
  ASSERT_EQ(args.size(), 1U);
  EXPECT_EQ(args[0].vals, (std::vector<std::string>{"a + (b, c)", "d"}));
}

TEST(ParseDirectiveTest, EmptyValueAndEmptyList) {
  auto args = Args("cmd a= b=()");
  ASSERT_EQ(args.size(), 2U);
  EXPECT_EQ(args[0], (CmdArg{"a", {""}}));
  EXPECT_EQ(args[1], (CmdArg{"b", {""}}));
}

TEST(ParseDirectiveTest, MalformedLinesAreErrors) {
  std::string cmd;
  std::vector<CmdArg> args;
  Status st = ParseDirective("cmd a=(1, 2", &cmd, &args);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("column 7"), std::string::npos) << st.message();
  EXPECT_EQ(ParseDirective("cmd =3", &cmd, &args).code(), ErrorCode::kInvalidArgument);
}

TEST(ParseScenarioTest, CommentsInputAndSingleSeparator) {
  auto cases = ParseScenario(
      "# comment\n"
      "\n"
      "propose-conf-change 1 transition=explicit\n"
      "v2 v3\n"
      "----\n"
      "ok\n"
      "\n"
      "  # indented comment\n"
      "stabilize\n"
      "----\n"
      "> 1 handling Ready\n"
      "  Ready MustSync=true:\n"
      "\n"
      "status 1\n"
      "----\n"
      "\n",
      "t.txt");
  ASSERT_TRUE(cases.ok()) << cases.status().ToString();
  ASSERT_EQ(cases->size(), 3U);
  const TestCase& a = (*cases)[0];
  EXPECT_EQ(a.line, 3);
  EXPECT_EQ(a.cmd, "propose-conf-change");
  EXPECT_EQ(a.directive, "propose-conf-change 1 transition=explicit");
  EXPECT_EQ(a.input, "v2 v3");
  EXPECT_EQ(a.expected, "ok\n");
  ASSERT_NE(a.Find("transition"), nullptr);
  EXPECT_EQ(a.Find("transition")->vals[0], "explicit");
  EXPECT_EQ(a.Find("nope"), nullptr);
  EXPECT_EQ((*cases)[1].line, 9);
  EXPECT_EQ((*cases)[1].input, "");
  EXPECT_EQ((*cases)[1].expected, "> 1 handling Ready\n  Ready MustSync=true:\n");
  EXPECT_EQ((*cases)[2].expected, "");
  EXPECT_TRUE((*cases)[2].has_separator);
}

TEST(ParseScenarioTest, DoubledSeparatorAllowsBlankLines) {
  auto cases = ParseScenario(
      "committed\n"
      "----\n"
      "----\n"
      "a\n"
      "\n"
      "----\n"
      "b\n"
      "----\n"
      "----\n"
      "\n"
      "vote\n"
      "----\n"
      "VoteWon\n",
      "t.txt");
  ASSERT_TRUE(cases.ok()) << cases.status().ToString();
  ASSERT_EQ(cases->size(), 2U);
  EXPECT_EQ((*cases)[0].expected, "a\n\n----\nb\n");
  EXPECT_EQ((*cases)[1].expected, "VoteWon\n");
  EXPECT_EQ((*cases)[1].line, 11);
}

TEST(ParseScenarioTest, DoubledSeparatorErrors) {
  EXPECT_FALSE(ParseScenario("x\n----\n----\nout\n", "t.txt").ok());  // never closed
  auto st = ParseScenario("x\n----\n----\nout\n----\n----\ny\n", "t.txt");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("t.txt:7"), std::string::npos) << st.status().message();
}

TEST(ParseScenarioTest, OutputRunsToEndOfFileAndCrLfIsAccepted) {
  auto cases = ParseScenario("status 1\r\n----\r\n1: StateProbe match=0 next=1\r\n", "t.txt");
  ASSERT_TRUE(cases.ok());
  ASSERT_EQ(cases->size(), 1U);
  EXPECT_EQ((*cases)[0].expected, "1: StateProbe match=0 next=1\n");
}

TEST(ParseScenarioTest, MissingSeparatorMeansNoExpectedOutput) {
  auto cases = ParseScenario("campaign 1\n", "t.txt");
  ASSERT_TRUE(cases.ok());
  ASSERT_EQ(cases->size(), 1U);
  EXPECT_FALSE((*cases)[0].has_separator);
  EXPECT_EQ((*cases)[0].expected, "");
}

TEST(ParseScenarioTest, BackslashContinuesTheDirective) {
  auto cases = ParseScenario("add-nodes 2 \\\n  voters=(1,2) index=3\n----\nok\n", "t.txt");
  ASSERT_TRUE(cases.ok());
  ASSERT_EQ(cases->size(), 1U);
  EXPECT_EQ((*cases)[0].directive, "add-nodes 2  voters=(1,2) index=3");
  EXPECT_EQ((*cases)[0].args.size(), 3U);
}

TEST(ParseScenarioTest, MalformedDirectiveNamesTheLine) {
  auto cases = ParseScenario("\n\ncmd a=(1\n----\nok\n", "f.txt");
  ASSERT_FALSE(cases.ok());
  EXPECT_NE(cases.status().message().find("f.txt:3"), std::string::npos);
}

TEST(StripLogLinesTest, RemovesLogLinesAtAnyIndentation) {
  EXPECT_EQ(StripLogLines("> 1 handling Ready\n"
                          "  Ready MustSync=false:\n"
                          "  INFO 1 switched to configuration voters=(1 2)\n"
                          "> 2 receiving messages\n"
                          "  DEBUG 2 [logterm: 0, index: 3] rejected MsgApp\n"
                          "WARN x\n"
                          "ERROR y\n"
                          "FATAL z\n"),
            "> 1 handling Ready\n  Ready MustSync=false:\n> 2 receiving messages\n");
}

TEST(StripLogLinesTest, OnlyLogLinesBecomesOk) {
  EXPECT_EQ(StripLogLines("INFO 1 became follower at term 0\nINFO newRaft 1\n"), "ok\n");
}

TEST(StripLogLinesTest, LeavesEverythingElse) {
  EXPECT_EQ(StripLogLines("ok\n"), "ok\n");
  EXPECT_EQ(StripLogLines("ok (quiet)\n"), "ok (quiet)\n");
  EXPECT_EQ(StripLogLines("INFOS are not log lines\nDEBUG\n"), "INFOS are not log lines\nDEBUG\n");
  EXPECT_EQ(StripLogLines("raft proposal dropped\n"), "raft proposal dropped\n");
  EXPECT_EQ(StripLogLines(""), "");
}

TEST(HarnessParseTest, NumbersAndBooleansAsGoParsesThem) {
  EXPECT_EQ(ParseU64("18446744073709551615"), UINT64_MAX);
  EXPECT_THROW((void)ParseU64("-1"), HarnessError);
  EXPECT_THROW((void)ParseU64("1x"), HarnessError);
  EXPECT_THROW((void)ParseU64(""), HarnessError);
  EXPECT_TRUE(ParseBool("true"));
  EXPECT_TRUE(ParseBool("T"));
  EXPECT_FALSE(ParseBool("0"));
  EXPECT_THROW((void)ParseBool("yes"), HarnessError);
}

}  // namespace
}  // namespace raftkit::conformance
