#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "env/env.h"

namespace waggle {
namespace {

std::string Read(Env* env, const std::string& path) {
  auto r = env->ReadFile(path);
  return r.ok() ? *r : "<" + std::string(r.status().message()) + ">";
}

class MemEnvTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_->CreateDirs("/d").ok()); }
  std::unique_ptr<MemEnv> env_ = NewMemEnv();
};

TEST_F(MemEnvTest, BasicFileOps) {
  auto f = env_->NewWritableFile("/d/f");
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("abc").ok());
  EXPECT_EQ((*f)->Size(), 3u);
  EXPECT_EQ(Read(env_.get(), "/d/f"), "abc");
  auto raf = env_->NewRandomAccessFile("/d/f");
  ASSERT_TRUE(raf.ok());
  char scratch[8];
  EXPECT_EQ(*(*raf)->Read(1, 8, scratch), "bc");
  auto names = env_->ListDir("/d");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"f"});
  EXPECT_FALSE(env_->NewWritableFile("/nodir/f").ok());  // parent must exist
  EXPECT_EQ(env_->ListDir("/nodir").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(env_->RenameFile("/d/f", "/d/g").ok());
  EXPECT_FALSE(env_->FileExists("/d/f"));
  EXPECT_EQ(Read(env_.get(), "/d/g"), "abc");
  ASSERT_TRUE(env_->RemoveFile("/d/g").ok());
  EXPECT_EQ(env_->RemoveFile("/d/g").code(), absl::StatusCode::kNotFound);
}

TEST_F(MemEnvTest, CrashDropsUnsyncedBytes) {
  ASSERT_TRUE(env_->SyncDir("/d").ok());
  auto f = env_->NewWritableFile("/d/f");
  ASSERT_TRUE(env_->SyncDir("/d").ok());
  ASSERT_TRUE((*f)->Append("durable").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Append("-lost").ok());
  env_->SimulateCrash();
  EXPECT_EQ(Read(env_.get(), "/d/f"), "durable");
  // Stale handles are dead after the crash.
  EXPECT_EQ((*f)->Append("x").code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(MemEnvTest, CrashKeepsTornPrefix) {
  auto f = env_->NewWritableFile("/d/f");
  ASSERT_TRUE(env_->SyncDir("/d").ok());
  ASSERT_TRUE((*f)->Append("AAAA").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Append("BBBBBB").ok());
  env_->SimulateCrash(/*keep_unsynced_bytes=*/2);
  EXPECT_EQ(Read(env_.get(), "/d/f"), "AAAABB");
  env_->SimulateCrash(100);  // nothing unsynced any more
  EXPECT_EQ(Read(env_.get(), "/d/f"), "AAAABB");
}

TEST_F(MemEnvTest, CrashUndoesUnsyncedDirectoryChanges) {
  // Synced data but unsynced directory entry: the file vanishes.
  auto f = env_->NewWritableFile("/d/new");
  ASSERT_TRUE((*f)->Append("x").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  // A file that was durable, then removed and renamed over without a dir sync, comes back.
  ASSERT_TRUE(env_->WriteFileAtomic("/d/keep", "old").ok());  // syncs /d (and /d/new)
  auto g = env_->NewWritableFile("/d/tmp");
  ASSERT_TRUE((*g)->Append("new").ok());
  ASSERT_TRUE((*g)->Sync().ok());
  ASSERT_TRUE(env_->RenameFile("/d/tmp", "/d/keep").ok());
  ASSERT_TRUE(env_->RemoveFile("/d/new").ok());
  auto h = env_->NewWritableFile("/d/gone");
  ASSERT_TRUE((*h)->Sync().ok());
  EXPECT_EQ(Read(env_.get(), "/d/keep"), "new");

  env_->SimulateCrash();
  EXPECT_EQ(Read(env_.get(), "/d/keep"), "old");
  EXPECT_EQ(Read(env_.get(), "/d/new"), "x");
  EXPECT_FALSE(env_->FileExists("/d/tmp"));
  EXPECT_FALSE(env_->FileExists("/d/gone"));
}

TEST_F(MemEnvTest, SyncDirIsPerDirectory) {
  ASSERT_TRUE(env_->CreateDirs("/e").ok());
  auto a = env_->NewWritableFile("/d/a");
  auto b = env_->NewWritableFile("/e/b");
  ASSERT_TRUE(env_->SyncDir("/d").ok());
  env_->SimulateCrash();
  EXPECT_TRUE(env_->FileExists("/d/a"));
  EXPECT_FALSE(env_->FileExists("/e/b"));
}

TEST_F(MemEnvTest, FailNextSyncs) {
  auto f = env_->NewWritableFile("/d/f");
  ASSERT_TRUE(env_->SyncDir("/d").ok());
  ASSERT_TRUE((*f)->Append("abc").ok());
  env_->FailNextSyncs(2);
  Status s = (*f)->Sync();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/d/f"), std::string::npos);
  EXPECT_FALSE((*f)->Sync().ok());
  env_->SimulateCrash();  // the failed syncs made nothing durable
  EXPECT_EQ(Read(env_.get(), "/d/f"), "");
  auto g = env_->NewAppendableFile("/d/f");
  ASSERT_TRUE((*g)->Append("z").ok());
  EXPECT_TRUE((*g)->Sync().ok());  // third sync succeeds
  env_->FailNextSyncs(5);
  env_->FailNextSyncs(0);
  EXPECT_TRUE((*g)->Sync().ok());
}

TEST_F(MemEnvTest, DiskLimit) {
  env_->SetDiskLimit(10);
  auto f = env_->NewWritableFile("/d/f");
  ASSERT_TRUE((*f)->Append("12345678").ok());
  Status s = (*f)->Append("abc");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(Read(env_.get(), "/d/f"), "12345678");  // a failed append writes nothing
  EXPECT_FALSE(env_->WriteFileAtomic("/d/g", "abc").ok());
  ASSERT_TRUE(env_->RemoveFile("/d/f").ok());
  EXPECT_TRUE(env_->WriteFileAtomic("/d/g", "abc").ok());
  env_->SetDiskLimit(0);
  auto h = env_->NewWritableFile("/d/h");
  EXPECT_TRUE((*h)->Append(std::string(1000, 'x')).ok());
}

TEST_F(MemEnvTest, ConcurrentAppendsAndReads) {
  auto f = env_->NewWritableFile("/d/f");
  auto raf = env_->NewRandomAccessFile("/d/f");
  std::thread writer([&] {
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE((*f)->Append("0123456789").ok());
  });
  std::thread reader([&] {
    char scratch[10];
    for (int i = 0; i < 1000; ++i) {
      auto got = (*raf)->Read(0, 10, scratch);
      ASSERT_TRUE(got.ok());
      if (!got->empty()) {
        EXPECT_EQ(*got, "0123456789");
      }
    }
  });
  writer.join();
  reader.join();
  EXPECT_EQ((*raf)->Size(), 10000u);
}

}  // namespace
}  // namespace waggle
