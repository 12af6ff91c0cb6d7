// MemEnv: the durability model (file sync, directory sync, crash fates), fault injection, stale
// handles after a crash, locks, and the inspection helpers.
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "raftkit/storage/fs/mem_env.h"
#include "raftkit/util/panic.h"

namespace raftkit::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr std::string_view kSynced = "synced-part|";
constexpr std::string_view kUnsynced = "the unsynced tail of the file";

class MemEnvTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_.CreateDirs("/d").ok()); }

  std::unique_ptr<WritableFile> Open(const std::string& path, bool truncate = false) {
    auto f = env_.OpenWritable(path, truncate);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? std::move(*f) : nullptr;
  }

  // /d/f holds kSynced (synced, name synced) followed by kUnsynced (appended, not synced).
  void WriteHalfSyncedFile() {
    auto f = Open("/d/f");
    ASSERT_NE(f, nullptr);
    ASSERT_TRUE(f->Append(kSynced).ok());
    ASSERT_TRUE(f->Sync().ok());
    ASSERT_TRUE(env_.SyncDir("/d").ok());
    ASSERT_TRUE(f->Append(kUnsynced).ok());
    ASSERT_EQ(env_.SyncedSize("/d/f"), kSynced.size());
  }

  std::string ContentsOf(const std::string& path) const {
    auto c = env_.Contents(path);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.value_or("");
  }

  MemEnv env_;
};

// ---------------------------------------------------------------------------------------------
// File durability: what each UnsyncedFate leaves
// ---------------------------------------------------------------------------------------------

TEST_F(MemEnvTest, ALoseCrashDropsUnsyncedBytesAndKeepsSyncedOnes) {
  WriteHalfSyncedFile();
  env_.Crash(UnsyncedFate::kLose, 1);
  EXPECT_EQ(ContentsOf("/d/f"), kSynced);
  EXPECT_EQ(env_.SyncedSize("/d/f"), kSynced.size());
}

TEST_F(MemEnvTest, AKeepAllCrashKeepsEveryWrittenByte) {
  WriteHalfSyncedFile();
  env_.Crash(UnsyncedFate::kKeepAll, 1);
  const std::string all = std::string(kSynced) + std::string(kUnsynced);
  EXPECT_EQ(ContentsOf("/d/f"), all);
  // After the reboot the surviving bytes are on disk: the whole file counts as synced.
  EXPECT_EQ(env_.SyncedSize("/d/f"), all.size());
}

TEST_F(MemEnvTest, ATornCrashKeepsTheSyncedBytesAndAPrefixOfTheRest) {
  const std::string all = std::string(kSynced) + std::string(kUnsynced);
  std::set<size_t> sizes;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    MemEnv env;
    ASSERT_TRUE(env.CreateDirs("/d").ok());
    env.SetContents("/d/f", std::string(kSynced));
    auto f = env.OpenWritable("/d/f", false);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append(kUnsynced).ok());
    env.Crash(UnsyncedFate::kKeepTornPrefix, seed);
    const std::string got = env.Contents("/d/f").value_or("?");
    ASSERT_GE(got.size(), kSynced.size()) << "seed " << seed;
    EXPECT_EQ(got, all.substr(0, got.size())) << "seed " << seed;
    sizes.insert(got.size());
  }
  // The cut is random, not always at one end.
  EXPECT_GT(sizes.size(), 5u);
}

TEST_F(MemEnvTest, AGarbleCrashChangesOnlyBytesInsideTheKeptUnsyncedRegion) {
  const std::string all = std::string(kSynced) + std::string(kUnsynced);
  int garbled = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    MemEnv env;
    env.SetContents("/d/f", std::string(kSynced));
    auto f = env.OpenWritable("/d/f", false);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append(kUnsynced).ok());
    env.Crash(UnsyncedFate::kGarble, seed);
    const std::string got = env.Contents("/d/f").value_or("?");
    ASSERT_GE(got.size(), kSynced.size()) << "seed " << seed;
    ASSERT_LE(got.size(), all.size()) << "seed " << seed;
    EXPECT_EQ(got.substr(0, kSynced.size()), kSynced) << "seed " << seed;
    int diffs = 0;
    for (size_t i = kSynced.size(); i < got.size(); ++i)
      diffs += got[i] != all[i] ? 1 : 0;
    if (got.size() > kSynced.size()) {
      EXPECT_GE(diffs, 1) << "seed " << seed;
      EXPECT_LE(diffs, 3) << "seed " << seed;
      ++garbled;
    }
  }
  EXPECT_GT(garbled, 20);
}

TEST_F(MemEnvTest, CrashesWithTheSameSeedLeaveTheSameBytes) {
  std::string first;
  for (int run = 0; run < 2; ++run) {
    MemEnv env;
    env.SetContents("/d/f", "");
    auto f = env.OpenWritable("/d/f", false);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append(kUnsynced).ok());
    env.Crash(UnsyncedFate::kGarble, 99);
    const std::string got = env.Contents("/d/f").value_or("?");
    if (run == 0) first = got;
    EXPECT_EQ(got, first);
  }
}

TEST_F(MemEnvTest, TruncatingBelowTheSyncedSizeLowersIt) {
  env_.SetContents("/d/f", "0123456789");
  ASSERT_TRUE(env_.Truncate("/d/f", 4).ok());
  EXPECT_EQ(env_.SyncedSize("/d/f"), 4u);
  auto f = Open("/d/f");
  ASSERT_NE(f, nullptr);
  ASSERT_TRUE(f->Append("abc").ok());
  ASSERT_TRUE(f->Truncate(2).ok());
  EXPECT_EQ(f->Size(), 2u);
  EXPECT_EQ(env_.SyncedSize("/d/f"), 2u);
  EXPECT_EQ(f->Truncate(3).code(), ErrorCode::kInvalidArgument);
  env_.Crash(UnsyncedFate::kKeepAll, 1);
  EXPECT_EQ(ContentsOf("/d/f"), "01");
}

TEST_F(MemEnvTest, PreallocateChangesNeitherSizeNorContent) {
  auto f = Open("/d/f");
  ASSERT_NE(f, nullptr);
  ASSERT_TRUE(f->Append("abc").ok());
  ASSERT_TRUE(f->Preallocate(4096).ok());
  EXPECT_EQ(f->Size(), 3u);
  EXPECT_EQ(ContentsOf("/d/f"), "abc");
}

// ---------------------------------------------------------------------------------------------
// Directory durability
// ---------------------------------------------------------------------------------------------

TEST_F(MemEnvTest, AFileCreatedButNotDirSyncedVanishesOnCrash) {
  auto f = Open("/d/new");
  ASSERT_NE(f, nullptr);
  ASSERT_TRUE(f->Append("data").ok());
  ASSERT_TRUE(f->Sync().ok());  // the bytes are durable, the name is not
  env_.Crash(UnsyncedFate::kKeepAll, 1);
  EXPECT_FALSE(env_.Exists("/d/new"));
  EXPECT_THAT(env_.ListDir("/d").value_or({"?"}), IsEmpty());
}

TEST_F(MemEnvTest, AFileCreatedAndDirSyncedSurvivesACrash) {
  auto f = Open("/d/new");
  ASSERT_NE(f, nullptr);
  ASSERT_TRUE(f->Append("data").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(env_.SyncDir("/d").ok());
  env_.Crash(UnsyncedFate::kLose, 1);
  EXPECT_EQ(ContentsOf("/d/new"), "data");
}

TEST_F(MemEnvTest, ARenameNotDirSyncedIsUndoneByACrash) {
  env_.SetContents("/d/a", "payload");
  ASSERT_TRUE(env_.Rename("/d/a", "/d/b").ok());
  EXPECT_FALSE(env_.Exists("/d/a"));
  EXPECT_EQ(ContentsOf("/d/b"), "payload");
  env_.Crash(UnsyncedFate::kLose, 1);
  EXPECT_EQ(ContentsOf("/d/a"), "payload");
  EXPECT_FALSE(env_.Exists("/d/b"));
}

TEST_F(MemEnvTest, ARenameDirSyncedSurvivesACrashAndReplacesTheTarget) {
  env_.SetContents("/d/a", "new");
  env_.SetContents("/d/b", "old");
  ASSERT_TRUE(env_.Rename("/d/a", "/d/b").ok());
  ASSERT_TRUE(env_.SyncDir("/d").ok());
  env_.Crash(UnsyncedFate::kLose, 1);
  EXPECT_FALSE(env_.Exists("/d/a"));
  EXPECT_EQ(ContentsOf("/d/b"), "new");
}

TEST_F(MemEnvTest, ARemovalNotDirSyncedIsUndoneAndADirSyncedOneIsNot) {
  env_.SetContents("/d/a", "x");
  env_.SetContents("/d/b", "y");
  ASSERT_TRUE(env_.Remove("/d/a").ok());
  EXPECT_FALSE(env_.Exists("/d/a"));
  env_.Crash(UnsyncedFate::kLose, 1);
  EXPECT_EQ(ContentsOf("/d/a"), "x");

  ASSERT_TRUE(env_.Remove("/d/a").ok());
  ASSERT_TRUE(env_.SyncDir("/d").ok());
  env_.Crash(UnsyncedFate::kLose, 1);
  EXPECT_FALSE(env_.Exists("/d/a"));
  EXPECT_EQ(ContentsOf("/d/b"), "y");
}

TEST_F(MemEnvTest, SyncDirCoversOnlyThatDirectory) {
  ASSERT_TRUE(env_.CreateDirs("/d/sub").ok());
  Open("/d/top");
  Open("/d/sub/inner");
  ASSERT_TRUE(env_.SyncDir("/d").ok());
  env_.Crash(UnsyncedFate::kLose, 1);
  EXPECT_TRUE(env_.Exists("/d/top"));
  EXPECT_TRUE(env_.Exists("/d/sub"));
  EXPECT_FALSE(env_.Exists("/d/sub/inner"));
}

// The WAL's creation pattern: fill a temporary directory, rename it into place, sync the parent.
TEST_F(MemEnvTest, ADirectoryRenameCarriesTheEntriesSyncedInsideIt) {
  ASSERT_TRUE(env_.CreateDirs("/d/wal.tmp").ok());
  auto f = Open("/d/wal.tmp/0.wal");
  ASSERT_NE(f, nullptr);
  ASSERT_TRUE(f->Append("rec").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(env_.SyncDir("/d/wal.tmp").ok());
  ASSERT_TRUE(env_.Rename("/d/wal.tmp", "/d/wal").ok());
  EXPECT_EQ(ContentsOf("/d/wal/0.wal"), "rec");

  ASSERT_TRUE(env_.SyncDir("/d").ok());
  env_.Crash(UnsyncedFate::kLose, 1);
  EXPECT_FALSE(env_.Exists("/d/wal.tmp"));
  EXPECT_EQ(ContentsOf("/d/wal/0.wal"), "rec");
}

TEST_F(MemEnvTest, ListDirShowsDirectChildrenSortedAndMissingDirsAreNotFound) {
  ASSERT_TRUE(env_.CreateDirs("/d/sub/deeper").ok());
  env_.SetContents("/d/b", "");
  env_.SetContents("/d/a", "");
  env_.SetContents("/d/sub/hidden", "");
  EXPECT_THAT(env_.ListDir("/d").value_or({}), ElementsAre("a", "b", "sub"));
  EXPECT_THAT(env_.ListDir("/d/").value_or({}), ElementsAre("a", "b", "sub"));
  EXPECT_EQ(env_.ListDir("/nope").code(), ErrorCode::kNotFound);
  EXPECT_EQ(env_.ListDir("/d/a").code(), ErrorCode::kIoError);
  EXPECT_EQ(env_.OpenWritable("/nope/f", false).code(), ErrorCode::kNotFound);
  EXPECT_EQ(env_.OpenSequential("/d/nope").code(), ErrorCode::kNotFound);
  EXPECT_EQ(env_.ReadFile("/d/nope").code(), ErrorCode::kNotFound);
  EXPECT_EQ(env_.FileSize("/d/nope").code(), ErrorCode::kNotFound);
  EXPECT_EQ(env_.Remove("/d/sub").code(), ErrorCode::kIoError);  // not empty
  EXPECT_TRUE(env_.Exists("/d/sub/deeper"));
}

TEST_F(MemEnvTest, ReadFileAndSequentialReadsSeeTheCurrentContent) {
  auto f = Open("/d/f");
  ASSERT_NE(f, nullptr);
  ASSERT_TRUE(f->Append("0123456789").ok());
  EXPECT_EQ(env_.ReadFile("/d/f").value_or(""), "0123456789");
  EXPECT_EQ(env_.FileSize("/d/f").value_or(0), 10u);
  auto r = env_.OpenSequential("/d/f");
  ASSERT_TRUE(r.ok());
  std::string got;
  ASSERT_TRUE((*r)->Read(3, &got).ok());
  EXPECT_EQ(got, "012");
  ASSERT_TRUE((*r)->Skip(5).ok());
  ASSERT_TRUE((*r)->Read(10, &got).ok());
  EXPECT_EQ(got, "89");
  ASSERT_TRUE((*r)->Read(10, &got).ok());
  EXPECT_EQ(got, "");
}

// ---------------------------------------------------------------------------------------------
// Fault injection
// ---------------------------------------------------------------------------------------------

TEST_F(MemEnvTest, FailAfterFailsExactlyTheKthMutatingOpAndEveryLaterOne) {
  auto f = Open("/d/f");
  ASSERT_NE(f, nullptr);
  const uint64_t before = env_.mutating_ops();
  env_.FailAfter(3);
  EXPECT_TRUE(f->Append("a").ok());                           // 1
  EXPECT_TRUE(f->Sync().ok());                                // 2
  EXPECT_EQ(env_.SyncDir("/d").code(), ErrorCode::kIoError);  // 3: the "process dies" here
  EXPECT_EQ(f->Preallocate(10).code(), ErrorCode::kIoError);  // 4
  EXPECT_EQ(env_.Rename("/d/f", "/d/g").code(), ErrorCode::kIoError);
  EXPECT_EQ(env_.Remove("/d/f").code(), ErrorCode::kIoError);
  EXPECT_EQ(env_.Truncate("/d/f", 0).code(), ErrorCode::kIoError);
  EXPECT_EQ(f->Truncate(0).code(), ErrorCode::kIoError);
  EXPECT_EQ(env_.OpenWritable("/d/h", true).code(), ErrorCode::kIoError);
  EXPECT_EQ(env_.mutating_ops(), before + 9);
  // The failed operations had no effect.
  EXPECT_TRUE(env_.Exists("/d/f"));
  EXPECT_FALSE(env_.Exists("/d/g"));
  EXPECT_FALSE(env_.Exists("/d/h"));
  EXPECT_EQ(ContentsOf("/d/f"), "a");

  env_.ClearFailure();
  EXPECT_TRUE(env_.SyncDir("/d").ok());
  EXPECT_EQ(env_.mutating_ops(), before + 10);
}

TEST_F(MemEnvTest, FailAfterOneFailsTheVeryNextMutatingOp) {
  env_.FailAfter(1);
  EXPECT_EQ(env_.OpenWritable("/d/f", false).code(), ErrorCode::kIoError);
  EXPECT_FALSE(env_.Exists("/d/f"));
}

TEST_F(MemEnvTest, ReadsAndInspectionAreNotMutatingOps) {
  env_.SetContents("/d/f", "abc");
  const uint64_t before = env_.mutating_ops();
  env_.FailAfter(1);
  EXPECT_TRUE(env_.Exists("/d/f"));
  EXPECT_TRUE(env_.ListDir("/d").ok());
  EXPECT_TRUE(env_.FileSize("/d/f").ok());
  EXPECT_EQ(env_.ReadFile("/d/f").value_or(""), "abc");
  EXPECT_TRUE(env_.CreateDirs("/d/x").ok());
  EXPECT_TRUE(env_.LockFile("/d/LOCK").ok());
  EXPECT_EQ(env_.mutating_ops(), before);
}

TEST_F(MemEnvTest, AFailingAppendWritesAStrictPrefixOfItsData) {
  const std::string payload = "0123456789abcdefghij";
  std::set<size_t> torn_sizes;
  for (int attempt = 0; attempt < 30; ++attempt) {
    env_.SetContents("/d/f", "head|");
    auto f = Open("/d/f");
    ASSERT_NE(f, nullptr);
    env_.FailAfter(1);
    EXPECT_EQ(f->Append(payload).code(), ErrorCode::kIoError);
    env_.ClearFailure();
    const std::string got = ContentsOf("/d/f");
    ASSERT_EQ(got.substr(0, 5), "head|");
    const std::string written = got.substr(5);
    EXPECT_LT(written.size(), payload.size());
    EXPECT_EQ(written, payload.substr(0, written.size()));
    torn_sizes.insert(written.size());
  }
  EXPECT_GT(torn_sizes.size(), 3u);
}

TEST_F(MemEnvTest, ACrashClearsFailAfter) {
  env_.FailAfter(1);
  env_.Crash(UnsyncedFate::kLose, 1);
  EXPECT_TRUE(env_.OpenWritable("/d/f", false).ok());
}

// ---------------------------------------------------------------------------------------------
// Handles and locks across a crash
// ---------------------------------------------------------------------------------------------

TEST_F(MemEnvTest, HandlesOpenedBeforeACrashFailAfterIt) {
  WriteHalfSyncedFile();
  auto w = Open("/d/f");
  ASSERT_NE(w, nullptr);
  auto r = env_.OpenSequential("/d/f");
  ASSERT_TRUE(r.ok());
  env_.Crash(UnsyncedFate::kLose, 1);

  EXPECT_EQ(w->Append("x").code(), ErrorCode::kIoError);
  EXPECT_EQ(w->Sync().code(), ErrorCode::kIoError);
  EXPECT_EQ(w->Preallocate(1).code(), ErrorCode::kIoError);
  EXPECT_EQ(w->Truncate(0).code(), ErrorCode::kIoError);
  EXPECT_EQ(w->Close().code(), ErrorCode::kIoError);
  std::string got;
  EXPECT_EQ((*r)->Read(10, &got).code(), ErrorCode::kIoError);
  EXPECT_EQ((*r)->Skip(1).code(), ErrorCode::kIoError);
  EXPECT_EQ(ContentsOf("/d/f"), kSynced);  // the stale writer changed nothing

  auto fresh = Open("/d/f");
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(fresh->Size(), kSynced.size());
  EXPECT_TRUE(fresh->Append("x").ok());
}

TEST_F(MemEnvTest, LocksAreExclusiveAndReleasedByTheHolderOrACrash) {
  auto first = env_.LockFile("/d/LOCK");
  ASSERT_TRUE(first.ok());
  auto second = env_.LockFile("/d/LOCK");
  EXPECT_EQ(second.code(), ErrorCode::kAlreadyExists);
  EXPECT_THAT(second.status().message(), HasSubstr("/d/LOCK"));
  first->reset();
  auto third = env_.LockFile("/d/LOCK");
  ASSERT_TRUE(third.ok());

  env_.Crash(UnsyncedFate::kLose, 1);
  auto after_crash = env_.LockFile("/d/LOCK");
  ASSERT_TRUE(after_crash.ok());
  // The pre-crash holder going away must not release the lock taken after the reboot.
  third->reset();
  EXPECT_EQ(env_.LockFile("/d/LOCK").code(), ErrorCode::kAlreadyExists);
}

// ---------------------------------------------------------------------------------------------
// Inspection and damage helpers
// ---------------------------------------------------------------------------------------------

TEST_F(MemEnvTest, SetContentsIsDurableAndCreatesMissingDirectories) {
  env_.SetContents("/x/y/f", "durable");
  EXPECT_EQ(env_.SyncedSize("/x/y/f"), 7u);
  env_.Crash(UnsyncedFate::kLose, 1);
  EXPECT_EQ(ContentsOf("/x/y/f"), "durable");
  env_.SetContents("/x/y/f", "v2");
  EXPECT_EQ(ContentsOf("/x/y/f"), "v2");
}

TEST_F(MemEnvTest, ContentsOfAMissingFileIsNotFoundAndItsSyncedSizeIsZero) {
  EXPECT_EQ(env_.Contents("/d/none").code(), ErrorCode::kNotFound);
  EXPECT_EQ(env_.SyncedSize("/d/none"), 0u);
}

TEST_F(MemEnvTest, FlipByteXorsOneByteInPlace) {
  env_.SetContents("/d/f", "abc");
  env_.FlipByte("/d/f", 1, 0x01);
  EXPECT_EQ(ContentsOf("/d/f"), "acc");
  env_.FlipByte("/d/f", 1);
  env_.FlipByte("/d/f", 1);  // the default mask twice restores the byte
  EXPECT_EQ(ContentsOf("/d/f"), "acc");
  EXPECT_EQ(env_.SyncedSize("/d/f"), 3u);
}

TEST_F(MemEnvTest, FlipBytePastTheEndIsABrokenInvariant) {
  env_.SetContents("/d/f", "abc");
  ScopedPanicHandler throwing(ThrowingPanicHandler);
  EXPECT_THROW(env_.FlipByte("/d/f", 3), PanicError);
  EXPECT_THROW(env_.FlipByte("/d/none", 0), PanicError);
}

// ---------------------------------------------------------------------------------------------
// Threads (the WAL creates spare files from a background thread)
// ---------------------------------------------------------------------------------------------

TEST_F(MemEnvTest, TwoThreadsMayUseTheEnvAtOnce) {
  auto f = Open("/d/log");
  ASSERT_NE(f, nullptr);
  std::thread creator([this] {
    for (int i = 0; i < 200; ++i) {
      auto spare = env_.OpenWritable(fmt::format("/d/spare.{}", i), true);
      if (spare.ok()) (void)(*spare)->Preallocate(64);
      (void)env_.SyncDir("/d");
    }
  });
  for (int i = 0; i < 200; ++i) {
    EXPECT_TRUE(f->Append("r").ok());  // not ASSERT: the thread must be joined
    EXPECT_TRUE(f->Sync().ok());
  }
  creator.join();
  EXPECT_EQ(ContentsOf("/d/log"), std::string(200, 'r'));
  EXPECT_EQ(env_.ListDir("/d").value_or({}).size(), 201u);
}

}  // namespace
}  // namespace raftkit::storage
