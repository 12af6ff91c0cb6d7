// PosixEnv on a temporary directory, the default Env::ReadFile, and JoinPath.
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "raftkit/storage/fs/env.h"

namespace raftkit::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A fresh directory under $TMPDIR (or /tmp), removed in TearDown even when the test fails.
class PosixEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = fmt::format("{}/raftkit-env-XXXXXX", base != nullptr ? base : "/tmp");
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << "mkdtemp " << tmpl;
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  [[nodiscard]] std::string Path(std::string_view name) const { return JoinPath(dir_, name); }

  void WriteFile(const std::string& path, std::string_view data) {
    auto f = env_->OpenWritable(path, /*truncate=*/true);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    ASSERT_TRUE((*f)->Append(data).ok());
    ASSERT_TRUE((*f)->Sync().ok());
    ASSERT_TRUE((*f)->Close().ok());
  }

  Env* env_ = PosixEnv();
  std::string dir_;
};

TEST_F(PosixEnvTest, AppendAdvancesTheSizeAndSyncedBytesAreReadBack) {
  auto f = env_->OpenWritable(Path("a"), /*truncate=*/false);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)->Size(), 0u);
  ASSERT_TRUE((*f)->Append("hello").ok());
  ASSERT_TRUE((*f)->Append(", world").ok());
  EXPECT_EQ((*f)->Size(), 12u);
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_EQ(env_->ReadFile(Path("a")).value_or(""), "hello, world");
  EXPECT_EQ(env_->FileSize(Path("a")).value_or(0), 12u);
}

TEST_F(PosixEnvTest, ReopeningAppendsAtTheEndUnlessTruncating) {
  WriteFile(Path("a"), "abc");
  {
    auto f = env_->OpenWritable(Path("a"), /*truncate=*/false);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ((*f)->Size(), 3u);
    ASSERT_TRUE((*f)->Append("def").ok());
  }  // the destructor closes
  EXPECT_EQ(env_->ReadFile(Path("a")).value_or(""), "abcdef");
  {
    auto f = env_->OpenWritable(Path("a"), /*truncate=*/true);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ((*f)->Size(), 0u);
  }
  EXPECT_EQ(env_->ReadFile(Path("a")).value_or("?"), "");
}

TEST_F(PosixEnvTest, TruncateCutsTheFileAndMovesTheWritePosition) {
  auto f = env_->OpenWritable(Path("a"), /*truncate=*/true);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("abcdef").ok());
  ASSERT_TRUE((*f)->Truncate(3).ok());
  EXPECT_EQ((*f)->Size(), 3u);
  ASSERT_TRUE((*f)->Append("XY").ok());
  EXPECT_EQ((*f)->Truncate(100).code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_EQ(env_->ReadFile(Path("a")).value_or(""), "abcXY");

  ASSERT_TRUE(env_->Truncate(Path("a"), 1).ok());
  EXPECT_EQ(env_->ReadFile(Path("a")).value_or(""), "a");
  EXPECT_EQ(env_->Truncate(Path("a"), 2).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(env_->Truncate(Path("missing"), 0).code(), ErrorCode::kNotFound);
}

TEST_F(PosixEnvTest, PreallocateKeepsTheSizeAndLaterAppendsLandAtTheEnd) {
  auto f = env_->OpenWritable(Path("a"), /*truncate=*/true);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("abc").ok());
  ASSERT_TRUE((*f)->Preallocate(1 << 20).ok());
  ASSERT_TRUE((*f)->Preallocate(0).ok());
  EXPECT_EQ((*f)->Size(), 3u);
  EXPECT_EQ(env_->FileSize(Path("a")).value_or(0), 3u);
  ASSERT_TRUE((*f)->Append("def").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  EXPECT_EQ(env_->FileSize(Path("a")).value_or(0), 6u);
  EXPECT_EQ(env_->ReadFile(Path("a")).value_or(""), "abcdef");
}

TEST_F(PosixEnvTest, AClosedWritableFileRefusesFurtherWork) {
  auto f = env_->OpenWritable(Path("a"), /*truncate=*/true);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_TRUE((*f)->Close().ok());  // closing twice is harmless
  const Status st = (*f)->Append("x");
  EXPECT_EQ(st.code(), ErrorCode::kIoError);
  EXPECT_THAT(st.message(), HasSubstr(Path("a")));
  EXPECT_EQ((*f)->Sync().code(), ErrorCode::kIoError);
}

TEST_F(PosixEnvTest, RenameReplacesTheTargetAndRemoveDeletes) {
  WriteFile(Path("from"), "new");
  WriteFile(Path("to"), "old");
  ASSERT_TRUE(env_->Rename(Path("from"), Path("to")).ok());
  EXPECT_FALSE(env_->Exists(Path("from")));
  EXPECT_EQ(env_->ReadFile(Path("to")).value_or(""), "new");
  EXPECT_EQ(env_->Rename(Path("from"), Path("x")).code(), ErrorCode::kNotFound);

  ASSERT_TRUE(env_->Remove(Path("to")).ok());
  EXPECT_FALSE(env_->Exists(Path("to")));
  EXPECT_EQ(env_->Remove(Path("to")).code(), ErrorCode::kNotFound);

  ASSERT_TRUE(env_->CreateDirs(Path("empty")).ok());
  ASSERT_TRUE(env_->Remove(Path("empty")).ok());
  EXPECT_FALSE(env_->Exists(Path("empty")));
}

TEST_F(PosixEnvTest, ListDirIsSortedWithoutDotEntries) {
  for (const char* name : {"c", "a", "b.wal"})
    WriteFile(Path(name), name);
  ASSERT_TRUE(env_->CreateDirs(Path("sub")).ok());
  auto names = env_->ListDir(dir_);
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_THAT(*names, ElementsAre("a", "b.wal", "c", "sub"));
}

TEST_F(PosixEnvTest, MissingPathsAreNotFoundWithThePathInTheMessage) {
  const std::string missing = Path("nope");
  const Status read = env_->ReadFile(missing).status();
  EXPECT_EQ(read.code(), ErrorCode::kNotFound);
  EXPECT_THAT(read.message(), HasSubstr(missing));
  EXPECT_EQ(env_->OpenSequential(missing).code(), ErrorCode::kNotFound);
  EXPECT_EQ(env_->FileSize(missing).code(), ErrorCode::kNotFound);
  EXPECT_EQ(env_->ListDir(missing).code(), ErrorCode::kNotFound);
  EXPECT_EQ(env_->SyncDir(missing).code(), ErrorCode::kNotFound);
  EXPECT_EQ(env_->OpenWritable(JoinPath(missing, "f"), false).code(), ErrorCode::kNotFound);
  EXPECT_FALSE(env_->Exists(missing));
}

TEST_F(PosixEnvTest, SequentialFileReadsInOrderAndSkips) {
  WriteFile(Path("a"), "0123456789");
  auto f = env_->OpenSequential(Path("a"));
  ASSERT_TRUE(f.ok());
  std::string got;
  ASSERT_TRUE((*f)->Read(4, &got).ok());
  EXPECT_EQ(got, "0123");
  ASSERT_TRUE((*f)->Skip(2).ok());
  ASSERT_TRUE((*f)->Read(100, &got).ok());
  EXPECT_EQ(got, "6789");
  ASSERT_TRUE((*f)->Read(100, &got).ok());
  EXPECT_EQ(got, "");
}

TEST_F(PosixEnvTest, CreateDirsMakesParentsAndToleratesExistingOnes) {
  const std::string deep = JoinPath(Path("x/y"), "z/");
  ASSERT_TRUE(env_->CreateDirs(deep).ok());
  ASSERT_TRUE(env_->CreateDirs(deep).ok());
  EXPECT_TRUE(env_->Exists(Path("x/y/z")));
  ASSERT_TRUE(env_->SyncDir(Path("x/y")).ok());

  WriteFile(Path("file"), "");
  EXPECT_EQ(env_->CreateDirs(Path("file/sub")).code(), ErrorCode::kIoError);
}

TEST_F(PosixEnvTest, LockingTwiceInOneProcessFailsNamingThePathAndThePid) {
  const std::string path = Path("LOCK");
  auto first = env_->LockFile(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(env_->ReadFile(path).value_or(""), fmt::format("{}\n", ::getpid()));

  auto second = env_->LockFile(path);
  ASSERT_EQ(second.code(), ErrorCode::kAlreadyExists);
  EXPECT_THAT(second.status().message(), HasSubstr(path));
  EXPECT_THAT(second.status().message(), HasSubstr(fmt::format("pid {}", ::getpid())));
}

TEST_F(PosixEnvTest, ALockIsReleasedWhenItsHolderIsDestroyed) {
  const std::string path = Path("LOCK");
  {
    auto lock = env_->LockFile(path);
    ASSERT_TRUE(lock.ok());
  }
  auto again = env_->LockFile(path);
  EXPECT_TRUE(again.ok()) << again.status().ToString();
}

// Runs LockFile(path) in a forked child and returns the child's verdict: 0 if it got the lock,
// 1 if it got kAlreadyExists, 2 otherwise. The child is always reaped.
int LockInChild(const std::string& path) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    auto lock = PosixEnv()->LockFile(path);
    const int verdict = lock.ok() ? 0 : lock.code() == ErrorCode::kAlreadyExists ? 1 : 2;
    ::_exit(verdict);  // no atexit handlers, no gtest teardown in the child
  }
  if (pid < 0) return -1;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

TEST_F(PosixEnvTest, AForkedChildCannotTakeTheLockTheParentHolds) {
  const std::string path = Path("LOCK");
  {
    auto lock = env_->LockFile(path);
    ASSERT_TRUE(lock.ok());
    EXPECT_EQ(LockInChild(path), 1);
  }
  // Released by the parent: now the child may take it.
  EXPECT_EQ(LockInChild(path), 0);
}

TEST(JoinPathTest, JoinsWithOneSlash) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(JoinPath("/", "b"), "/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
}

}  // namespace
}  // namespace raftkit::storage
