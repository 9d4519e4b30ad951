// CrashEnv (tests only): forwards to another Env and, once a budget of mutating operations
// is spent, fails every further mutation as a dead process would. Combined with
// MemEnv::SimulateCrash this stops a store at every step of a flush or compaction.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "env/env.h"

namespace waggle::store_internal {

class CrashEnv final : public Env {
 public:
  explicit CrashEnv(Env* base) : base_(base) {}

  // Allows `n` more mutating operations (negative: unlimited).
  void SetBudget(int64_t n) { budget_.store(n); }
  bool crashed() const { return crashed_.load(); }

  Status Spend() {
    if (budget_.load() < 0 && !crashed_.load()) return OkStatus();
    if (budget_.fetch_sub(1) <= 0) {
      crashed_.store(true);
      return absl::UnavailableError("simulated crash");
    }
    return OkStatus();
  }

  StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& p) override {
    RETURN_IF_ERROR(Spend());
    ASSIGN_OR_RETURN(auto f, base_->NewWritableFile(p));
    return std::unique_ptr<WritableFile>(new File(this, std::move(f)));
  }
  StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& p) override {
    RETURN_IF_ERROR(Spend());
    ASSIGN_OR_RETURN(auto f, base_->NewAppendableFile(p));
    return std::unique_ptr<WritableFile>(new File(this, std::move(f)));
  }
  StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& p) override {
    return base_->NewRandomAccessFile(p);
  }
  StatusOr<std::string> ReadFile(const std::string& p) override { return base_->ReadFile(p); }
  Status WriteFileAtomic(const std::string& p, std::string_view d) override {
    RETURN_IF_ERROR(Spend());
    return base_->WriteFileAtomic(p, d);
  }
  bool FileExists(const std::string& p) override { return base_->FileExists(p); }
  StatusOr<uint64_t> FileSize(const std::string& p) override { return base_->FileSize(p); }
  StatusOr<std::vector<std::string>> ListDir(const std::string& d) override {
    return base_->ListDir(d);
  }
  Status CreateDirs(const std::string& d) override {
    RETURN_IF_ERROR(Spend());
    return base_->CreateDirs(d);
  }
  Status RemoveFile(const std::string& p) override {
    RETURN_IF_ERROR(Spend());
    return base_->RemoveFile(p);
  }
  Status RenameFile(const std::string& f, const std::string& t) override {
    RETURN_IF_ERROR(Spend());
    return base_->RenameFile(f, t);
  }
  Status SyncDir(const std::string& d) override {
    RETURN_IF_ERROR(Spend());
    return base_->SyncDir(d);
  }
  int64_t NowUnixNanos() override { return base_->NowUnixNanos(); }
  int64_t MonotonicNanos() override { return base_->MonotonicNanos(); }

 private:
  class File final : public WritableFile {
   public:
    File(CrashEnv* env, std::unique_ptr<WritableFile> f) : env_(env), f_(std::move(f)) {}
    Status Append(std::string_view d) override {
      RETURN_IF_ERROR(env_->Spend());
      return f_->Append(d);
    }
    Status Sync() override {
      RETURN_IF_ERROR(env_->Spend());
      return f_->Sync();
    }
    Status Close() override { return f_->Close(); }
    uint64_t Size() const override { return f_->Size(); }

   private:
    CrashEnv* env_;
    std::unique_ptr<WritableFile> f_;
  };

  Env* base_;
  std::atomic<int64_t> budget_{-1};
  std::atomic<bool> crashed_{false};
};

}  // namespace waggle::store_internal
