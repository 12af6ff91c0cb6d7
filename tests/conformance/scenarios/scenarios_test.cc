// etcd 3.4's own scenario files, read from the installed package at test time and replayed against
// raftkit: one test per file. A missing or empty folder fails (it does not skip). README.md in
// this folder documents the translations and per-command overrides.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include "conformance/scenarios/datadriven.h"
#include "conformance/scenarios/runner.h"

namespace raftkit::conformance {
namespace {

namespace fs = std::filesystem;

struct ScenarioFile {
  Family family = Family::kQuorum;
  std::string rel;      // relative to etcd's raft package, e.g. "quorum/testdata/joint_vote.txt"
  std::string path;     // absolute
  std::string problem;  // set when the folder is missing or empty
  std::string name;     // test name
};

void PrintTo(const ScenarioFile& f, std::ostream* os) {
  *os << f.rel;
}

std::string TestName(std::string_view prefix, std::string_view stem) {
  std::string out(prefix);
  out += '_';
  for (char c : stem)
    out += std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_';
  return out;
}

std::vector<ScenarioFile> Discover() {
  struct Folder {
    Family family;
    std::string_view prefix;
  };
  constexpr Folder kFolders[] = {{Family::kQuorum, "quorum"},
                                 {Family::kConfChange, "confchange"},
                                 {Family::kInteraction, "interaction"}};
  const fs::path root = EtcdRaftDir();
  std::vector<ScenarioFile> files;
  for (const Folder& f : kFolders) {
    const std::string dir_rel(FamilyDir(f.family));
    const fs::path dir = root / dir_rel;
    std::vector<ScenarioFile> found;
    std::error_code ec;
    if (fs::is_directory(dir, ec)) {
      for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (!e.is_regular_file() || e.path().extension() != ".txt") continue;
        ScenarioFile sf;
        sf.family = f.family;
        sf.rel = dir_rel + "/" + e.path().filename().string();
        sf.path = e.path().string();
        sf.name = TestName(f.prefix, e.path().stem().string());
        found.push_back(std::move(sf));
      }
    }
    std::sort(found.begin(), found.end(),
              [](const ScenarioFile& a, const ScenarioFile& b) { return a.name < b.name; });
    if (found.empty()) {
      ScenarioFile sf;
      sf.family = f.family;
      sf.rel = dir_rel;
      sf.name = TestName(f.prefix, "MISSING");
      sf.problem = fmt::format(
          "no scenario files (*.txt) in {}: install Debian's golang-etcd-server-dev "
          "(scripts/deps.sh) or set RAFTKIT_ETCD_RAFT_DIR",
          dir.string());
      found.push_back(std::move(sf));
    }
    for (ScenarioFile& sf : found)
      files.push_back(std::move(sf));
  }
  return files;
}

const std::vector<ScenarioFile>& AllFiles() {
  static const std::vector<ScenarioFile> files = Discover();
  return files;
}

class EtcdScenarioTest : public ::testing::TestWithParam<ScenarioFile> {};

TEST_P(EtcdScenarioTest, MatchesEtcd) {
  const ScenarioFile& f = GetParam();
  ASSERT_TRUE(f.problem.empty()) << f.problem;
  const FileReport r = RunScenarioFile(f.family, f.path, f.rel);
  for (const std::string& failure : r.failures)
    ADD_FAILURE() << failure;
  RecordProperty("commands", r.commands);
  RecordProperty("overridden", r.overridden);
  std::string noted;
  for (int d : r.deviations)
    noted += (noted.empty() ? "#" : " #") + std::to_string(d);
  RecordProperty("deviations", noted);
  EXPECT_GT(r.commands, 0);
}

INSTANTIATE_TEST_SUITE_P(Etcd34, EtcdScenarioTest, ::testing::ValuesIn(AllFiles()),
                         [](const ::testing::TestParamInfo<ScenarioFile>& param_info) {
                           return param_info.param.name;
                         });

// Every override names a file that exists and a command that is there, as written.
TEST(EtcdScenarioOverridesTest, NameExistingCommands) {
  for (const Override& o : Overrides()) {
    const std::string path = EtcdRaftDir() + "/" + std::string(o.file);
    auto cases = ParseScenarioFile(path);
    ASSERT_TRUE(cases.ok()) << cases.status().ToString();
    ASSERT_GE(o.command, 1) << o.file;
    ASSERT_LE(static_cast<size_t>(o.command), cases->size()) << o.file;
    EXPECT_EQ((*cases)[static_cast<size_t>(o.command) - 1].directive, o.directive)
        << o.file << " command #" << o.command;
    EXPECT_GT(o.deviation, 0) << o.file << " command #" << o.command;
  }
}

}  // namespace
}  // namespace raftkit::conformance
