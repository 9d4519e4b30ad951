#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "env/env.h"

namespace waggle {
namespace {

class PosixEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/waggle_env_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Env* env_ = DefaultEnv();
  std::string dir_;
};

TEST_F(PosixEnvTest, WriteSyncReadBack) {
  std::string path = JoinPath(dir_, "f");
  auto file = env_->NewWritableFile(path);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->Append("hello ").ok());
  ASSERT_TRUE((*file)->Append("world").ok());
  EXPECT_EQ((*file)->Size(), 11u);
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_FALSE((*file)->Append("x").ok());

  auto content = env_->ReadFile(path);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, "hello world");
  EXPECT_EQ(*env_->FileSize(path), 11u);

  auto raf = env_->NewRandomAccessFile(path);
  ASSERT_TRUE(raf.ok());
  EXPECT_EQ((*raf)->Size(), 11u);
  char scratch[16];
  auto got = (*raf)->Read(6, 16, scratch);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "world");  // short read at end of file
  got = (*raf)->Read(100, 4, scratch);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
}

TEST_F(PosixEnvTest, AppendableFileKeepsContent) {
  std::string path = JoinPath(dir_, "a");
  ASSERT_TRUE(env_->WriteFileAtomic(path, "abc").ok());
  auto file = env_->NewAppendableFile(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)->Size(), 3u);
  ASSERT_TRUE((*file)->Append("def").ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(*env_->ReadFile(path), "abcdef");
  // NewWritableFile truncates.
  auto trunc = env_->NewWritableFile(path);
  ASSERT_TRUE(trunc.ok());
  EXPECT_EQ(*env_->FileSize(path), 0u);
}

TEST_F(PosixEnvTest, WriteFileAtomicReplacesAndLeavesNoTemp) {
  std::string path = JoinPath(dir_, "meta");
  ASSERT_TRUE(env_->WriteFileAtomic(path, "v1").ok());
  ASSERT_TRUE(env_->WriteFileAtomic(path, "version two").ok());
  EXPECT_EQ(*env_->ReadFile(path), "version two");
  auto names = env_->ListDir(dir_);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"meta"});
}

TEST_F(PosixEnvTest, DirsListRenameRemove) {
  std::string sub = JoinPath(dir_, "a/b/c");
  ASSERT_TRUE(env_->CreateDirs(sub).ok());
  ASSERT_TRUE(env_->CreateDirs(sub).ok());  // idempotent
  ASSERT_TRUE(env_->CreateDirs(sub + "/").ok());
  ASSERT_TRUE(env_->WriteFileAtomic(JoinPath(sub, "x"), "1").ok());
  ASSERT_TRUE(env_->RenameFile(JoinPath(sub, "x"), JoinPath(sub, "y")).ok());
  EXPECT_FALSE(env_->FileExists(JoinPath(sub, "x")));
  EXPECT_TRUE(env_->FileExists(JoinPath(sub, "y")));
  ASSERT_TRUE(env_->SyncDir(sub).ok());
  auto names = env_->ListDir(JoinPath(dir_, "a"));
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"b"});
  ASSERT_TRUE(env_->RemoveFile(JoinPath(sub, "y")).ok());
  EXPECT_FALSE(env_->FileExists(JoinPath(sub, "y")));
  // A file in the way of a directory is an error, not a crash.
  ASSERT_TRUE(env_->WriteFileAtomic(JoinPath(dir_, "file"), "").ok());
  EXPECT_FALSE(env_->CreateDirs(JoinPath(dir_, "file/sub")).ok());
}

TEST_F(PosixEnvTest, ErrorsNameThePathAndReason) {
  std::string missing = JoinPath(dir_, "missing");
  auto r = env_->ReadFile(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find(missing), std::string::npos);
  EXPECT_NE(r.status().message().find("No such file"), std::string::npos);
  EXPECT_EQ(env_->RemoveFile(missing).code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(env_->ListDir(missing).ok());
  EXPECT_FALSE(env_->SyncDir(missing).ok());
  EXPECT_FALSE(env_->NewWritableFile(JoinPath(missing, "f")).ok());
  EXPECT_FALSE(env_->FileSize(missing).ok());
}

TEST_F(PosixEnvTest, Clocks) {
  int64_t a = env_->MonotonicNanos();
  int64_t b = env_->MonotonicNanos();
  EXPECT_LE(a, b);
  EXPECT_GT(env_->NowUnixNanos(), int64_t{1'600'000'000} * 1'000'000'000);
}

TEST(JoinPath, Joins) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
  EXPECT_EQ(JoinPath("/", "b"), "/b");
}

}  // namespace
}  // namespace waggle
